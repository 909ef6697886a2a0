/**
 * In-process llama.cpp through node-llama-cpp: the zero-setup backend. The
 * model loads lazily on first use (downloading it first when it is a URI);
 * each session owns one sequence of a shared context, so a continuation after
 * an injection evaluates only the injected tokens.
 */
import { join } from "node:path";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import {
  ThinkscopeError,
  type Backend,
  type ChatMessage,
  type ModelFacts,
  type ModelInfo,
} from "@thinkscope/core";
import type { BackendCapabilities, BackendReadiness } from "@thinkscope/protocol";
import { ChatTemplate } from "./chat-template.ts";
import { EmbeddedSession } from "./embedded-session.ts";
import {
  chooseThreads,
  errorMessage,
  getLlamaRuntime,
  gpuFromEnv,
  threadsFromEnv,
  type EmbeddedGpu,
} from "./llama-runtime.ts";
import {
  modelIdOf,
  parseModelSource,
  resolveDefaultModel,
  resolveModelPath,
  type ModelSource,
} from "./model-source.ts";
import { abortReason, SequencePool } from "./sequence-pool.ts";

export interface EmbeddedBackendOptions {
  /** A GGUF path or a download URI (`hf:owner/repo:quant`, `https://.../x.gguf`). Default: `resolveDefaultModel()`. */
  model?: string;
  /** `THINKSCOPE_DATA_DIR`: downloaded models go to `<dataDir>/models`. */
  dataDir: string;
  /** Evaluation threads. Default: `THINKSCOPE_THREADS`, else chosen from the model size and cores (`chooseThreads`). */
  threads?: number;
  /** Tokens one run's sequence holds (prompt, thinking and answer). Default: the model's training context, at most 4096. */
  contextSize?: number;
  /** Sessions that can generate at the same time; more wait in line. Each costs a KV cache of `contextSize`. Default 2. */
  sequences?: number;
  /** Backend id. Default `embedded`. */
  id?: string;
  /** Compute layer. Default: `THINKSCOPE_EMBEDDED_GPU` (auto, cuda, vulkan, metal), else the CPU. */
  gpu?: EmbeddedGpu;
  /**
   * Honour `probeTokenIds` and `tokenEntropy`. Each needs the whole next-token distribution
   * (a softmax and sort over the vocabulary), which cost about 85 ms per token
   * at a 151k vocabulary (measured on one CPU thread): too slow to leave on for
   * large vocabularies. `auto` (the default) turns it on up to 32,768 tokens.
   */
  logprobs?: boolean | "auto";
  /** Download and load progress, also reported by `readiness()`. */
  onProgress?: (progress: EmbeddedLoadProgress) => void;
}

export interface EmbeddedLoadProgress {
  phase: "download" | "load" | "ready";
  /** 0 to 1 within the phase. */
  progress: number;
  message: string;
  downloadedBytes?: number;
  totalBytes?: number;
}

/** Facts about the loaded model, for diagnostics and benchmarks. */
export interface EmbeddedModelInfo {
  path: string;
  threads: number;
  contextSize: number;
  sequences: number;
  vocabularySize?: number;
  logprobs: boolean;
  gpu: EmbeddedGpu;
}

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool;
  info: EmbeddedModelInfo;
  eosTokenIds: number[];
  chatTemplate: ChatTemplate | null;
}

type LoadState =
  | { kind: "idle" }
  | { kind: "loading"; promise: Promise<Loaded>; progress: EmbeddedLoadProgress }
  | { kind: "ready"; loaded: Loaded }
  | { kind: "failed"; error: ThinkscopeError; at: number };

const DEFAULT_CONTEXT_SIZE = 4096;
const DEFAULT_SEQUENCES = 2;
const LOGPROBS_AUTO_MAX_VOCABULARY = 32_768;
// readiness() retries a failed load after this long (the user may have fixed the cause).
const RETRY_AFTER_MS = 30_000;

export function createEmbeddedBackend(options: EmbeddedBackendOptions): EmbeddedBackend {
  return new EmbeddedBackend(options);
}

