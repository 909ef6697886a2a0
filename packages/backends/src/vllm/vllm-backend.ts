import type {
  Backend,
  ChatMessage,
  GenerationSession,
  ModelInfo,
  PassthroughRequest,
} from "@thinkscope/core";
import type { BackendCapabilities, BackendReadiness } from "@thinkscope/protocol";
import {
  DefaultModel,
  readyWhen,
  upstreamClientFor,
  type ServerBackendOptions,
} from "../http/server-backend-options.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { malformedError } from "../http/upstream-errors.ts";
import { VllmSession, vllmTokenize } from "./vllm-session.ts";
import type { VllmDetokenizeResponse, VllmModelList, VllmTokenizeResponse } from "./vllm-wire.ts";

export interface VllmBackendOptions extends ServerBackendOptions {
  /**
   * Top candidates asked per token when probing (`logprobs: N`). vLLM caps
   * it with `--max-logprobs` (20 by default). Newer vLLM reports the probe
   * ids whatever their rank (`logprob_token_ids`), older only within the top N.
   */
  probeTopLogprobs?: number;
}

/**
 * vLLM (and SGLang's OpenAI-compatible server): token-id prompts, stop
 * token ids, exact ids per chunk (`return_token_ids`), probe logprobs,
 * `/tokenize`, and the model's own chat template. `url` is the OpenAI base
 * (`http://host:8000/v1`); `/tokenize` and `/detokenize` sit at its root.
 */
export function createVllmBackend(options: VllmBackendOptions): Backend {
  return new VllmBackend(options);
}

class VllmBackend implements Backend {
  readonly id: string;
  readonly kind = "vllm" as const;
  private readonly client: UpstreamClient;
  private readonly baseUrl: string;
  private readonly rootUrl: string;
  private readonly defaultModel: DefaultModel;
  private contextLength: number | undefined;

  constructor(private readonly options: VllmBackendOptions) {
    this.id = options.id ?? "vllm";
    this.client = upstreamClientFor(this.id, options);
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.rootUrl = this.baseUrl.replace(/\/v1$/, "");
    this.defaultModel = new DefaultModel(this.id, options.model, (signal) =>
      this.listModels(signal),
    );
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
      tokenLogprobs: true,
      // Estimated from the `logprobs: k` candidates (a lower bound; see topKEntropyBits).
      tokenEntropy: true,
    };
    if (this.contextLength !== undefined) capabilities.contextLength = this.contextLength;
    return capabilities;
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const url = joinUrl(this.baseUrl, "/models");
    const answer = await this.client.json<VllmModelList>(url, { signal });
    if (!Array.isArray(answer.data))
      throw malformedError(this.client.errors, url, "no `data` list");
    const models = answer.data.map((card) => {
      const info: ModelInfo = { id: card.id };
      if (typeof card.max_model_len === "number") info.contextLength = card.max_model_len;
      return info;
    });
    const current = models.find((model) => model.id === this.options.model) ?? models[0];
    this.contextLength = current?.contextLength ?? this.contextLength;
    return models;
  }

  readiness(): Promise<BackendReadiness> {
    return readyWhen(() => this.listModels());
  }

  async openSession(options: { model?: string; signal?: AbortSignal }): Promise<GenerationSession> {
    const model = await this.defaultModel.resolve(options.model, options.signal);
    return new VllmSession({
      client: this.client,
      baseUrl: this.baseUrl,
      rootUrl: this.rootUrl,
      model,
      probeTopLogprobs: this.options.probeTopLogprobs ?? 20,
    });
  }

  async tokenize(text: string, options: { model?: string }): Promise<number[]> {
    const model = await this.defaultModel.resolve(options.model);
    return vllmTokenize({ client: this.client, rootUrl: this.rootUrl, model }, text);
  }

  /**
   * Renders with the model's own template the way vLLM does for chat
   * requests: `/tokenize` with `messages` applies the chat template, and
   * `/detokenize` turns the ids back into the exact prompt text.
   */
  async applyChatTemplate(messages: ChatMessage[], options: { model?: string }): Promise<string> {
    const model = await this.defaultModel.resolve(options.model);
    const tokenizeUrl = joinUrl(this.rootUrl, "/tokenize");
    const rendered = await this.client.json<VllmTokenizeResponse>(tokenizeUrl, {
      body: { model, messages, add_generation_prompt: true, add_special_tokens: false },
    });
    if (!Array.isArray(rendered.tokens))
      throw malformedError(this.client.errors, tokenizeUrl, "no `tokens` list");
    const detokenizeUrl = joinUrl(this.rootUrl, "/detokenize");
    const text = await this.client.json<VllmDetokenizeResponse>(detokenizeUrl, {
      body: { model, tokens: rendered.tokens },
    });
    if (typeof text.prompt !== "string")
      throw malformedError(this.client.errors, detokenizeUrl, "no `prompt` text");
    return text.prompt;
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
