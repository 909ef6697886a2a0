import type { BackendCapabilities } from "@thinkscope/protocol";
import type {
  Backend,
  GenerateRequest,
  GenerationEvent,
  GenerationSession,
  ModelInfo,
} from "../backend.ts";
import { BackendError } from "../errors.ts";

/**
 * An in-memory backend for tests of the engine and of everything above it.
 * Its "model" answers each request with the next scripted reply, one token
 * per character (special strings such as `</think>` are single tokens), and
 * behaves like a real server: it honours `maxTokens`, stops on stop ids or
 * strings without emitting them, and records every request it was sent.
 */
export interface ScriptedBackendOptions {
  /** One reply per request, in order; the last one repeats. */
  replies: string[];
  /** `ids`: exact token ids like vLLM; `text`: text chunks and stop strings only, like a plain OpenAI server. */
  mode?: "ids" | "text";
  /** Tokens per streamed chunk (vLLM's stream_interval, speculative decoding). */
  tokensPerChunk?: number;
  /** Ignore stop ids and strings: keep streaming through the delimiter, as a careless server might. */
  ignoreStops?: boolean;
  /** Wait this long before each chunk (for abort and batching tests). */
  chunkDelayMs?: number;
  /** Throw this error after this many tokens of the n-th request (0-based). */
  failAt?: { request: number; afterTokens: number; error?: Error };
  contextLength?: number;
  /** Stream this request's chunks without ids (llama-server does so for a token ending in half a character). */
  omitIdsInRequest?: number;
  /** Report the probability of the probe ids at each step (any value in [0, 1]). */
  probeProbability?: (position: number) => number;
  /** Report each token's log-probability, by its position in the reply. */
  tokenLogprob?: (position: number) => number;
  /** Report each token's entropy in bits, by its position in the reply. */
  tokenEntropy?: (position: number) => number;
}

export const SPECIAL_TOKENS = ["<think>", "</think>", "<|im_start|>", "<|im_end|>"] as const;
const SPECIAL_BASE = 1;
const CHAR_BASE = 100;
export const EOS_TOKEN_ID = SPECIAL_BASE + SPECIAL_TOKENS.indexOf("<|im_end|>");

export function scriptedTokenize(text: string, special = true): number[] {
  const ids: number[] = [];
  let i = 0;
  outer: while (i < text.length) {
    if (special) {
      for (const [index, token] of SPECIAL_TOKENS.entries()) {
        if (text.startsWith(token, i)) {
          ids.push(SPECIAL_BASE + index);
          i += token.length;
          continue outer;
        }
      }
    }
    const codePoint = text.codePointAt(i)!;
    ids.push(CHAR_BASE + codePoint);
    i += codePoint > 0xffff ? 2 : 1;
  }
  return ids;
}

export function scriptedDetokenize(ids: readonly number[]): string {
  return ids
    .map((id) =>
      id >= CHAR_BASE ? String.fromCodePoint(id - CHAR_BASE) : SPECIAL_TOKENS[id - SPECIAL_BASE]!,
    )
    .join("");
}

export interface RecordedRequest {
  prompt: GenerateRequest["prompt"];
  /** The prompt as text, whichever form it came in. */
  promptText: string;
  maxTokens: number;
  stopTokenIds: number[];
  stopStrings: string[];
  suppressWords?: string[];
  /** Set when the request asked for each token's entropy. */
  tokenEntropy?: true;
}

export class ScriptedBackend implements Backend {
  readonly id = "scripted";
  readonly kind = "scripted" as const;
  readonly capabilities: BackendCapabilities;
  readonly requests: RecordedRequest[] = [];
  /** Requests whose stream was cancelled before it finished. */
  cancelled = 0;

  constructor(private readonly options: ScriptedBackendOptions) {
    const ids = (options.mode ?? "ids") === "ids";
    this.capabilities = {
      exactTokenIds: ids,
      tokenIdPrompts: ids,
      stopTokenIds: ids,
      logprobs: ids && options.probeProbability !== undefined,
      tokenizer: ids,
      persistentSequence: false,
      // Its "model" can leave words out of a reply, as a token ban would make a real one do.
      suppress: ids,
      tokenLogprobs: options.tokenLogprob !== undefined,
      tokenEntropy: options.tokenEntropy !== undefined,
      contextLength: options.contextLength,
    };
  }

  async listModels(): Promise<ModelInfo[]> {
    return [{ id: "scripted-model", contextLength: this.options.contextLength }];
  }

  async readiness() {
    return { state: "ready" as const };
  }

  async tokenize(text: string, options: { special: boolean }): Promise<number[]> {
    if (!this.capabilities.tokenizer) throw new Error("This scripted backend has no tokenizer.");
    return scriptedTokenize(text, options.special);
  }

