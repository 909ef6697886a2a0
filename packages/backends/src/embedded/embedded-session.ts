/**
 * One run's private context sequence. Each `generate` receives the full
 * prompt; the part already in the sequence's KV cache is kept, a divergent
 * tail is erased, and only the new tokens are evaluated, so an injected
 * `Wait` costs its own tokens and nothing else.
 *
 * KV-cache bookkeeping: a token yielded by `sequence.evaluate` is written to
 * the cache only when the next step evaluates it. Stopping on a stop id (the
 * end delimiter) therefore leaves the delimiter out of the cache, which is
 * what budget forcing wants: the continuation (prompt + generated + `Wait`)
 * evaluates exactly the injected tokens. Stopping on `maxTokens` leaves the
 * last generated token out too; the continuation evaluates it with the
 * injected ones (and `usage.promptTokensEvaluated` counts it).
 */
import { TokenBias, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import {
  BackendError,
  InvalidRequestError,
  ThinkscopeError,
  type GenerateRequest,
  type GenerationEvent,
  type GenerationSession,
} from "@thinkscope/core";
import { errorMessage } from "./llama-runtime.ts";
import { abortReason } from "./sequence-pool.ts";
import { TokenTextStream } from "./token-text-stream.ts";
import { WordBan } from "./word-ban.ts";

/** What a session needs from its backend's loaded model. */
export interface SessionContext {
  backendId: string;
  model: LlamaModel;
  /** Tokens one sequence holds. */
  contextSize: number;
  vocabularySize?: number;
  eosTokenIds: readonly number[];
  /** Whether `probeTokenIds` and `tokenEntropy` are honoured (see the backend's `logprobs` option). */
  logprobs: boolean;
  release(sequence: LlamaContextSequence, session: EmbeddedSession): void;
}

type FinishEvent = Extract<GenerationEvent, { type: "finish" }>;
interface EvaluatedToken {
  token: Token;
  probabilities?: Map<Token, number>;
}
type Steps = AsyncGenerator<EvaluatedToken, void>;

// node-llama-cpp brands token ids; ours are plain numbers checked against the vocabulary.
const asTokens = (ids: readonly number[]) => ids as Token[];

export class EmbeddedSession implements GenerationSession {
  readonly eosTokenIds: readonly number[];
  private closed = false;
  private active = false;
  // Stops a generate() still running when the session closes.
  private readonly closing = new AbortController();
  // The sequence operation running now (an evaluation step, an erase). An aborted generate()
  // returns at once, but the operation runs to its end: the sequence is not free before that.
  private pending: Promise<unknown> | null = null;

  constructor(
    private readonly sequence: LlamaContextSequence,
    private readonly ctx: SessionContext,
  ) {
    this.eosTokenIds = ctx.eosTokenIds;
  }

  /** Tokens in this session's KV cache: where the next evaluated token goes. */
  get sequencePosition(): number {
    return this.sequence.nextTokenIndex;
  }

  async tokenize(text: string, options: { special: boolean }): Promise<number[]> {
    this.assertOpen();
    return this.ctx.model.tokenize(text, options.special);
  }

  async detokenize(ids: number[]): Promise<string> {
    this.assertOpen();
    return this.ctx.model.detokenize(asTokens(ids), true);
  }

  async *generate(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    this.assertOpen();
    if (this.active) {
      throw new ThinkscopeError(
        "session_busy",
        "this session is already generating; wait for the previous request to finish",
        { status: 409 },
      );
    }
    this.active = true;
    try {
      await this.settle();
      yield* this.run(request);
    } finally {
      this.active = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(
      new ThinkscopeError("session_closed", "the session was closed during generation", {
        status: 409,
      }),
    );
    await this.settle();
    this.ctx.release(this.sequence, this);
  }

  private async settle(): Promise<void> {
    while (this.pending) await this.pending.catch(() => {});
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    this.pending = operation;
    const clear = () => {
      if (this.pending === operation) this.pending = null;
    };
    operation.then(clear, clear);
    return operation;
  }

  private async *run(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    const signal = AbortSignal.any([request.signal, this.closing.signal]);
    if (signal.aborted) throw abortReason(signal);
    const { model } = this.ctx;
    const prompt = this.promptTokens(request);
    const limit = this.checkLimits(request, prompt);
    if (limit === 0) {
      yield {
        type: "finish",
        reason: "length",
        usage: { promptTokensEvaluated: 0, completionTokens: 0 },
      };
      return;
    }

    const reused = await this.track(this.reusePrefix(prompt));
    const fresh = prompt.slice(reused);
    const probes = this.ctx.logprobs ? (request.probeTokenIds ?? []) : [];
    // Both read the whole next-token distribution; asking for it once serves both.
    const entropy = this.ctx.logprobs && request.tokenEntropy === true;
    const { temperature, topP, topK, seed } = request.sampling;
    const context = [...prompt];
    const tokenBias = this.tokenBias(request.suppressWords, context);
    const steps: Steps = this.sequence.evaluateWithMetadata(
      asTokens(fresh),
      {
        probabilities: probes.length > 0 || entropy,
        confidence: request.tokenLogprobs === true,
      },
      {
        temperature,
        // node-llama-cpp defaults to top-k 40 and top-p 0.95; an unset value here means no truncation, as in OpenAI's API.
        topK: topK ?? 0,
        topP: topP ?? 1,
        minP: 0,
        seed,
        yieldEogToken: true,
        ...(tokenBias ? { tokenBias } : {}),
      },
    );
    const stops = new Set(request.stopTokenIds);
    const text = new TokenTextStream(
      (tokens, last) => model.detokenize(asTokens(tokens), true, asTokens(last)),
      prompt,
    );
    let generated = 0;
    let finish:
      Pick<FinishEvent, "reason" | "stoppedBy" | "endOfSequence" | "probeProbability"> | undefined;
    try {
      while (finish === undefined) {
        // Checked before each step: after close() the sequence may already serve another session.
        if (signal.aborted) throw abortReason(signal);
        const step = await raceAbort(this.track(steps.next()), signal);
        if (step.done) {
          finish = { reason: "stop", endOfSequence: true };
          break;
        }
        const token = step.value.token;
        if (stops.has(token)) {
          finish = { reason: "stop", stoppedBy: { tokenId: token } };
          if (probes.length > 0) {
            finish.probeProbability = probeProbability(step.value.probabilities, probes);
          }
        } else if (model.isEogToken(token)) {
          finish = { reason: "stop", endOfSequence: true };
        } else {
          generated += 1;
          context.push(token);
          const chunk: GenerationEvent = {
            type: "tokens",
            text: text.push(token),
            tokenIds: [token],
            tokenCount: 1,
          };
          if (probes.length > 0)
            chunk.probeProbabilities = [probeProbability(step.value.probabilities, probes)];
          if (entropy && step.value.probabilities)
            chunk.entropies = [entropyBits(step.value.probabilities)];
          const confidence = (step.value as { confidence?: number }).confidence;
          if (request.tokenLogprobs && confidence !== undefined)
            chunk.logprobs = [Math.log(Math.max(confidence, Number.MIN_VALUE))];
          yield chunk;
          if (generated >= limit) finish = { reason: "length" };
        }
      }
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      // The sequence may hold a half-evaluated batch; start the next request from a clean cache.
      await this.sequence.clearHistory().catch(() => {});
      throw ThinkscopeError.isInstance(error)
        ? error
        : new BackendError(this.ctx.backendId, "generation_failed", errorMessage(error), {
            status: 500,
            retryable: false,
            cause: error,
          });
    } finally {
      // Returning the generator ends it without evaluating the token it last yielded. After an
      // abort, return() first waits for the step in flight: tracked, not awaited, so the abort is prompt.
      this.track(steps.return()).catch(() => {});
    }

    const rest = text.flush();
    if (rest) yield { type: "tokens", text: rest, tokenIds: [], tokenCount: 0 };
    yield {
      type: "finish",
      ...finish,
      usage: {
        promptTokensEvaluated: fresh.length,
        promptTokensCached: reused,
        completionTokens: generated,
      },
    };
  }

  /** The suppressed words' bias, worked out again before each step from what was written so far. */
  private tokenBias(words: readonly string[] | undefined, context: readonly number[]) {
    if (!words || words.length === 0) return undefined;
    const { model } = this.ctx;
    const ban = WordBan.of(words, (text) => [...model.tokenize(text, false)]);
    return () => {
      const bias = new TokenBias(model.tokenizer);
      for (const id of ban.banned(context)) bias.set(id as Token, "never");
      return bias;
    };
  }

  private promptTokens(request: GenerateRequest): number[] {
    const { model } = this.ctx;
    if (request.prompt.tokens) {
      const { vocabularySize } = this.ctx;
      for (const id of request.prompt.tokens) {
        // An id outside the vocabulary would crash llama.cpp, not just fail the request.
        if (
          !Number.isInteger(id) ||
          id < 0 ||
          (vocabularySize !== undefined && id >= vocabularySize)
        ) {
          throw new InvalidRequestError(
            "invalid_prompt",
            `prompt token id ${id} is not in the model's vocabulary (0 to ${(vocabularySize ?? 1) - 1})`,
          );
        }
      }
      return request.prompt.tokens;
    }
    // Raw text prompts may hold control tokens such as <|im_start|>: parse them, as servers do.
    const tokens = model.tokenize(request.prompt.text, true);
    const bos = model.tokens.bos;
    if (model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos)
      tokens.unshift(bos);
    return tokens;
  }

  /** How many tokens this request may generate; throws on a request that cannot run. */
  private checkLimits(request: GenerateRequest, prompt: readonly number[]): number {
    const { maxTokens, sampling } = request;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new InvalidRequestError(
        "invalid_max_tokens",
        `maxTokens must be a non-negative integer, got ${maxTokens}`,
      );
    }
    if (!(sampling.temperature >= 0)) {
      throw new InvalidRequestError(
        "invalid_sampling",
        `temperature must be >= 0, got ${sampling.temperature}`,
      );
    }
    if (prompt.length === 0) throw new InvalidRequestError("empty_prompt", "the prompt is empty");
    const { contextSize } = this.ctx;
    if (prompt.length >= contextSize) {
      throw new InvalidRequestError(
        "context_overflow",
        `the prompt has ${prompt.length} tokens but the embedded context holds ${contextSize}; shorten it or raise the backend's contextSize`,
      );
    }
    // Never let the cache fill up: node-llama-cpp would silently shift out the start of the prompt.
    return Math.min(maxTokens, contextSize - prompt.length);
  }

  /** Keep the longest common prefix in the KV cache, erase the rest; returns the kept length. */
  private async reusePrefix(prompt: readonly number[]): Promise<number> {
    const common = this.sequence.compareContextTokens(asTokens(prompt)).firstDifferentIndex;
    // At least one token must be evaluated: its logits are what the first new token is sampled from.
    const keep = Math.min(common, prompt.length - 1);
    if (keep < this.sequence.nextTokenIndex) {
      await this.sequence.eraseContextTokenRanges([
        { start: keep, end: this.sequence.nextTokenIndex },
      ]);
    }
    return keep;
  }

  private assertOpen(): void {
    if (this.closed)
      throw new ThinkscopeError("session_closed", "this session is closed", { status: 409 });
  }
}

/** The operation's result, or the abort reason as soon as the signal fires. */
function raceAbort<T>(operation: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    operation.then(
      (step) => {
        signal.removeEventListener("abort", onAbort);
        resolve(step);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The entropy in bits of the distribution the token was sampled from (the
 * model's own at temperature 0; after temperature and top-k/top-p otherwise,
 * as llama.cpp hands it over).
 */
export function entropyBits(probabilities: ReadonlyMap<Token, number>): number {
  let nats = 0;
  for (const p of probabilities.values()) if (p > 0) nats -= p * Math.log(p);
  return nats / Math.LN2;
}

function probeProbability(
  probabilities: Map<Token, number> | undefined,
  probes: readonly number[],
): number {
  if (!probabilities) return 0;
  let sum = 0;
  for (const id of new Set(asTokens(probes))) sum += probabilities.get(id) ?? 0;
  return Math.min(1, sum);
}
