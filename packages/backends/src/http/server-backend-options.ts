import { BackendError, type ModelInfo } from "@thinkscope/core";
import type { BackendReadiness } from "@thinkscope/protocol";
import { UpstreamClient, type UpstreamTimeouts } from "./upstream-client.ts";

/** What every server backend factory takes. */
export interface ServerBackendOptions {
  /**
   * Where the server is: the OpenAI base URL (`http://host:8000/v1`) for
   * `vllm` and `openai`, the server root (`http://host:8080`) for `llamacpp`
   * and `ollama`.
   */
  url: string;
  /** Sent as a Bearer token on every request (THINKSCOPE_API_KEY). */
  apiKey?: string;
  /** Model name sent upstream (THINKSCOPE_MODEL); default: the server's first model. */
  model?: string;
  /** Backend id for `/api/backends`; default: the kind. */
  id?: string;
  timeouts?: Partial<UpstreamTimeouts>;
}

/**
 * The model a request names: the configured one, else the first the server
 * lists (asked once, then remembered).
 */
export class DefaultModel {
  private pending: Promise<string> | undefined;

  constructor(
    private readonly backend: string,
    private readonly configured: string | undefined,
    private readonly list: (signal?: AbortSignal) => Promise<ModelInfo[]>,
  ) {}

  resolve(requested?: string, signal?: AbortSignal): Promise<string> {
    if (requested) return Promise.resolve(requested);
    if (this.configured) return Promise.resolve(this.configured);
    this.pending ??= this.list(signal).then(
      (models) => {
        const first = models[0];
        if (!first) {
          throw new BackendError(
            this.backend,
            "no_model",
            "the server lists no model. Set THINKSCOPE_MODEL.",
            {
              status: 502,
              retryable: true,
            },
          );
        }
        return first.id;
      },
      (error: unknown) => {
        // Forget the failure so the next call asks again (the server may be starting).
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }
}

/** A message for readiness, from whatever was thrown. */
export function readinessMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The HTTP client every server backend talks through, named after the backend. */
export function upstreamClientFor(id: string, options: ServerBackendOptions): UpstreamClient {
  return new UpstreamClient({ backend: id, apiKey: options.apiKey, timeouts: options.timeouts });
}

/** Ready when `probe` answers; unavailable, saying why, when it throws. */
export async function readyWhen(probe: () => Promise<unknown>): Promise<BackendReadiness> {
  try {
    await probe();
    return { state: "ready" };
  } catch (error) {
    return { state: "unavailable", message: readinessMessage(error) };
  }
}
