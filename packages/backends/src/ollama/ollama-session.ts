import {
  InvalidRequestError,
  type GenerateRequest,
  type GenerationEvent,
  type GenerationSession,
  type GenerationUsage,
} from "@thinkscope/core";
import { readNdjsonValues } from "../http/ndjson-values.ts";
import { mergePieces, tokensEvent } from "../http/output-piece.ts";
import { StopStringFilter } from "../http/stop-string-filter.ts";
import { joinUrl, type UpstreamClient } from "../http/upstream-client.ts";
import { disconnectedError, malformedError, streamErrorEvent } from "../http/upstream-errors.ts";
import type { OllamaGenerateLine } from "./ollama-wire.ts";

export interface OllamaSessionContext {
  client: UpstreamClient;
  rootUrl: string;
  model: string;
  /** Sent as `options.num_ctx` when set. */
  numCtx?: number;
}

type Finish = Extract<GenerationEvent, { type: "finish" }>;

/**
 * One run against Ollama's `/api/generate` with `raw: true` (the prompt is
 * already templated). Ollama streams text only, one token per line as a
 * rule, so each line counts as one token (an estimate); the last line's
 * `eval_count` is the exact total.
 *
 * Ollama reports `done_reason: "stop"` both for the end of sequence and for
 * a stop string, and its Modelfile may add stop strings of its own. So the
 * request sends an empty `stop` list (replacing the Modelfile's) and this
 * session finds the requested stop strings itself, across line boundaries,
 * then cancels the request: `stop` from Ollama then always means the end of
 * sequence, and a stop string is reported as such.
 */
export class OllamaSession implements GenerationSession {
  private readonly closing = new AbortController();

  constructor(private readonly ctx: OllamaSessionContext) {}

  generate(request: GenerateRequest): AsyncIterable<GenerationEvent> {
    return this.stream(request);
  }

  async close(): Promise<void> {
    this.closing.abort(new DOMException("The session was closed.", "AbortError"));
  }

  private async *stream(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
    const { client } = this.ctx;
    const url = joinUrl(this.ctx.rootUrl, "/api/generate");
    const signal = AbortSignal.any([request.signal, this.closing.signal]);
    const filter = new StopStringFilter(request.stopStrings, "text");
    const malformed = (detail: string, sample?: string) =>
      malformedError(client.errors, url, detail, sample);

    let finish: Finish | undefined;
    const lines = readNdjsonValues(client.streamText(url, this.body(request), signal), malformed);
    for await (const value of lines) {
      if (typeof value !== "object" || value === null)
        throw malformed("a line is not a JSON object", JSON.stringify(value));
      const line = value as OllamaGenerateLine;
      if (line.error !== undefined) throw streamErrorEvent(client.errors, url, line.error);

      const text = line.response ?? "";
      const result = filter.push({ text, tokenCount: text === "" ? 0 : 1 });
      const ready = tokensEvent(mergePieces(result.ready));
      if (ready) yield ready;
      if (result.stop !== undefined) {
        finish = { type: "finish", reason: "stop", stoppedBy: { text: result.stop } };
        break;
      }
      if (line.done === true) {
        const rest = tokensEvent(mergePieces(filter.flush()));
        if (rest) yield rest;
        if (line.done_reason === "load" || line.done_reason === "unload") {
          throw disconnectedError(
            client.errors,
            url,
            `the model was ${line.done_reason}ed mid-request`,
          );
        }
        finish =
          line.done_reason === "length"
            ? { type: "finish", reason: "length", usage: usageOf(line) }
            : { type: "finish", reason: "stop", endOfSequence: true, usage: usageOf(line) };
        break;
      }
    }
    if (!finish) throw disconnectedError(client.errors, url, "no line said done");
    yield finish;
  }

  private body(request: GenerateRequest): Record<string, unknown> {
    const { sampling } = request;
    if (request.prompt.text === undefined) {
      throw new InvalidRequestError(
        "prompt_text_required",
        "Ollama takes text prompts only; the request gave token ids without their text.",
      );
    }
    const options: Record<string, unknown> = {
      num_predict: request.maxTokens,
      temperature: sampling.temperature,
      stop: [],
    };
    if (sampling.topP !== undefined) options.top_p = sampling.topP;
    if (sampling.topK !== undefined) options.top_k = sampling.topK;
    if (sampling.seed !== undefined) options.seed = sampling.seed;
    if (this.ctx.numCtx !== undefined) options.num_ctx = this.ctx.numCtx;
    return { model: this.ctx.model, prompt: request.prompt.text, raw: true, stream: true, options };
  }
}

function usageOf(line: OllamaGenerateLine): GenerationUsage {
  const usage: GenerationUsage = {};
  if (line.prompt_eval_count !== undefined) usage.promptTokensEvaluated = line.prompt_eval_count;
  if (line.eval_count !== undefined) usage.completionTokens = line.eval_count;
  return usage;
}
