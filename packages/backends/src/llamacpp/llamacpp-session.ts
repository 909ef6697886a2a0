import type {
  GenerateRequest,
  GenerationEvent,
  GenerationSession,
  GenerationUsage,
} from "@thinkscope/core";
import { mergePieces, tokensEvent, type OutputPiece } from "../http/output-piece.ts";
import { parseJsonObject } from "../http/json-event.ts";
import { topKEntropyBits } from "../http/top-k-entropy.ts";
import { readSseEvents } from "../http/sse-events.ts";
import { StopStringFilter } from "../http/stop-string-filter.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { disconnectedError, malformedError, streamErrorEvent } from "../http/upstream-errors.ts";
import type {
  LlamaCppChunk,
  LlamaCppTimings,
  LlamaCppTokenProbabilities,
  LlamaCppTokenizeResponse,
} from "./llamacpp-wire.ts";

export interface LlamaCppSessionContext {
  client: UpstreamClient;
  /** The server root (`http://host:8080`). */
  rootUrl: string;
  /** Candidates asked per token when probing (`n_probs`). */
  probeTopProbs: number;
}

type Finish = Extract<GenerationEvent, { type: "finish" }>;

/**
 * One run against llama-server's native `/completion`, prompts as token
 * arrays, `cache_prompt` on so a continuation re-evaluates only what is new.
 *
 * llama-server cannot stop on a token id, and its own stop strings hide the
 * stop word's text while still streaming the ids of its tokens, so text and
 * ids would disagree. Since every streamed chunk is exactly one token with
 * its id, this session does both kinds of stopping itself: it stops at a
 * stop id or at a stop string (on whole tokens), then closes the connection,
 * which makes the server cancel the task. Neither stop id nor stop string
 * is ever emitted.
 */
/** llama-server's tokenizer; `special` is its `parse_special`. No BOS is added. */
export async function llamaCppTokenize(
  ctx: Pick<LlamaCppSessionContext, "client" | "rootUrl">,
  text: string,
  options: { special: boolean },
): Promise<number[]> {
  const url = joinUrl(ctx.rootUrl, "/tokenize");
  const answer = await ctx.client.json<LlamaCppTokenizeResponse>(url, {
    body: { content: text, add_special: false, parse_special: options.special },
  });
  if (!Array.isArray(answer.tokens))
    throw malformedError(ctx.client.errors, url, "no `tokens` list");
  return answer.tokens.map((token) => (typeof token === "number" ? token : token.id));
}

export class LlamaCppSession implements GenerationSession {
  private readonly closing = new AbortController();

  constructor(private readonly ctx: LlamaCppSessionContext) {}

  generate(request: GenerateRequest): AsyncIterable<GenerationEvent> {
    return this.stream(request);
  }

  tokenize(text: string, options: { special: boolean }): Promise<number[]> {
    return llamaCppTokenize(this.ctx, text, options);
  }

  async close(): Promise<void> {
    this.closing.abort(new DOMException("The session was closed.", "AbortError"));
  }

  private async *stream(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    const { client } = this.ctx;
    const url = joinUrl(this.ctx.rootUrl, "/completion");
    const signal = AbortSignal.any([request.signal, this.closing.signal]);
    // A text prompt is tokenized without a BOS: it is already templated, as with vLLM.
    const prompt =
      request.prompt.tokens ?? (await this.tokenize(request.prompt.text, { special: true }));
    const probes = request.probeTokenIds?.length ? new Set(request.probeTokenIds) : undefined;
    const stopIds = new Set(request.stopTokenIds);
    const filter = new StopStringFilter(request.stopStrings, "tokens");
    const malformed = (detail: string, sample?: string) =>
      malformedError(client.errors, url, detail, sample);

    // Empty-text tokens are held until the next token: the last one may be
    // the end-of-sequence token, which only the final result identifies.
    let held: OutputPiece[] = [];
    let predicted = 0;
    let promptTokens: number | undefined;
    let timings: LlamaCppTimings | undefined;
    let finish: Finish | undefined;

    const body = this.body(request, prompt, probes);
    for await (const event of readSseEvents(client.streamText(url, body, signal), malformed)) {
      if (event.event === "error") throw streamErrorEvent(client.errors, url, event.data);
      const chunk = parseJsonObject<LlamaCppChunk>(event.data, malformed);
      if (chunk.error !== undefined) throw streamErrorEvent(client.errors, url, chunk.error);
      if (chunk.timings) timings = chunk.timings;
      if (chunk.tokens_evaluated !== undefined) promptTokens = chunk.tokens_evaluated;

      if (chunk.stop === true) {
        if (chunk.tokens_predicted !== undefined) predicted = chunk.tokens_predicted;
        const ended = endOf(chunk);
        // The held empty-text token that ended a stream on EOS is the EOS token itself.
        if (ended.endOfSequence) held = held.slice(0, -1);
        if (ended.stoppedBy?.text !== undefined) held = [];
        const rest = tokensEvent(
          mergePieces([...passThrough(filter, held).ready, ...filter.flush()]),
        );
        if (rest) yield rest;
        finish = ended;
        break;
      }

      const ids = chunk.tokens ?? [];
      const text = chunk.content ?? "";
      const total = chunk.tokens_predicted ?? predicted + ids.length;
      const count = Math.max(ids.length, total - predicted);
      predicted = total;
      if (ids.length === 0 && text === "") continue; // prompt progress, keep-alive

      const stopId = ids.find((id) => stopIds.has(id));
      if (stopId !== undefined) {
        const rest = tokensEvent(mergePieces([...filter.flush(), ...held]));
        if (rest) yield rest;
        finish = { type: "finish", reason: "stop", stoppedBy: { tokenId: stopId } };
        break;
      }

      const piece: OutputPiece = { text, tokenCount: count };
      // A token that ends in half a UTF-8 character is never streamed on its
      // own, so its id is missing here: then the ids are not given at all.
      if (count === ids.length) {
        piece.tokenIds = ids;
        if (probes) {
          const entries = chunk.completion_probabilities;
          piece.probeProbabilities = probeProbabilities(entries, probes, ids.length);
        }
        if (request.tokenEntropy) {
          const entropies = candidateEntropies(chunk.completion_probabilities, ids.length);
          if (entropies) piece.entropies = entropies;
        }
      }
      if (text === "") {
        held.push(piece);
        continue;
      }
      const result = passThrough(filter, [...held, piece]);
      held = [];
      const ready = tokensEvent(mergePieces(result.ready));
      if (ready) yield ready;
      if (result.stop !== undefined) {
        finish = { type: "finish", reason: "stop", stoppedBy: { text: result.stop } };
        break;
      }
    }
    if (!finish) throw disconnectedError(client.errors, url, "no final result");
    yield { ...finish, usage: usageOf(timings, promptTokens, predicted) };
  }

