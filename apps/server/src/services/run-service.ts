/**
 * One way to run: the page (WebSocket), the OpenAI-compatible API, the CLI
 * and experiments all start runs here. A run is rendered, prepared (bad
 * settings refused before anything is generated or stored), stored as it
 * streams, and its session closed whatever happens.
 *
 * Storage policy: a request refused while preparing (bad settings, unknown
 * backend, prompt over the context, upstream unreachable while tokenizing)
 * is not stored; nothing was generated and no run id was handed out. From the
 * moment `start` returns, the run is in the store and ends there as
 * `completed`, `aborted` (its caller aborted it), `error` (the upstream
 * failed; the partial output is kept), or `interrupted` (its client went
 * away, or the server stopped or crashed). A store that cannot keep a run
 * refuses it at the start, or ends it as `error` with the fault's code
 * (`storage_full`, `storage_unavailable`), which its client is told: a run
 * never streams on unstored, and never ends in the client's eyes before it
 * ends in the store.
 */
import {
  BudgetForcingRun,
  InvalidRequestError,
  ThinkscopeError,
  cutAtToken,
  RunTranscript,
  countCloseTokens,
  countPromptTokens,
  resolveSettings,
  type RunRequest,
  type ChatMessage,
} from "@thinkscope/core";
import type {
  BudgetCeilings,
  BudgetForcing,
  EngineEvent,
  Fork,
  PromptMode,
  ResolvedSettings,
  RunErrorEvent,
  RunFinishedEvent,
  RunPreview,
  RunSource,
  RunSpec,
  RunStatus,
  Sampling,
  SamplingSettings,
} from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { BackendEntry, BackendRegistry } from "../backends/registry.ts";
import type { Scrubber } from "../lib/secrets.ts";
import { newRunId } from "../store/run-id.ts";
import type { Admission, ClientIdentity } from "./admission.ts";
import type { RunOutcome, RunStore } from "../store/run-store.ts";
import { StorageError } from "../store/storage-error.ts";
import { stopAnswerAt } from "./answer-stop.ts";
import { renderChatPrompt, renderChatTemplate } from "./chat-prompt.ts";
import { resolveFork, type ForkOrigin } from "./fork-input.ts";

export interface RunInput {
  /** Chat: the user's message (unless `messages` is given); raw: the exact text to continue. */
  prompt?: string;
  /** Chat: the whole conversation, rendered with the chat template. */
  messages?: ChatMessage[];
  mode: PromptMode;
  /** A configured backend's id; the default when absent. */
  backend?: string;
  /** The model name sent upstream; the backend's default when absent. */
  model?: string;
  budgetForcing?: BudgetForcing;
  sampling?: Sampling;
  /** Strings that end the answer (OpenAI `stop`). */
  stop?: string[];
  source: RunSource;
  experimentId?: string;
  /** A family chat template that overrides the model's own. */
  chatTemplate?: string;
  /** The problem's reference answer (experiments): `eliminate` with `verifier: "reference"` checks against it. */
  reference?: string;
  /** Report each run's lowest group log-probability over this many tokens (a confidence vote). */
  confidenceWindow?: number;
  /**
   * Report each token's entropy when the backend can (the page's shading
   * and chart show it). It costs the backend work per token, so only the
   * page's own runs ask; a backend that cannot simply runs without it.
   */
  entropyWhereSupported?: boolean;
  /** Continue another run instead of a prompt (`prompt` and `messages` absent). */
  fork?: Fork;
  /** The resample analysis this run is a sample of. */
  resampleId?: string;
  /**
   * Chat: whether the prompt opens the thinking (default). A plain API
   * request sends the model's own template as it is, and the model opens its
   * thinking itself or answers at once, as it would on its own server.
   */
  opensThinking?: boolean;
  /** A thinking budget left out takes all the room instead of the default (plain API requests). */
  fillThinking?: boolean;
  /** A cap on thinking plus answer together (OpenAI's `max_completion_tokens`). */
  maxCompletionTokens?: number;
  /** Budgets left out go no higher than these (the operator's caps; set by `start`). */
  budgetCeilings?: BudgetCeilings | undefined;
}

export interface StartOptions {
  /**
   * Cancels the preparation (session, tokenizing) and, once started, the run
   * itself, recorded with `abortStatus`. `run.abort` does the same.
   */
  signal?: AbortSignal;
  /** How a run stopped by `signal` is recorded; default `aborted`. */
  abortStatus?: AbortStatus;
  /** A backend already resolved (from an OpenAI `model`); wins over `input.backend`. */
  entry?: BackendEntry;
  /** Whom the run counts against for per-client limits (a request's `clientId`); uncounted when absent. */
  client?: ClientIdentity;
  /** Streams without being stored (an operator turned off storing API requests). */
  unstored?: boolean;
}

