import type {
  BackendCapabilities,
  GenerateRequest,
  GenerationSession,
  GenerationUsage,
  PromptInput,
  SamplingSettings,
} from "./backend.ts";
import { DelimiterMatcher } from "./delimiter-matcher.ts";
import { InvalidRequestError, ThinkscopeError } from "./errors.ts";
import type {
  EngineEvent,
  FinishReason,
  InjectionEvent,
  InjectionKind,
  InjectionReason,
  Phase,
  RunStats,
} from "./events.ts";
import { forcedCloseText, promptOpensThinking } from "./formats.ts";
import { resolveSettings, type BudgetForcingInput, type ResolvedSettings } from "./settings.ts";

export interface RunRequest {
  /**
   * The prompt as raw text, already templated, ending where the model starts
   * (for think-tags usually with `<think>\n`; the model may also open its
   * thinking itself).
   */
  prompt: string;
  budgetForcing?: BudgetForcingInput;
  sampling?: Partial<SamplingSettings>;
  runId?: string;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Milliseconds; injectable for tests. */
  clock?: () => number;
}

/** Text whose token count is known exactly (ids) or estimated (text-only backends). */
interface Piece {
  text: string;
  ids?: number[];
  tokens: number;
}

/**
 * Budget forcing for one run (BUDGET_FORCING.md). `prepare` tokenizes the
 * prompt and validates the settings, refusing bad ones before anything is
 * generated; `events` then drives the backend and yields the typed events.
 *
 * Two modes, chosen from the backend's capabilities:
 * - ids: the prompt, the continuation and every injection are token ids; the
 *   end delimiter is a stop id, so it never reaches the trace, and a
 *   continuation re-sends exact ids (nothing is re-tokenized).
 * - text: stop strings plus a delimiter matcher that works across chunk
 *   boundaries; counts come from the backend and are marked approximate.
 */
export class BudgetForcingRun {
  private constructor(
    private readonly session: GenerationSession,
    private readonly capabilities: BackendCapabilities,
    readonly runId: string,
    readonly prompt: string,
    readonly settings: ResolvedSettings,
    private readonly plan: TokenPlan,
  ) {}

  static async prepare(
    session: GenerationSession,
    capabilities: BackendCapabilities,
    request: RunRequest,
  ): Promise<BudgetForcingRun> {
    if (typeof request.prompt !== "string" || request.prompt === "") {
      throw new InvalidRequestError("invalid_prompt", "The prompt must be a non-empty string.");
    }
    // Validate the settings once without the context so a bad request is
    // refused before any tokenizer round-trip, then again with the real limits.
    resolveSettings(request.budgetForcing ?? {}, request.sampling);
    const plan = await TokenPlan.create(
      session,
      capabilities,
      request.prompt,
      request.budgetForcing,
    );
    const settings = resolveSettings(request.budgetForcing ?? {}, request.sampling, {
      contextLength: capabilities.contextLength,
      promptTokens: plan.prompt.tokens,
    });
    return new BudgetForcingRun(
      session,
      capabilities,
      request.runId ?? randomRunId(),
      request.prompt,
      settings,
      plan,
    );
  }

  get promptTokens(): number {
    return this.plan.prompt.tokens;
  }

  async *events(options: RunOptions = {}): AsyncGenerator<EngineEvent> {
    const driver = new RunDriver(this.session, this.settings, this.plan, options);
    yield {
      type: "run.started",
      runId: this.runId,
      settings: this.settings,
      promptTokens: this.plan.prompt.tokens,
      capabilities: this.capabilities,
      tokenCountsExact: this.plan.exact,
      time: 0,
    };
    yield* driver.run(promptOpensThinking(this.settings.format, this.prompt));
  }
}

/** How this run turns text into tokens and recognises the end of thinking. */
class TokenPlan {
  private constructor(
    readonly exact: boolean,
    readonly prompt: Piece,
    readonly endIds: number[],
    readonly endStrings: string[],
    readonly answerStopIds: number[],
    readonly answerStopStrings: string[],
    private readonly tokenizeText: (text: string, special: boolean) => Promise<Piece>,
  ) {}

