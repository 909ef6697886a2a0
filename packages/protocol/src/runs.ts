/**
 * Runs on the wire: what starts one (`RunSpec`, from the page or the runs
 * API), and a stored run as listed (`RunSummary`), in detail with its events
 * (`RunDetail`, also one line of an export and what an import accepts).
 */
import { Type, type Static } from "typebox";
import { BudgetForcingSchema, SamplingSchema } from "./budget.ts";
import { BudgetForcingSummarySchema, EngineEventSchema, ResolvedSettingsSchema } from "./events.ts";

const Count = Type.Integer({ minimum: 0 });

/**
 * What every run id looks like (`run_` and 16 hex digits): an imported run
 * must have one too, since ids end up in URLs and logs.
 */
export const RUN_ID_PATTERN = "^run_[0-9a-f]{16}$";

/**
 * A whole number in a query string. Not `Type.Integer`: query values are
 * converted before they are checked, and that conversion cuts an integer's
 * fraction off (`limit=1.5` passed as 1); a number is taken as it is, then
 * refused unless whole.
 */
export function QueryInteger(range: { minimum: number; maximum?: number }) {
  return Type.Number({ maximum: Number.MAX_SAFE_INTEGER, ...range, multipleOf: 1 });
}

/** How a prompt is sent: a user message through the chat template, or raw text as is. */
export const PromptModeSchema = Type.Union([Type.Literal("chat"), Type.Literal("raw")]);
export type PromptMode = Static<typeof PromptModeSchema>;

/**
 * Start from another run's context instead of a prompt: its prompt plus its
 * first `at` continuation tokens (generated and injected, as its events
 * number them; 0 is right after the prompt), then `insert`.
 */
export const ForkSchema = Type.Object(
  {
    run_id: Type.String({ pattern: RUN_ID_PATTERN }),
    at: Type.Integer({ minimum: 0 }),
    insert: Type.Optional(Type.String({ maxLength: 20_000 })),
  },
  { additionalProperties: false },
);
export type Fork = Static<typeof ForkSchema>;

/** Everything needed to start one run, from the page (WebSocket) or the runs API. */
export const RunSpecSchema = Type.Object(
  {
    /** The prompt; absent exactly when `fork` is given. */
    prompt: Type.Optional(Type.String({ minLength: 1, maxLength: 200_000 })),
    /** Continue another run instead (its backend, model, prompt and unset settings carry over). */
    fork: Type.Optional(ForkSchema),
    mode: Type.Optional(PromptModeSchema),
    /** A configured backend's id; the server's default when absent. Never a URL. */
    backend: Type.Optional(Type.String({ maxLength: 200 })),
    model: Type.Optional(Type.String({ maxLength: 500 })),
    budget_forcing: Type.Optional(BudgetForcingSchema),
    sampling: Type.Optional(SamplingSchema),
  },
  { additionalProperties: false },
);
export type RunSpec = Static<typeof RunSpecSchema>;

/**
 * `POST /api/runs/preview`: what a run of a `RunSpec` would use, found the
 * way the run itself finds it, without generating anything: the page shows
 * these budgets and checks a run before sending it.
 */
export const RunPreviewSchema = Type.Object({
  /** The exact text the model would see (chat template applied). */
  renderedPrompt: Type.String(),
  promptTokens: Count,
  /** Counted with the model's tokenizer, or estimated (text-only backends). */
  promptTokensExact: Type.Boolean(),
  /** The model's context length in tokens, when known. */
  contextLength: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** The most the run's close can take (the context keeps room for it). */
  closeTokens: Count,
  /** Every setting with its default filled in and budgets left out fitted to the context. */
  settings: ResolvedSettingsSchema,
});
export type RunPreview = Static<typeof RunPreviewSchema>;

export const RunStatusSchema = Type.Union([
  Type.Literal("running"),
  Type.Literal("completed"),
  Type.Literal("aborted"),
  Type.Literal("error"),
  Type.Literal("interrupted"),
]);
export type RunStatus = Static<typeof RunStatusSchema>;

