/**
 * What the page and clients may know of a backend: its kind, what it can do
 * (how exact a token count is), and whether it is ready. Never a URL or a key.
 */
import { Type, type Static } from "typebox";
import { FamilyMatchSchema } from "./families.ts";

export const BackendKindSchema = Type.Union([
  Type.Literal("embedded"),
  Type.Literal("vllm"),
  Type.Literal("llamacpp"),
  Type.Literal("openai"),
  Type.Literal("ollama"),
  Type.Literal("scripted"),
]);
export type BackendKind = Static<typeof BackendKindSchema>;

/** What a backend can do, so the engine and the page can say how exact a count is. */
export const BackendCapabilitiesSchema = Type.Object({
  /** Every generated token arrives with its exact id. */
  exactTokenIds: Type.Boolean(),
  /** A prompt may be given as token ids (continuations need no re-tokenizing). */
  tokenIdPrompts: Type.Boolean(),
  /** Generation can stop on token ids, so a delimiter never reaches the text. */
  stopTokenIds: Type.Boolean(),
  /** Per-token probabilities are available. */
  logprobs: Type.Boolean(),
  /** Text can be turned into token ids. */
  tokenizer: Type.Boolean(),
  /**
   * Generation state survives between requests of one session (an in-process
   * KV cache): a continuation evaluates only the tokens that are new.
   */
  persistentSequence: Type.Boolean(),
  /**
   * Words can be banned from generation (`budget_forcing.suppress`): token
   * bias, vLLM `bad_words` or llama.cpp `logit_bias`. Absent is false.
   */
  suppress: Type.Optional(Type.Boolean()),
  /**
   * Each generated token's log-probability can be reported (what a
   * `confidence` vote weighs samples by). Absent is false.
   */
  tokenLogprobs: Type.Optional(Type.Boolean()),
  /**
   * Each generated token's entropy can be reported (the delta event's
   * `entropies`): exactly, from the whole next-token distribution, or
   * estimated from the top candidates a server lists. Absent is false.
   */
  tokenEntropy: Type.Optional(Type.Boolean()),
  /** The model's context length in tokens, when known. */
  contextLength: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type BackendCapabilities = Static<typeof BackendCapabilitiesSchema>;

export const BackendReadinessSchema = Type.Union([
  Type.Object({ state: Type.Literal("ready") }),
  Type.Object({
    state: Type.Literal("loading"),
    message: Type.String(),
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  }),
  Type.Object({ state: Type.Literal("unavailable"), message: Type.String() }),
]);
export type BackendReadiness = Static<typeof BackendReadinessSchema>;

/** `GET /api/backends`: one per configured backend. */
export const BackendInfoSchema = Type.Object({
  id: Type.String(),
  kind: BackendKindSchema,
  models: Type.Array(Type.String()),
  default: Type.Boolean(),
  capabilities: BackendCapabilitiesSchema,
  readiness: BackendReadinessSchema,
  /** The model family budget forcing follows for the default model (docs/models.md). */
  family: Type.Optional(FamilyMatchSchema),
});
export type BackendInfo = Static<typeof BackendInfoSchema>;

/**
 * `GET /api/health`, open without a token: each backend's state (its
 * readiness message only to a signed-in client). `degraded` while the run
 * store cannot write (`store` says why): the server still serves, but runs
 * fail until storage recovers.
 */
export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")]),
  store: Type.Optional(
    Type.Object({
      code: Type.Union([Type.Literal("storage_full"), Type.Literal("storage_unavailable")]),
      message: Type.String(),
    }),
  ),
  backends: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: BackendKindSchema,
      default: Type.Boolean(),
      /** Without a token, only `state`: a message may name the upstream. */
      readiness: Type.Object({
        state: Type.Union([
          Type.Literal("ready"),
          Type.Literal("loading"),
          Type.Literal("unavailable"),
        ]),
        message: Type.Optional(Type.String()),
        progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
      }),
    }),
  ),
});
export type Health = Static<typeof HealthSchema>;
