/**
 * The parts of the OpenAI completions wire format this adapter reads, as
 * any OpenAI-compatible server (LM Studio, TGI, hosted APIs) streams it.
 * Deliberately partial.
 */

/** One `data:` event of a streamed `/v1/completions` response. */
export interface OpenAiCompletionChunk {
  choices?: OpenAiStreamChoice[];
  /** With `stream_options.include_usage`: on a last chunk whose `choices` is empty. */
  usage?: OpenAiUsage | null;
  error?: unknown;
}

export interface OpenAiStreamChoice {
  index?: number;
  text?: string;
  finish_reason?: string | null;
  /** Not OpenAI's: vLLM-derived servers say which stop string (or token id) stopped it. */
  stop_reason?: number | string | null;
}

export interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

/** `GET /v1/models`. */
export interface OpenAiModelList {
  data?: { id: string }[];
}
