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
import { OpenAiSession } from "./openai-session.ts";
import type { OpenAiModelList } from "./openai-wire.ts";

export interface OpenAiBackendOptions extends ServerBackendOptions {
  /**
   * Also send the stop strings to the server (default true), which stops it
   * at once and spares tokens on paid APIs. Most servers then report only
   * `finish_reason: "stop"`, the same as for the end of sequence, so the
   * finish cannot say which it was. With `false` the session alone watches
   * for them and cancels the request on a match: the cause is then exact,
   * at the cost of the few tokens generated before the cancel lands.
   */
  upstreamStopStrings?: boolean;
  /** Context length to report, since the OpenAI API does not say. */
  contextLength?: number;
}

/**
 * Any other OpenAI-compatible server (LM Studio, TGI, hosted APIs): text
 * prompts, stop strings, token counts estimated per chunk or taken from
 * `usage`. No token ids, no tokenizer, no logprob probes. `url` is the
 * OpenAI base (`https://host/v1`).
 */
export function createOpenAiBackend(options: OpenAiBackendOptions): Backend {
  return new OpenAiBackend(options);
}

class OpenAiBackend implements Backend {
  readonly id: string;
  readonly kind = "openai" as const;
  readonly capabilities: BackendCapabilities;
  private readonly client: UpstreamClient;
  private readonly baseUrl: string;
  private readonly defaultModel: DefaultModel;

  constructor(private readonly options: OpenAiBackendOptions) {
    this.id = options.id ?? "openai";
    this.client = upstreamClientFor(this.id, options);
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.defaultModel = new DefaultModel(this.id, options.model, (signal) =>
      this.listModels(signal),
    );
    this.capabilities = {
      exactTokenIds: false,
      tokenIdPrompts: false,
      stopTokenIds: false,
      logprobs: false,
      tokenizer: false,
      persistentSequence: false,
    };
    if (options.contextLength !== undefined)
      this.capabilities.contextLength = options.contextLength;
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const url = joinUrl(this.baseUrl, "/models");
    const answer = await this.client.json<OpenAiModelList>(url, { signal });
    if (!Array.isArray(answer.data))
      throw malformedError(this.client.errors, url, "no `data` list");
    return answer.data.map((card) => ({ id: card.id }));
  }

  readiness(): Promise<BackendReadiness> {
    return readyWhen(() => this.listModels());
  }

  async openSession(options: { model?: string; signal?: AbortSignal }): Promise<GenerationSession> {
    return new OpenAiSession({
      client: this.client,
      baseUrl: this.baseUrl,
      model: await this.defaultModel.resolve(options.model, options.signal),
      upstreamStopStrings: this.options.upstreamStopStrings ?? true,
    });
  }

  passthrough(request: PassthroughRequest): Promise<Response> {
    return this.client.passthrough(
      joinUrl(this.baseUrl, request.path),
      request.body,
      request.signal,
    );
  }

  async close(): Promise<void> {}
}
