/**
 * The parts of llama.cpp `llama-server`'s native API this adapter reads,
 * after tools/server (server-task.cpp: `to_json_non_oaicompat`, the
 * `/tokenize`, `/props` and `/apply-template` handlers). Deliberately
 * partial.
 */

/**
 * One `data:` event of a streamed `POST /completion`. Partial results carry
 * one sampled token each (`content` is its text, `tokens` its id); the
 * final result has `stop: true`, empty `content`/`tokens`, and the totals.
 */
export interface LlamaCppChunk {
  content?: string;
  tokens?: number[];
  stop?: boolean;
  /** Tokens generated so far; counts tokens whose text was not streamed yet (half a UTF-8 character). */
  tokens_predicted?: number;
  /** Prompt tokens of the request. */
  tokens_evaluated?: number;
  timings?: LlamaCppTimings;
  completion_probabilities?: LlamaCppTokenProbabilities[];
  /** Final result only. */
  stop_type?: "none" | "eos" | "limit" | "word";
  stopping_word?: string;
  truncated?: boolean;
  /** Newer servers report a failure inside the stream as `{ "error": { ... } }`. */
  error?: unknown;
}

export interface LlamaCppTimings {
  /** Prompt tokens reused from the KV cache (newer servers). */
  cache_n?: number;
  /** Prompt tokens evaluated for this request. */
  prompt_n?: number;
  predicted_n?: number;
}

/** With `n_probs`: the sampled token and the top candidates, with ids. */
export interface LlamaCppTokenProbabilities {
  id?: number;
  logprob?: number;
  prob?: number;
  top_logprobs?: LlamaCppCandidate[];
  /** With `post_sampling_probs: true`. */
  top_probs?: LlamaCppCandidate[];
}

export interface LlamaCppCandidate {
  id: number;
  token?: string;
  logprob?: number;
  prob?: number;
}

/** `POST /tokenize`: ids, or `{ id, piece }` objects with `with_pieces`. */
export interface LlamaCppTokenizeResponse {
  tokens: (number | { id: number })[];
}

/** `GET /props`. */
export interface LlamaCppProps {
  default_generation_settings?: { n_ctx?: number };
  model_path?: string;
  chat_template?: string;
}

/** `GET /v1/models`. */
export interface LlamaCppModelList {
  data?: { id: string }[];
}

/** `POST /apply-template`. */
export interface LlamaCppApplyTemplateResponse {
  prompt: string;
}
