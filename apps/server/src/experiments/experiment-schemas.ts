/**
 * Response schemas of the experiments API. Records are described field by
 * field; the spec, throughput and results are described at their top level
 * and left open below it (their shapes are the protocol's types, which the
 * routes return), so serializing a large per-problem table stays cheap.
 */
import type {
  ExperimentResults,
  ExperimentResultsDocument,
  ExperimentSpec,
  ExperimentThroughput,
} from "@thinkscope/protocol";
import { Type } from "typebox";
import { QueryInteger } from "@thinkscope/protocol";

const Open = { additionalProperties: true } as const;
const Count = Type.Integer({ minimum: 0 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const ErrorInfo = Type.Union([
  Type.Object({ code: Type.String(), message: Type.String() }),
  Type.Null(),
]);

export const ExperimentStatusSchema = Type.Union([
  Type.Literal("running"),
  Type.Literal("completed"),
  Type.Literal("failed"),
  Type.Literal("cancelled"),
  Type.Literal("interrupted"),
]);

export const ExperimentProgressSchema = Type.Object({
  total: Count,
  done: Count,
  running: Count,
  failed: Count,
  pending: Count,
  tokens: Count,
  thinkingTokens: Count,
  elapsedMs: Type.Number({ minimum: 0 }),
  etaMs: NullableNumber,
  inFlight: Count,
  concurrency: Count,
});

export const ExperimentDatasetInfoSchema = Type.Object({
  name: Type.String(),
  source: Type.Union([
    Type.Literal("path"),
    Type.Literal("upload"),
    Type.Literal("generator"),
    Type.Literal("preset"),
  ]),
  shape: Type.String(),
  available: Count,
  offset: Count,
  problems: Count,
});

const SummaryProperties = {
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  status: ExperimentStatusSchema,
  preset: Type.Union([Type.String(), Type.Null()]),
  dataset: ExperimentDatasetInfoSchema,
  backend: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  settings: Count,
  samples: Count,
  progress: ExperimentProgressSchema,
  error: ErrorInfo,
};

export const ExperimentSummarySchema = Type.Object(SummaryProperties);

const SpecSchema = Type.Unsafe<ExperimentSpec>(
  Type.Object(
    {
      prompt: Type.Object({}, Open),
      settings: Type.Array(Type.Object({}, Open)),
      samples: Count,
      sampling: Type.Object({}, Open),
      concurrency: Count,
    },
    Open,
  ),
);

const ThroughputSchema = Type.Unsafe<ExperimentThroughput | null>(
  Type.Union([
    Type.Object(
      {
        concurrency: Count,
        peakInFlight: Count,
        meanInFlight: Type.Number(),
        points: Type.Array(Type.Object({ t: Type.Number(), inFlight: Count })),
      },
      Open,
    ),
    Type.Null(),
  ]),
);

const ResultsProperties = {
  complete: Type.Boolean(),
  settings: Type.Array(Type.Object({}, Open)),
  s1_metrics: Type.Object({}, Open),
  sequential_vs_parallel: Type.Object({}, Open),
  problems: Type.Array(Type.Object({}, Open)),
};

const ResultsSchema = Type.Unsafe<ExperimentResults>(Type.Object(ResultsProperties, Open));

export const ExperimentDetailSchema = Type.Object({
  ...SummaryProperties,
  spec: SpecSchema,
  throughput: ThroughputSchema,
  results: ResultsSchema,
});

export const ExperimentListSchema = Type.Object({
  experiments: Type.Array(ExperimentSummarySchema),
  total: Count,
});

export const ExperimentResultsDocumentSchema = Type.Unsafe<ExperimentResultsDocument>(
  Type.Object(
    {
      experiment_id: Type.String(),
      name: Type.String(),
      status: ExperimentStatusSchema,
      ...ResultsProperties,
    },
    Open,
  ),
);

export const ExperimentPresetListSchema = Type.Object({
  presets: Type.Array(
    Type.Object({ id: Type.String(), title: Type.String(), description: Type.String() }),
  ),
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