  static async create(
    session: GenerationSession,
    capabilities: BackendCapabilities,
    prompt: string,
    input: BudgetForcingInput | undefined,
  ): Promise<TokenPlan> {
    const format = resolveSettings(input ?? {}).format;
    const tokenize = session.tokenize?.bind(session);
    const exact =
      capabilities.exactTokenIds &&
      capabilities.tokenIdPrompts &&
      capabilities.tokenizer &&
      tokenize !== undefined;

    const tokenizeText = async (text: string, special: boolean): Promise<Piece> => {
      if (text === "") return { text, ids: [], tokens: 0 };
      if (tokenize) {
        const ids = await tokenize(text, { special });
        return exact ? { text, ids, tokens: ids.length } : { text, tokens: ids.length };
      }
      return { text, tokens: estimateTokens(text) };
    };

    const promptPiece = await tokenizeText(prompt, true);
    const endIds: number[] = [];
    const endStrings: string[] = [];
    if (exact && capabilities.stopTokenIds && tokenize) {
      if (format.endTokenIds?.length) endIds.push(...format.endTokenIds);
      for (const marker of format.endMarkers) {
        const ids = await tokenize(marker, { special: true });
        // A delimiter that is one token is stopped on by id; a longer one can
        // only be found in the text.
        if (ids.length === 1) endIds.push(ids[0]!);
        else endStrings.push(marker);
      }
    } else {
      endStrings.push(...format.endMarkers);
    }

    const answerStopIds: number[] = [];
    const answerStopStrings: string[] = [];
    for (const marker of format.answerStopMarkers) {
      const ids =
        exact && capabilities.stopTokenIds && tokenize
          ? await tokenize(marker, { special: true })
          : [];
      if (ids.length === 1) answerStopIds.push(ids[0]!);
      else answerStopStrings.push(marker);
    }
    return new TokenPlan(
      exact,
      promptPiece,
      endIds,
      endStrings,
      answerStopIds,
      answerStopStrings,
      tokenizeText,
    );
  }

  /** Injected text: waits are plain text, closes may hold special tokens. */
  piece(text: string, special: boolean): Promise<Piece> {
    return this.tokenizeText(text, special);
  }
}

/** The mutable state of one run while it streams. */
class RunDriver {
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly abort = new AbortController();
  /** Everything generated or injected after the prompt, in order. */
  private readonly continuation: Piece[] = [];
  private thinkingText = "";
  private phase: Phase | "opening" = "thinking";
  private openingText = "";

  private generatedThinking = 0;
  private injectedThinking = 0;
  private closeTokens = 0;
  private answerTokens = 0;
  private waits = 0;
  private forcedEnd = false;
  private firstTokenAt: number | null = null;
  private closedAt: number | null = null;
  private upstreamRequests = 0;
  private reprefilled = 0;
  private cached = 0;

  constructor(
    private readonly session: GenerationSession,
    private readonly settings: ResolvedSettings,
    private readonly plan: TokenPlan,
    options: RunOptions,
  ) {
    this.clock = options.clock ?? (() => Date.now());
    this.startedAt = this.clock();
    if (options.signal) {
      if (options.signal.aborted) this.abort.abort();
      else options.signal.addEventListener("abort", () => this.abort.abort(), { once: true });
    }
  }

  /** A method, not a narrowed field: the phase changes inside the stream. */
  private get answering(): boolean {
    return this.phase === "answer";
  }

  private get thinkingTokens(): number {
    return this.generatedThinking + this.injectedThinking;
  }

  private time(): number {
    return this.clock() - this.startedAt;
  }

  async *run(promptOpensThinking: boolean): AsyncGenerator<EngineEvent> {
    this.phase = promptOpensThinking ? "thinking" : "opening";
    let finishReason: FinishReason;
    try {
      finishReason = yield* this.loop();
    } catch (error) {
      if (this.abort.signal.aborted) {
        finishReason = "aborted";
      } else {
        finishReason = "error";
        const failure = ThinkscopeError.isInstance(error)
          ? error
          : new ThinkscopeError("internal_error", `The run failed: ${errorMessage(error)}`, {
              cause: error,
            });
        yield {
          type: "run.error",
          code: failure.code,
          message: failure.message,
          retryable: failure.retryable,
          status: failure.status,
          time: this.time(),
        };
      }
    }
    yield { type: "run.finished", finishReason, stats: this.stats(), time: this.time() };
  }

  private async *loop(): AsyncGenerator<EngineEvent, FinishReason> {
    const { settings } = this;
    while (this.phase !== "answer") {
      if (this.abort.signal.aborted) return "aborted";
      const remaining = settings.maxThinkingTokens - this.thinkingTokens;
      if (remaining <= 0) {
        yield* this.close("forced_end", "max_thinking_tokens");
        break;
      }
      const outcome = yield* this.stream(remaining, this.plan.endIds, this.plan.endStrings, true);
      if (outcome === "aborted") return "aborted";
      if (this.answering) {
        // The model answered without opening a thinking segment.
        if (outcome !== "length") return "stop";
        break;
      }
      if (outcome === "length") continue; // the budget is spent: the next turn forces the close
      yield* this.endAttempt(outcome === "eos" ? "backend_stop" : "model_end");
    }

    const outcome = yield* this.stream(
      settings.maxAnswerTokens - this.answerTokens,
      this.plan.answerStopIds,
      this.plan.answerStopStrings,
      false,
    );
    if (outcome === "aborted") return "aborted";
    return outcome === "length" ? "length" : "stop";
  }

