import type {
  GenerateRequest,
  GenerationEvent,
  GenerationSession,
  GenerationUsage,
} from "@thinkscope/core";
import { parseJsonObject } from "../http/json-event.ts";
import { readSseBatches } from "../http/sse-events.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { disconnectedError, malformedError, streamErrorEvent } from "../http/upstream-errors.ts";
import { mergePieces, tokensEvent, type OutputPiece } from "../http/output-piece.ts";
import { candidateEntropies, hasTextKeys, probeProbabilities } from "./vllm-logprobs.ts";
import type {
  VllmCompletionChunk,
  VllmDetokenizeResponse,
  VllmStreamChoice,
  VllmTokenizeResponse,
  VllmUsage,
} from "./vllm-wire.ts";

export interface VllmSessionContext {
  client: UpstreamClient;
  /** The OpenAI base URL (`.../v1`). */
  baseUrl: string;
  /** The server root, where `/tokenize` and `/detokenize` live. */
  rootUrl: string;
  model: string;
  /** Candidates asked per token when probing (`logprobs: N`). */
  probeTopLogprobs: number;
}

type Finish = Extract<GenerationEvent, { type: "finish" }>;

/**
 * vLLM's `/tokenize`. vLLM tokenizes with the model's Hugging Face tokenizer,
 * which always parses special tokens written in the text (`<|im_start|>`):
 * `special: false` cannot be honoured, so text that merely looks like a
 * control token becomes that token here.
 */
export async function vllmTokenize(
  ctx: Pick<VllmSessionContext, "client" | "rootUrl" | "model">,
  text: string,
): Promise<number[]> {
  const url = joinUrl(ctx.rootUrl, "/tokenize");
  const answer = await ctx.client.json<VllmTokenizeResponse>(url, {
    body: { model: ctx.model, prompt: text, add_special_tokens: false },
  });
  if (!Array.isArray(answer.tokens))
    throw malformedError(ctx.client.errors, url, "no `tokens` list");
  return answer.tokens;
}

/**
 * One run against vLLM's `/v1/completions` (SGLang's OpenAI server speaks
 * the same dialect). Each `generate` is one streamed request; the server's
 * automatic prefix cache makes the re-sent prefix cheap.
 */
export class VllmSession implements GenerationSession {
  private readonly closing = new AbortController();
  private probeTexts: Map<string, number> | undefined;

  constructor(private readonly ctx: VllmSessionContext) {}

  generate(request: GenerateRequest): AsyncIterable<GenerationEvent> {
    return this.stream(request);
  }

  tokenize(text: string): Promise<number[]> {
    return vllmTokenize(this.ctx, text);
  }

  async detokenize(ids: number[]): Promise<string> {
    const url = joinUrl(this.ctx.rootUrl, "/detokenize");
    const answer = await this.ctx.client.json<VllmDetokenizeResponse>(url, {
      body: { model: this.ctx.model, tokens: ids },
    });
    if (typeof answer.prompt !== "string")
      throw malformedError(this.ctx.client.errors, url, "no `prompt` text");
    return answer.prompt;
  }

  async close(): Promise<void> {
    this.closing.abort(new DOMException("The session was closed.", "AbortError"));
  }

