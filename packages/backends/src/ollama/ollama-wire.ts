/**
 * The parts of Ollama's native API this adapter reads (docs/api.md:
 * `/api/generate`, `/api/tags`, `/api/show`, `/api/version`). Deliberately
 * partial.
 */

/** One NDJSON line of a streamed `POST /api/generate`. */
export interface OllamaGenerateLine {
  model?: string;
  response?: string;
  done?: boolean;
  /** On the last line: `stop` (end of sequence or a stop string), `length`, `load`, `unload`. */
  done_reason?: string;
  /** Prompt tokens evaluated for this request (a cached prefix is not counted). */
  prompt_eval_count?: number;
  /** Tokens generated. */
  eval_count?: number;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_duration?: number;
  eval_duration?: number;
  /** A failure, as the only field of a line (or of an error body). */
  error?: string;
}

/** `GET /api/tags`. */
export interface OllamaTags {
  models?: { name: string; model?: string }[];
}

/** `POST /api/show`: `parameters` is the Modelfile's PARAMETER lines as text. */
export interface OllamaShow {
  parameters?: string;
  model_info?: Record<string, unknown>;
}
