/**
 * Wire types shared by the server and the page. Request bodies are TypeBox
 * schemas (the server validates with them, types come from them); the
 * engine's events are defined once in @thinkscope/core and re-exported here
 * as types only, so the page never bundles engine code.
 */
import { Type, type Static } from "typebox";
import {
  ExperimentSubscribeSchema,
  ExperimentUnsubscribeSchema,
  type ExperimentProgressMessage,
} from "./experiments.ts";

export * from "./experiments.ts";

export type {
  BackendCapabilities,
  BackendKind,
  BackendReadiness,
  BudgetForcingSummary,
  DeltaEvent,
  EngineEvent,
  FinishReason,
  InjectionEvent,
  InjectionKind,
  InjectionReason,
  Phase,
  PhaseEvent,
  RunErrorEvent,
  RunFinishedEvent,
  RunStartedEvent,
  RunStats,
  Segment,
  SegmentType,
} from "@thinkscope/core";

import type {
  BackendCapabilities,
  BackendKind,
  BackendReadiness,
  BudgetForcingSummary,
  EngineEvent,
} from "@thinkscope/core";

const TokenCount = Type.Integer({ minimum: 0 });

export const CustomFormatSchema = Type.Object(
  {
    start: Type.String({ minLength: 1 }),
    end: Type.Union([
      Type.String({ minLength: 1 }),
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    ]),
    forced_end: Type.Optional(Type.String()),
    end_token_ids: Type.Optional(Type.Array(TokenCount)),
  },
  { additionalProperties: false },
);

/** The `budget_forcing` request field (ARCHITECTURE.md, contract). */
export const BudgetForcingSchema = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal("think-tags"), Type.Literal("s1"), CustomFormatSchema]),
    ),
    max_thinking_tokens: Type.Optional(TokenCount),
    min_thinking_tokens: Type.Optional(TokenCount),
    num_waits: Type.Optional(TokenCount),
    wait_string: Type.Optional(
      Type.Union([
        Type.String({ minLength: 1 }),
        Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      ]),
    ),
    final_answer_prefix: Type.Optional(Type.String()),
    max_answer_tokens: Type.Optional(TokenCount),
    max_extensions: Type.Optional(TokenCount),
  },
  { additionalProperties: false },
);
export type BudgetForcing = Static<typeof BudgetForcingSchema>;

export const SamplingSchema = Type.Object(
  {
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 0 })),
    seed: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
export type Sampling = Static<typeof SamplingSchema>;

/** How a page prompt is sent: a user message through the chat template, or raw text as is. */
export const PromptModeSchema = Type.Union([Type.Literal("chat"), Type.Literal("raw")]);
export type PromptMode = Static<typeof PromptModeSchema>;

/** Everything needed to start one run, from the page (WebSocket) or the runs API. */
export const RunSpecSchema = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 200_000 }),
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

// ---- WebSocket /ws --------------------------------------------------------

/** Chosen by the client to match replies to its run; unique per connection. */
export const RunKeySchema = Type.String({ minLength: 1, maxLength: 100 });

export const ClientMessageSchema = Type.Union([
  Type.Object(
    { type: Type.Literal("run"), key: RunKeySchema, spec: RunSpecSchema },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal("abort"), key: RunKeySchema }, { additionalProperties: false }),
  ExperimentSubscribeSchema,
  ExperimentUnsubscribeSchema,
]);
export type ClientMessage = Static<typeof ClientMessageSchema>;

/** One engine event of one run, as batched to the page. */
export interface RunEventEnvelope {
  key: string;
  runId: string;
  event: EngineEvent;
}

/**
 * The close code of a connection whose client stopped reading for too long
 * (reason "client not reading"); its runs are stored as `interrupted`.
 */
export const CLOSE_CLIENT_NOT_READING = 4000;

export type ServerMessage =
  /** Engine events in order, flushed at most every ~50 ms so a fast backend cannot flood the page. */
  | { type: "events"; items: RunEventEnvelope[] }
  /** A run was accepted and stored under `runId`. */
  | { type: "run.accepted"; key: string; runId: string }
  /** A message that could not be taken (bad JSON, unknown type, bad settings). `key` when it concerned a run. */
  | { type: "error"; key?: string; code: string; message: string }
  /** Readiness changed (model downloading or loading). */
  | { type: "backend.status"; backendId: string; readiness: BackendReadiness }
  /** A followed experiment's progress (`experiment.subscribe`). */
  | ExperimentProgressMessage;

// ---- REST -----------------------------------------------------------------

export interface BackendInfo {
  id: string;
  kind: BackendKind;
  models: string[];
  default: boolean;
  capabilities: BackendCapabilities;
  readiness: BackendReadiness;
}

export type RunStatus = "running" | "completed" | "aborted" | "error" | "interrupted";
export type RunSource = "page" | "api" | "cli" | "experiment";

/** A stored run as listed. */
export interface RunSummary {
  id: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  source: RunSource;
  backend: string;
  model: string | null;
  /** The prompt as the user wrote it (chat) or as sent (raw). */
  prompt: string;
  mode: PromptMode;
  budgetForcing: BudgetForcing;
  sampling: Sampling;
  summary: BudgetForcingSummary | null;
  /** The answer's text, for lists and comparisons. */
  answer: string;
  error: { code: string; message: string } | null;
  experimentId: string | null;
}

/** A stored run with everything needed to replay it. */
export interface RunDetail extends RunSummary {
  /** The exact text sent to the model. */
  renderedPrompt: string;
  /** The whole continuation. */
  text: string;
  events: EngineEvent[];
}

export interface RunList {
  runs: RunSummary[];
  total: number;
}

export interface ErrorBody {
  error: { code: string; message: string };
}
