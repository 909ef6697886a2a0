import type { Backend, GenerationSession, ModelInfo, PassthroughRequest } from "@thinkscope/core";
import type { BackendCapabilities, BackendReadiness } from "@thinkscope/protocol";
import {
  DefaultModel,
  readyWhen,
  upstreamClientFor,
  type ServerBackendOptions,
} from "../http/server-backend-options.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { malformedError } from "../http/upstream-errors.ts";
import { OllamaSession } from "./ollama-session.ts";
import type { OllamaShow, OllamaTags } from "./ollama-wire.ts";

export interface OllamaBackendOptions extends ServerBackendOptions {
  /**
   * Context window to ask for (`options.num_ctx`). Ollama's default is
   * small (a few thousand tokens) and silently truncates longer prompts,
   * which long thinking runs reach quickly.
   */
  numCtx?: number;
}

/**
 * Ollama: `/api/generate` with `raw: true`, text only, token counts per
 * line (approximate) and exact totals at the end. `url` is the server root
 * (`http://host:11434`); passthrough goes to its OpenAI-compatible `/v1`.
 */
export function createOllamaBackend(options: OllamaBackendOptions): Backend {
  return new OllamaBackend(options);
}

class OllamaBackend implements Backend {
  readonly id: string;
  readonly kind = "ollama" as const;
  private readonly client: UpstreamClient;
  private readonly rootUrl: string;
  private readonly defaultModel: DefaultModel;
  private contextLength: number | undefined;

  constructor(private readonly options: OllamaBackendOptions) {
    this.id = options.id ?? "ollama";
    this.client = upstreamClientFor(this.id, options);
    this.rootUrl = options.url.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.defaultModel = new DefaultModel(this.id, options.model, (signal) =>
      this.listModels(signal),
    );
    this.contextLength = options.numCtx;
  }

  get capabilities(): BackendCapabilities {
    const capabilities: BackendCapabilities = {
      exactTokenIds: false,
      tokenIdPrompts: false,
      stopTokenIds: false,
      logprobs: false,
      tokenizer: false,
      persistentSequence: false,
    };
    if (this.contextLength !== undefined) capabilities.contextLength = this.contextLength;
    return capabilities;
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const url = joinUrl(this.rootUrl, "/api/tags");
    const answer = await this.client.json<OllamaTags>(url, { signal });
    if (!Array.isArray(answer.models))
      throw malformedError(this.client.errors, url, "no `models` list");
    return answer.models.map((model) => ({ id: model.name }));
  }

  readiness(): Promise<BackendReadiness> {
    return readyWhen(() => this.client.json(joinUrl(this.rootUrl, "/api/version")));
  }

  async openSession(options: { model?: string; signal?: AbortSignal }): Promise<GenerationSession> {
    const model = await this.defaultModel.resolve(options.model, options.signal);
    if (this.contextLength === undefined)
      this.contextLength = await this.modelfileNumCtx(model, options.signal);
    return new OllamaSession({
      client: this.client,
      rootUrl: this.rootUrl,
      model,
      numCtx: this.options.numCtx,
    });
  }

  passthrough(request: PassthroughRequest): Promise<Response> {
    return this.client.passthrough(
      joinUrl(this.rootUrl, `/v1${request.path}`),
      request.body,
      request.signal,
    );
  }

  async close(): Promise<void> {}

  /**
   * The context the model runs with when its Modelfile sets `num_ctx`. The
   * model's trained maximum (`model_info`) is not used: Ollama runs with a
   * smaller default window, so that number would overstate the room.
   */
  private async modelfileNumCtx(model: string, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const show = await this.client.json<OllamaShow>(joinUrl(this.rootUrl, "/api/show"), {
        body: { model },
        signal,
      });
      const match = /^num_ctx\s+(\d+)\s*$/m.exec(show.parameters ?? "");
      return match ? Number(match[1]) : undefined;
    } catch {
      return undefined;
    }
  }
}