export class EmbeddedBackend implements Backend {
  readonly id: string;
  readonly kind = "embedded" as const;
  /** The model spec this backend serves (a path or URI). */
  readonly modelSpec: string;
  private readonly source: ModelSource;
  private readonly gpu: EmbeddedGpu;
  private readonly threadsOverride: number | undefined;
  private state: LoadState = { kind: "idle" };
  private readonly sessions = new Set<EmbeddedSession>();
  // Aborts a download or load still running when the backend closes.
  private readonly closing = new AbortController();
  private closed = false;

  constructor(private readonly options: EmbeddedBackendOptions) {
    this.id = options.id ?? "embedded";
    this.modelSpec = options.model ?? resolveDefaultModel();
    this.source = parseModelSource(this.modelSpec);
    this.gpu = options.gpu ?? gpuFromEnv();
    this.threadsOverride = options.threads ?? threadsFromEnv();
    for (const [name, value] of [
      ["threads", this.threadsOverride],
      ["contextSize", options.contextSize],
      ["sequences", options.sequences],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new ThinkscopeError(
          "invalid_config",
          `embedded backend: ${name} must be a positive integer, got ${value}`,
          {
            status: 500,
          },
        );
      }
    }
  }

  /** The model's short name: the file name without `.gguf`, or the download URI. */
  get modelId(): string {
    return modelIdOf(this.source);
  }

  get capabilities(): BackendCapabilities {
    const loaded = this.state.kind === "ready" ? this.state.loaded : undefined;
    return {
      exactTokenIds: true,
      tokenIdPrompts: true,
      stopTokenIds: true,
      logprobs: loaded ? loaded.info.logprobs : this.options.logprobs === true,
      tokenizer: true,
      persistentSequence: true,
      suppress: true,
      tokenLogprobs: true,
      // The same whole-distribution read as the probes, so under the same switch.
      tokenEntropy: loaded ? loaded.info.logprobs : this.options.logprobs === true,
      contextLength: loaded?.info.contextSize ?? this.options.contextSize,
    };
  }

  /** Facts about the loaded model; undefined until it has loaded. */
  get info(): EmbeddedModelInfo | undefined {
    return this.state.kind === "ready" ? this.state.loaded.info : undefined;
  }

  async listModels(): Promise<ModelInfo[]> {
    return [{ id: this.modelId, contextLength: this.capabilities.contextLength }];
  }

  /**
   * Never throws. Starts loading in the background (downloading first when
   * needed) so the page can show progress before the first run.
   */
  async readiness(): Promise<BackendReadiness> {
    if (this.closed) return { state: "unavailable", message: "the embedded backend is closed" };
    const state = this.state;
    if (state.kind === "ready") return { state: "ready" };
    if (state.kind === "failed" && Date.now() - state.at < RETRY_AFTER_MS) {
      return { state: "unavailable", message: state.error.message };
    }
    if (state.kind === "loading") {
      return {
        state: "loading",
        message: state.progress.message,
        progress: state.progress.progress,
      };
    }
    this.load().catch(() => {});
    const now = this.state;
    if (now.kind === "loading")
      return { state: "loading", message: now.progress.message, progress: now.progress.progress };
    return now.kind === "ready"
      ? { state: "ready" }
      : { state: "unavailable", message: "loading failed" };
  }

  /** Load the model now (downloading it first when needed); resolves when it can serve. */
  async prepare(signal?: AbortSignal): Promise<void> {
    await withAbort(this.load(), signal);
  }

  async openSession(
    options: { model?: string; signal?: AbortSignal } = {},
  ): Promise<EmbeddedSession> {
    this.checkModel(options.model);
    const loaded = await withAbort(this.load(), options.signal);
    const sequence = await loaded.pool.acquire(options.signal);
    if (this.closed) throw closedError();
    const session = new EmbeddedSession(sequence, {
      backendId: this.id,
      model: loaded.model,
      contextSize: loaded.info.contextSize,
      vocabularySize: loaded.info.vocabularySize,
      eosTokenIds: loaded.eosTokenIds,
      logprobs: loaded.info.logprobs,
      release: (released: LlamaContextSequence, owner: EmbeddedSession) => {
        this.sessions.delete(owner);
        loaded.pool.release(released);
      },
    });
    this.sessions.add(session);
    return session;
  }

