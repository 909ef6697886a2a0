import type { BackendCapabilities } from "./backend.ts";
import type { ResolvedSettings } from "./settings.ts";

/**
 * The engine's typed event stream (ARCHITECTURE.md, contract). These objects
 * are also the WebSocket payloads. Every `time` is milliseconds since the run
 * started. A run always ends with exactly one `run.finished`.
 */
export type EngineEvent =
  RunStartedEvent | DeltaEvent | InjectionEvent | PhaseEvent | RunFinishedEvent | RunErrorEvent;

export type Phase = "thinking" | "answer";
export type InjectionKind = "wait" | "forced_end" | "end";
export type FinishReason = "stop" | "length" | "aborted" | "error";

export interface RunStartedEvent {
  type: "run.started";
  runId: string;
  settings: ResolvedSettings;
  promptTokens: number;
  capabilities: BackendCapabilities;
  /** Whether token counts are exact (ids) or approximate (text-only backends). */
  tokenCountsExact: boolean;
  time: number;
}

export interface DeltaEvent {
  type: "delta";
  phase: Phase;
  text: string;
  tokenIds?: number[];
  /** Tokens in this delta. */
  tokens: number;
  /** Running count of the phase's tokens after this delta (thinking counts injected waits too). */
  phaseTokens: number;
  /** Per token, the probability the model gave to closing its thinking, when the backend reports it. */
  endProbabilities?: number[];
  time: number;
}

/** Why the engine injected text. */
export type InjectionReason =
  /** The model tried to end below `min_thinking_tokens`. */
  | "min_thinking_tokens"
  /** The model tried to end and `num_waits` extensions remained. */
  | "num_waits"
  /** The thinking reached `max_thinking_tokens`. */
  | "max_thinking_tokens"
  /** The model closed its thinking and the close was accepted. */
  | "model_end"
  /** The backend stopped thinking for another reason (end of sequence, no budget left for a wait). */
  | "backend_stop";

export interface InjectionEvent {
  type: "injection";
  kind: InjectionKind;
  /** The exact text appended to the trace. */
  text: string;
  tokenIds?: number[];
  tokens: number;
  /** Thinking tokens (generated and injected) before this injection. */
  thinkingTokenIndex: number;
  reason: InjectionReason;
  /** For waits: 1 for the first extension, 2 for the second... */
  waitNumber?: number;
  /** How likely the model was to close its thinking at the step that triggered this, when the backend reports it. */
  endProbability?: number;
  time: number;
}

export interface PhaseEvent {
  type: "phase";
  phase: "answer";
  time: number;
}

export interface RunStats {
  /** Thinking tokens the model generated. */
  thinkingTokensGenerated: number;
  /** Wait tokens the engine injected into the thinking (they count against the budget). */
  thinkingTokensInjected: number;
  /** Tokens of the close: the model's own `end` re-appended, or the `forced_end` with its answer lead-in. */
  closeTokens: number;
  answerTokens: number;
  waits: number;
  forcedEnd: boolean;
  /** Time to the first generated token, ms (null when none came). */
  firstTokenMs: number | null;
  thinkingMs: number;
  answerMs: number;
  totalMs: number;
  /** Generated tokens per second over the generation time. */
  tokensPerSecond: number;
  upstreamRequests: number;
  /** Prompt tokens the backend had to evaluate again on continuations. */
  reprefilledTokens: number;
  /** Prompt tokens served from a cache on continuations (when the backend says). */
  cachedPromptTokens: number;
  tokenCountsExact: boolean;
}

export interface RunFinishedEvent {
  type: "run.finished";
  finishReason: FinishReason;
  stats: RunStats;
  time: number;
}

export interface RunErrorEvent {
  type: "run.error";
  code: string;
  message: string;
  retryable: boolean;
  /** HTTP status a server should use (4xx bad input, 502/504 upstream). */
  status: number;
  time: number;
}