  /** The model tried to end its thinking: extend with a wait, or accept the close. */
  private async *endAttempt(stopReason: InjectionReason): AsyncGenerator<EngineEvent> {
    const { settings } = this;
    const belowMinimum = this.thinkingTokens < settings.minThinkingTokens;
    const wantsExtension = this.waits < settings.numWaits || belowMinimum;
    if (wantsExtension && this.waits < settings.maxExtensions) {
      const text = settings.waitStrings[this.waits % settings.waitStrings.length]!;
      const wait = await this.plan.piece(text, false);
      // A wait that would not fit leaves no room to think: close instead.
      if (this.thinkingTokens + wait.tokens <= settings.maxThinkingTokens) {
        this.waits += 1;
        this.injectedThinking += wait.tokens;
        yield this.inject(
          "wait",
          wait,
          belowMinimum ? "min_thinking_tokens" : "num_waits",
          this.waits,
        );
        this.thinkingText += wait.text;
        return;
      }
    }
    yield* this.close("end", stopReason);
  }

  private async *close(
    kind: "end" | "forced_end",
    reason: InjectionReason,
  ): AsyncGenerator<EngineEvent> {
    const { format, finalAnswerPrefix } = this.settings;
    const text =
      kind === "end"
        ? format.naturalClose
        : forcedCloseText(format, this.thinkingText, finalAnswerPrefix);
    const piece = await this.plan.piece(text, true);
    this.forcedEnd = kind === "forced_end";
    this.closeTokens += piece.tokens;
    yield this.inject(kind, piece, reason);
    yield* this.enterAnswer();
  }

  private *enterAnswer(): Generator<EngineEvent> {
    this.phase = "answer";
    this.closedAt = this.time();
    yield { type: "phase", phase: "answer", time: this.closedAt };
  }

  private inject(
    kind: InjectionKind,
    piece: Piece,
    reason: InjectionReason,
    waitNumber?: number,
  ): InjectionEvent {
    const event: InjectionEvent = {
      type: "injection",
      kind,
      text: piece.text,
      tokens: piece.tokens,
      // The index is where the injection starts: waits already counted are excluded.
      thinkingTokenIndex: this.thinkingTokens - (kind === "wait" ? piece.tokens : 0),
      reason,
      time: this.time(),
    };
    if (piece.ids) event.tokenIds = piece.ids;
    if (waitNumber !== undefined) event.waitNumber = waitNumber;
    this.continuation.push(piece);
    return event;
  }

