import type {
  Backend,
  ChatMessage,
  GenerationSession,
  ModelInfo,
  PassthroughRequest,
} from "@thinkscope/core";
import type { BackendCapabilities, BackendReadiness } from "@thinkscope/protocol";
import {
  readinessMessage,
  upstreamClientFor,
  type ServerBackendOptions,
} from "../http/server-backend-options.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { malformedError, upstreamMessage } from "../http/upstream-errors.ts";
import { LlamaCppSession, llamaCppTokenize } from "./llamacpp-session.ts";
import type {
  LlamaCppApplyTemplateResponse,
  LlamaCppModelList,
  LlamaCppProps,
} from "./llamacpp-wire.ts";

export interface LlamaCppBackendOptions extends ServerBackendOptions {
  /** Top candidates asked per token when probing (`n_probs`). */
  probeTopProbs?: number;
}

/**
 * llama.cpp's `llama-server`: token-array prompts, one exact id per
 * streamed token, `cache_prompt`, `n_probs` with ids, `/tokenize` with
 * `parse_special`, and the model's chat template through `/apply-template`.
 * `url` is the server root (`http://host:8080`). Stop ids and stop strings
 * are enforced by the session (see `LlamaCppSession`).
 */
export function createLlamaCppBackend(options: LlamaCppBackendOptions): Backend {
  return new LlamaCppBackend(options);
}

class LlamaCppBackend implements Backend {
  readonly id: string;
  readonly kind = "llamacpp" as const;
  private readonly client: UpstreamClient;
  private readonly rootUrl: string;
  private contextLength: number | undefined;

  constructor(private readonly options: LlamaCppBackendOptions) {
    this.id = options.id ?? "llamacpp";
    this.client = upstreamClientFor(this.id, options);
    this.rootUrl = options.url.replace(/\/+$/, "").replace(/\/v1$/, "");
  }

  get capabilities(): BackendCapabilities {
    const capabilities: BackendCapabilities = {
      exactTokenIds: true,
      tokenIdPrompts: true,
      stopTokenIds: true,
      logprobs: true,
      tokenizer: true,
      persistentSequence: false,
      suppress: true,
      // Estimated from the `n_probs` candidates (a lower bound; see topKEntropyBits).
      tokenEntropy: true,
    };
    if (this.contextLength !== undefined) capabilities.contextLength = this.contextLength;
    return capabilities;
  }

  /** The one model the server has loaded, with its context size per slot (from `/props`). */
  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const url = joinUrl(this.rootUrl, "/v1/models");
    const answer = await this.client.json<LlamaCppModelList>(url, { signal });
    if (!Array.isArray(answer.data))
      throw malformedError(this.client.errors, url, "no `data` list");
    const props = await this.client
      .json<LlamaCppProps>(joinUrl(this.rootUrl, "/props"), { signal })
      .catch(() => undefined);
    const contextLength = props?.default_generation_settings?.n_ctx;
    if (typeof contextLength === "number") this.contextLength = contextLength;
    return answer.data.map((card) =>
      this.contextLength === undefined
        ? { id: card.id }
        : { id: card.id, contextLength: this.contextLength },
    );
  }

  /** `/health` answers 503 while the model loads. */
  async readiness(): Promise<BackendReadiness> {
    try {
      const health = await this.client.status(joinUrl(this.rootUrl, "/health"));
      if (health.status === 200) {
        if (this.contextLength === undefined) await this.listModels().catch(() => undefined);
        return { state: "ready" };
      }
      const said = upstreamMessage(health.body) || `HTTP ${health.status}`;
      if (health.status === 503) return { state: "loading", message: said };
      return { state: "unavailable", message: `${this.id}: /health answered ${said}` };
    } catch (error) {
      return { state: "unavailable", message: readinessMessage(error) };
    }
  }

  /** llama-server serves the one model it loaded, so no model name is sent. */
  async openSession(_options: {
    model?: string;
    signal?: AbortSignal;
  }): Promise<GenerationSession> {
    return new LlamaCppSession({
      client: this.client,
      rootUrl: this.rootUrl,
      probeTopProbs: this.options.probeTopProbs ?? 20,
    });
  }

  tokenize(text: string, options: { special: boolean }): Promise<number[]> {
    return llamaCppTokenize({ client: this.client, rootUrl: this.rootUrl }, text, options);
  }

  /** The server's rendering of the model's chat template, generation prompt included. */
  async applyChatTemplate(messages: ChatMessage[]): Promise<string> {
    const url = joinUrl(this.rootUrl, "/apply-template");
    const answer = await this.client.json<LlamaCppApplyTemplateResponse>(url, {
      body: { messages },
    });
    if (typeof answer.prompt !== "string")
      throw malformedError(this.client.errors, url, "no `prompt` text");
    return answer.prompt;
  }

  /** llama-server's OpenAI-compatible endpoints live under `/v1`. */
  passthrough(request: PassthroughRequest): Promise<Response> {
    return this.client.passthrough(
      joinUrl(this.rootUrl, `/v1${request.path}`),
      request.body,
      request.signal,
    );
  }

  async close(): Promise<void> {}
}
