import type {
  BackendCapabilities,
  BudgetCeilings,
  BudgetForcing,
  DeltaEvent,
  EngineEvent,
  FinishReason,
  InjectionEvent,
  InjectionKind,
  InjectionReason,
  Phase,
  ResolvedSettings,
  RunStartedEvent,
  RunStats,
  SamplingSettings,
  ThinkingFormat,
} from "@thinkscope/protocol";
import { quantizeEntropy, quantizeProbability } from "@thinkscope/protocol";
import type {
  GenerateRequest,
  GenerationEvent,
  GenerationSession,
  GenerationUsage,
  PromptInput,
} from "./backend.ts";
import { DelimiterMatcher } from "./delimiter-matcher.ts";
import type { ForkStart, InheritedEvent } from "./fork-point.ts";
import { InvalidRequestError, ThinkscopeError } from "./errors.ts";
import { closeTexts, forcedCloseText, promptOpensThinking } from "./formats.ts";
import { assertBackendSupports } from "./methods/backend-support.ts";
import { SentenceEndWatch } from "./methods/grace.ts";
import { StableAnswer, probeAnswer, type ProbeResult } from "./methods/answer-probe.ts";
import { eliminationText, judgeAnswer } from "./methods/elimination.ts";
import { GroupConfidence } from "./methods/group-confidence.ts";
import { CHARACTERS_PER_TOKEN, LoopWatch, characterUnits } from "./methods/loop-guard.ts";
import { resolveSettings } from "./settings.ts";

export interface RunRequest {
  /**
   * The prompt as raw text, already templated, ending where the model starts
   * (for think-tags usually with `<think>\n`; the model may also open its
   * thinking itself).
   */
  prompt: string;
  budgetForcing?: BudgetForcing;
  sampling?: Partial<SamplingSettings>;
  runId?: string;
  /** The problem's reference answer, known in experiments: `eliminate` with `verifier: "reference"` needs it. */
  reference?: string;
  /**
   * Report the lowest mean token log-probability over this many consecutive
   * generated tokens (`lowestGroupLogprob`), for an experiment's confidence vote.
   */
  confidenceWindow?: number;
  /**
   * Report each generated token's entropy (the delta events' `entropies`).
   * Needs `capabilities.tokenEntropy`; it costs the backend work per token,
   * so only a run that shows it asks.
   */
  tokenEntropy?: boolean;
  /** Continue another run: the prompt is its prompt, and its first `at` tokens come first. */
  fork?: ForkStart;
  /** A cap on thinking plus answer together (OpenAI's `max_completion_tokens`). */
  maxCompletionTokens?: number;
  /** A thinking budget left out takes all the room instead of the default (plain API requests). */
  fillThinking?: boolean;
  /** Budgets left out go no higher than these (an operator's caps). */
  budgetCeilings?: BudgetCeilings;
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
 * Budget forcing for one run (docs/engine.md). `prepare` tokenizes the
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
/**
 * How many tokens a prompt is, counted as a run counts it: with the model's
 * tokenizer (special tokens parsed), or estimated when there is none.
 */
export async function countPromptTokens(
  prompt: string,
  tokenize?: (text: string, options: { special: boolean }) => Promise<number[]>,
): Promise<{ tokens: number; exact: boolean }> {
  if (!tokenize) return { tokens: estimateTokens(prompt), exact: false };
  return { tokens: (await tokenize(prompt, { special: true })).length, exact: true };
}

/** The most tokens a run's close can take (see `closeTexts`), counted as `countPromptTokens` counts. */
export async function countCloseTokens(
  { format, finalAnswerPrefix }: ResolvedSettings,
  tokenize?: (text: string, options: { special: boolean }) => Promise<number[]>,
): Promise<number> {
  const counts = closeTexts(format, finalAnswerPrefix).map(async (text) =>
    text === "" ? 0 : (await countPromptTokens(text, tokenize)).tokens,
  );
  return Math.max(...(await Promise.all(counts)));
}

export class BudgetForcingRun {
  private constructor(
    private readonly session: GenerationSession,
    private readonly capabilities: BackendCapabilities,
    readonly runId: string,
    readonly prompt: string,
    readonly settings: ResolvedSettings,
    private readonly plan: TokenPlan,
    private readonly reference: string | undefined,
    private readonly confidenceWindow: number | undefined,
    private readonly tokenEntropy: boolean,
    private readonly fork: { start: ForkStart; insert: Piece } | undefined,
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
    const unfitted = resolveSettings(request.budgetForcing ?? {}, request.sampling);
    assertBackendSupports(unfitted, capabilities);
    if (request.confidenceWindow !== undefined && capabilities.tokenLogprobs !== true) {
      throw new InvalidRequestError(
        "unsupported_by_backend",
        "vote: a confidence vote needs each token's log-probability, which this backend does not report; vote by majority here.",
      );
    }
    if (request.tokenEntropy && capabilities.tokenEntropy !== true) {
      throw new InvalidRequestError(
        "unsupported_by_backend",
        "token entropy: this backend cannot report how unsure the model was at each token; leave it off here.",
      );
    }
    if (unfitted.eliminate?.verifier === "reference" && request.reference === undefined) {
      throw new InvalidRequestError(
        "reference_required",
        'eliminate.verifier "reference" needs the problem\'s reference answer, which only an experiment knows; use "none" here.',
      );
    }
    const plan = await TokenPlan.create(session, capabilities, request.prompt, unfitted.format);
    const settings = resolveSettings(request.budgetForcing ?? {}, request.sampling, {
      contextLength: capabilities.contextLength,
      promptTokens: plan.prompt.tokens,
      closeTokens: await plan.closeTokens(unfitted),
      ...(request.maxCompletionTokens === undefined
        ? {}
        : { completionCap: request.maxCompletionTokens }),
      ...(request.fillThinking ? { fillThinking: true } : {}),
      ...(request.budgetCeilings ? { ceilings: request.budgetCeilings } : {}),
    });
    const fork = request.fork && {
      start: request.fork,
      insert: await plan.piece(request.fork.insert, false),
    };
    return new BudgetForcingRun(
      session,
      capabilities,
      request.runId ?? randomRunId(),
      request.prompt,
      settings,
      plan,
      request.reference,
      request.confidenceWindow,
      request.tokenEntropy === true,
      fork,
    );
  }

