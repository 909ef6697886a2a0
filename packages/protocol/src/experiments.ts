/**
 * Experiments on the wire: the create request (a TypeBox schema the server
 * validates with), the stored experiment as listed and in detail, its live
 * progress, its results, and the WebSocket messages that follow progress.
 *
 * Naming: records (`ExperimentSummary`, `ExperimentProgress`) are camelCase
 * like `RunSummary`; request bodies and results are snake_case like the
 * API's `budget_forcing`, because `ExperimentResults.settings` is the public
 * JSON contract of `thinkscope experiment --json`.
 */
import { Type, type Static } from "typebox";
import { QueryInteger } from "./runs.ts";
import {
  BudgetForcingSchema,
  SamplingSchema,
  WaitStringSchema,
  type BudgetForcing,
} from "./budget.ts";

const Count = Type.Integer({ minimum: 0 });

// ---- Create request --------------------------------------------------------

/** Which columns hold the problem, the answer and (optionally) the id, for other files. */
export const ColumnMappingSchema = Type.Object(
  {
    problem: Type.String({ minLength: 1, maxLength: 200 }),
    answer: Type.String({ minLength: 1, maxLength: 200 }),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ColumnMappingInput = Static<typeof ColumnMappingSchema>;

export const GeneratedKindSchema = Type.Union([
  Type.Literal("addition"),
  Type.Literal("subtraction"),
  Type.Literal("multiplication"),
  Type.Literal("expression"),
]);

/**
 * Where the problems come from:
 * - `path`: a JSONL file on the server (inside the allowed dataset folders);
 * - `jsonl`: the file's text, uploaded in the request;
 * - `generator`: the built-in generator of small arithmetic problems.
 * `columns` maps other files' columns (AIME, MATH-500 and GSM8K shapes are detected).
 */
export const DatasetSourceSchema = Type.Union([
  Type.Object(
    {
      path: Type.String({ minLength: 1, maxLength: 4096 }),
      columns: Type.Optional(ColumnMappingSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      jsonl: Type.String({ minLength: 1 }),
      /** A name to show for the upload (the file's name). */
      name: Type.Optional(Type.String({ maxLength: 500 })),
      columns: Type.Optional(ColumnMappingSchema),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      generator: Type.Object(
        {
          seed: Type.Integer(),
          count: Type.Integer({ minimum: 1, maximum: 100_000 }),
          digits: Type.Integer({ minimum: 1, maximum: 12 }),
          kinds: Type.Optional(Type.Array(GeneratedKindSchema, { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
]);
export type DatasetSource = Static<typeof DatasetSourceSchema>;

/**
 * Values to sweep: models, and values per `budget_forcing` field. The
 * settings are the cartesian product of every list given (fields in this
 * order, the first slowest), each laid over the request's `budget_forcing`.
 */
export const SweepSchema = Type.Object(
  {
    /**
     * Models by the names the server lists (`GET /v1/models`), e.g.
     * `["tiny-reasoner", "tiny-reasoner-rl"]`; each runs on the backend that
     * serves it. Overrides the request's `backend` and `model`.
     */
    model: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { minItems: 1, maxItems: 64 }),
    ),
    max_thinking_tokens: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    min_thinking_tokens: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    num_waits: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    /** The paper's ablation: `["Wait", "Hmm", "Alternatively"]`. */
    wait_string: Type.Optional(Type.Array(WaitStringSchema, { minItems: 1, maxItems: 64 })),
    grace_tokens: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    /** NoWait against none: `[[], ["Wait", "Hmm", "Alternatively"]]`. */
    suppress: Type.Optional(
      Type.Array(Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 }), {
        minItems: 1,
        maxItems: 64,
      }),
    ),
  },
  { additionalProperties: false },
);
export type Sweep = Static<typeof SweepSchema>;

/** Sweep fields in the order the product varies them (the last fastest): the schema's. */
export const SWEEP_FIELDS = Object.keys(SweepSchema.properties) as (keyof Sweep)[];

/** The sweep fields that are `budget_forcing` fields (all but `model`). */
export const BUDGET_SWEEP_FIELDS = SWEEP_FIELDS.filter(
  (field): field is Exclude<keyof Sweep, "model"> => field !== "model",
);

/** How many settings a sweep makes (1 when it varies nothing), known before they are made. */
export function sweepSize(sweep: Sweep): number {
  return SWEEP_FIELDS.reduce((size, field) => size * (sweep[field]?.length ?? 1), 1);
}

/**
 * What a sweep varies in `budget_forcing`, one entry per combination: the
 * cartesian product of its budget lists (an empty sweep varies nothing).
 * The server lays each over an experiment's base settings, once per swept
 * model (`sweepModels`); the page's ladder is a sweep of one field.
 * Check `sweepSize` first: four lists of 64 make 16 million.
 */
export function sweepVariations(sweep: Sweep): BudgetForcing[] {
  let product: BudgetForcing[] = [{}];
  for (const field of BUDGET_SWEEP_FIELDS) {
    const values = sweep[field];
    if (!values) continue;
    product = product.flatMap((varied) => values.map((value) => ({ ...varied, [field]: value })));
  }
  return product;
}

/** The swept models in order; `[undefined]` (the request's own model) when the sweep names none. */
export function sweepModels(sweep: Sweep): (string | undefined)[] {
  return sweep.model ?? [undefined];
}

export const ExperimentPromptSchema = Type.Object(
  {
    /** `chat` (default): the template is the user message; `raw`: the exact text to continue. */
    mode: Type.Optional(Type.Union([Type.Literal("chat"), Type.Literal("raw")])),
    /**
     * Must contain `{problem}`, replaced by each problem's text. Default:
     * `{problem}\n\nPut your final answer within \boxed{}.`
     */
    template: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000 })),
  },
  { additionalProperties: false },
);
export type ExperimentPrompt = Static<typeof ExperimentPromptSchema>;

/**
 * How a setting's samples of a problem vote: `majority` (self-consistency),
 * or `confidence` (DeepConf, Fu et al. 2025): each sample weighs exp of its
 * lowest mean log-probability over `window` consecutive tokens, and only
 * the most confident `keep` share of the samples votes. Needs a backend that
 * reports token log-probabilities.
 */
export const VoteSchema = Type.Object(
  {
    method: Type.Union([Type.Literal("majority"), Type.Literal("confidence")]),
    window: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
    keep: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type Vote = Static<typeof VoteSchema>;
export const VOTE_DEFAULTS = { window: 64, keep: 1 } as const;

/** `POST /api/experiments`. A preset fills in whatever the request leaves out. */
export const ExperimentCreateSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    /** A built-in preset's id (`GET /api/experiments/presets`), e.g. `tiny-reasoner`. */
    preset: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Required unless a preset gives one. */
    dataset: Type.Optional(DatasetSourceSchema),
    /** The slice of the dataset: skip `offset` problems, then take at most `limit`. */
    offset: Type.Optional(Count),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    /** A configured backend's id; the server's default when absent. Never a URL. */
    backend: Type.Optional(Type.String({ maxLength: 200 })),
    model: Type.Optional(Type.String({ maxLength: 500 })),
    prompt: Type.Optional(ExperimentPromptSchema),
    /** Settings shared by every swept setting. */
    budget_forcing: Type.Optional(BudgetForcingSchema),
    /** Explicit settings, each laid over `budget_forcing`; listed before the sweep's. */
    settings: Type.Optional(Type.Array(BudgetForcingSchema, { maxItems: 256 })),
    sweep: Type.Optional(SweepSchema),
    /** Samples per problem and setting (for majority vote and pass@k). Default 1. */
    samples: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /**
     * Default: greedy for one sample; temperature 0.6, top_p 0.95 (Yue et
     * al.) for several. `seed` is the base seed (default 0).
     */
    sampling: Type.Optional(SamplingSchema),
    /** Items run at once. Default: the embedded backend's sequences, 8 for a server backend. */
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    /** Besides the majority vote every experiment reports, a `confidence` vote. */
    vote: Type.Optional(VoteSchema),
  },
  { additionalProperties: false },
);
export type ExperimentCreate = Static<typeof ExperimentCreateSchema>;

// ---- Stored experiment ------------------------------------------------------

const Share = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const ErrorInfo = Type.Union([
  Type.Object({ code: Type.String(), message: Type.String() }),
  Type.Null(),
]);

/**
 * `running`: items are being run; `completed`: every item is done;
 * `failed`: the runner stopped with failed items (resume retries them);
 * `cancelled`: stopped by its user; `interrupted`: the server stopped or
 * crashed while it ran. All but `running` and `completed` can be resumed.
 */
export const ExperimentStatusSchema = Type.Union([
  Type.Literal("running"),
  Type.Literal("completed"),
  Type.Literal("failed"),
  Type.Literal("cancelled"),
  Type.Literal("interrupted"),
]);
export type ExperimentStatus = Static<typeof ExperimentStatusSchema>;

export type ExperimentItemStatus = "pending" | "running" | "done" | "failed";

export const ExperimentProgressSchema = Type.Object({
  /** problems x settings x samples. */
  total: Count,
  done: Count,
  running: Count,
  failed: Count,
  pending: Count,
  /** Tokens generated by done items: thinking (injections included) plus answer. */
  tokens: Count,
  thinkingTokens: Count,
  /** Time spent running, over every resume (ms). */
  elapsedMs: Type.Number({ minimum: 0 }),
  /** Time left at the current pace (ms); null until an item is done in this session. */
  etaMs: NullableNumber,
  /** Requests in flight now (items running), and the configured bound. */
  inFlight: Count,
  concurrency: Count,
});
export type ExperimentProgress = Static<typeof ExperimentProgressSchema>;

export const ExperimentDatasetInfoSchema = Type.Object({
  /** What the problems came from: a file's name, `upload`, the generator, a preset. */
  name: Type.String(),
  source: Type.Union([
    Type.Literal("path"),
    Type.Literal("upload"),
    Type.Literal("generator"),
    Type.Literal("preset"),
  ]),
  /** The detected row shape (`aime`, `math`, `gsm8k`, `question-answer`, `mapped`, `generated`). */
  shape: Type.String(),
  /** Problems in the whole file before slicing. */
  available: Count,
  offset: Count,
  /** Problems in the experiment (after offset and limit). */
  problems: Count,
});
export type ExperimentDatasetInfo = Static<typeof ExperimentDatasetInfoSchema>;

const SummaryProperties = {
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  status: ExperimentStatusSchema,
  preset: Type.Union([Type.String(), Type.Null()]),
  dataset: ExperimentDatasetInfoSchema,
  backend: Type.String(),
  /** The model asked for; null runs the backend's default model. */
  model: Type.Union([Type.String(), Type.Null()]),
  /** Number of settings and samples per problem and setting. */
  settings: Count,
  samples: Count,
  progress: ExperimentProgressSchema,
  /** Why it stopped (`failed`), or the last item error. */
  error: ErrorInfo,
};
export const ExperimentSummarySchema = Type.Object(SummaryProperties);
export type ExperimentSummary = Static<typeof ExperimentSummarySchema>;

/** One swept setting: its `budget_forcing` (the base with the swept values laid over it). */
export const ExperimentSettingSchema = Type.Object({
  index: Count,
  /** Short text for legends: `model=tiny-reasoner-rl num_waits=2`, or `base`. */
  label: Type.String(),
  /** Only the `budget_forcing` fields this setting varies (from `settings` or `sweep`). */
  varied: BudgetForcingSchema,
  budget_forcing: BudgetForcingSchema,
  /**
   * When the sweep varies the model: the model this setting runs on, and the
   * configured backend that serves it (resolved when the experiment is made).
   */
  model: Type.Optional(Type.String()),
  backend: Type.Optional(Type.String()),
});
export type ExperimentSetting = Static<typeof ExperimentSettingSchema>;

/** Everything the runner needs, resolved from the request (and preset) and stored. */
export const ExperimentSpecSchema = Type.Object({
  prompt: Type.Object({
    mode: Type.Union([Type.Literal("chat"), Type.Literal("raw")]),
    template: Type.String(),
  }),
  settings: Type.Array(ExperimentSettingSchema),
  samples: Count,
  /** Base sampling; sample i runs with `seed + i`. */
  sampling: Type.Intersect([SamplingSchema, Type.Object({ seed: Type.Integer() })]),
  concurrency: Count,
  /** A `confidence` vote with its defaults filled in; absent: majority only. */
  vote: Type.Optional(
    Type.Object({
      method: Type.Literal("confidence"),
      window: Count,
      keep: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    }),
  ),
});
export type ExperimentSpec = Static<typeof ExperimentSpecSchema>;

/** Requests in flight at a moment, `t` ms after the current (or last) session started. */
export const ThroughputPointSchema = Type.Object({ t: Type.Number(), inFlight: Count });
export type ThroughputPoint = Static<typeof ThroughputPointSchema>;

export const ExperimentThroughputSchema = Type.Object({
  concurrency: Count,
  /** Highest number of requests in flight seen. */
  peakInFlight: Count,
  /** Time-weighted mean of requests in flight while the session ran. */
  meanInFlight: Type.Number({ minimum: 0 }),
  /** Change points, downsampled to a few hundred. */
  points: Type.Array(ThroughputPointSchema),
});
export type ExperimentThroughput = Static<typeof ExperimentThroughputSchema>;

export const ExperimentPresetInfoSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  description: Type.String(),
});
export type ExperimentPresetInfo = Static<typeof ExperimentPresetInfoSchema>;

// ---- Results (snake_case: the CLI --json contract) --------------------------

/** One setting's results. The first five fields are the public contract. */
export const SettingResultSchema = Type.Object({
  setting: ExperimentSettingSchema,
  /** Share of all graded samples that are correct (0 to 1); null before any is graded. */
  accuracy: Share,
  /** Mean thinking tokens (generated plus injected) per sample. */
  mean_thinking_tokens: NullableNumber,
  /** Share of problems whose majority answer is correct (ties: the earliest sample's answer). */
  majority_vote_accuracy: Share,
  /** With a `confidence` vote: share of problems whose confidence-weighted answer is correct. */
  confidence_vote_accuracy: Type.Optional(Share),
  /** pass@k averaged over problems, index 0 = pass@1 (unbiased estimator). */
  pass_at_k: Type.Array(Type.Number({ minimum: 0, maximum: 1 })),
  /** Graded samples and problems with at least one. */
  samples: Count,
  problems: Count,
  mean_answer_tokens: NullableNumber,
  /** Mean waits injected per sample, and the share of samples whose thinking was cut. */
  mean_waits: NullableNumber,
  forced_end_rate: Share,
  /** Share of samples whose thinking stayed within [min_thinking_tokens, max_thinking_tokens]. */
  within_budget: Share,
});
export type SettingResult = Static<typeof SettingResultSchema>;

/** The s1 paper's metrics over the settings (Muennighoff et al. 2025, section 3.2). */
export const S1MetricsResultSchema = Type.Object({
  /** Share of runs (samples) whose thinking length stayed within their budget. */
  control: Share,
  /** Mean pairwise slope of accuracy (points) on log2 thinking tokens: points per doubling. */
  scaling: NullableNumber,
  /** The same slope per raw thinking token. */
  scaling_per_token: NullableNumber,
  scaling_unit: Type.Literal("percentage points per doubling of thinking tokens"),
  /** Best accuracy (0 to 1). */
  performance: Share,
});
export type S1MetricsResult = Static<typeof S1MetricsResultSchema>;

/** Sequential (budget forcing) against parallel (majority vote) scaling at equal token cost. */
export const SequentialParallelResultSchema = Type.Object({
  /** One point per setting: mean thinking tokens per sample against accuracy. */
  sequential: Type.Array(
    Type.Object({
      setting: Count,
      label: Type.String(),
      tokens: Type.Number(),
      accuracy: Type.Number(),
    }),
  ),
  /**
   * Per setting, majority vote over n samples for n = 1..samples (every n
   * up to 16, then the powers of two and n = samples): cost
   * n x the setting's mean thinking tokens, accuracy averaged over the
   * n-sample subsets of each problem's samples.
   */
  parallel: Type.Array(
    Type.Object({
      setting: Count,
      label: Type.String(),
      points: Type.Array(Type.Object({ n: Count, tokens: Type.Number(), accuracy: Type.Number() })),
    }),
  ),
});
export type SequentialParallelResult = Static<typeof SequentialParallelResultSchema>;

const NullableText = Type.Union([Type.String(), Type.Null()]);

export const ProblemSettingCellSchema = Type.Object({
  /** Correct samples out of graded samples. */
  correct: Count,
  samples: Count,
  /** Extracted answers by sample index (null: no answer found, or not graded yet). */
  answers: Type.Array(NullableText),
  /** Stored runs by sample index, to open in the trace view. */
  run_ids: Type.Array(NullableText),
  majority_answer: NullableText,
  majority_correct: Type.Union([Type.Boolean(), Type.Null()]),
});
export type ProblemSettingCell = Static<typeof ProblemSettingCellSchema>;

export const ProblemRowSchema = Type.Object({
  problem_id: Type.String(),
  problem: Type.String(),
  reference: Type.String(),
  /** Same order as `settings`. */
  settings: Type.Array(ProblemSettingCellSchema),
});
export type ProblemRow = Static<typeof ProblemRowSchema>;

const ResultsProperties = {
  /** Every item is done (none pending, running or failed). */
  complete: Type.Boolean(),
  settings: Type.Array(SettingResultSchema),
  s1_metrics: S1MetricsResultSchema,
  sequential_vs_parallel: SequentialParallelResultSchema,
  problems: Type.Array(ProblemRowSchema),
};
export const ExperimentResultsSchema = Type.Object(ResultsProperties);
export type ExperimentResults = Static<typeof ExperimentResultsSchema>;

export const ExperimentDetailSchema = Type.Object({
  ...SummaryProperties,
  spec: ExperimentSpecSchema,
  /** The latest session's requests in flight over time (the runner keeps the backend busy). */
  throughput: Type.Union([ExperimentThroughputSchema, Type.Null()]),
  /** Computed over the done items; `complete` says whether every item is done. */
  results: ExperimentResultsSchema,
});
export type ExperimentDetail = Static<typeof ExperimentDetailSchema>;

export const ExperimentListSchema = Type.Object({
  experiments: Type.Array(ExperimentSummarySchema),
  total: Count,
});
export type ExperimentList = Static<typeof ExperimentListSchema>;

/**
 * `GET /api/experiments/:id/results.json` and `thinkscope experiment --json`:
 * one object; `settings` (each with `setting`, `accuracy`,
 * `mean_thinking_tokens`, `majority_vote_accuracy`, `pass_at_k`) is the
 * public contract, everything beside it may grow.
 */
export const ExperimentResultsDocumentSchema = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  status: ExperimentStatusSchema,
  preset: Type.Union([Type.String(), Type.Null()]),
  dataset: ExperimentDatasetInfoSchema,
  backend: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  samples: Count,
  sampling: ExperimentSpecSchema.properties.sampling,
  prompt: ExperimentSpecSchema.properties.prompt,
  progress: ExperimentProgressSchema,
  throughput: Type.Union([ExperimentThroughputSchema, Type.Null()]),
  ...ResultsProperties,
});
export type ExperimentResultsDocument = Static<typeof ExperimentResultsDocumentSchema>;

