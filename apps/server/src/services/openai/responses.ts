/**
 * Runs in OpenAI's shapes (docs/api.md).
 *
 * Completions: `text` is the whole continuation exactly as the model saw it.
 * Chat: thinking (waits included) in `reasoning_content` and, for clients
 * that read that name, `reasoning`; the answer in `content`; the close
 * itself is in neither. When streaming, every injection is a chunk of its
 * own whose choice carries `"injected"`, and the last chunk before `[DONE]`
 * carries the `budget_forcing` object.
 */
import type { BudgetForcingSummary, EngineEvent, InjectionKind } from "@thinkscope/protocol";
import type { ChatCompletionResponse, CompletionResponse } from "../../schemas/openai.ts";
import type { ActiveRun } from "../run-service.ts";

export type Endpoint = "completion" | "chat";

export interface ResponseContext {
  endpoint: Endpoint;
  id: string;
  created: number;
  model: string;
  /** The format's thinking delimiters, which never reach `content`. */
  delimiters: readonly string[];
}

export function responseContext(endpoint: Endpoint, run: ActiveRun): ResponseContext {
  const { format } = run.settings;
  return {
    endpoint,
    id: `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${run.id}`,
    created: Math.floor(Date.now() / 1000),
    model: run.model ?? run.backendId,
    delimiters: [format.start, ...format.endMarkers].filter((marker) => marker !== ""),
  };
}

/**
 * The answer as `content`: a delimiter the model writes after its thinking
 * was closed (a small model may think on after a forced close) is dropped,
 * so a client never shows `</think>` as text. A delimiter is one token, so a
 * streamed delta holds it whole.
 */
function answerContent(text: string, delimiters: readonly string[]): string {
  let content = text;
  for (const delimiter of delimiters) {
    if (content.includes(delimiter)) content = content.replaceAll(delimiter, "");
  }
  return content;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  completion_tokens_details?: { reasoning_tokens: number };
}

/**
 * OpenAI's meaning: completion tokens are the reasoning (waits included) plus
 * the answer, what `max_completion_tokens` caps. The close Thinkscope injects
 * is in neither; the `budget_forcing` object counts it (`close_tokens`).
 */
export function usageOf(promptTokens: number, summary: BudgetForcingSummary): Usage {
  const completion = summary.thinking_tokens + summary.answer_tokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
    completion_tokens_details: { reasoning_tokens: summary.thinking_tokens },
  };
}

function finishReason(run: ActiveRun): "stop" | "length" {
  return run.transcript.finishReason === "length" ? "length" : "stop";
}

export function completionResponse(run: ActiveRun, context: ResponseContext): CompletionResponse {
  const summary = run.transcript.summary();
  return {
    id: context.id,
    object: "text_completion",
    created: context.created,
    model: context.model,
    choices: [
      { index: 0, text: run.transcript.text, logprobs: null, finish_reason: finishReason(run) },
    ],
    usage: usageOf(run.promptTokens, summary),
    budget_forcing: summary,
  };
}

export function chatResponse(run: ActiveRun, context: ResponseContext): ChatCompletionResponse {
  const summary = run.transcript.summary();
  return {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: context.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: answerContent(run.transcript.answerText, context.delimiters),
          reasoning_content: run.transcript.thinkingText,
          reasoning: run.transcript.thinkingText,
        },
        logprobs: null,
        finish_reason: finishReason(run),
      },
    ],
    usage: usageOf(run.promptTokens, summary),
    budget_forcing: summary,
  };
}

/** Turns a run's events into streaming chunks, in order. */
export class ChunkEncoder {
  private sentRole = false;

  constructor(
    private readonly context: ResponseContext,
    private readonly includeUsage: boolean,
  ) {}

  /** Chunks for one event (none for events with nothing to show). */
  encode(event: EngineEvent): object[] {
    const chunks: object[] = [];
    if (this.context.endpoint === "chat" && !this.sentRole) {
      this.sentRole = true;
      chunks.push(this.chunk({ delta: { role: "assistant", content: "" } }));
    }
    switch (event.type) {
      case "delta":
        if (event.text !== "") chunks.push(this.textChunk(event.phase, event.text));
        break;
      case "injection":
        chunks.push(this.injectionChunk(event.kind, event.text));
        break;
      default:
        break;
    }
    return chunks;
  }

  /** The closing chunks: the finish reason, then usage if asked; the last one carries `budget_forcing`. */
  finish(end: {
    finishReason: "stop" | "length";
    usage: Usage;
    budgetForcing?: BudgetForcingSummary;
  }): object[] {
    const extra = end.budgetForcing ? { budget_forcing: end.budgetForcing } : {};
    const finish = this.chunk(
      this.context.endpoint === "chat"
        ? { delta: {}, finish_reason: end.finishReason }
        : { text: "", finish_reason: end.finishReason },
    );
    if (!this.includeUsage) return [{ ...finish, ...extra }];
    // OpenAI sends usage in a chunk of its own, with no choices.
    return [finish, { ...this.base(), choices: [], usage: end.usage, ...extra }];
  }

  /** The closing chunks of a budget-forced run. */
  finishRun(run: ActiveRun): object[] {
    const summary = run.transcript.summary();
    return this.finish({
      finishReason: finishReason(run),
      usage: usageOf(run.promptTokens, summary),
      budgetForcing: summary,
    });
  }

  private textChunk(phase: "thinking" | "answer", text: string): object {
    if (this.context.endpoint === "completion") return this.chunk({ text });
    return this.chunk({
      delta:
        phase === "thinking"
          ? { reasoning_content: text, reasoning: text }
          : { content: answerContent(text, this.context.delimiters) },
    });
  }

  private injectionChunk(kind: InjectionKind, text: string): object {
    if (this.context.endpoint === "completion") return this.chunk({ text, injected: kind });
    // A wait is part of the thinking; a close is in neither the thinking nor the answer.
    // What is injected inside the thinking is part of the reasoning the model saw.
    const delta =
      kind === "wait" || kind === "budget_message" || kind === "elimination"
        ? { reasoning_content: text, reasoning: text }
        : {};
    return this.chunk({ delta, injected: kind, injected_text: text });
  }

  private base() {
    const { endpoint, id, created, model } = this.context;
    return {
      id,
      object: endpoint === "chat" ? "chat.completion.chunk" : "text_completion",
      created,
      model,
    };
  }

  private chunk(choice: Record<string, unknown>): object {
    return {
      ...this.base(),
      choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }],
    };
  }
}