  private async *stream(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    const { client } = this.ctx;
    const url = joinUrl(this.ctx.baseUrl, "/completions");
    const probes = request.probeTokenIds?.length ? request.probeTokenIds : undefined;
    const signal = AbortSignal.any([request.signal, this.closing.signal]);
    const malformed = (detail: string, sample?: string) =>
      malformedError(client.errors, url, detail, sample);

    let finish: Finish | undefined;
    let usage: GenerationUsage | undefined;
    let countedSoFar = 0;
    const batches = readSseBatches(
      client.streamText(url, this.body(request, probes), signal),
      malformed,
    );
    // Every token of one read leaves as one event: a reader behind a fast server catches up at once.
    for await (const batch of batches) {
      const pieces: OutputPiece[] = [];
      let done = false;
      let failure: unknown;
      try {
        for (const event of batch) {
          if (event.event === "error") throw streamErrorEvent(client.errors, url, event.data);
          if (event.data === "[DONE]") {
            done = true;
            break;
          }
          const chunk = parseJsonObject<VllmCompletionChunk>(event.data, malformed);
          if (chunk.error !== undefined || chunk.object === "error") {
            throw streamErrorEvent(client.errors, url, chunk.error ?? chunk.message);
          }
          if (chunk.usage) usage = toUsage(chunk.usage);
          const choice = chunk.choices?.[0];
          if (!choice) continue;
          if (choice.finish_reason === "abort") {
            throw disconnectedError(client.errors, url, "the server aborted the request");
          }
          if (choice.finish_reason === "error") {
            throw streamErrorEvent(client.errors, url, choice.text);
          }
          if (probes && choice.logprobs && !this.probeTexts && hasTextKeys(choice.logprobs)) {
            this.probeTexts = await this.detokenizeEach(probes);
          }
          const reported = chunk.usage?.completion_tokens ?? undefined;
          const { piece, end } = this.translate(choice, request, probes, reported, countedSoFar);
          if (reported !== undefined) countedSoFar = reported;
          pieces.push(piece);
          if (end) finish = end;
        }
      } catch (error) {
        failure = error;
      }
      // What came before a failure or `[DONE]` in the same read still counts.
      const tokens = tokensEvent(mergePieces(pieces));
      if (tokens) yield tokens;
      if (failure !== undefined) throw failure;
      if (done) break;
    }
    // The finish chunk is followed by the usage chunk and `[DONE]`; a stream
    // that ends cleanly between them still told us everything but the usage.
    if (!finish) throw disconnectedError(client.errors, url, "no chunk carried a finish reason");
    yield usage ? { ...finish, usage } : finish;
  }

  /**
   * One choice as a piece of output and, on its last chunk, the finish.
   * vLLM puts the stop token's id (a requested stop id, or the model's end
   * of sequence) in `token_ids` while leaving its text out; the id is
   * removed here so neither the text nor the ids ever hold it.
   */
  private translate(
    choice: VllmStreamChoice,
    request: GenerateRequest,
    probes: readonly number[] | undefined,
    reportedTotal: number | undefined,
    countedSoFar: number,
  ): { piece: OutputPiece; end?: Finish } {
    let ids = choice.token_ids ?? undefined;
    let end = finishOf(choice, request);
    let probabilities =
      probes && choice.logprobs
        ? probeProbabilities(
            choice.logprobs,
            ids?.length ?? countOf(choice),
            probes,
            this.probeTexts,
          )
        : undefined;
    // The log-probability of each token generated, as OpenAI's completions report it.
    let logprobs = request.tokenLogprobs
      ? choice.logprobs?.token_logprobs?.map((logprob) => Math.min(0, logprob ?? 0))
      : undefined;
    let entropies =
      request.tokenEntropy && choice.logprobs?.top_logprobs
        ? candidateEntropies(
            choice.logprobs,
            choice.logprobs.top_logprobs.length,
            this.ctx.probeTopLogprobs,
          )
        : undefined;
    const stoppedOnToken =
      end !== undefined && end.reason === "stop" && end.stoppedBy?.text === undefined;
    const stopId = end?.stoppedBy?.tokenId;
    if (
      stoppedOnToken &&
      ids &&
      ids.length > 0 &&
      (stopId === undefined || ids.at(-1) === stopId)
    ) {
      ids = ids.slice(0, -1);
      // The stop token's own step is the pressure that ended the thinking.
      const atStop = probabilities?.at(-1);
      if (end && atStop !== undefined && stopId !== undefined)
        end = { ...end, probeProbability: atStop };
      probabilities = probabilities?.slice(0, -1);
      logprobs = logprobs?.slice(0, -1);
      entropies = entropies?.slice(0, -1);
    }

    let tokenCount: number;
    if (ids) tokenCount = ids.length;
    else if (reportedTotal !== undefined) {
      // No ids (SGLang, older vLLM): the running usage counts exactly.
      tokenCount = Math.max(0, reportedTotal - countedSoFar - (stoppedOnToken ? 1 : 0));
    } else tokenCount = choice.text === "" ? 0 : 1;

    const piece: OutputPiece = { text: choice.text ?? "", tokenCount };
    if (ids) piece.tokenIds = ids;
    if (probabilities && probabilities.length === tokenCount)
      piece.probeProbabilities = probabilities;
    if (logprobs && logprobs.length === tokenCount) piece.logprobs = logprobs;
    if (entropies && entropies.length === tokenCount) piece.entropies = entropies;
    return end ? { piece, end } : { piece };
  }