  get promptTokens(): number {
    return this.plan.prompt.tokens;
  }

  events(options: RunOptions = {}): AsyncGenerator<EngineEvent> {
    const driver = new RunDriver(this.session, this.settings, this.plan, {
      ...options,
      reference: this.reference,
      confidenceWindow: this.confidenceWindow,
      tokenEntropy: this.tokenEntropy,
    });
    const started: RunStartedEvent = {
      type: "run.started",
      runId: this.runId,
      settings: this.settings,
      promptTokens: this.plan.prompt.tokens,
      capabilities: this.capabilities,
      tokenCountsExact: this.plan.exact,
      time: 0,
    };
    if (this.fork) {
      const { start, insert } = this.fork;
      started.fork = { parentRunId: start.parentRunId, at: start.at, insertTokens: insert.tokens };
      driver.branchFrom(start.inherited, insert);
    }
    return driver.run(started, promptOpensThinking(this.settings.format, this.prompt));
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
    format: ThinkingFormat,
  ): Promise<TokenPlan> {
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

  /** The most a close can take: the forced one (delimiter and lead-in) or the natural one. */
  async closeTokens(settings: ResolvedSettings): Promise<number> {
    const { format, finalAnswerPrefix, budgetMessage, graceTokens } = settings;
    const closes = closeTexts(format, finalAnswerPrefix).map((text) => this.piece(text, true));
    const close = Math.max(...(await Promise.all(closes)).map((piece) => piece.tokens));
    // A forced close may come after the grace and with the budget message: the context holds both.
    const message = budgetMessage ? (await this.piece(`\n${budgetMessage}`, false)).tokens : 0;
    return close + message + (graceTokens ?? 0);
  }

  /** Injected strings repeat (every "Wait"): each is tokenized once per run. */
  private readonly pieces = new Map<string, Promise<Piece>>();

  /** Injected text: waits are plain text, closes may hold special tokens. */
  piece(text: string, special: boolean): Promise<Piece> {
    const key = `${special ? 1 : 0}${text}`;
    let piece = this.pieces.get(key);
    if (!piece) {
      piece = this.tokenizeText(text, special);
      // A failed round trip is not remembered: the next attempt asks again.
      piece.catch(() => this.pieces.delete(key));
      this.pieces.set(key, piece);
    }
    return piece;
  }
}

/** How a request ended: the model's close, its end of sequence, the token cap, or the engine cut it (`interrupt`). */
type Outcome = "end" | "eos" | "length" | "interrupt";

/** One upstream request's parameters, decided by the driver's state. */
interface RequestPlan {
  thinking: boolean;
  /** Thinking past the budget under `grace_tokens`: cut at the first sentence or line end. */
  grace?: boolean;
  maxTokens: number;
  stopIds: number[];
  stopStrings: string[];
}

/** What one upstream request is doing while it streams. */
interface RequestState {
  thinking: boolean;
  stopIds: ReadonlySet<number>;
  matcher: DelimiterMatcher | null;
  /** Prompt tokens sent, for the re-prefill figure when the backend reports none. */
  promptTokens: number;
  generated: number;
  sawEnd: boolean;
  /** Set when the engine cuts the request short to force the close, with the close's reason. */
  interrupt: InjectionReason | null;
  sentenceEnd: SentenceEndWatch | null;
}

/**
 * The mutable state of one run while it streams. Decisions and bookkeeping
 * are plain methods that queue events in `outbox`; `run` is the one async
 * generator, so each streamed token crosses a single generator boundary
 * (nested generators cost measurably at thousands of tokens a second).
 */
class RunDriver {
  private readonly clock: () => number;
  private readonly startedAt: number;
  private readonly abort = new AbortController();
  private readonly outbox: EngineEvent[] = [];
  /** Everything generated or injected after the prompt, in order. */
  private readonly continuation: Piece[] = [];
  private thinkingText = "";
  private phase: Phase | "opening" = "thinking";
  private openingText = "";
  /** How the last request ended, until the next decision consumes it. */
  private lastOutcome: Outcome | null = null;
  /** The model's probability of closing at the step that ended the last request, when known. */
  private lastEndProbability: number | undefined;
  private answerRequested = false;
  private graceStarted = false;
  /** Why the engine cut the last request short, until the close consumes it. */
  private interruptReason: InjectionReason | null = null;
  private readonly loopWatch: LoopWatch | null;
  private readonly stableAnswer: StableAnswer | null;
  private readonly reference: string | undefined;
  /** The thinking-token count at which early exit probes next. */
  private nextProbeAt = Infinity;
  private probes = 0;
  private probeTokens = 0;
  private readonly eliminatedAnswers: string[] = [];
  private readonly confidence: GroupConfidence | null;
  private readonly tokenEntropy: boolean;
  /** A fork's start: replayed once the run begins, and its first request counted as a re-prefill. */
  private branch: { inherited: InheritedEvent[]; insert: Piece } | null = null;

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
    options: RunOptions & {
      reference?: string;
      confidenceWindow?: number;
      tokenEntropy?: boolean;
    },
  ) {
    this.reference = options.reference;
    this.tokenEntropy = options.tokenEntropy === true;
    this.confidence =
      options.confidenceWindow === undefined ? null : new GroupConfidence(options.confidenceWindow);
    const exit = settings.earlyExit;
    this.stableAnswer = exit ? new StableAnswer(exit.stable) : null;
    if (exit) this.nextProbeAt = exit.probeEvery;
    this.clock = options.clock ?? (() => Date.now());
    this.startedAt = this.clock();
    const guard = settings.loopGuard;
    // Without ids the watch reads characters, so its window is in characters too.
    const scale = plan.exact ? 1 : CHARACTERS_PER_TOKEN;
    this.loopWatch = guard ? new LoopWatch(guard.window * scale, guard.repeats) : null;
    if (options.signal) {
      if (options.signal.aborted) this.abort.abort();
      else options.signal.addEventListener("abort", () => this.abort.abort(), { once: true });
    }
  }

