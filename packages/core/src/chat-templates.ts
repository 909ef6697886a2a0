import type { ChatMessage } from "./backend.ts";
import { InvalidRequestError } from "./errors.ts";
import type { FamilyId, ThinkingFormat } from "@thinkscope/protocol";
import { matchFamily } from "./families.ts";
import { withThinkingStart } from "./formats.ts";

/**
 * Chat templates of the reasoning-model families (docs/models.md), for
 * backends that cannot render the model's own template (plain OpenAI
 * servers, Ollama in raw mode). A backend that can (embedded GGUF, vLLM,
 * llama-server) uses the model's own template instead.
 */
export type ChatTemplateFamily = "qwen3" | "qwq" | "deepseek-r1" | "s1" | "chatml";

export const CHAT_TEMPLATE_FAMILIES: readonly ChatTemplateFamily[] = [
  "qwen3",
  "qwq",
  "deepseek-r1",
  "s1",
  "chatml",
];

const S1_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

function chatml(messages: ChatMessage[], defaultSystem?: string): string {
  const blocks = [...messages];
  if (defaultSystem && blocks[0]?.role !== "system")
    blocks.unshift({ role: "system", content: defaultSystem });
  return (
    blocks.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("") +
    "<|im_start|>assistant\n"
  );
}

function deepseek(messages: ChatMessage[]): string {
  const system = messages
    .filter((m) => m.role === "system")
    .map((m) => m.content)
    .join("\n");
  const turns = messages
    .filter((m) => m.role !== "system")
    .map((m) =>
      m.role === "user"
        ? `<｜User｜>${m.content}`
        : `<｜Assistant｜>${m.content}<｜end▁of▁sentence｜>`,
    )
    .join("");
  return `<｜begin▁of▁sentence｜>${system}${turns}<｜Assistant｜><think>\n`;
}

const RENDERERS: Record<ChatTemplateFamily, (messages: ChatMessage[]) => string> = {
  // Qwen3 opens its thinking itself; the engine also accepts a pre-inserted start.
  qwen3: (messages) => chatml(messages),
  qwq: (messages) => chatml(messages) + "<think>\n",
  "deepseek-r1": deepseek,
  s1: (messages) => chatml(messages, S1_SYSTEM),
  chatml: (messages) => chatml(messages),
};

/** The template that stands in for each family's own (gpt-oss has none here: ChatML). */
const FAMILY_TEMPLATES: Readonly<Record<FamilyId, ChatTemplateFamily>> = {
  qwen3: "qwen3",
  "qwen3-thinking-2507": "qwq",
  qwq: "qwq",
  "deepseek-r1": "deepseek-r1",
  "r1-distill-qwen": "deepseek-r1",
  "r1-distill-llama": "deepseek-r1",
  s1: "s1",
  "gpt-oss": "chatml",
  "think-tags": "chatml",
};

/** The family template for a model name (`matchFamily` on the name alone). */
export function chatTemplateFamilyFor(model: string | undefined): ChatTemplateFamily {
  return FAMILY_TEMPLATES[matchFamily({ names: [model] }).family];
}

/**
 * Render chat messages for a model and end the text where the model starts
 * thinking: the family's template, then the format's thinking start when the
 * template does not open it.
 */
export function renderChatPrompt(
  messages: ChatMessage[],
  options: { model?: string; format: ThinkingFormat; family?: ChatTemplateFamily },
): string {
  if (messages.length === 0) {
    throw new InvalidRequestError("invalid_messages", "A chat request needs at least one message.");
  }
  const family = options.family ?? chatTemplateFamilyFor(options.model);
  return withThinkingStart(options.format, RENDERERS[family](messages));
}
