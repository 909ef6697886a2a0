/**
 * The engine's event stream: what one run did, token by token. These
 * objects are the WebSocket payloads, the stored events of a run, the lines
 * an export carries and an import checks, and what the API's
 * `budget_forcing` summary is folded from. Every `time` is milliseconds
 * since the run started; a run always ends with exactly one `run.finished`.
 * docs/engine.md says what each one means.
 */
import { Type, type Static } from "typebox";
import { BackendCapabilitiesSchema } from "./backends.ts";

const Count = Type.Integer({ minimum: 0 });
const Time = Type.Number({ minimum: 0 });
const TokenIds = Type.Array(Count);

export const PhaseSchema = Type.Union([Type.Literal("thinking"), Type.Literal("answer")]);
export type Phase = Static<typeof PhaseSchema>;

export const InjectionKindSchema = Type.Union([
  Type.Literal("wait"),
  Type.Literal("forced_end"),
  Type.Literal("end"),
  /** `budget_message`, just before a forced close; counted with the close. */
  Type.Literal("budget_message"),
  /** `eliminate`: the model's answer rejected, and the thinking goes on; counted as thinking, as a wait is. */
  Type.Literal("elimination"),
  /** Text a fork inserted where it branched from its parent. */
  Type.Literal("insert"),
]);
export type InjectionKind = Static<typeof InjectionKindSchema>;

export const FinishReasonSchema = Type.Union([
  Type.Literal("stop"),
  Type.Literal("length"),
  Type.Literal("aborted"),
  Type.Literal("error"),
]);
export type FinishReason = Static<typeof FinishReasonSchema>;

/** How a model opens and closes its thinking, and what the engine appends on a close. */
export const ThinkingFormatSchema = Type.Object({
  name: Type.Union([
    Type.Literal("think-tags"),
    Type.Literal("s1"),
    Type.Literal("harmony"),
    Type.Literal("custom"),
  ]),
  /** The thinking start delimiter as it appears in the text. */
  start: Type.String(),
  /** What the model writes to end its thinking; the engine stops on these. */
  endMarkers: Type.Array(Type.String()),
  /** Exact end token ids, when the user gave them (custom formats). */
  endTokenIds: Type.Optional(TokenIds),
  /** Appended when the model's close is accepted. */
  naturalClose: Type.String(),
  /** Appended (before the answer lead-in) when the budget forces the close. */
  forcedClose: Type.String(),
  /** What ends the answer, besides the model's end of sequence. */
  answerStopMarkers: Type.Array(Type.String()),
});
export type ThinkingFormat = Static<typeof ThinkingFormatSchema>;

/** Sampling as the engine and the backends use it. */
export const SamplingSettingsSchema = Type.Object({
  /** 0 decodes greedily, as the s1 paper does. */
  temperature: Type.Number({ minimum: 0 }),
  topP: Type.Optional(Type.Number()),
  topK: Type.Optional(Type.Integer({ minimum: 0 })),
  seed: Type.Optional(Type.Integer()),
});
export type SamplingSettings = Static<typeof SamplingSettingsSchema>;

/** A run's settings with every default filled in and budgets fitted to the context. */
export const ResolvedSettingsSchema = Type.Object({
  format: ThinkingFormatSchema,
  maxThinkingTokens: Count,
  minThinkingTokens: Count,
  numWaits: Count,
  waitStrings: Type.Array(Type.String()),
  finalAnswerPrefix: Type.String(),
  maxAnswerTokens: Count,
  maxExtensions: Count,
  /** Optional so runs stored before these settings existed still read: absent is off. */
  budgetMessage: Type.Optional(Type.String()),
  graceTokens: Type.Optional(Count),
  /** Words banned while thinking. */
  suppress: Type.Optional(Type.Array(Type.String())),
  /** The loop breaker with its defaults filled in; absent when off. */
  loopGuard: Type.Optional(Type.Object({ window: Count, repeats: Count })),
  earlyExit: Type.Optional(Type.Object({ probeEvery: Count, stable: Count, probeTokens: Count })),
  eliminate: Type.Optional(
    Type.Object({
      attempts: Count,
      verifier: Type.Union([Type.Literal("none"), Type.Literal("reference")]),
      text: Type.String(),
    }),
  ),
  probeLeadIn: Type.Optional(Type.String()),
  sampling: SamplingSettingsSchema,
});
export type ResolvedSettings = Static<typeof ResolvedSettingsSchema>;

