/**
 * OpenAI request fields to a budget-forced run: `max_tokens` caps the answer
 * (unless `budget_forcing.max_answer_tokens` does), `temperature`, `top_p`
 * and `seed` are the sampling, `stop` ends the answer. Fields that would
 * change what comes back in ways a budget-forced run cannot honour are
 * refused by name rather than silently ignored.
 */
import { InvalidRequestError, type ChatMessage } from "@thinkscope/core";
import type { Sampling } from "@thinkscope/protocol";
import type { ChatCompletionRequest, CompletionRequest } from "../../schemas/openai.ts";
import type { RunInput } from "../run-service.ts";

type CommonRequest = CompletionRequest | ChatCompletionRequest;

export function completionRunInput(body: CompletionRequest): RunInput {
  refuseUnsupported(body, ["suffix", "echo", "logprobs", "best_of"]);
  if (body.fork) {
    if (body.prompt !== undefined) throw eitherPromptOrFork("prompt");
    return { ...common(body, body.max_tokens), fork: body.fork, mode: "raw" };
  }
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === "string")
    prompt = prompt[0];
  if (typeof prompt !== "string") {
    throw new InvalidRequestError(
      "invalid_prompt",
      "With budget_forcing, `prompt` must be one string (raw text ending where the model starts thinking).",
    );
  }
  return { ...common(body, body.max_tokens), prompt, mode: "raw" };
}

export function chatRunInput(body: ChatCompletionRequest): RunInput {
  refuseUnsupported(body, [
    "logprobs",
    "top_logprobs",
    "tools",
    "functions",
    "tool_choice",
    "function_call",
  ]);
  const format = (body as { response_format?: { type?: string } }).response_format;
  if (format && format.type !== "text") {
    throw new InvalidRequestError(
      "unsupported_parameter",
      "response_format is not supported with budget_forcing: the thinking is free text.",
    );
  }
  if (body.fork) {
    if (body.messages !== undefined) throw eitherPromptOrFork("messages");
    return {
      ...common(body, body.max_completion_tokens ?? body.max_tokens),
      fork: body.fork,
      mode: "chat",
    };
  }
  const messages = toChatMessages(requireMessages(body.messages));
  const input: RunInput = {
    ...common(body, body.max_completion_tokens ?? body.max_tokens),
    messages,
    mode: "chat",
  };
  if (body.chat_template !== undefined) input.chatTemplate = body.chat_template;
  return input;
}

function eitherPromptOrFork(field: "prompt" | "messages"): InvalidRequestError {
  return new InvalidRequestError(
    "invalid_fork",
    `Give either \`${field}\` or \`fork\`, not both: a fork continues its parent's prompt.`,
  );
}

/** Messages, which only a fork may leave out. */
export function requireMessages(
  messages: ChatCompletionRequest["messages"],
): NonNullable<ChatCompletionRequest["messages"]> {
  if (!messages) {
    throw new InvalidRequestError("invalid_messages", "`messages` is required (or `fork`).");
  }
  return messages;
}

function common(body: CommonRequest, maxTokens: number | null | undefined): Omit<RunInput, "mode"> {
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw new InvalidRequestError(
      "unsupported_n",
      `n must be 1 with budget_forcing (got ${body.n}): each budget-forced run is one sequence. Send n requests instead.`,
    );
  }
  const budgetForcing = { ...body.budget_forcing };
  if (
    budgetForcing.max_answer_tokens === undefined &&
    maxTokens !== undefined &&
    maxTokens !== null
  ) {
    budgetForcing.max_answer_tokens = maxTokens;
  }
  const sampling: Sampling = {};
  if (body.temperature !== undefined && body.temperature !== null)
    sampling.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) {
    if (body.top_p === 0)
      throw new InvalidRequestError("invalid_sampling", "top_p must be above 0.");
    sampling.top_p = body.top_p;
  }
  if (body.seed !== undefined && body.seed !== null) sampling.seed = body.seed;
  const stop = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
  return { budgetForcing, sampling, stop, source: "api" };
}

/** OpenAI messages to plain text turns (text parts joined; `developer` is a system turn). */
export function toChatMessages(
  messages: NonNullable<ChatCompletionRequest["messages"]>,
): ChatMessage[] {
  return messages.map(toChatMessage);
}

function toChatMessage(
  message: NonNullable<ChatCompletionRequest["messages"]>[number],
  index: number,
): ChatMessage {
  const role = message.role === "developer" ? "system" : message.role;
  if (role !== "system" && role !== "user" && role !== "assistant") {
    throw new InvalidRequestError(
      "invalid_message",
      `messages[${index}].role "${message.role}" is not supported here: use system, user or assistant.`,
    );
  }
  const { content } = message;
  if (typeof content === "string") return { role, content };
  if (Array.isArray(content)) {
    const texts = content.map((part, partIndex) => {
      const text = (part as { text?: unknown }).text;
      if (part.type !== "text" || typeof text !== "string") {
        throw new InvalidRequestError(
          "invalid_message",
          `messages[${index}].content[${partIndex}] is a "${part.type}" part; only text parts are supported.`,
        );
      }
      return text;
    });
    return { role, content: texts.join("") };
  }
  throw new InvalidRequestError("invalid_message", `messages[${index}].content must be text.`);
}

function refuseUnsupported(body: object, fields: string[]): void {
  const record = body as Record<string, unknown>;
  for (const field of fields) {
    const value = record[field];
    if (value === undefined || value === null || value === false) continue;
    if (field === "best_of" && value === 1) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    throw new InvalidRequestError(
      "unsupported_parameter",
      `${field} is not supported with budget_forcing. Remove it, or drop budget_forcing to send the request upstream as is.`,
    );
  }
}
