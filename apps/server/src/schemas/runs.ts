/**
 * Schemas of stored runs: the runs API's responses and the lines of a JSONL
 * import. The TypeScript shapes are the protocol's `RunSummary` / `RunDetail`;
 * the routes return those types under these schemas, so the type provider
 * fails the typecheck when the two drift apart.
 */
import { BudgetForcingSchema, PromptModeSchema, SamplingSchema } from "@thinkscope/protocol";
import { Type } from "typebox";
import { RUN_ID_PATTERN } from "../store/run-id.ts";
import { QueryInteger } from "./common.ts";

const Open = { additionalProperties: true } as const;
const Count = Type.Integer({ minimum: 0 });
const Time = Type.Number({ minimum: 0 });

export const RunStatusSchema = Type.Union([
  Type.Literal("running"),
  Type.Literal("completed"),
  Type.Literal("aborted"),
  Type.Literal("error"),
  Type.Literal("interrupted"),
]);

export const RunSourceSchema = Type.Union([
  Type.Literal("page"),
  Type.Literal("api"),
  Type.Literal("cli"),
  Type.Literal("experiment"),
]);

const SegmentTypeSchema = Type.Union([
  Type.Literal("thinking"),
  Type.Literal("wait"),
  Type.Literal("forced_end"),
  Type.Literal("end"),
  Type.Literal("answer"),
]);

export const SegmentSchema = Type.Object({
  type: SegmentTypeSchema,
  text: Type.String(),
  tokens: Count,
});

const FinishReasonSchema = Type.Union([
  Type.Literal("stop"),
  Type.Literal("length"),
  Type.Literal("aborted"),
  Type.Literal("error"),
]);

/** The API's `budget_forcing` response object (docs/api.md) with its extensions. */
export const BudgetForcingSummarySchema = Type.Object(
  {
    thinking_tokens: Count,
    injected_tokens: Count,
    answer_tokens: Count,
    waits: Count,
    forced_end: Type.Boolean(),
    token_counts_exact: Type.Boolean(),
    upstream_requests: Count,
    segments: Type.Array(SegmentSchema),
    close_tokens: Count,
    finish_reason: Type.Union([FinishReasonSchema, Type.Null()]),
    reprefilled_tokens: Count,
    cached_prompt_tokens: Count,
  },
  Open,
);

/**
 * The engine's events, checked on import so a replayed run cannot break the
 * page. Only the fields the page and the store read are required; anything
 * else an engine version adds is kept.
 */
export const EngineEventSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal("run.started"),
      runId: Type.String(),
      settings: Type.Object({}, Open),
      promptTokens: Count,
      capabilities: Type.Object({}, Open),
      tokenCountsExact: Type.Boolean(),
      time: Time,
    },
    Open,
  ),
  Type.Object(
    {
      type: Type.Literal("delta"),
      phase: Type.Union([Type.Literal("thinking"), Type.Literal("answer")]),
      text: Type.String(),
      tokens: Count,
      phaseTokens: Count,
      time: Time,
    },
    Open,
  ),
  Type.Object(
    {
      type: Type.Literal("injection"),
      kind: Type.Union([Type.Literal("wait"), Type.Literal("forced_end"), Type.Literal("end")]),
      text: Type.String(),
      tokens: Count,
      thinkingTokenIndex: Count,
      reason: Type.String(),
      time: Time,
    },
    Open,
  ),
  Type.Object({ type: Type.Literal("phase"), phase: Type.Literal("answer"), time: Time }, Open),
  Type.Object(
    {
      type: Type.Literal("run.finished"),
      finishReason: FinishReasonSchema,
      stats: Type.Object({}, Open),
      time: Time,
    },
    Open,
  ),
  Type.Object(
    {
      type: Type.Literal("run.error"),
      code: Type.String(),
      message: Type.String(),
      retryable: Type.Boolean(),
      status: Type.Integer(),
      time: Time,
    },
    Open,
  ),
]);

const RunSummaryProperties = {
  id: Type.String({ minLength: 1, maxLength: 200 }),
  createdAt: Type.String({ minLength: 1 }),
  updatedAt: Type.String({ minLength: 1 }),
  status: RunStatusSchema,
  source: RunSourceSchema,
  backend: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  prompt: Type.String(),
  mode: PromptModeSchema,
  budgetForcing: BudgetForcingSchema,
  sampling: SamplingSchema,
  summary: Type.Union([BudgetForcingSummarySchema, Type.Null()]),
  answer: Type.String(),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  experimentId: Type.Union([Type.String(), Type.Null()]),
};

export const RunSummarySchema = Type.Object(RunSummaryProperties);

/**
 * One line of an export; what an import accepts. Ids and times are held to
 * what the server writes: an id ends up in URLs, and the list sorts by time.
 */
export const RunDetailSchema = Type.Object({
  ...RunSummaryProperties,
  id: Type.String({ pattern: RUN_ID_PATTERN }),
  // RFC 3339, in any offset (stored in UTC).
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
  renderedPrompt: Type.String(),
  text: Type.String(),
  events: Type.Array(EngineEventSchema),
});

/**
 * The detail as a response: events are written as stored (the engine's own
 * objects), not re-described field by field, so serializing a long run stays cheap.
 */
export const RunDetailResponseSchema = Type.Object({
  ...RunSummaryProperties,
  renderedPrompt: Type.String(),
  text: Type.String(),
  events: Type.Array(Type.Unknown()),
});

export const RunListSchema = Type.Object({ runs: Type.Array(RunSummarySchema), total: Count });

export const RunListQuerySchema = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 1000 })),
    model: Type.Optional(Type.String({ maxLength: 500 })),
    status: Type.Optional(RunStatusSchema),
    backend: Type.Optional(Type.String({ maxLength: 200 })),
    source: Type.Optional(RunSourceSchema),
    experiment_id: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(QueryInteger({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const RunIdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const ImportResultSchema = Type.Object({
  imported: Count,
  /** Runs whose id was taken, with the id they were stored under. */
  renamed: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
});