  private body(
    request: GenerateRequest,
    prompt: number[],
    probes: ReadonlySet<number> | undefined,
  ): Record<string, unknown> {
    const { sampling } = request;
    const body: Record<string, unknown> = {
      prompt,
      n_predict: request.maxTokens,
      stream: true,
      cache_prompt: true,
      return_tokens: true,
      // Timings in every chunk: the cache counts survive an early stop.
      timings_per_token: true,
      temperature: sampling.temperature,
    };
    if (sampling.topP !== undefined) body.top_p = sampling.topP;
    if (sampling.topK !== undefined) body.top_k = sampling.topK;
    if (sampling.seed !== undefined) body.seed = sampling.seed;
    if (probes || request.tokenEntropy) body.n_probs = this.ctx.probeTopProbs;
    if (request.suppressWords?.length) body.logit_bias = suppressionBias(request.suppressWords);
    return body;
  }
}

/** Feed pieces through the stop-string filter until one completes a stop string. */
function passThrough(
  filter: StopStringFilter,
  pieces: readonly OutputPiece[],
): { ready: OutputPiece[]; stop?: string } {
  const ready: OutputPiece[] = [];
  for (const piece of pieces) {
    const result = filter.push(piece);
    ready.push(...result.ready);
    if (result.stop !== undefined) return { ready, stop: result.stop };
  }
  return { ready };
}

function endOf(chunk: LlamaCppChunk): Finish {
  switch (chunk.stop_type) {
    case "eos":
      return { type: "finish", reason: "stop", endOfSequence: true };
    case "limit":
      return { type: "finish", reason: "length" };
    case "word":
      // A stop word from the server's own configuration (`--reverse-prompt`).
      return { type: "finish", reason: "stop", stoppedBy: { text: chunk.stopping_word ?? "" } };
    default:
      return { type: "finish", reason: "stop" };
  }
}

/**
 * P(any probe) per token, from the top candidates (with ids). A probe
 * outside the top `n_probs` counts as 0, a lower bound.
 */
function probeProbabilities(
  entries: LlamaCppTokenProbabilities[] | undefined,
  probes: ReadonlySet<number>,
  tokenCount: number,
): number[] | undefined {
  if (!entries || entries.length !== tokenCount) return undefined;
  return entries.map((entry) => {
    const candidates = [...(entry.top_logprobs ?? entry.top_probs ?? [])];
    if (entry.id !== undefined)
      candidates.push({ id: entry.id, logprob: entry.logprob, prob: entry.prob });
    const seen = new Set<number>();
    let probability = 0;
    for (const candidate of candidates) {
      if (!probes.has(candidate.id) || seen.has(candidate.id)) continue;
      seen.add(candidate.id);
      probability +=
        candidate.prob ?? (candidate.logprob === undefined ? 0 : Math.exp(candidate.logprob));
    }
    return Math.min(1, probability);
  });
}

/** Per token, the entropy estimated from its top `n_probs` candidates (`topKEntropyBits`). */
function candidateEntropies(
  entries: LlamaCppTokenProbabilities[] | undefined,
  tokenCount: number,
): number[] | undefined {
  if (!entries || entries.length !== tokenCount) return undefined;
  return entries.map((entry) =>
    topKEntropyBits(
      (entry.top_probs ?? entry.top_logprobs ?? []).map(
        (candidate) =>
          candidate.prob ?? (candidate.logprob === undefined ? 0 : Math.exp(candidate.logprob)),
      ),
    ),
  );
}

function usageOf(
  timings: LlamaCppTimings | undefined,
  promptTokens: number | undefined,
  predicted: number,
): GenerationUsage {
  const usage: GenerationUsage = { completionTokens: predicted };
  if (timings?.prompt_n !== undefined) {
    usage.promptTokensEvaluated = timings.prompt_n;
    const cached =
      timings.cache_n ?? (promptTokens === undefined ? undefined : promptTokens - timings.prompt_n);
    if (cached !== undefined) usage.promptTokensCached = cached;
  }
  return usage;
}

/**
 * llama-server's `logit_bias` takes strings: `false` means never. Each word
 * goes as written and with a leading space, as a model writes it
 * mid-sentence. The server bans every token of the string, so a word of
 * several tokens bans its pieces too (vLLM's `bad_words` bans only the last).
 */
function suppressionBias(words: readonly string[]): [string, false][] {
  const variants = new Set(words.flatMap((word) => [word, ` ${word.trimStart()}`]));
  return [...variants].map((variant) => [variant, false]);
}
