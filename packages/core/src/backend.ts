/**
 * The contract between the engine and an inference backend. A backend knows
 * how to stream tokens from a prompt; it knows nothing about thinking, budgets
 * or injections. The engine is the one place that does.
 */
import type { ModelFacts } from "./families.ts";
import type {
  BackendCapabilities,
  BackendKind,
  BackendReadiness,
  SamplingSettings,
} from "@thinkscope/protocol";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** A prompt is either text or exact token ids; backends that take ids prefer them. */
export type PromptInput =
  { text: string; tokens?: undefined } | { tokens: number[]; text?: string };

export interface GenerateRequest {
  prompt: PromptInput;
  /** Most tokens to generate in this request. */
  maxTokens: number;
  /** Stop (without emitting) when one of these token ids is sampled. */
  stopTokenIds: number[];
  /** Fallback for backends without stop ids: stop when this text appears. */
  stopStrings: string[];
  sampling: SamplingSettings;
  /**
   * Report, for each generated token, the probability the model gave to any of
   * these token ids at that step (the "stop pressure" on the end delimiter).
   * Only honoured when `capabilities.logprobs` is true.
   */
  probeTokenIds?: number[];
  /**
   * Words the model must not write in this request, each with and without a
   * leading space. Only sent when `capabilities.suppress` is true.
   */
  suppressWords?: string[];
  /** Report each generated token's log-probability. Only sent when `capabilities.tokenLogprobs` is true. */
  tokenLogprobs?: boolean;
  /**
   * Report each generated token's entropy in bits (how spread the
   * distribution it was drawn from was). Only sent when
   * `capabilities.tokenEntropy` is true.
   */
  tokenEntropy?: boolean;
  /** Aborting must stop the upstream generation promptly (within a second). */
  signal: AbortSignal;
}

export type GenerationEvent =
  | {
      type: "tokens";
      /** Text of the tokens in this chunk (may be empty for partial UTF-8). */
      text: string;
      /** Exact ids, when the backend gives them (`capabilities.exactTokenIds`). */
      tokenIds?: number[];
      /** Number of tokens in this chunk: exact with ids, otherwise the backend's best count. */
      tokenCount: number;
      /** One entry per token when `probeTokenIds` was honoured: P(any probe id) at that step. */
      probeProbabilities?: number[];
      /** One entry per token when `tokenLogprobs` was asked: the log-probability of the token generated. */
      logprobs?: number[];
      /** One entry per token when `tokenEntropy` was asked: the entropy in bits of the step's distribution. */
      entropies?: number[];
    }
  | {
      type: "finish";
      /** `stop`: a stop id/string or end of sequence; `length`: maxTokens reached. */
      reason: "stop" | "length";
      /** What stopped it, when a stop id or string did (never included in the text). */
      stoppedBy?: { tokenId?: number; text?: string };
      /** True when the model itself ended (end-of-sequence token), not a stop we asked for. */
      endOfSequence?: boolean;
      /**
       * P(any probe id) at the step that stopped on a stop id, when probes were
       * requested: the stop token is never emitted, so its step's pressure rides here.
       */
      probeProbability?: number;
      usage?: GenerationUsage;
    };

export interface GenerationUsage {
  /** Prompt tokens the backend had to evaluate (re-prefill) for this request. */
  promptTokensEvaluated?: number;
  /** Prompt tokens served from a cache (prefix caching, KV reuse). */
  promptTokensCached?: number;
  /** Tokens generated in this request, as the backend counted them. */
  completionTokens?: number;
}

/**
 * One run's connection to a model. The engine sends each continuation as the
 * full prompt (prompt + everything so far + the injected text); a session
 * with a persistent sequence reuses the common prefix and evaluates only what
 * is new, a server session relies on the server's prefix cache.
 */
export interface GenerationSession {
  generate(request: GenerateRequest): AsyncIterable<GenerationEvent>;
  /** Text to token ids. `special` parses control tokens such as `<|im_start|>`. */
  tokenize?(text: string, options: { special: boolean }): Promise<number[]>;
  /** Token ids to text (to cut a chunk of several tokens where a fork branches). */
  detokenize?(ids: number[]): Promise<string>;
  /** The end-of-sequence token ids of the model, when known. */
  readonly eosTokenIds?: readonly number[];
  close(): Promise<void>;
}

export interface ModelInfo {
  id: string;
  contextLength?: number;
}

export interface Backend {
  readonly id: string;
  readonly kind: BackendKind;
  readonly capabilities: BackendCapabilities;
  /** Models this backend serves (the first is the default). */
  listModels(signal?: AbortSignal): Promise<ModelInfo[]>;
  /** Whether the backend can serve now; never throws. */
  readiness(): Promise<BackendReadiness>;
  openSession(options: { model?: string; signal?: AbortSignal }): Promise<GenerationSession>;
  /**
   * Text to token ids with the model's tokenizer, as a session's `tokenize`
   * does, but without holding a session (to count a prompt before running
   * it). Present when `capabilities.tokenizer` is.
   */
  tokenize?(text: string, options: { special: boolean; model?: string }): Promise<number[]>;
  /**
   * Render chat messages with the model's own chat template and return the
   * text just before the assistant's reply. Absent when the backend cannot;
   * the caller then uses a family template from `@thinkscope/core`.
   */
  applyChatTemplate?(messages: ChatMessage[], options: { model?: string }): Promise<string>;
  /**
   * What the model itself says about its family (its GGUF name, pre-tokenizer,
   * architecture and chat template), to match it to a family profile. Absent
   * when the backend knows no more than the model's name.
   */
  modelFacts?(options: { model?: string }): Promise<ModelFacts>;
  /**
   * Forward an OpenAI-style request body unchanged to the upstream server (for
   * requests without `budget_forcing`). Server backends only.
   */
  passthrough?(request: PassthroughRequest): Promise<Response>;
  close(): Promise<void>;
}

export interface PassthroughRequest {
  /** `/completions` or `/chat/completions`, relative to the backend's OpenAI base URL. */
  path: "/completions" | "/chat/completions";
  body: unknown;
  signal: AbortSignal;
}