  private body(
    request: GenerateRequest,
    probes: readonly number[] | undefined,
  ): Record<string, unknown> {
    const { prompt, sampling } = request;
    const body: Record<string, unknown> = {
      model: this.ctx.model,
      prompt: prompt.tokens ?? prompt.text,
      max_tokens: request.maxTokens,
      temperature: sampling.temperature,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
      return_token_ids: true,
      // Delimiters such as `<|im_start|>` are special tokens: keep them visible.
      skip_special_tokens: false,
      spaces_between_special_tokens: false,
      include_stop_str_in_output: false,
      // The prompt is already templated (it carries its own BOS, if any).
      add_special_tokens: false,
    };
    if (request.stopTokenIds.length > 0) body.stop_token_ids = request.stopTokenIds;
    if (request.stopStrings.length > 0) body.stop = request.stopStrings;
    if (sampling.topP !== undefined) body.top_p = sampling.topP;
    if (sampling.topK !== undefined) body.top_k = sampling.topK;
    if (sampling.seed !== undefined) body.seed = sampling.seed;
    // vLLM bans each word with and without a leading space, and a multi-token word only at its last token.
    if (request.suppressWords?.length) body.bad_words = request.suppressWords;
    // One candidate is enough for the generated token's own log-probability;
    // an entropy estimate wants as many as a probe does.
    if (request.tokenLogprobs && !probes) body.logprobs = 1;
    if (request.tokenEntropy) body.logprobs = this.ctx.probeTopLogprobs;
    if (probes) {
      body.logprobs = this.ctx.probeTopLogprobs;
      body.logprob_token_ids = probes;
      body.return_tokens_as_token_ids = true;
    }
    return body;
  }

  /** Each probe id's text, for servers that key logprobs by text. */
  private async detokenizeEach(ids: readonly number[]): Promise<Map<string, number>> {
    const texts = new Map<string, number>();
    for (const id of ids) {
      const answer = await this.ctx.client.json<VllmDetokenizeResponse>(
        joinUrl(this.ctx.rootUrl, "/detokenize"),
        { body: { model: this.ctx.model, tokens: [id] } },
      );
      if (typeof answer.prompt === "string") texts.set(answer.prompt, id);
    }
    return texts;
  }
}

function finishOf(choice: VllmStreamChoice, request: GenerateRequest): Finish | undefined {
  const reason = choice.finish_reason;
  if (!reason) return undefined;
  if (reason === "length") return { type: "finish", reason: "length" };
  const stop = choice.stop_reason ?? choice.matched_stop ?? null;
  if (typeof stop === "string")
    return { type: "finish", reason: "stop", stoppedBy: { text: stop } };
  if (typeof stop === "number" && request.stopTokenIds.includes(stop)) {
    return { type: "finish", reason: "stop", stoppedBy: { tokenId: stop } };
  }
  // No stop value is the end-of-sequence token; an id we did not ask for is
  // one of the model's extra EOS ids, which vLLM adds to the stop ids.
  return { type: "finish", reason: "stop", endOfSequence: true };
}

/** Tokens in a chunk without ids, judged from its logprobs. */
function countOf(choice: VllmStreamChoice): number {
  return choice.logprobs?.top_logprobs?.length ?? (choice.text === "" ? 0 : 1);
}

function toUsage(usage: VllmUsage): GenerationUsage {
  const result: GenerationUsage = {};
  const cached = usage.prompt_tokens_details?.cached_tokens ?? undefined;
  if (usage.prompt_tokens !== undefined)
    result.promptTokensEvaluated = usage.prompt_tokens - (cached ?? 0);
  if (cached !== undefined) result.promptTokensCached = cached;
  if (usage.completion_tokens !== undefined && usage.completion_tokens !== null) {
    result.completionTokens = usage.completion_tokens;
  }
  return result;
}
