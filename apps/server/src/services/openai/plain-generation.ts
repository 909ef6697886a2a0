/**
 * A request without `budget_forcing` to a backend that has no upstream to
 * forward to (the embedded one): one plain generation, answered in OpenAI's
 * shape, as a server would. It is not a budget-forced run and is not stored.
 */
import {
  InvalidRequestError,
  type Backend,
  type GenerateRequest,
  type GenerationSession,
} from "@thinkscope/core";
import type { SamplingSettings } from "@thinkscope/protocol";

export interface PlainRequest {
  prompt: string;
  model: string | undefined;
  maxTokens: number | undefined;
  /** Used when `maxTokens` is absent: OpenAI's completions default to 16, chat to what the context allows. */
  defaultMaxTokens: "completions" | "chat";
  stop: string[];
  sampling: Partial<SamplingSettings>;
  signal: AbortSignal;
}

export type PlainEvent =
  | { type: "text"; text: string; tokens: number }
  | {
      type: "end";
      finishReason: "stop" | "length";
      promptTokens: number;
      completionTokens: number;
    };

const CHAT_FALLBACK_MAX_TOKENS = 4096;

export async function* plainGeneration(
  backend: Backend,
  request: PlainRequest,
): AsyncGenerator<PlainEvent> {
  const session = await backend.openSession({ model: request.model, signal: request.signal });
  try {
    const promptTokens = await countPrompt(session, request.prompt);
    const contextLength = backend.capabilities.contextLength;
    let maxTokens = request.maxTokens;
    if (maxTokens === undefined) {
      maxTokens =
        request.defaultMaxTokens === "completions"
          ? 16
          : contextLength !== undefined && promptTokens !== undefined
            ? contextLength - promptTokens
            : CHAT_FALLBACK_MAX_TOKENS;
    }
    if (
      contextLength !== undefined &&
      promptTokens !== undefined &&
      promptTokens >= contextLength
    ) {
      throw new InvalidRequestError(
        "prompt_too_long",
        `The prompt has ${promptTokens} tokens; the model's context holds ${contextLength}.`,
      );
    }
    const generate: GenerateRequest = {
      prompt: { text: request.prompt },
      maxTokens,
      stopTokenIds: [],
      stopStrings: request.stop,
      sampling: { temperature: 1, ...request.sampling },
      signal: request.signal,
    };
    let completionTokens = 0;
    let finishReason: "stop" | "length" = "stop";
    let usagePrompt: number | undefined;
    for await (const event of session.generate(generate)) {
      if (event.type === "tokens") {
        completionTokens += event.tokenCount;
        if (event.text !== "") yield { type: "text", text: event.text, tokens: event.tokenCount };
      } else {
        finishReason = event.reason;
        if (event.usage?.completionTokens !== undefined)
          completionTokens = event.usage.completionTokens;
        usagePrompt = event.usage?.promptTokensEvaluated;
        break;
      }
    }
    yield {
      type: "end",
      finishReason,
      promptTokens: promptTokens ?? usagePrompt ?? 0,
      completionTokens,
    };
  } finally {
    await session.close();
  }
}

async function countPrompt(
  session: GenerationSession,
  prompt: string,
): Promise<number | undefined> {
  if (!session.tokenize) return undefined;
  return (await session.tokenize(prompt, { special: true })).length;
}
