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
import {
  BudgetForcingSchema,
  SamplingSchema,
  WaitStringSchema,
  type BudgetForcing,
  type Sampling,
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
 * Values to sweep, per `budget_forcing` field. The settings are the
 * cartesian product of every list given (fields in this order), each laid
 * over the request's `budget_forcing`.
 */
export const SweepSchema = Type.Object(
  {
    max_thinking_tokens: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    min_thinking_tokens: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    num_waits: Type.Optional(Type.Array(Count, { minItems: 1, maxItems: 64 })),
    /** The paper's ablation: `["Wait", "Hmm", "Alternatively"]`. */
    wait_string: Type.Optional(Type.Array(WaitStringSchema, { minItems: 1, maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type Sweep = Static<typeof SweepSchema>;

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
  },
  { additionalProperties: false },
);
export type ExperimentCreate = Static<typeof ExperimentCreateSchema>;

// ---- Stored experiment ------------------------------------------------------

/**
 * `running`: items are being run; `completed`: every item is done;
 * `failed`: the runner stopped with failed items (resume retries them);
 * `cancelled`: stopped by its user; `interrupted`: the server stopped or
 * crashed while it ran. All but `running` and `completed` can be resumed.
 */
export type ExperimentStatus = "running" | "completed" | "failed" | "cancelled" | "interrupted";

export type ExperimentItemStatus = "pending" | "running" | "done" | "failed";

export interface ExperimentProgress {
  /** problems x settings x samples. */
  total: number;
  done: number;
  running: number;
  failed: number;
  pending: number;
  /** Tokens generated by done items: thinking (injections included) plus answer. */
  tokens: number;
  thinkingTokens: number;
  /** Time spent running, over every resume (ms). */
  elapsedMs: number;
  /** Time left at the current pace (ms); null until an item is done in this session. */
  etaMs: number | null;
  /** Requests in flight now (items running), and the configured bound. */
  inFlight: number;
  concurrency: number;
}

export interface ExperimentDatasetInfo {
  /** What the problems came from: a file's name, `upload`, the generator, a preset. */
  name: string;
  source: "path" | "upload" | "generator" | "preset";
  /** The detected row shape (`aime`, `math`, `gsm8k`, `question-answer`, `mapped`, `generated`). */
  shape: string;
  /** Problems in the whole file before slicing. */
  available: number;
  offset: number;
  /** Problems in the experiment (after offset and limit). */
  problems: number;
}

export interface ExperimentSummary {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  status: ExperimentStatus;
  preset: string | null;
  dataset: ExperimentDatasetInfo;
  backend: string;
  /** The model asked for; null runs the backend's default model. */
  model: string | null;
  /** Number of settings and samples per problem and setting. */
  settings: number;
  samples: number;
  progress: ExperimentProgress;
  /** Why it stopped (`failed`), or the last item error. */
  error: { code: string; message: string } | null;
}

/** One swept setting: its `budget_forcing` (the base with the swept values laid over it). */
export interface ExperimentSetting {
  index: number;
  /** Short text for legends: `num_waits=2 max_thinking_tokens=512`, or `base`. */
  label: string;
  /** Only the fields this setting varies (from `settings` or `sweep`). */
  varied: BudgetForcing;
  budget_forcing: BudgetForcing;
}

/** Everything the runner needs, resolved from the request (and preset) and stored. */
export interface ExperimentSpec {
  prompt: { mode: "chat" | "raw"; template: string };
  settings: ExperimentSetting[];
  samples: number;
  /** Base sampling; sample i runs with `seed + i`. */
  sampling: Sampling & { seed: number };
  concurrency: number;
}

/** Requests in flight at a moment, `t` ms after the current (or last) session started. */
export interface ThroughputPoint {
  t: number;
  inFlight: number;
}

export interface ExperimentThroughput {
  concurrency: number;
  /** Highest number of requests in flight seen. */
  peakInFlight: number;
  /** Time-weighted mean of requests in flight while the session ran. */
  meanInFlight: number;
  /** Change points, downsampled to a few hundred. */
  points: ThroughputPoint[];
}

export interface ExperimentDetail extends ExperimentSummary {
  spec: ExperimentSpec;
  /** The latest session's requests in flight over time (the runner keeps the backend busy). */
  throughput: ExperimentThroughput | null;
  /** Computed over the done items; `complete` says whether every item is done. */
  results: ExperimentResults;
}

export interface ExperimentList {
  experiments: ExperimentSummary[];
  total: number;
}

export interface ExperimentPresetInfo {
  id: string;
  title: string;
  description: string;
}

// ---- Results (snake_case: the CLI --json contract) --------------------------

/** One setting's results. The first five fields are the public contract. */
export interface SettingResult {
  setting: ExperimentSetting;
  /** Share of all graded samples that are correct (0 to 1); null before any is graded. */
  accuracy: number | null;
  /** Mean thinking tokens (generated plus injected) per sample. */
  mean_thinking_tokens: number | null;
  /** Share of problems whose majority answer is correct (ties: the earliest sample's answer). */
  majority_vote_accuracy: number | null;
  /** pass@k averaged over problems, index 0 = pass@1 (unbiased estimator). */
  pass_at_k: number[];
  /** Graded samples and problems with at least one. */
  samples: number;
  problems: number;
  mean_answer_tokens: number | null;
  /** Mean waits injected per sample, and the share of samples whose thinking was cut. */
  mean_waits: number | null;
  forced_end_rate: number | null;
  /** Share of samples whose thinking stayed within [min_thinking_tokens, max_thinking_tokens]. */
  within_budget: number | null;
}

/** The s1 paper's metrics over the settings (Muennighoff et al. 2025, section 3.2). */
export interface S1MetricsResult {
  /** Share of runs (samples) whose thinking length stayed within their budget. */
  control: number | null;
  /** Mean pairwise slope of accuracy (points) on log2 thinking tokens: points per doubling. */
  scaling: number | null;
  /** The same slope per raw thinking token. */
  scaling_per_token: number | null;
  scaling_unit: "percentage points per doubling of thinking tokens";
  /** Best accuracy (0 to 1). */
  performance: number | null;
}

/** Sequential (budget forcing) against parallel (majority vote) scaling at equal token cost. */
export interface SequentialParallelResult {
  /** One point per setting: mean thinking tokens per sample against accuracy. */
  sequential: Array<{ setting: number; label: string; tokens: number; accuracy: number }>;
  /**
   * Per setting, majority vote over n samples for n = 1..samples: cost
   * n x the setting's mean thinking tokens, accuracy averaged over the
   * n-sample subsets of each problem's samples.
   */
  parallel: Array<{
    setting: number;
    label: string;
    points: Array<{ n: number; tokens: number; accuracy: number }>;
  }>;
}

export interface ProblemSettingCell {
  /** Correct samples out of graded samples. */
  correct: number;
  samples: number;
  /** Extracted answers by sample index (null: no answer found, or not graded yet). */
  answers: Array<string | null>;
  /** Stored runs by sample index, to open in the trace view. */
  run_ids: Array<string | null>;
  majority_answer: string | null;
  majority_correct: boolean | null;
}

export interface ProblemRow {
  problem_id: string;
  problem: string;
  reference: string;
  /** Same order as `settings`. */
  settings: ProblemSettingCell[];
}

export interface ExperimentResults {
  /** Every item is done (none pending, running or failed). */
  complete: boolean;
  settings: SettingResult[];
  s1_metrics: S1MetricsResult;
  sequential_vs_parallel: SequentialParallelResult;
  problems: ProblemRow[];
}

/**
 * `GET /api/experiments/:id/results.json` and `thinkscope experiment --json`:
 * one object; `settings` (each with `setting`, `accuracy`,
 * `mean_thinking_tokens`, `majority_vote_accuracy`, `pass_at_k`) is the
 * public contract, everything beside it may grow.
 */
export interface ExperimentResultsDocument extends ExperimentResults {
  experiment_id: string;
  name: string;
  status: ExperimentStatus;
  preset: string | null;
  dataset: ExperimentDatasetInfo;
  backend: string;
  model: string | null;
  samples: number;
  sampling: ExperimentSpec["sampling"];
  prompt: ExperimentSpec["prompt"];
  progress: ExperimentProgress;
  throughput: ExperimentThroughput | null;
}

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
export const ExperimentClientMessageSchema = Type.Union([
  ExperimentSubscribeSchema,
  ExperimentUnsubscribeSchema,
]);
export type ExperimentClientMessage = Static<typeof ExperimentClientMessageSchema>;

/**
 * An experiment's progress, sent on subscribing and then on every change,
 * coalesced to the latest per experiment (at most one per flush, ~50 ms).
 * The last one of a session has a status other than `running`; fetch
 * `GET /api/experiments/:id` for the results.
 */
export interface ExperimentProgressMessage {
  type: "experiment.progress";
  experimentId: string;
  status: ExperimentStatus;
  progress: ExperimentProgress;
  error: { code: string; message: string } | null;
}