/** `GET /api/experiments/presets`. */
export const ExperimentPresetListSchema = Type.Object({
  presets: Type.Array(ExperimentPresetInfoSchema),
});

export const ExperimentIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
});

export const ExperimentListQuerySchema = Type.Object(
  {
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(QueryInteger({ minimum: 0 })),
  },
  { additionalProperties: false },
);

// ---- WebSocket /ws ------------------------------------------------------------

/** Follow one experiment's progress; the server answers with its current progress at once. */
export const ExperimentSubscribeSchema = Type.Object(
  {
    type: Type.Literal("experiment.subscribe"),
    experimentId: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export const ExperimentUnsubscribeSchema = Type.Object(
  {
    type: Type.Literal("experiment.unsubscribe"),
    experimentId: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

/**
 * An experiment's progress, sent on subscribing and then on every change,
 * coalesced to the latest per experiment (at most one per flush, ~50 ms).
 * The last one of a session has a status other than `running`; fetch
 * `GET /api/experiments/:id` for the results.
 */
export const ExperimentProgressMessageSchema = Type.Object({
  type: Type.Literal("experiment.progress"),
  experimentId: Type.String(),
  status: ExperimentStatusSchema,
  progress: ExperimentProgressSchema,
  error: ErrorInfo,
});
export type ExperimentProgressMessage = Static<typeof ExperimentProgressMessageSchema>;