  async tokenize(text: string, options: { special: boolean; model?: string }): Promise<number[]> {
    this.checkModel(options.model);
    const loaded = await this.load();
    return loaded.model.tokenize(text, options.special);
  }

  async applyChatTemplate(
    messages: ChatMessage[],
    options: { model?: string } = {},
  ): Promise<string> {
    this.checkModel(options.model);
    const loaded = await this.load();
    if (!loaded.chatTemplate) {
      throw new ThinkscopeError(
        "chat_template_unavailable",
        `${this.modelId} has no chat template (tokenizer.chat_template); use a family template instead`,
        { status: 501 },
      );
    }
    return loaded.chatTemplate.render(messages);
  }

  /** The GGUF's name, pre-tokenizer, architecture and chat template (loads the model). */
  async modelFacts(options: { model?: string } = {}): Promise<ModelFacts> {
    this.checkModel(options.model);
    const { model } = await this.load();
    const metadata = model.fileInfo.metadata;
    const template = metadata?.tokenizer?.chat_template;
    return {
      names: [metadata?.general?.name, this.modelId],
      preTokenizer: metadata?.tokenizer?.ggml?.pre,
      architecture: metadata?.general?.architecture,
      chatTemplate: typeof template === "string" ? template : undefined,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    // Refuse callers waiting for a sequence before the sessions hand theirs back.
    if (this.state.kind === "ready") this.state.loaded.pool.close();
    await Promise.all([...this.sessions].map((session) => session.close()));
    const state = this.state;
    const loaded =
      state.kind === "ready"
        ? state.loaded
        : state.kind === "loading"
          ? await state.promise.catch(() => undefined)
          : undefined;
    this.state = { kind: "failed", error: closedError(), at: Date.now() };
    if (loaded) await disposeLoaded(loaded);
  }

  private checkModel(model: string | undefined): void {
    if (model === undefined || model === "" || model === this.modelId || model === this.modelSpec)
      return;
    throw new ThinkscopeError(
      "model_not_found",
      `the embedded backend serves ${this.modelId}, not ${model}; set THINKSCOPE_MODEL to load another model`,
      { status: 404 },
    );
  }

  private load(): Promise<Loaded> {
    if (this.closed) return Promise.reject(closedError());
    const state = this.state;
    if (state.kind === "ready") return Promise.resolve(state.loaded);
    if (state.kind === "loading") return state.promise;
    const progress: EmbeddedLoadProgress = {
      phase: "load",
      progress: 0,
      message: `loading ${this.modelId}`,
    };
    const promise = this.loadNow((update) => {
      Object.assign(progress, update);
      this.options.onProgress?.({ ...progress });
    }).then(
      (loaded) => {
        if (this.closed) {
          void disposeLoaded(loaded);
          throw closedError();
        }
        this.state = { kind: "ready", loaded };
        this.options.onProgress?.({
          phase: "ready",
          progress: 1,
          message: `${this.modelId} is ready`,
        });
        return loaded;
      },
      (error: unknown) => {
        const failure = ThinkscopeError.isInstance(error)
          ? error
          : new ThinkscopeError("model_unavailable", errorMessage(error), {
              status: 503,
              cause: error,
            });
        if (!this.closed) this.state = { kind: "failed", error: failure, at: Date.now() };
        throw failure;
      },
    );
    this.state = { kind: "loading", promise, progress };
    return promise;
  }

  private async loadNow(report: (progress: EmbeddedLoadProgress) => void): Promise<Loaded> {
    const modelsDir = join(this.options.dataDir, "models");
    const path = await resolveModelPath(this.source, {
      modelsDir,
      signal: this.closing.signal,
      onProgress: ({ downloadedBytes, totalBytes }) => {
        const progress = totalBytes > 0 ? downloadedBytes / totalBytes : 0;
        report({
          phase: "download",
          progress,
          message: `downloading ${this.modelId}: ${Math.floor(progress * 100)}% of ${formatMegabytes(totalBytes)}`,
          downloadedBytes,
          totalBytes,
        });
      },
    });
    report({ phase: "load", progress: 0, message: `loading ${this.modelId}` });
    const llama: Llama = await getLlamaRuntime(this.gpu);
    let model: LlamaModel;
    try {
      model = await llama.loadModel({
        modelPath: path,
        loadSignal: this.closing.signal,
        gpuLayers: this.gpu === false ? 0 : "auto",
        onLoadProgress: (loadProgress) =>
          report({
            phase: "load",
            progress: loadProgress,
            message: `loading ${this.modelId}: ${Math.floor(loadProgress * 100)}%`,
          }),
      });
    } catch (error) {
      throw new ThinkscopeError(
        "model_unavailable",
        `could not load ${path} (${errorMessage(error)}): is it a complete GGUF file? ` +
          "Delete it to download it again, or set THINKSCOPE_MODEL to another GGUF file",
        { status: 503, cause: error },
      );
    }
    try {
      return await this.createContext(model, path, llama);
    } catch (error) {
      await model.dispose().catch(() => {});
      throw error;
    }
  }

  private async createContext(model: LlamaModel, path: string, llama: Llama): Promise<Loaded> {
    const threads = chooseThreads({
      override: this.threadsOverride,
      modelBytes: model.size,
      cpuMathCores: llama.cpuMathCores,
    });
    const sequences = this.options.sequences ?? DEFAULT_SEQUENCES;
    const contextSize =
      this.options.contextSize ??
      Math.min(model.trainContextSize || DEFAULT_CONTEXT_SIZE, DEFAULT_CONTEXT_SIZE);
    let context: LlamaContext;
    try {
      context = await model.createContext({ contextSize, sequences, threads });
    } catch (error) {
      throw new ThinkscopeError(
        "model_unavailable",
        `could not create a ${contextSize}-token context with ${sequences} sequences for ${this.modelId} ` +
          `(${errorMessage(error)}); lower contextSize or sequences`,
        { status: 503, cause: error },
      );
    }
    const vocabularySize = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
    const eosTokenIds = endOfGenerationTokens(model, vocabularySize);
    const logprobsOption = this.options.logprobs ?? "auto";
    const logprobs =
      logprobsOption === "auto"
        ? vocabularySize !== undefined && vocabularySize <= LOGPROBS_AUTO_MAX_VOCABULARY
        : logprobsOption;
    const templateSource = model.fileInfo.metadata?.tokenizer?.chat_template;
    const chatTemplate =
      typeof templateSource === "string" && templateSource.trim() !== ""
        ? new ChatTemplate(templateSource, {
            bosToken: model.tokens.bosString ?? "",
            eosToken: model.tokens.eosString ?? "",
          })
        : null;
    return {
      model,
      context,
      pool: new SequencePool(context),
      eosTokenIds,
      chatTemplate,
      info: {
        path,
        threads,
        contextSize: context.contextSize,
        sequences,
        vocabularySize,
        logprobs,
        gpu: this.gpu,
      },
    };
  }
}

/** Every end-of-generation token (EOS, EOT, and the like), EOS first. */
function endOfGenerationTokens(model: LlamaModel, vocabularySize: number | undefined): number[] {
  const ids = new Set<number>();
  for (const id of [model.tokens.eos, model.tokens.eot]) if (id !== null) ids.add(id);
  for (let id = 0; id < (vocabularySize ?? 0); id++) if (model.isEogToken(id as Token)) ids.add(id);
  return [...ids];
}

async function disposeLoaded(loaded: Loaded): Promise<void> {
  loaded.pool.close();
  await loaded.context.dispose().catch(() => {});
  await loaded.model.dispose().catch(() => {});
}

function closedError(): ThinkscopeError {
  return new ThinkscopeError("backend_closed", "the embedded backend is closed", { status: 503 });
}

function withAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
