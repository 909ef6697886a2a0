import {
  InvalidRequestError,
  type GenerateRequest,
  type GenerationEvent,
  type GenerationSession,
  type GenerationUsage,
} from "@thinkscope/core";
import { mergePieces, tokensEvent, type OutputPiece } from "../http/output-piece.ts";
import { parseJsonObject } from "../http/json-event.ts";
import { readSseEvents } from "../http/sse-events.ts";
import { StopStringFilter } from "../http/stop-string-filter.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { disconnectedError, malformedError, streamErrorEvent } from "../http/upstream-errors.ts";
import type { OpenAiCompletionChunk, OpenAiStreamChoice, OpenAiUsage } from "./openai-wire.ts";

export interface OpenAiSessionContext {
  client: UpstreamClient;
  baseUrl: string;
  model: string;
  /** Send the stop strings upstream too (see `OpenAiBackendOptions.upstreamStopStrings`). */
  upstreamStopStrings: boolean;
}

type Finish = Extract<GenerationEvent, { type: "finish" }>;

/**
 * One run against a generic OpenAI-compatible `/v1/completions`: text
 * prompts, stop strings, no token ids. Token counts are estimates: one
 * token per streamed chunk (these servers stream a token per chunk), or
 * the exact running count when the server sends usage with every chunk.
 * The final `usage` is the server's exact count when it reports one.
 *
 * Stop strings are also watched here, across chunk boundaries, so a server
 * that ignores `stop` or does not hold back a partial match still never
 * leaks the delimiter; the request is then cancelled.
 */
export class OpenAiSession implements GenerationSession {
  private readonly closing = new AbortController();

  constructor(private readonly ctx: OpenAiSessionContext) {}

  generate(request: GenerateRequest): AsyncIterable<GenerationEvent> {
    return this.stream(request);
  }

  async close(): Promise<void> {
    this.closing.abort(new DOMException("The session was closed.", "AbortError"));
  }

  private async *stream(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    const { client } = this.ctx;
    const url = joinUrl(this.ctx.baseUrl, "/completions");
    const text = promptText(request);
    const signal = AbortSignal.any([request.signal, this.closing.signal]);
    const filter = new StopStringFilter(request.stopStrings, "text");
    const malformed = (detail: string, sample?: string) =>
      malformedError(client.errors, url, detail, sample);

    let finish: Finish | undefined;
    let usage: GenerationUsage | undefined;
    let counted = 0;
    const events = readSseEvents(
      client.streamText(url, this.body(request, text), signal),
      malformed,
    );
    for await (const event of events) {
      if (event.event === "error") throw streamErrorEvent(client.errors, url, event.data);
      if (event.data === "[DONE]") break;
      const chunk = parseJsonObject<OpenAiCompletionChunk>(event.data, malformed);
      if (chunk.error !== undefined) throw streamErrorEvent(client.errors, url, chunk.error);
      if (chunk.usage) usage = toUsage(chunk.usage);
      const choice = chunk.choices?.[0];
      if (!choice || finish) continue;

      const running = chunk.usage?.completion_tokens;
      const piece: OutputPiece = {
        text: choice.text ?? "",
        tokenCount: running !== undefined ? Math.max(0, running - counted) : choice.text ? 1 : 0,
      };
      if (running !== undefined) counted = running;
      const result = filter.push(piece);
      const ready = tokensEvent(mergePieces(result.ready));
      if (ready) yield ready;
      if (result.stop !== undefined) {
        // The server did not stop on it: stop here, which cancels the request.
        finish = { type: "finish", reason: "stop", stoppedBy: { text: result.stop } };
        break;
      }
      if (choice.finish_reason) {
        const rest = tokensEvent(mergePieces(filter.flush()));
        if (rest) yield rest;
        finish = finishOf(choice, request);
        // Keep reading: the usage chunk and `[DONE]` follow.
      }
    }
    if (!finish) throw disconnectedError(client.errors, url, "no chunk carried a finish reason");
    yield usage ? { ...finish, usage } : finish;
  }

  private body(request: GenerateRequest, prompt: string): Record<string, unknown> {
    const { sampling } = request;
    const body: Record<string, unknown> = {
      model: this.ctx.model,
      prompt,
      max_tokens: request.maxTokens,
      temperature: sampling.temperature,
      stream: true,
      stream_options: { include_usage: true },
    };
    if (sampling.topP !== undefined) body.top_p = sampling.topP;
    if (sampling.seed !== undefined) body.seed = sampling.seed;
    if (this.ctx.upstreamStopStrings && request.stopStrings.length > 0)
      body.stop = request.stopStrings;
    return body;
  }
}

/**
 * A server that stopped on one of our stop strings usually does not say so:
 * `finish_reason` is `stop` for the end of sequence too. vLLM-derived
 * servers add `stop_reason`; without it, and with stop strings in play, the
 * cause is unknown and neither `stoppedBy` nor `endOfSequence` is set.
 */
function finishOf(choice: OpenAiStreamChoice, request: GenerateRequest): Finish {
  if (choice.finish_reason === "length") return { type: "finish", reason: "length" };
  if (typeof choice.stop_reason === "string") {
    return { type: "finish", reason: "stop", stoppedBy: { text: choice.stop_reason } };
  }
  if (request.stopStrings.length === 0)
    return { type: "finish", reason: "stop", endOfSequence: true };
  return { type: "finish", reason: "stop" };
}

function promptText(request: GenerateRequest): string {
  if (request.prompt.text !== undefined) return request.prompt.text;
  throw new InvalidRequestError(
    "prompt_text_required",
    "This backend takes text prompts only; the request gave token ids without their text.",
  );
}

function toUsage(usage: OpenAiUsage): GenerationUsage {
  const result: GenerationUsage = {};
  const cached = usage.prompt_tokens_details?.cached_tokens ?? undefined;
  if (usage.prompt_tokens !== undefined)
    result.promptTokensEvaluated = usage.prompt_tokens - (cached ?? 0);
  if (cached !== undefined) result.promptTokensCached = cached;
  if (usage.completion_tokens !== undefined) result.completionTokens = usage.completion_tokens;
  return result;
}