  /**
   * One upstream request. Returns why it ended: `end` (the end delimiter),
   * `eos` (the model ended the sequence), `length` (maxTokens), `aborted`.
   */
  private async *stream(
    maxTokens: number,
    stopIds: number[],
    stopStrings: string[],
    thinking: boolean,
  ): AsyncGenerator<EngineEvent, "end" | "eos" | "length" | "aborted"> {
    if (maxTokens <= 0) return "length";
    const request: GenerateRequest = {
      prompt: this.promptSoFar(),
      maxTokens,
      stopTokenIds: stopIds,
      stopStrings,
      sampling: this.settings.sampling,
      signal: this.abort.signal,
    };
    if (thinking && stopIds.length > 0) request.probeTokenIds = stopIds;
    const promptTokens =
      this.plan.prompt.tokens + this.continuation.reduce((n, p) => n + p.tokens, 0);
    const matcher = stopStrings.length > 0 ? new DelimiterMatcher(stopStrings) : null;
    const stopIdSet = new Set(stopIds);
    let usage: GenerationUsage | undefined;
    let outcome: "end" | "eos" | "length" = "eos";
    let generatedHere = 0;
    this.upstreamRequests += 1;

    const iterator = this.session.generate(request)[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        const event = next.value;
        if (event.type === "finish") {
          usage = event.usage;
          if (event.reason === "length") outcome = "length";
          else if (event.stoppedBy && !event.endOfSequence) outcome = "end";
          else outcome = "eos";
          break;
        }
        if (this.firstTokenAt === null && event.tokenCount > 0) this.firstTokenAt = this.time();

        let text = event.text;
        let ids = event.tokenIds;
        let tokens = event.tokenCount;
        let sawEnd = false;
        // A backend may ignore stop ids or pack the stop into a multi-token chunk.
        if (ids && stopIdSet.size > 0) {
          const at = ids.findIndex((id) => stopIdSet.has(id));
          if (at >= 0) {
            ids = ids.slice(0, at);
            tokens = ids.length;
            text = cutAtFirstMarker(text, thinking ? this.settings.format.endMarkers : []);
            sawEnd = true;
          }
        }
        if (matcher) {
          const result = matcher.push(text);
          text = result.text;
          if (result.match) sawEnd = true;
        }
        generatedHere += tokens;
        yield* this.emitGenerated({ text, ids, tokens }, event.probeProbabilities);
        if (sawEnd) {
          outcome = "end";
          break;
        }
      }
    } catch (error) {
      if (this.abort.signal.aborted) return "aborted";
      throw error;
    } finally {
      // Leaving early (a delimiter found in the text, an abort) cancels the upstream request.
      await iterator.return?.();
    }
    if (this.abort.signal.aborted) return "aborted";
    if (matcher && outcome !== "end") {
      const rest = matcher.flush();
      if (rest) yield* this.emitGenerated({ text: rest, tokens: 0 }, undefined);
    }
    if (this.upstreamRequests > 1) {
      this.reprefilled += usage?.promptTokensEvaluated ?? promptTokens;
    }
    this.cached += usage?.promptTokensCached ?? 0;
    // Text-only backends may count nothing per chunk; the final usage is the better count.
    if (
      !this.plan.exact &&
      usage?.completionTokens !== undefined &&
      usage.completionTokens > generatedHere
    ) {
      this.addTokens(thinking, usage.completionTokens - generatedHere);
    }
    return outcome;
  }

  private addTokens(thinking: boolean, tokens: number): void {
    if (thinking) this.generatedThinking += tokens;
    else this.answerTokens += tokens;
  }

  private *emitGenerated(
    piece: Piece,
    probabilities: number[] | undefined,
  ): Generator<EngineEvent> {
    if (piece.text === "" && piece.tokens === 0) return;
    if (this.phase === "opening") yield* this.watchOpening(piece.text);
    // While the opening is undecided its text counts as thinking: it is the model's own `<think>`.
    const phase: Phase = this.phase === "answer" ? "answer" : "thinking";
    this.continuation.push(piece);
    if (phase === "thinking") {
      this.generatedThinking += piece.tokens;
      this.thinkingText += piece.text;
    } else {
      this.answerTokens += piece.tokens;
    }
    yield {
      type: "delta",
      phase,
      text: piece.text,
      ...(piece.ids ? { tokenIds: piece.ids } : {}),
      tokens: piece.tokens,
      phaseTokens: phase === "thinking" ? this.thinkingTokens : this.answerTokens,
      ...(probabilities ? { endProbabilities: probabilities.slice(0, piece.tokens) } : {}),
      time: this.time(),
    };
  }

  /**
   * Before the model has opened its thinking (the prompt did not): thinking
   * starts once it writes the start delimiter; text that cannot become the
   * delimiter means it answered without thinking.
   */
  private *watchOpening(text: string): Generator<EngineEvent> {
    this.openingText += text;
    const seen = this.openingText.trimStart();
    const start = this.settings.format.start;
    if (seen.includes(start)) this.phase = "thinking";
    else if (!start.startsWith(seen)) yield* this.enterAnswer();
  }

  private promptSoFar(): PromptInput {
    const text = () => this.plan.prompt.text + this.continuation.map((p) => p.text).join("");
    // A backend may stream a token without its id (llama-server drops the id of a
    // token that ends in half a UTF-8 character); then only the text is whole.
    if (this.plan.exact && this.continuation.every((p) => p.ids !== undefined || p.tokens === 0)) {
      const tokens = [...(this.plan.prompt.ids ?? [])];
      for (const piece of this.continuation) tokens.push(...(piece.ids ?? []));
      return { tokens };
    }
    return { text: text() };
  }

  private stats(): RunStats {
    const end = this.time();
    const closedAt = this.closedAt ?? end;
    const generated = this.generatedThinking + this.answerTokens;
    const generatingMs = this.firstTokenAt === null ? 0 : end - this.firstTokenAt;
    return {
      thinkingTokensGenerated: this.generatedThinking,
      thinkingTokensInjected: this.injectedThinking,
      closeTokens: this.closeTokens,
      answerTokens: this.answerTokens,
      waits: this.waits,
      forcedEnd: this.forcedEnd,
      firstTokenMs: this.firstTokenAt,
      thinkingMs: closedAt,
      answerMs: this.closedAt === null ? 0 : end - this.closedAt,
      totalMs: end,
      tokensPerSecond: generatingMs > 0 ? (generated * 1000) / generatingMs : 0,
      upstreamRequests: this.upstreamRequests,
      reprefilledTokens: this.reprefilled,
      cachedPromptTokens: this.cached,
      tokenCountsExact: this.plan.exact,
    };
  }
}

function cutAtFirstMarker(text: string, markers: readonly string[]): string {
  let cut = text.length;
  for (const marker of markers) {
    const index = text.indexOf(marker);
    if (index >= 0) cut = Math.min(cut, index);
  }
  return text.slice(0, cut);
}

/** Rough count for backends that give no tokens at all: about four characters a token. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.round(text.length / 4));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function randomRunId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "run_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
