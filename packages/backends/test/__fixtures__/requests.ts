import type { GenerateRequest, GenerationEvent } from "@thinkscope/core";

/** A generate request with test defaults: greedy, no stops, never aborted. */
export function generateRequest(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    prompt: { text: "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n" },
    maxTokens: 64,
    stopTokenIds: [],
    stopStrings: [],
    sampling: { temperature: 0 },
    signal: new AbortController().signal,
    ...overrides,
  };
}

export type TokensEvent = Extract<GenerationEvent, { type: "tokens" }>;
export type FinishEvent = Extract<GenerationEvent, { type: "finish" }>;

export function tokensOf(events: GenerationEvent[]): TokensEvent[] {
  return events.filter((event): event is TokensEvent => event.type === "tokens");
}

export function finishOf(events: GenerationEvent[]): FinishEvent | undefined {
  const last = events.at(-1);
  return last?.type === "finish" ? last : undefined;
}

export function textOf(events: GenerationEvent[]): string {
  return tokensOf(events)
    .map((event) => event.text)
    .join("");
}

/** The error an async iterable (or promise) fails with; fails the test if it does not. */
export async function failureOf(
  run: AsyncIterable<unknown> | Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    if (Symbol.asyncIterator in run) {
      for await (const _ of run) {
        // drain
      }
    } else {
      await run;
    }
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected a failure, but it completed");
}