export const RunStartedEventSchema = Type.Object({
  type: Type.Literal("run.started"),
  runId: Type.String(),
  settings: ResolvedSettingsSchema,
  promptTokens: Count,
  capabilities: BackendCapabilitiesSchema,
  /** Whether token counts are exact (ids) or approximate (text-only backends). */
  tokenCountsExact: Type.Boolean(),
  /**
   * Set when the run is a fork: the events up to `at` continuation tokens are
   * its parent's (replayed at time 0), then its own (an `insert`, if any, first).
   */
  fork: Type.Optional(Type.Object({ parentRunId: Type.String(), at: Count, insertTokens: Count })),
  time: Time,
});
export type RunStartedEvent = Static<typeof RunStartedEventSchema>;

export const DeltaEventSchema = Type.Object({
  type: Type.Literal("delta"),
  phase: PhaseSchema,
  text: Type.String(),
  tokenIds: Type.Optional(TokenIds),
  /** Tokens in this delta. */
  tokens: Count,
  /** Running count of the phase's tokens after this delta (thinking counts injected waits too). */
  phaseTokens: Count,
  /** Per token, the probability the model gave to closing its thinking, when the backend reports it. */
  endProbabilities: Type.Optional(Type.Array(Type.Number({ minimum: 0, maximum: 1 }))),
  /**
   * Per token, the entropy in bits of the distribution the token was drawn
   * from (how unsure the model was at that step; 0 when one token had all
   * the probability), on a grid of 0.01 bits. Present when the run asked for
   * it and the backend reports it (`capabilities.tokenEntropy`).
   */
  entropies: Type.Optional(Type.Array(Type.Number({ minimum: 0 }))),
  time: Time,
});
export type DeltaEvent = Static<typeof DeltaEventSchema>;

/** Why the engine injected text. */
export const InjectionReasonSchema = Type.Union([
  /** The model tried to end below `min_thinking_tokens`. */
  Type.Literal("min_thinking_tokens"),
  /** The model tried to end and `num_waits` extensions remained. */
  Type.Literal("num_waits"),
  /** The thinking reached `max_thinking_tokens`. */
  Type.Literal("max_thinking_tokens"),
  /** The model closed its thinking and the close was accepted. */
  Type.Literal("model_end"),
  /** The backend stopped thinking for another reason (end of sequence, no budget left for a wait). */
  Type.Literal("backend_stop"),
  /** The thinking used its `grace_tokens` past the budget: closed at a sentence or line end, or when the grace ran out. */
  Type.Literal("grace"),
  /** The thinking went round in a loop (`loop_guard`): the close was forced. */
  Type.Literal("loop"),
  /** `early_exit`: the last probes gave the same answer, so the close was forced. */
  Type.Literal("stable_answer"),
  /** `eliminate`: the model tried to close with an answer, which was rejected. */
  Type.Literal("eliminated"),
  /** A fork's own text, inserted where it branched from its parent. */
  Type.Literal("fork_insert"),
]);
export type InjectionReason = Static<typeof InjectionReasonSchema>;

export const InjectionEventSchema = Type.Object({
  type: Type.Literal("injection"),
  kind: InjectionKindSchema,
  /** The exact text appended to the trace. */
  text: Type.String(),
  tokenIds: Type.Optional(TokenIds),
  tokens: Count,
  /** Thinking tokens (generated and injected) before this injection. */
  thinkingTokenIndex: Count,
  reason: InjectionReasonSchema,
  /** For waits: 1 for the first extension, 2 for the second... */
  waitNumber: Type.Optional(Type.Integer({ minimum: 1 })),
  /** How likely the model was to close its thinking at the step that triggered this, when the backend reports it. */
  endProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  time: Time,
});
export type InjectionEvent = Static<typeof InjectionEventSchema>;

/**
 * A probe (`early_exit`, `eliminate`): the answer the model gives from its
 * thinking so far, asked in a side request that leaves the trace as it is.
 */
export const ProbeEventSchema = Type.Object({
  type: Type.Literal("probe"),
  /** `periodic`: every `probe_every` tokens; `end_attempt`: the model tried to close. */
  trigger: Type.Union([Type.Literal("periodic"), Type.Literal("end_attempt")]),
  /** The answer read up to the closing brace; null when none came within `probe_tokens`. */
  answer: Type.Union([Type.String(), Type.Null()]),
  /** Tokens the probe generated (never part of the trace). */
  tokens: Count,
  thinkingTokenIndex: Count,
  time: Time,
});
export type ProbeEvent = Static<typeof ProbeEventSchema>;

export const PhaseEventSchema = Type.Object({
  type: Type.Literal("phase"),
  phase: Type.Literal("answer"),
  time: Time,
});
export type PhaseEvent = Static<typeof PhaseEventSchema>;

