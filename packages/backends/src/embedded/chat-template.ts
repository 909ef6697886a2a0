/**
 * Renders a chat with the model's own Jinja template (`tokenizer.chat_template`
 * in the GGUF), exactly as written: node-llama-cpp's JinjaTemplateChatWrapper
 * rewrites the result for its own chat loop (it drops a pre-inserted
 * `<think>\n` and spells BOS as "BOS"), so the template is rendered here with
 * @huggingface/jinja, the engine node-llama-cpp itself builds on.
 */
import { Template } from "@huggingface/jinja";
import { ThinkscopeError, type ChatMessage } from "@thinkscope/core";
import { errorMessage } from "./llama-runtime.ts";

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly specials: { bosToken: string; eosToken: string },
  ) {
    try {
      this.template = new Template(source);
    } catch (error) {
      throw new ThinkscopeError(
        "chat_template_failed",
        `the model's chat template does not parse: ${errorMessage(error)}`,
        { status: 500, cause: error },
      );
    }
  }

  /** The text just before the assistant's reply (`add_generation_prompt`). */
  render(messages: readonly ChatMessage[]): string {
    try {
      return this.template.render({
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: true,
        bos_token: this.specials.bosToken,
        eos_token: this.specials.eosToken,
      });
    } catch (error) {
      throw new ThinkscopeError(
        "chat_template_failed",
        `the model's chat template failed on these messages: ${errorMessage(error)}`,
        { status: 400, cause: error },
      );
    }
  }
}