/** What a streaming run writes to. */
type RunSink = Pick<RunStore, "createRun" | "appendEvent" | "finishRun">;

/** A run nobody keeps: it streams as any other, and nothing is written. */
const UNSTORED: RunSink = {
  createRun: () => {},
  appendEvent: () => {},
  finishRun: async () => {},
};

/** How a run that stops early is recorded: `aborted` by its user, `interrupted` when its client left. */
export type AbortStatus = "aborted" | "interrupted";

export interface RunServiceDeps {
  backends: BackendRegistry;
  store: RunStore;
  log: FastifyBaseLogger;
  scrub: Scrubber;
  /** Operator limits (budget caps, runs per client); none when absent (the CLI). */
  admission?: Admission;
}

export class RunService {
  private readonly active = new Set<ActiveRun>();

  constructor(private readonly deps: RunServiceDeps) {}

  /** Runs streaming now. */
  get activeCount(): number {
    return this.active.size;
  }

  /**
   * Validates and prepares a run and stores it as `running`. Throws a
   * `ThinkscopeError` (400 bad input, 404 unknown model, 502/503/504
   * upstream) before anything is generated. Iterate `run.events()` to drive it.
   * Operator limits come first: a budget above a cap is a 400, a client
   * over its concurrent runs a 429, and the run's slot is held until it is stored.
   */
  async start(request: RunInput, options: StartOptions = {}): Promise<ActiveRun> {
    const { admission } = this.deps;
    const { input, origin } = this.forkOf(request);
    if (!admission) return this.open(input, options, origin);
    const admitted = {
      ...input,
      budgetForcing: admission.checkBudgets(input.budgetForcing),
      budgetCeilings: admission.budgetCeilings(),
    };
    const release = admission.acquire(options.client);
    try {
      const run = await this.open(admitted, options, origin);
      void run.done.then(release, release);
      return run;
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * What a run of `input` would use, found as the run finds it (operator
   * caps, the rendered prompt, its tokens, budgets fitted to the context),
   * without a session or anything generated or stored. Throws the 400 the
   * run would get.
   */
  async preview(request: RunInput, options: Pick<StartOptions, "entry"> = {}): Promise<RunPreview> {
    const { input, origin } = this.forkOf(request);
    const admitted = {
      ...input,
      budgetForcing: this.deps.admission?.checkBudgets(input.budgetForcing) ?? input.budgetForcing,
      budgetCeilings: this.deps.admission?.budgetCeilings(),
    };
    const { entry, sampling, renderedPrompt } = await this.render(admitted, options, origin);
    const { backend } = entry;
    const tokenize = backend.capabilities.tokenizer ? backend.tokenize?.bind(backend) : undefined;
    const tokenizeSpecial =
      tokenize &&
      ((text: string, { special }: { special: boolean }) =>
        tokenize(text, { special, model: input.model }));
    const counted = await countPromptTokens(renderedPrompt, tokenizeSpecial);
    const contextLength = backend.capabilities.contextLength;
    const budget = admitted.budgetForcing ?? {};
    const closeTokens = await countCloseTokens(resolveSettings(budget, sampling), tokenizeSpecial);
    const { maxCompletionTokens, fillThinking, budgetCeilings } = runLimits(admitted);
    const settings = resolveSettings(budget, sampling, {
      contextLength,
      promptTokens: counted.tokens,
      closeTokens,
      ...(maxCompletionTokens === undefined ? {} : { completionCap: maxCompletionTokens }),
      ...(fillThinking ? { fillThinking } : {}),
      ...(budgetCeilings ? { ceilings: budgetCeilings } : {}),
    });
    return {
      renderedPrompt,
      promptTokens: counted.tokens,
      promptTokensExact: counted.exact,
      contextLength: contextLength ?? null,
      closeTokens,
      settings,
    };
  }

  /** The backend and model a fork of this run runs on; 404 when there is no such run. */
  forkParent(runId: string): { backend: string; model: string | null } {
    const parent = this.deps.store.get(runId);
    if (!parent) {
      throw new ThinkscopeError("run_not_found", `No run ${runId} to fork.`, { status: 404 });
    }
    return { backend: parent.backend, model: parent.model };
  }

  /** A fork's input resolved against its parent (found in the store), or the input as it is. */
  private forkOf(input: RunInput): { input: RunInput; origin: ForkOrigin | null } {
    if (!input.fork) return { input, origin: null };
    return resolveFork(input, input.fork, this.deps.store);
  }

  /** The backend and the exact prompt text for a run; bad settings are refused before any round trip. */
  private async render(
    input: RunInput,
    options: Pick<StartOptions, "entry">,
    origin: ForkOrigin | null,
  ) {
    const entry = options.entry ?? this.deps.backends.get(input.backend);
    if (origin && entry.id !== origin.parent.backend) {
      throw new InvalidRequestError(
        "invalid_fork",
        `A fork runs on its parent's backend (${origin.parent.backend}), not ${entry.id}: its token ids are that model's.`,
      );
    }
    const messages = chatMessages(input);
    const sampling = toCoreSampling(input.sampling ?? {});
    const format = resolveSettings(input.budgetForcing ?? {}, sampling).format;
    if (input.stop?.some((stop) => stop === "")) {
      throw new InvalidRequestError("invalid_stop", "stop strings must not be empty.");
    }
    const chatOptions = { model: input.model, template: input.chatTemplate };
    const renderedPrompt =
      input.mode === "raw"
        ? requirePrompt(input.prompt)
        : input.opensThinking === false
          ? await renderChatTemplate(entry.backend, messages, chatOptions)
          : await renderChatPrompt(entry.backend, messages, { ...chatOptions, format });
    return { entry, messages, sampling, renderedPrompt };
  }

  private async open(
    input: RunInput,
    options: StartOptions,
    origin: ForkOrigin | null,
  ): Promise<ActiveRun> {
    const { backends } = this.deps;
    const store = options.unstored ? UNSTORED : this.deps.store;
    const { entry, messages, sampling, renderedPrompt } = await this.render(input, options, origin);
    const session = await entry.backend.openSession({ model: input.model, signal: options.signal });
    try {
      const id = newRunId();
      const fork = origin && {
        parentRunId: origin.parent.id,
        at: origin.at,
        insert: origin.insert,
        inherited: await cutAtToken(
          origin.parent.events,
          origin.at,
          session.detokenize?.bind(session),
        ),
      };
      const run = await BudgetForcingRun.prepare(session, entry.backend.capabilities, {
        prompt: renderedPrompt,
        budgetForcing: input.budgetForcing,
        sampling,
        runId: id,
        ...(input.reference !== undefined ? { reference: input.reference } : {}),
        ...(input.confidenceWindow !== undefined
          ? { confidenceWindow: input.confidenceWindow }
          : {}),
        ...(input.entropyWhereSupported && entry.backend.capabilities.tokenEntropy === true
          ? { tokenEntropy: true }
          : {}),
        ...(fork ? { fork } : {}),
        ...runLimits(input),
      });
      const model = input.model ?? (await backends.models(entry))?.[0]?.id ?? null;
      // Throws a StorageError (nothing stored, nothing generated) when the store cannot take the run.
      store.createRun(
        {
          id,
          source: input.source,
          backend: entry.id,
          model,
          prompt: origin
            ? origin.parent.prompt
            : input.mode === "raw"
              ? renderedPrompt
              : displayPrompt(messages),
          renderedPrompt,
          mode: origin ? origin.parent.mode : input.mode,
          budgetForcing: input.budgetForcing ?? {},
          sampling: input.sampling ?? {},
          stop: input.stop,
          experimentId: input.experimentId ?? null,
          parentRunId: origin?.parent.id ?? null,
          forkAt: origin?.at ?? null,
          resampleId: input.resampleId ?? null,
        },
        (fault) => active.storageFailed(fault),
      );
      const active: ActiveRun = new ActiveRun({ ...this.deps, store }, run, {
        id,
        backendId: entry.id,
        model,
        renderedPrompt,
        stop: input.stop ?? [],
        close: async () => {
          this.active.delete(active);
          await session.close();
        },
      });
      this.active.add(active);
      const { signal } = options;
      if (signal) {
        const stop = () => active.abort(options.abortStatus ?? "aborted");
        if (signal.aborted) stop();
        else {
          signal.addEventListener("abort", stop, { once: true });
          void active.done.then(() => signal.removeEventListener("abort", stop));
        }
      }
      return active;
    } catch (error) {
      await session.close().catch(() => {});
      throw error;
    }
  }

  /** Stops every run (server shutdown); each is stored as `interrupted`. */
  async abortAll(timeoutMs = 3_000): Promise<void> {
    const runs = [...this.active];
    for (const run of runs) run.abort("interrupted");
    await Promise.race([
      Promise.allSettled(runs.map((run) => run.done)),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }
}

/** A started run. Drive it by iterating `events()` once; stop it with `abort`. */
export class ActiveRun {
  readonly id: string;
  readonly backendId: string;
  readonly model: string | null;
  readonly renderedPrompt: string;
  /** Everything streamed so far, folded (`text`, `thinkingText`, `answerText`, `summary()`). */
  readonly transcript = new RunTranscript();
  /** Settles when the run is stored with its final status. */
  readonly done: Promise<RunStatus>;

  private readonly controller = new AbortController();
  private abortStatus: AbortStatus | null = null;
  private started = false;
  private stoppedUnstreamed = false;
  /** Set when the store could not keep the run (see `end`). */
  private storageFault: StorageError | null = null;
  /** Its end has been handed to the store. */
  private ended = false;
  private settle!: (status: RunStatus) => void;

  constructor(
    private readonly deps: Omit<RunServiceDeps, "store"> & { store: RunSink },
    private readonly run: BudgetForcingRun,
    private readonly meta: {
      id: string;
      backendId: string;
      model: string | null;
      renderedPrompt: string;
      stop: string[];
      close: () => Promise<void>;
    },
  ) {
    this.id = meta.id;
    this.backendId = meta.backendId;
    this.model = meta.model;
    this.renderedPrompt = meta.renderedPrompt;
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  get settings(): ResolvedSettings {
    return this.run.settings;
  }

  get promptTokens(): number {
    return this.run.promptTokens;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops the run; the upstream request is aborted at once. The first status given wins. */
  abort(status: AbortStatus): void {
    if (this.controller.signal.aborted) return;
    this.abortStatus = status;
    this.controller.abort();
    // Never streamed (its client left before it began): record it and free the session now.
    if (!this.started) {
      this.started = true;
      this.stoppedUnstreamed = true;
      void this.finish(null);
    }
  }

  /**
   * The engine's events, stored as they pass. Error messages are scrubbed of
   * secrets. Ends with `run.finished`, unless the consumer stops early (then
   * the run is stored as `interrupted`, or as its abort status).
   */
  events(): AsyncGenerator<EngineEvent> {
    // Stopped before it streamed (its client left while it was starting): nothing to stream.
    if (this.stoppedUnstreamed) return (async function* () {})();
    if (this.started) throw new Error(`Run ${this.id} is already being streamed.`);
    // Set now, not on the first `next()`: an abort from here on is seen by the stream.
    this.started = true;
    return this.stream();
  }

  /** The store cannot keep this run: it stops, and ends as an `error` its client is told of. */
  storageFailed(fault: StorageError): void {
    this.storageFault ??= fault;
    this.controller.abort();
  }

  private async *stream(): AsyncGenerator<EngineEvent> {
    const { store, log, scrub } = this.deps;
    let failure: unknown = null;
    const source = stopAnswerAt(
      this.run.events({ signal: this.controller.signal }),
      this.meta.stop,
      () => this.controller.abort(),
    );
    try {
      for await (const raw of source) {
        if (raw.type === "run.error") {
          // The log keeps the upstream's address (its own scrubber removes secrets); clients do not see it.
          const upstream = raw.status === 502 || raw.status === 503 || raw.status === 504;
          if (upstream) log.warn({ runId: this.id, code: raw.code }, raw.message);
          else log.error({ runId: this.id, code: raw.code }, raw.message);
        }
        const event = raw.type === "run.error" ? { ...raw, message: scrub(raw.message) } : raw;
        if (event.type === "run.finished") {
          yield* this.end(event);
          continue;
        }
        this.transcript.apply(event);
        store.appendEvent(this.id, event);
        yield event;
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A consumer that stops early leaves nothing generating upstream.
      if (this.transcript.finishReason === null) this.controller.abort();
      await this.finish(failure);
    }
  }

  /**
   * The run's last event, once the run is stored with it: its client is only
   * told a run has ended once the store has it. When the store cannot keep
   * it, the run ends instead as `error` with the fault's code (`storage_full`,
   * `storage_unavailable`); that end stays queued in the store, written once
   * the storage recovers.
   */
  private async *end(finished: RunFinishedEvent): AsyncGenerator<EngineEvent> {
    const { store, log } = this.deps;
    if (!this.storageFault) {
      this.transcript.apply(finished);
      try {
        this.ended = true;
        await store.finishRun(this.id, this.outcome(this.finalStatus(null), null), [finished]);
        yield finished;
        return;
      } catch (error) {
        if (!(error instanceof StorageError)) throw error;
        this.storageFault = error;
      }
    }
    const fault = this.storageFault;
    log.error({ runId: this.id, code: fault.code, err: fault.cause }, fault.message);
    const error: RunErrorEvent = {
      type: "run.error",
      code: fault.code,
      message: fault.message,
      retryable: fault.retryable,
      status: fault.status,
      time: finished.time,
    };
    const last: RunFinishedEvent = { ...finished, finishReason: "error" };
    this.transcript.apply(error);
    this.transcript.apply(last);
    this.ended = true;
    // Rejected at once with the fault just logged; the end stays queued.
    store.finishRun(this.id, this.outcome("error", null), [error, last]).catch(() => {});
    yield error;
    yield last;
  }

  private async finish(failure: unknown): Promise<void> {
    const { store, log } = this.deps;
    const status = this.finalStatus(failure);
    if (!this.ended) {
      this.ended = true;
      await store
        .finishRun(this.id, this.outcome(status, failure))
        .catch((error: unknown) =>
          log.error({ err: error, runId: this.id }, "could not store the run's outcome"),
        );
    }
    await this.meta
      .close()
      .catch((error: unknown) =>
        log.warn({ err: error, runId: this.id }, "closing the session failed"),
      );
    this.settle(status);
  }

  private finalStatus(failure: unknown): RunStatus {
    if (failure !== null) return "error";
    switch (this.transcript.finishReason) {
      case "stop":
      case "length":
        return "completed";
      case "error":
        return "error";
      case "aborted":
        return this.abortStatus ?? "aborted";
      case null:
        // The consumer stopped reading before the end: its client went away.
        return this.abortStatus ?? "interrupted";
    }
  }

  private outcome(status: RunStatus, failure: unknown): RunOutcome {
    const { transcript } = this;
    let error = transcript.error
      ? { code: transcript.error.code, message: transcript.error.message }
      : null;
    if (!error && failure !== null) {
      error = {
        code: "internal_error",
        message: this.deps.scrub(String((failure as Error).message ?? failure)),
      };
    }
    return {
      status: status === "running" ? "interrupted" : status,
      summary: transcript.summary(),
      text: transcript.text,
      answer: transcript.answerText,
      error,
    };
  }
}

/** A protocol `RunSpec` (the page, the runs API) as a run input. */
export function runInputFromSpec(spec: RunSpec, source: RunSource): RunInput {
  const input: RunInput = { mode: spec.mode ?? "chat", source };
  // The page shades and charts each token's entropy, live and on replay.
  if (source === "page") input.entropyWhereSupported = true;
  if (spec.prompt !== undefined) input.prompt = spec.prompt;
  if (spec.fork !== undefined) input.fork = spec.fork;
  if (spec.backend !== undefined) input.backend = spec.backend;
  if (spec.model !== undefined) input.model = spec.model;
  if (spec.budget_forcing !== undefined) input.budgetForcing = spec.budget_forcing;
  if (spec.sampling !== undefined) input.sampling = spec.sampling;
  return input;
}

/** The limits a run input sets beyond its budget, as the engine takes them. */
type RunLimits = Pick<RunRequest, "maxCompletionTokens" | "fillThinking" | "budgetCeilings">;

function runLimits(input: RunInput): RunLimits {
  const limits: RunLimits = {};
  if (input.budgetCeilings) limits.budgetCeilings = input.budgetCeilings;
  if (input.maxCompletionTokens !== undefined)
    limits.maxCompletionTokens = input.maxCompletionTokens;
  if (input.fillThinking) limits.fillThinking = true;
  return limits;
}

function chatMessages(input: RunInput): ChatMessage[] {
  if (input.mode === "raw") return [];
  if (input.messages && input.messages.length > 0) return input.messages;
  return [{ role: "user", content: requirePrompt(input.prompt) }];
}

function requirePrompt(prompt: string | undefined): string {
  if (typeof prompt !== "string" || prompt === "") {
    throw new InvalidRequestError("invalid_prompt", "The prompt must be a non-empty string.");
  }
  return prompt;
}

/** What lists show for a chat run: the last user message. */
function displayPrompt(messages: ChatMessage[]): string {
  return (
    [...messages].reverse().find((m) => m.role === "user")?.content ??
    messages.at(-1)?.content ??
    ""
  );
}

export function toCoreSampling(sampling: Sampling): Partial<SamplingSettings> {
  const out: Partial<SamplingSettings> = {};
  if (sampling.temperature !== undefined) out.temperature = sampling.temperature;
  if (sampling.top_p !== undefined) out.topP = sampling.top_p;
  if (sampling.top_k !== undefined) out.topK = sampling.top_k;
  if (sampling.seed !== undefined) out.seed = sampling.seed;
  return out;
}