export const RunStatsSchema = Type.Object({
  /** Thinking tokens the model generated. */
  thinkingTokensGenerated: Count,
  /** Wait tokens the engine injected into the thinking (they count against the budget). */
  thinkingTokensInjected: Count,
  /** Tokens of the close: the model's own `end` re-appended, or the `forced_end` with its answer lead-in. */
  closeTokens: Count,
  answerTokens: Count,
  waits: Count,
  forcedEnd: Type.Boolean(),
  /** Thinking tokens generated past `max_thinking_tokens` under `grace_tokens` (absent in runs stored before it). */
  graceTokensUsed: Type.Optional(Count),
  /** Probes run (`early_exit`, `eliminate`) and the tokens they generated, outside the trace. */
  probes: Type.Optional(Count),
  probeTokens: Type.Optional(Count),
  /** The answers `eliminate` rejected, in order. */
  eliminatedAnswers: Type.Optional(Type.Array(Type.String())),
  /**
   * With a confidence window asked for (an experiment's `confidence` vote):
   * the lowest mean log-probability of the generated tokens over any window
   * of that many consecutive tokens (DeepConf's lowest group confidence).
   */
  lowestGroupLogprob: Type.Optional(Type.Number({ maximum: 0 })),
  /** Time to the first generated token, ms (null when none came). */
  firstTokenMs: Type.Union([Time, Type.Null()]),
  thinkingMs: Time,
  answerMs: Time,
  totalMs: Time,
  /** Generated tokens per second over the generation time. */
  tokensPerSecond: Type.Number({ minimum: 0 }),
  upstreamRequests: Count,
  /** Prompt tokens the backend had to evaluate again on continuations. */
  reprefilledTokens: Count,
  /** Prompt tokens served from a cache on continuations (when the backend says). */
  cachedPromptTokens: Count,
  tokenCountsExact: Type.Boolean(),
});
export type RunStats = Static<typeof RunStatsSchema>;

export const RunFinishedEventSchema = Type.Object({
  type: Type.Literal("run.finished"),
  finishReason: FinishReasonSchema,
  stats: RunStatsSchema,
  time: Time,
});
export type RunFinishedEvent = Static<typeof RunFinishedEventSchema>;

export const RunErrorEventSchema = Type.Object({
  type: Type.Literal("run.error"),
  code: Type.String(),
  message: Type.String(),
  retryable: Type.Boolean(),
  /** HTTP status a server should use (4xx bad input, 502/504 upstream). */
  status: Type.Integer({ minimum: 100, maximum: 599 }),
  time: Time,
});
export type RunErrorEvent = Static<typeof RunErrorEventSchema>;

export const EngineEventSchema = Type.Union([
  RunStartedEventSchema,
  DeltaEventSchema,
  InjectionEventSchema,
  ProbeEventSchema,
  PhaseEventSchema,
  RunFinishedEventSchema,
  RunErrorEventSchema,
]);
export type EngineEvent = Static<typeof EngineEventSchema>;

// ---- The run folded: the API's `budget_forcing` object --------------------

export const SegmentTypeSchema = Type.Union([
  Type.Literal("thinking"),
  Type.Literal("wait"),
  Type.Literal("forced_end"),
  Type.Literal("end"),
  Type.Literal("budget_message"),
  Type.Literal("elimination"),
  Type.Literal("answer"),
  /** A fork's inserted text (in the thinking before a close, in the answer after one). */
  Type.Literal("insert"),
]);
export type SegmentType = Static<typeof SegmentTypeSchema>;

export const SegmentSchema = Type.Object({
  type: SegmentTypeSchema,
  text: Type.String(),
  tokens: Count,
});
export type Segment = Static<typeof SegmentSchema>;

/** The API's `budget_forcing` response object: what budget forcing did to one run. */
export const BudgetForcingSummarySchema = Type.Object({
  /** Generated thinking plus injected waits; never above `max_thinking_tokens` + `grace_tokens`. */
  thinking_tokens: Count,
  /** Waits and closes the engine appended. */
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
  /** Thinking tokens generated past the budget under `grace_tokens`. */
  grace_tokens_used: Type.Optional(Count),
  /** Tokens the probes generated in side requests (not in the trace, but paid for). */
  probe_tokens: Type.Optional(Count),
  /** The answers `eliminate` rejected, in order. */
  eliminated_answers: Type.Optional(Type.Array(Type.String())),
});
export type BudgetForcingSummary = Static<typeof BudgetForcingSummarySchema>;
