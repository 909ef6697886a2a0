/**
 * Resample analysis: fork a finished run N times at each of several points
 * and let each sample finish, to see where its answer is decided. For every
 * point, the distribution of final answers (and accuracy against a
 * reference); between consecutive points, how far the distribution moved:
 * the counterfactual importance of what lies between them (Thought
 * Anchors: the answer when a sentence is kept versus resampled).
 */
import { Type, type Static } from "typebox";
import { SamplingSchema } from "./budget.ts";

const Count = Type.Integer({ minimum: 0 });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });

/** `POST /api/runs/:id/resample`. */
export const ResampleRequestSchema = Type.Object(
  {
    /** `sentences`: the start of each thinking sentence and the end of the thinking; or token points. */
    points: Type.Union([
      Type.Literal("sentences"),
      Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 200 }),
    ]),
    /** Samples per point. */
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    /**
     * The samples' sampling (sample i uses seed `seed + i`). Default: the
     * run's own, or temperature 0.6 and top_p 0.95 when the run was greedy
     * (greedy samples would all be the same).
     */
    sampling: Type.Optional(SamplingSchema),
    /** The right answer, to report accuracy; found from the experiment problem when the run came from one. */
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type ResampleRequest = Static<typeof ResampleRequestSchema>;

export const RESAMPLE_DEFAULT_N = 8;
/** The sampling of a greedy run's resamples, as Thought Anchors uses. */
export const RESAMPLE_DEFAULT_SAMPLING = { temperature: 0.6, top_p: 0.95 } as const;

export const ResampleSampleSchema = Type.Object({
  runId: Type.String(),
  /** The extracted final answer; null when none was found or the sample failed. */
  answer: Type.Union([Type.String(), Type.Null()]),
  correct: Type.Union([Type.Boolean(), Type.Null()]),
});
export type ResampleSample = Static<typeof ResampleSampleSchema>;

export const ResamplePointSchema = Type.Object({
  at: Count,
  samples: Type.Array(ResampleSampleSchema),
  /** Final answers and how many samples gave each, most frequent first (no answer is `null`). */
  answers: Type.Array(
    Type.Object({ answer: Type.Union([Type.String(), Type.Null()]), count: Count }),
  ),
  /** Share of samples with the reference answer; null without a reference. */
  accuracy: Type.Union([Fraction, Type.Null()]),
});
export type ResamplePoint = Static<typeof ResamplePointSchema>;

/** What lies between two consecutive points, and how much keeping it moved the answer. */
export const ResampleSpanSchema = Type.Object({
  from: Count,
  to: Count,
  text: Type.String(),
  /**
   * Total variation distance between the answer distributions resampled at
   * `from` (this span resampled) and at `to` (kept): 0 it changed nothing, 1 it decided everything.
   */
  importance: Fraction,
  /** Accuracy at `to` minus accuracy at `from`; null without a reference. */
  accuracyChange: Type.Union([Type.Number({ minimum: -1, maximum: 1 }), Type.Null()]),
});
export type ResampleSpan = Static<typeof ResampleSpanSchema>;

export const ResampleStatusSchema = Type.Union([
  Type.Literal("running"),
  Type.Literal("completed"),
  Type.Literal("failed"),
  Type.Literal("interrupted"),
]);
export type ResampleStatus = Static<typeof ResampleStatusSchema>;

/** A stored analysis, as it progresses and once done (`GET /api/resamples/:id`). */
export const ResampleAnalysisSchema = Type.Object({
  id: Type.String(),
  runId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  status: ResampleStatusSchema,
  n: Count,
  sampling: SamplingSchema,
  reference: Type.Union([Type.String(), Type.Null()]),
  /** Samples finished and in all. */
  done: Count,
  total: Count,
  points: Type.Array(ResamplePointSchema),
  /** Filled as soon as both points of a span are done. */
  spans: Type.Array(ResampleSpanSchema),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
});
export type ResampleAnalysis = Static<typeof ResampleAnalysisSchema>;

export const ResampleListSchema = Type.Object({ analyses: Type.Array(ResampleAnalysisSchema) });
export type ResampleList = Static<typeof ResampleListSchema>;

/** How far apart two answer distributions are (total variation distance). */
export function answerShift(
  a: readonly { answer: string | null; count: number }[],
  b: readonly { answer: string | null; count: number }[],
): number {
  const total = (d: typeof a) => d.reduce((n, x) => n + x.count, 0);
  const ta = total(a);
  const tb = total(b);
  if (ta === 0 || tb === 0) return 0;
  const keys = new Set([...a, ...b].map((x) => x.answer));
  let sum = 0;
  for (const key of keys) {
    const pa = (a.find((x) => x.answer === key)?.count ?? 0) / ta;
    const pb = (b.find((x) => x.answer === key)?.count ?? 0) / tb;
    sum += Math.abs(pa - pb);
  }
  return Math.min(1, sum / 2);
}
