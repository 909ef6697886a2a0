/**
 * OpenAI requests as runs. `temperature`, `top_p`, `top_k` and `seed` are the
 * sampling, `stop` ends the answer, the thinking and the token cap come from
 * `thinkingRequest`. Every other field either changes nothing at the value
 * sent (`n: 1`, `presence_penalty: 0`, `user`) or is one only an upstream
 * server can honour (`tools`, `logprobs`, ...): such a request is forwarded
 * as it is where there is an upstream, and refused by name where there is
 * not or where a thinking budget is asked for too.
 */
import { InvalidRequestError, type ChatMessage } from "@thinkscope/core";
import type { Sampling } from "@thinkscope/protocol";
import type { ChatCompletionRequest, CompletionRequest } from "../../schemas/openai.ts";
import type { RunInput } from "../run-service.ts";
import type { ThinkingRequest } from "./thinking-parameters.ts";

type CommonRequest = CompletionRequest | ChatCompletionRequest;

/** Fields a run honours, or that are the thinking parameters `thinkingRequest` reads. */
const HONOURED = new Set([
  "model",
  "prompt",
  "messages",
  "stream",
  "stream_options",
  "temperature",
  "top_p",
  "top_k",
  "seed",
  "stop",
  "max_tokens",
  "max_completion_tokens",
  "budget_forcing",
  "fork",
  "chat_template",
  "thinking_token_budget",
  "thinking_budget_tokens",
  "chat_template_kwargs",
  "reasoning_effort",
  "reasoning",
  "thinking",
  // Bookkeeping with no effect on the output.
  "user",
  "metadata",
  "store",
  "service_tier",
]);

/** Fields a run does not honour, and the values at which they change nothing. */
const NEUTRAL: Record<string, (value: unknown) => boolean> = {
  n: (value) => value === 1,
  best_of: (value) => value === 1,
  echo: (value) => value === false,
  suffix: (value) => value === "",
  logprobs: (value) => value === false,
  top_logprobs: (value) => value === 0,
  presence_penalty: (value) => value === 0,
  frequency_penalty: (value) => value === 0,
  repetition_penalty: (value) => value === 1,
  min_p: (value) => value === 0,
  logit_bias: (value) => isEmpty(value),
  tools: (value) => isEmpty(value),
  functions: (value) => isEmpty(value),
  tool_choice: (value) => value === "none",
  function_call: (value) => value === "none",
  // Only meaningful with tools, which are refused.
  parallel_tool_calls: () => true,
  response_format: (value) => (value as { type?: unknown }).type === "text",
  modalities: (value) => Array.isArray(value) && value.every((m) => m === "text"),
  include_reasoning: (value) => value === true,
};

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

/** The first field of a request that a run cannot honour at the value sent, if any. */
export function unhonouredParameter(body: CommonRequest): string | undefined {
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined || value === null || HONOURED.has(field)) continue;
    const neutral = NEUTRAL[field];
    if (!neutral || !neutral(value)) return field;
  }
  return undefined;
}

/** The 400 for a field a run cannot honour; `why` says what the request could do instead. */
export function unhonouredError(field: string, why: string): InvalidRequestError {
  return new InvalidRequestError(
    "unsupported_parameter",
    `${field} is not supported here: ${why}`,
    field,
  );
}

export function completionRunInput(body: CompletionRequest, thinking: ThinkingRequest): RunInput {
  if (body.fork) {
    if (body.prompt !== undefined) throw eitherPromptOrFork("prompt");
    return { ...common(body, thinking), fork: body.fork, mode: "raw" };
  }
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === "string")
    prompt = prompt[0];
  if (typeof prompt !== "string") {
    throw new InvalidRequestError(
      "invalid_prompt",
      "`prompt` must be one string (raw text ending where the model starts).",
      "prompt",
    );
  }
  return { ...common(body, thinking), prompt, mode: "raw" };
}

export function chatRunInput(body: ChatCompletionRequest, thinking: ThinkingRequest): RunInput {
  if (body.fork) {
    if (body.messages !== undefined) throw eitherPromptOrFork("messages");
    return { ...common(body, thinking), fork: body.fork, mode: "chat" };
  }
  const input: RunInput = {
    ...common(body, thinking),
    messages: toChatMessages(requireMessages(body.messages)),
    mode: "chat",
  };
  if (body.chat_template !== undefined) input.chatTemplate = body.chat_template;
  return input;
}

function eitherPromptOrFork(field: "prompt" | "messages"): InvalidRequestError {
  return new InvalidRequestError(
    "invalid_fork",
    `Give either \`${field}\` or \`fork\`, not both: a fork continues its parent's prompt.`,
    field,
  );
}

/** Messages, which only a fork may leave out. */
export function requireMessages(
  messages: ChatCompletionRequest["messages"],
): NonNullable<ChatCompletionRequest["messages"]> {
  if (!messages) {
    throw new InvalidRequestError(
      "invalid_messages",
      "`messages` is required (or `fork`).",
      "messages",
    );
  }
  return messages;
}

function common(body: CommonRequest, thinking: ThinkingRequest): Omit<RunInput, "mode"> {
  const sampling: Sampling = {};
  if (body.temperature !== undefined && body.temperature !== null)
    sampling.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) {
    if (body.top_p === 0)
      throw new InvalidRequestError("invalid_sampling", "top_p must be above 0.", "top_p");
    sampling.top_p = body.top_p;
  }
  const topK = (body as { top_k?: unknown }).top_k;
  if (topK !== undefined && topK !== null) {
    if (!Number.isInteger(topK) || (topK as number) < 0)
      throw new InvalidRequestError(
        "invalid_sampling",
        "top_k must be a whole number, 0 or more.",
        "top_k",
      );
    sampling.top_k = topK as number;
  }
  if (body.seed !== undefined && body.seed !== null) sampling.seed = body.seed;
  const stop = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
  const input: Omit<RunInput, "mode"> = {
    budgetForcing: thinking.budgetForcing,
    sampling,
    stop,
    source: "api",
    opensThinking: thinking.opensThinking,
    fillThinking: !thinking.budgeted,
  };
  if (thinking.maxCompletionTokens !== undefined)
    input.maxCompletionTokens = thinking.maxCompletionTokens;
  return input;
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
      `messages[${index}].role`,
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
          `messages[${index}].content[${partIndex}]`,
        );
      }
      return text;
    });
    return { role, content: texts.join("") };
  }
  throw new InvalidRequestError(
    "invalid_message",
    `messages[${index}].content must be text.`,
    `messages[${index}].content`,
  );
}