  private get thinkingTokens(): number {
    return this.generatedThinking + this.injectedThinking;
  }

  private time(): number {
    return this.clock() - this.startedAt;
  }

  /** Start from a parent's state: its events up to the fork, then the insertion. */
  branchFrom(inherited: InheritedEvent[], insert: Piece): void {
    this.branch = { inherited, insert };
  }

  async *run(started: RunStartedEvent, promptOpensThinking: boolean): AsyncGenerator<EngineEvent> {
    this.phase = promptOpensThinking ? "thinking" : "opening";
    yield started;
    if (this.branch) {
      for (const event of this.branch.inherited) this.adopt(event);
      if (this.branch.insert.text !== "") this.insertText(this.branch.insert);
      yield* this.drainOutbox();
    }
    let finishReason: FinishReason;
    try {
      for (;;) {
        const next = await this.decide();
        yield* this.drainOutbox();
        if (typeof next === "string") {
          finishReason = next;
          break;
        }
        const request = this.begin(next);
        const iterator = this.session.generate(request.generate)[Symbol.asyncIterator]();
        let outcome: Outcome = "eos";
        let usage: GenerationUsage | undefined;
        this.lastEndProbability = undefined;
        try {
          for (;;) {
            const step = await iterator.next();
            if (step.done) break;
            const event = step.value;
            if (event.type === "finish") {
              usage = event.usage;
              this.lastEndProbability =
                event.probeProbability === undefined
                  ? undefined
                  : quantizeProbability(event.probeProbability);
              outcome = outcomeOf(
                event.reason,
                event.stoppedBy !== undefined && !event.endOfSequence,
              );
              break;
            }
            this.onTokens(request.state, event);
            if (this.outbox.length > 0) yield* this.drainOutbox();
            if (request.state.sawEnd) {
              outcome = "end";
              break;
            }
            if (request.state.interrupt) {
              outcome = "interrupt";
              this.interruptReason = request.state.interrupt;
              break;
            }
          }
        } finally {
          // Leaving early (a delimiter found in the text, an abort) cancels the upstream request.
          await iterator.return?.();
        }
        this.finish(request.state, outcome, usage);
        yield* this.drainOutbox();
      }
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

  private *drainOutbox(): Generator<EngineEvent> {
    const events = this.outbox.splice(0);
    for (const event of events) yield event;
  }

  /**
   * The state machine between requests: handle how the last request ended
   * (an end attempt, a spent budget), then say what to request next, or how
   * the run finished.
   */
  private async decide(): Promise<RequestPlan | FinishReason> {
    if (this.abort.signal.aborted) return "aborted";
    const outcome = this.lastOutcome;
    this.lastOutcome = null;
    const { settings, plan } = this;

    if (this.phase !== "answer") {
      if (outcome === "end" || outcome === "eos") {
        await this.endAttempt(outcome === "eos" ? "backend_stop" : "model_end");
      } else if (outcome === "interrupt") {
        await this.forceClose(this.interruptReason ?? "max_thinking_tokens");
        this.interruptReason = null;
      }
    }
    // A probe point reached, by generated tokens or by a wait that jumped past it.
    if (
      this.phase === "thinking" &&
      this.thinkingTokens >= this.nextProbeAt &&
      this.thinkingTokens < settings.maxThinkingTokens
    ) {
      const every = settings.earlyExit!.probeEvery;
      this.nextProbeAt = (Math.floor(this.thinkingTokens / every) + 1) * every;
      const { stable } = await this.probe("periodic");
      if (stable) await this.forceClose("stable_answer");
    }
    if (this.phase !== "answer") {
      const remaining = settings.maxThinkingTokens - this.thinkingTokens;
      if (remaining > 0) {
        return {
          thinking: true,
          // Early exit cuts the thinking into stretches of `probe_every`, a probe between each.
          maxTokens: Math.min(remaining, this.nextProbeAt - this.thinkingTokens),
          stopIds: plan.endIds,
          stopStrings: plan.endStrings,
        };
      }
      if (!this.graceStarted && (settings.graceTokens ?? 0) > 0) {
        this.graceStarted = true;
        return {
          thinking: true,
          grace: true,
          maxTokens: settings.graceTokens!,
          stopIds: plan.endIds,
          stopStrings: plan.endStrings,
        };
      }
      await this.forceClose(this.graceStarted ? "grace" : "max_thinking_tokens");
    }
    if (this.answerRequested) return outcome === "length" ? "length" : "stop";
    this.answerRequested = true;
    const remaining = settings.maxAnswerTokens - this.answerTokens;
    if (remaining <= 0) return "length";
    return {
      thinking: false,
      maxTokens: remaining,
      stopIds: plan.answerStopIds,
      stopStrings: plan.answerStopStrings,
    };
  }

  private begin(next: RequestPlan): { generate: GenerateRequest; state: RequestState } {
    const generate: GenerateRequest = {
      prompt: this.promptSoFar(),
      maxTokens: next.maxTokens,
      stopTokenIds: next.stopIds,
      stopStrings: next.stopStrings,
      sampling: this.settings.sampling,
      signal: this.abort.signal,
    };
    if (next.thinking && next.stopIds.length > 0) generate.probeTokenIds = next.stopIds;
    if (this.confidence) generate.tokenLogprobs = true;
    if (this.tokenEntropy) generate.tokenEntropy = true;
    const suppress = this.settings.suppress ?? [];
    if (next.thinking && suppress.length > 0) generate.suppressWords = suppress;
    this.upstreamRequests += 1;
    return {
      generate,
      state: {
        thinking: next.thinking,
        stopIds: new Set(next.stopIds),
        matcher: next.stopStrings.length > 0 ? new DelimiterMatcher(next.stopStrings) : null,
        promptTokens: this.plan.prompt.tokens + this.continuation.reduce((n, p) => n + p.tokens, 0),
        generated: 0,
        sawEnd: false,
        interrupt: null,
        sentenceEnd: next.grace ? new SentenceEndWatch() : null,
      },
    };
  }

  private onTokens(state: RequestState, event: Extract<GenerationEvent, { type: "tokens" }>): void {
    if (this.firstTokenAt === null && event.tokenCount > 0) this.firstTokenAt = this.time();
    let { text, tokenIds: ids, tokenCount: tokens } = event;
    // A backend may ignore stop ids, or pack the stop into a multi-token chunk.
    if (ids && state.stopIds.size > 0) {
      const at = ids.findIndex((id) => state.stopIds.has(id));
      if (at >= 0) {
        ids = ids.slice(0, at);
        tokens = ids.length;
        text = cutAtFirstMarker(text, state.thinking ? this.settings.format.endMarkers : []);
        state.sawEnd = true;
      }
    }
    if (state.matcher) {
      const result = state.matcher.push(text);
      text = result.text;
      if (result.match) state.sawEnd = true;
    }
    state.generated += tokens;
    if (this.confidence && event.logprobs) this.confidence.push(event.logprobs.slice(0, tokens));
    this.emitGenerated({ text, ids, tokens }, event.probeProbabilities, event.entropies);
    if (state.sentenceEnd?.push(text) && !state.sawEnd) state.interrupt = "grace";
    if (this.loopWatch && state.thinking && this.phase === "thinking" && !state.sawEnd) {
      const units = this.plan.exact && ids ? ids : characterUnits(text);
      if (this.loopWatch.push(units)) state.interrupt = "loop";
    }
  }

  private finish(state: RequestState, outcome: Outcome, usage: GenerationUsage | undefined): void {
    if (this.abort.signal.aborted) return;
    if (state.matcher && outcome !== "end") {
      const rest = state.matcher.flush();
      if (rest) this.emitGenerated({ text: rest, tokens: 0 }, undefined, undefined);
    }
    // A fork's first request re-sends its parent's context: that is a continuation too.
    if (this.upstreamRequests > 1 || this.branch)
      this.reprefilled += usage?.promptTokensEvaluated ?? state.promptTokens;
    this.cached += usage?.promptTokensCached ?? 0;
    // Text-only backends may count little per chunk; the final usage is the better count.
    const counted = usage?.completionTokens;
    if (!this.plan.exact && counted !== undefined && counted > state.generated) {
      if (state.thinking && this.phase !== "answer")
        this.generatedThinking += counted - state.generated;
      else this.answerTokens += counted - state.generated;
    }
    // The model answered without ever opening its thinking: unless the budget
    // cut it short, that answer is complete.
    if (state.thinking && this.phase === "answer" && outcome !== "length")
      this.answerRequested = true;
    this.lastOutcome = outcome;
  }

  /** The model tried to end its thinking: extend with a wait, or accept the close. */
  private async endAttempt(stopReason: InjectionReason): Promise<void> {
    const { settings } = this;
    const eliminate = settings.eliminate;
    const eliminating =
      eliminate !== undefined && this.eliminatedAnswers.length < eliminate.attempts;
    const probe = this.stableAnswer || eliminating ? await this.probe("end_attempt") : null;
    if (eliminating && probe) {
      if (judgeAnswer(probe.answer, eliminate.verifier, this.reference) === "accept") {
        await this.close("end", stopReason);
        return;
      }
      if (await this.eliminateAnswer(probe.answer!)) return;
    }
    const belowMinimum = this.thinkingTokens < settings.minThinkingTokens;
    const wantsExtension = this.waits < settings.numWaits || belowMinimum;
    // A wait would only make the model say again the answer it has settled on.
    if (wantsExtension && !belowMinimum && probe?.stable) {
      await this.forceClose("stable_answer");
      return;
    }
    if (wantsExtension && this.waits < settings.maxExtensions) {
      const text = settings.waitStrings[this.waits % settings.waitStrings.length]!;
      const wait = await this.plan.piece(text, false);
      // A wait that would not fit leaves no room to think: close instead.
      if (this.thinkingTokens + wait.tokens <= settings.maxThinkingTokens) {
        this.waits += 1;
        this.injectedThinking += wait.tokens;
        const reason = belowMinimum ? "min_thinking_tokens" : "num_waits";
        this.inject("wait", wait, reason, this.waits);
        this.thinkingText += wait.text;
        return;
      }
    }
    await this.close("end", stopReason);
  }

  /** Inject the rejection of `answer` into the thinking; false when it would not fit the budget. */
  private async eliminateAnswer(answer: string): Promise<boolean> {
    const template = this.settings.eliminate!.text;
    const piece = await this.plan.piece(eliminationText(template, answer), false);
    if (this.thinkingTokens + piece.tokens > this.settings.maxThinkingTokens) return false;
    this.injectedThinking += piece.tokens;
    this.eliminatedAnswers.push(answer);
    this.inject("elimination", piece, "eliminated");
    this.thinkingText += piece.text;
    return true;
  }

  /** Ask for the answer from the thinking so far, in a side request; recorded as a `probe` event. */
  private async probe(
    trigger: "periodic" | "end_attempt",
  ): Promise<ProbeResult & { stable: boolean }> {
    const { format, probeLeadIn, earlyExit } = this.settings;
    const leadIn = forcedCloseText(format, this.thinkingText, probeLeadIn ?? "");
    const piece = await this.plan.piece(leadIn, true);
    const result = await probeAnswer(this.session, this.promptSoFar(piece), {
      maxTokens: earlyExit?.probeTokens ?? 16,
      stopIds: this.plan.answerStopIds,
      signal: this.abort.signal,
      exactCounts: this.plan.exact,
    });
    this.upstreamRequests += 1;
    this.probes += 1;
    this.probeTokens += result.tokens;
    this.reprefilled += result.promptTokensEvaluated ?? 0;
    this.cached += result.promptTokensCached ?? 0;
    this.outbox.push({
      type: "probe",
      trigger,
      answer: result.answer,
      tokens: result.tokens,
      thinkingTokenIndex: this.thinkingTokens,
      time: this.time(),
    });
    return { ...result, stable: this.stableAnswer?.push(result.answer) ?? false };
  }

  /** The engine ends the thinking: the `budget_message` first when there is one, then the forced close. */
  private async forceClose(reason: InjectionReason): Promise<void> {
    const message = this.settings.budgetMessage ?? "";
    if (message !== "") {
      // On a line of its own, as the forced close's delimiter is.
      const text =
        this.thinkingText === "" || this.thinkingText.endsWith("\n") ? message : `\n${message}`;
      const piece = await this.plan.piece(text, false);
      this.closeTokens += piece.tokens;
      this.inject("budget_message", piece, reason);
      this.thinkingText += piece.text;
    }
    await this.close("forced_end", reason);
  }

  private async close(kind: "end" | "forced_end", reason: InjectionReason): Promise<void> {
    const { format, finalAnswerPrefix } = this.settings;
    const text =
      kind === "end"
        ? format.naturalClose
        : forcedCloseText(format, this.thinkingText, finalAnswerPrefix);
    const piece = await this.plan.piece(text, true);
    this.forcedEnd = kind === "forced_end";
    this.closeTokens += piece.tokens;
    this.inject(kind, piece, reason);
    this.enterAnswer();
  }

  private enterAnswer(): void {
    this.phase = "answer";
    this.closedAt = this.time();
    this.outbox.push({ type: "phase", phase: "answer", time: this.closedAt });
  }

  private inject(
    kind: InjectionKind,
    piece: Piece,
    reason: InjectionReason,
    waitNumber?: number,
  ): void {
    const event: InjectionEvent = {
      type: "injection",
      kind,
      text: piece.text,
      tokens: piece.tokens,
      // The index is where the injection starts: waits already counted are excluded.
      thinkingTokenIndex:
        this.thinkingTokens - (kind === "wait" || kind === "elimination" ? piece.tokens : 0),
      reason,
      time: this.time(),
    };
    if (piece.ids) event.tokenIds = piece.ids;
    if (waitNumber !== undefined) event.waitNumber = waitNumber;
    this.loopWatch?.reset();
    // Only what the model's own end attempt triggered carries its probability of closing.
    if (
      (kind === "wait" || kind === "end" || kind === "elimination") &&
      this.lastEndProbability !== undefined
    ) {
      event.endProbability = this.lastEndProbability;
    }
    this.continuation.push(piece);
    this.outbox.push(event);
  }

  /** A parent's event, re-emitted at time 0, advancing the state as it advanced the parent's. */
  private adopt(event: InheritedEvent): void {
    const piece: Piece =
      event.type === "phase" ? { text: "", tokens: 0 } : { text: event.text, tokens: event.tokens };
    if (event.type !== "phase" && event.tokenIds) piece.ids = event.tokenIds;
    switch (event.type) {
      case "delta":
        if (this.phase === "opening" && event.phase === "thinking") {
          // The parent's own phase event says when it answered without thinking.
          this.openingText += event.text;
          if (this.openingText.includes(this.settings.format.start)) this.phase = "thinking";
        }
        if (event.phase === "thinking") {
          this.generatedThinking += event.tokens;
          this.thinkingText += event.text;
        } else {
          this.answerTokens += event.tokens;
        }
        break;
      case "injection":
        if (event.kind === "wait") {
          this.waits = event.waitNumber ?? this.waits + 1;
          this.injectedThinking += event.tokens;
          this.thinkingText += event.text;
        } else if (event.kind === "insert") {
          if (this.phase !== "answer") {
            this.injectedThinking += event.tokens;
            this.thinkingText += event.text;
          }
        } else {
          this.closeTokens += event.tokens;
          this.forcedEnd = event.kind === "forced_end";
        }
        break;
      case "phase":
        this.phase = "answer";
        this.closedAt = 0;
        break;
    }
    if (event.type !== "phase") this.continuation.push(piece);
    this.outbox.push({ ...event, time: 0 });
  }

  /** A fork's own text: thinking (counted against the budget, as a wait is) or answer, by where it branched. */
  private insertText(piece: Piece): void {
    const thinking = this.phase !== "answer";
    if (thinking) {
      this.injectedThinking += piece.tokens;
      this.thinkingText += piece.text;
    }
    const event: InjectionEvent = {
      type: "injection",
      kind: "insert",
      text: piece.text,
      tokens: piece.tokens,
      thinkingTokenIndex: this.thinkingTokens - (thinking ? piece.tokens : 0),
      reason: "fork_insert",
      time: this.time(),
    };
    if (piece.ids) event.tokenIds = piece.ids;
    this.continuation.push(piece);
    this.outbox.push(event);
  }

  private emitGenerated(
    piece: Piece,
    probabilities: number[] | undefined,
    entropies: number[] | undefined,
  ): void {
    if (piece.text === "" && piece.tokens === 0) return;
    if (this.phase === "opening") this.watchOpening(piece.text);
    // While the opening is undecided its text counts as thinking: it is the model's own `<think>`.
    const phase: Phase = this.phase === "answer" ? "answer" : "thinking";
    this.continuation.push(piece);
    if (phase === "thinking") {
      this.generatedThinking += piece.tokens;
      this.thinkingText += piece.text;
    } else {
      this.answerTokens += piece.tokens;
    }
    const event: DeltaEvent = {
      type: "delta",
      phase,
      text: piece.text,
      tokens: piece.tokens,
      phaseTokens: phase === "thinking" ? this.thinkingTokens : this.answerTokens,
      time: this.time(),
    };
    if (piece.ids) event.tokenIds = piece.ids;
    // On the stored grid (16 bits), so what was streamed is exactly what a replay shows.
    if (probabilities) {
      event.endProbabilities = probabilities.slice(0, piece.tokens).map(quantizeProbability);
    }
    // A backend that lost the count (no ids for a chunk) cannot say which token each is for.
    if (entropies && entropies.length >= piece.tokens && piece.tokens > 0) {
      event.entropies = entropies.slice(0, piece.tokens).map(quantizeEntropy);
    }
    this.outbox.push(event);
  }

  /**
   * Before the model has opened its thinking (the prompt did not): thinking
   * starts once it writes the start delimiter; text that cannot become the
   * delimiter means it answered without thinking.
   */
  private watchOpening(text: string): void {
    this.openingText += text;
    const seen = this.openingText.trimStart();
    const start = this.settings.format.start;
    if (seen.includes(start)) this.phase = "thinking";
    else if (!start.startsWith(seen)) this.enterAnswer();
  }

  /** The prompt of the next request; with `extra`, of a side request that goes on from here. */
  private promptSoFar(extra?: Piece): PromptInput {
    const pieces = extra ? [...this.continuation, extra] : this.continuation;
    // A backend may stream a token without its id (llama-server drops the id of a
    // token that ends in half a UTF-8 character); then only the text is whole.
    if (this.plan.exact && pieces.every((p) => p.ids !== undefined || p.tokens === 0)) {
      const tokens = [...(this.plan.prompt.ids ?? [])];
      for (const piece of pieces) tokens.push(...(piece.ids ?? []));
      return { tokens };
    }
    return { text: this.plan.prompt.text + pieces.map((p) => p.text).join("") };
  }

  private stats(): RunStats {
    const end = this.time();
    const closedAt = this.closedAt ?? end;
    const generated = this.generatedThinking + this.answerTokens;
    const generatingMs = this.firstTokenAt === null ? 0 : end - this.firstTokenAt;
    const confidence = this.confidence?.value() ?? null;
    return {
      thinkingTokensGenerated: this.generatedThinking,
      thinkingTokensInjected: this.injectedThinking,
      closeTokens: this.closeTokens,
      answerTokens: this.answerTokens,
      waits: this.waits,
      forcedEnd: this.forcedEnd,
      graceTokensUsed: Math.max(0, this.thinkingTokens - this.settings.maxThinkingTokens),
      probes: this.probes,
      probeTokens: this.probeTokens,
      ...(this.settings.eliminate ? { eliminatedAnswers: [...this.eliminatedAnswers] } : {}),
      ...(confidence === null ? {} : { lowestGroupLogprob: confidence }),
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

function outcomeOf(reason: "stop" | "length", stoppedOnRequest: boolean): Outcome {
  if (reason === "length") return "length";
  return stoppedOnRequest ? "end" : "eos";
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
/** A text-only backend's token count: about four characters a token. */
export function estimateTokens(text: string): number {
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
