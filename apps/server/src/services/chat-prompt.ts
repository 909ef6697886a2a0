import {
  CHAT_TEMPLATE_FAMILIES,
  InvalidRequestError,
  THINK_TAGS,
  ThinkscopeError,
  renderChatPrompt as renderFamilyPrompt,
  withThinkingStart,
  type Backend,
  type ChatMessage,
  type ChatTemplateFamily,
} from "@thinkscope/core";
import type { ThinkingFormat } from "@thinkscope/protocol";

export interface ChatPromptOptions {
  model: string | undefined;
  format: ThinkingFormat;
  /** A family template (`qwen3`, `qwq`, `deepseek-r1`, `s1`, `chatml`) that overrides the model's own. */
  template?: string;
}

/**
 * The text a chat run sends: the model's own chat template when the backend
 * can render it (GGUF files, vLLM, llama-server carry one), otherwise the
 * family template chosen from the model's name (or named by the request);
 * then the thinking start when the template does not open the thinking.
 */
export async function renderChatPrompt(
  backend: Backend,
  messages: ChatMessage[],
  options: ChatPromptOptions,
): Promise<string> {
  const family = familyOf(options.template);
  if (family === undefined && backend.applyChatTemplate) {
    const own = await ownTemplate(backend, messages, options.model);
    if (own !== undefined) return withThinkingStart(options.format, own);
  }
  return renderFamilyPrompt(messages, { model: options.model, format: options.format, family });
}

/**
 * The chat template for a plain generation (no budget forcing). With no
 * template of the model's own, the family template is used; it opens the
 * thinking as reasoning models' own templates do.
 */
export async function renderChatTemplate(
  backend: Backend,
  messages: ChatMessage[],
  options: Omit<ChatPromptOptions, "format">,
): Promise<string> {
  const family = familyOf(options.template);
  if (family === undefined && backend.applyChatTemplate) {
    const own = await ownTemplate(backend, messages, options.model);
    if (own !== undefined) return own;
  }
  return renderFamilyPrompt(messages, { model: options.model, format: THINK_TAGS, family });
}

/** The model's own template, or undefined when this model has none (a GGUF without one: 501). */
async function ownTemplate(
  backend: Backend,
  messages: ChatMessage[],
  model: string | undefined,
): Promise<string | undefined> {
  try {
    return await backend.applyChatTemplate!(messages, { model });
  } catch (error) {
    if (ThinkscopeError.isInstance(error) && error.status === 501) return undefined;
    throw error;
  }
}

function familyOf(template: string | undefined): ChatTemplateFamily | undefined {
  if (template === undefined) return undefined;
  if (!(CHAT_TEMPLATE_FAMILIES as readonly string[]).includes(template)) {
    throw new InvalidRequestError(
      "unknown_chat_template",
      `Unknown chat template "${template}". Available: ${CHAT_TEMPLATE_FAMILIES.join(", ")}.`,
    );
  }
  return template as ChatTemplateFamily;
}