  async openSession(): Promise<GenerationSession> {
    const ids = this.capabilities.tokenIdPrompts;
    return {
      eosTokenIds: [EOS_TOKEN_ID],
      tokenize: ids ? async (text, { special }) => scriptedTokenize(text, special) : undefined,
      generate: (request) => this.generate(request),
      close: async () => {},
    };
  }

  async close(): Promise<void> {}

  private async *generate(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    const index = this.requests.length;
    this.requests.push({
      prompt: request.prompt,
      promptText: request.prompt.tokens
        ? scriptedDetokenize(request.prompt.tokens)
        : request.prompt.text,
      maxTokens: request.maxTokens,
      stopTokenIds: [...request.stopTokenIds],
      stopStrings: [...request.stopStrings],
      ...(request.suppressWords ? { suppressWords: [...request.suppressWords] } : {}),
      ...(request.tokenEntropy ? { tokenEntropy: true as const } : {}),
    });
    const { replies, tokensPerChunk = 1, chunkDelayMs = 0, failAt } = this.options;
    const reply = withoutWords(
      replies[Math.min(index, replies.length - 1)] ?? "",
      request.suppressWords ?? [],
    );
    // A text-only server's chunks may split a delimiter anywhere, so in text mode every character is a token.
    const tokens = scriptedTokenize(reply, this.capabilities.exactTokenIds);
    const exact = this.capabilities.exactTokenIds;
    const stop = this.options.ignoreStops ? undefined : findStop(tokens, request);
    const available = stop ? stop.index : tokens.length;
    const count = Math.min(available, request.maxTokens);
    let finished = false;
    try {
      for (let start = 0; start < count; start += tokensPerChunk) {
        if (chunkDelayMs > 0) await delay(chunkDelayMs, request.signal);
        if (request.signal.aborted) throw abortError();
        let end = Math.min(start + tokensPerChunk, count);
        const failing = failAt && failAt.request === index && failAt.afterTokens < end;
        if (failing) end = Math.max(start, failAt.afterTokens);
        const ids = tokens.slice(start, end);
        if (ids.length > 0) {
          const chunk: GenerationEvent = {
            type: "tokens",
            text: scriptedDetokenize(ids),
            tokenCount: ids.length,
          };
          if (exact && this.options.omitIdsInRequest !== index) chunk.tokenIds = ids;
          const probe = this.options.probeProbability;
          if (request.probeTokenIds && probe)
            chunk.probeProbabilities = ids.map((_, i) => probe(start + i));
          const logprob = this.options.tokenLogprob;
          if (request.tokenLogprobs && logprob)
            chunk.logprobs = ids.map((_, i) => logprob(start + i));
          const entropy = this.options.tokenEntropy;
          if (request.tokenEntropy && entropy)
            chunk.entropies = ids.map((_, i) => entropy(start + i));
          yield chunk;
        }
        if (failing) {
          throw (
            failAt.error ??
            new BackendError("scripted", "upstream_disconnected", "the stream ended early")
          );
        }
      }
      finished = true;
      if (count < available) {
        yield { type: "finish", reason: "length", usage: { completionTokens: count } };
      } else if (stop?.by) {
        yield {
          type: "finish",
          reason: "stop",
          stoppedBy: stop.by,
          ...(request.probeTokenIds &&
          this.options.probeProbability &&
          stop.by.tokenId !== undefined
            ? { probeProbability: this.options.probeProbability(count) }
            : {}),
          usage: { completionTokens: count },
        };
      } else {
        // The reply ran out: the model ended its sequence.
        yield {
          type: "finish",
          reason: "stop",
          endOfSequence: true,
          usage: { completionTokens: count },
        };
      }
    } finally {
      if (!finished) this.cancelled += 1;
    }
  }
}

/** The reply a model with these words banned writes: the same, without them. */
function withoutWords(reply: string, words: readonly string[]): string {
  let text = reply;
  for (const word of words) text = text.split(word).join("");
  return text;
}

/** Where a real server would stop: the first stop id, or the start of the first stop string. */
function findStop(
  tokens: number[],
  request: GenerateRequest,
): { index: number; by?: { tokenId?: number; text?: string } } | undefined {
  let text = "";
  const starts: number[] = [];
  for (const [index, id] of tokens.entries()) {
    if (request.stopTokenIds.includes(id)) return { index, by: { tokenId: id } };
    // End of sequence stops every request, as on a real server; it is never emitted.
    if (id === EOS_TOKEN_ID) return { index };
    starts.push(text.length);
    text += scriptedDetokenize([id]);
    for (const stop of request.stopStrings) {
      const at = text.indexOf(stop);
      if (at >= 0) {
        // Stop before the token holding the stop string's first character.
        let first = starts.length - 1;
        while (first > 0 && starts[first]! > at) first -= 1;
        return { index: first, by: { text: stop } };
      }
    }
  }
  return undefined;
}

/** Waits `ms`, or rejects when `signal` aborts; the abort listener goes when the wait ends (one run waits per chunk). */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(): Error {
  const error = new Error("aborted");
  error.name = "AbortError";
  return error;
}
