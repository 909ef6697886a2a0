/**
 * The parts of vLLM's (and SGLang's) OpenAI-compatible wire format this
 * adapter reads. Deliberately partial: fields we do not use are left out,
 * so additions upstream cannot break us. Shapes follow vLLM's
 * `CompletionStreamResponse`, `UsageInfo`, `TokenizeResponse` and
 * `ModelCard` (vllm/entrypoints/openai/...).
 */

/** One `data:` event of a streamed `/v1/completions` response. */
export interface VllmCompletionChunk {
  choices?: VllmStreamChoice[];
  usage?: VllmUsage | null;
  /** vLLM >= 0.9 reports a mid-stream failure as `{ "error": { ... } }`. */
  error?: unknown;
  /** Older vLLM sends `{ "object": "error", "message": ... }` instead. */
  object?: string;
  message?: string;
}

export interface VllmStreamChoice {
  index: number;
  text: string;
  /** `stop`, `length`; vLLM also has `abort` and `error`. */
  finish_reason?: string | null;
  /**
   * What stopped it: the stop token id (an int) or the stop string; null
   * for the model's end-of-sequence token. SGLang calls it `matched_stop`.
   */
  stop_reason?: number | string | null;
  matched_stop?: number | string | null;
  /** The new token ids of this chunk, with `return_token_ids: true` (several with `stream_interval`). */
  token_ids?: number[] | null;
  prompt_token_ids?: number[] | null;
  logprobs?: VllmLogprobs | null;
}

/** OpenAI completions logprobs: one entry per token of the chunk. */
export interface VllmLogprobs {
  tokens?: string[];
  token_logprobs?: (number | null)[];
  /**
   * Per token, the top candidates keyed by token text, or by
   * `token_id:<id>` with `return_tokens_as_token_ids: true`.
   */
  top_logprobs?: (Record<string, number> | null)[];
}

export interface VllmUsage {
  prompt_tokens?: number;
  completion_tokens?: number | null;
  total_tokens?: number;
  /** Only with `--enable-prompt-tokens-details` on the server. */
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

/** `POST /tokenize` answer. */
export interface VllmTokenizeResponse {
  tokens: number[];
  count?: number;
  max_model_len?: number;
}

/** `POST /detokenize` answer. */
export interface VllmDetokenizeResponse {
  prompt: string;
}

/** `GET /v1/models` answer. */
export interface VllmModelList {
  data?: { id: string; max_model_len?: number | null }[];
}