export const RunSourceSchema = Type.Union([
  Type.Literal("page"),
  Type.Literal("api"),
  Type.Literal("cli"),
  Type.Literal("experiment"),
]);
export type RunSource = Static<typeof RunSourceSchema>;

const RunSummaryProperties = {
  id: Type.String({ minLength: 1, maxLength: 200 }),
  createdAt: Type.String({ minLength: 1 }),
  updatedAt: Type.String({ minLength: 1 }),
  status: RunStatusSchema,
  source: RunSourceSchema,
  backend: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  /** The prompt as the user wrote it (chat) or as sent (raw). */
  prompt: Type.String(),
  mode: PromptModeSchema,
  budgetForcing: BudgetForcingSchema,
  sampling: SamplingSchema,
  summary: Type.Union([BudgetForcingSummarySchema, Type.Null()]),
  /** The answer's text, for lists and comparisons. */
  answer: Type.String(),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  experimentId: Type.Union([Type.String(), Type.Null()]),
  /** The run this one was forked from, and after how many of its continuation tokens (absent in older exports). */
  parentRunId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  forkAt: Type.Optional(Type.Union([Count, Type.Null()])),
  /** The resample analysis this run is one sample of. */
  resampleId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
};

/** A stored run as listed. */
export const RunSummarySchema = Type.Object(RunSummaryProperties);
export type RunSummary = Static<typeof RunSummarySchema>;

const RunDetailProperties = {
  ...RunSummaryProperties,
  /** The exact text sent to the model. */
  renderedPrompt: Type.String(),
  /** The whole continuation. */
  text: Type.String(),
  events: Type.Array(EngineEventSchema),
};

/**
 * A stored run with everything needed to replay it; one line of an export
 * and what an import accepts. Ids and times are held to what the server
 * writes: an id ends up in URLs, and lists sort by time (RFC 3339, any offset).
 */
export const RunDetailSchema = Type.Object({
  ...RunDetailProperties,
  id: Type.String({ pattern: RUN_ID_PATTERN }),
  createdAt: Type.String({ format: "date-time" }),
  updatedAt: Type.String({ format: "date-time" }),
});
export type RunDetail = Static<typeof RunDetailSchema>;

/**
 * The detail as a response: events are written as stored (the engine's own
 * objects), not re-described field by field, so serializing a long run stays
 * cheap. The same shape as `RunDetail`.
 */
export const RunDetailResponseSchema = Type.Object({
  ...RunDetailProperties,
  events: Type.Array(Type.Unknown()),
});

export const RunListSchema = Type.Object({ runs: Type.Array(RunSummarySchema), total: Count });
export type RunList = Static<typeof RunListSchema>;

/** `GET /api/runs` (and, without `limit` and `offset`, `GET /api/runs/export`). */
export const RunListQuerySchema = Type.Object(
  {
    /** Words to find in the prompt or the text (all of them, each as a prefix). */
    q: Type.Optional(Type.String({ maxLength: 1000 })),
    model: Type.Optional(Type.String({ maxLength: 500 })),
    status: Type.Optional(RunStatusSchema),
    backend: Type.Optional(Type.String({ maxLength: 200 })),
    source: Type.Optional(RunSourceSchema),
    /** Leave out runs from this source (the page hides experiment runs unless asked). */
    exclude_source: Type.Optional(RunSourceSchema),
    experiment_id: Type.Optional(Type.String({ maxLength: 200 })),
    /** Only the forks of this run. */
    parent_run_id: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 500 })),
    offset: Type.Optional(QueryInteger({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type RunListQuery = Static<typeof RunListQuerySchema>;

export const RunIdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/** `POST /api/runs/import`'s answer. */
export const ImportResultSchema = Type.Object({
  imported: Count,
  /** Runs whose id was taken, with the id they were stored under. */
  renamed: Type.Array(Type.Object({ from: Type.String(), to: Type.String() })),
});
export type ImportResult = Static<typeof ImportResultSchema>;
