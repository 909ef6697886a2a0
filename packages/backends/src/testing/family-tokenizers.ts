/**
 * The real tokenizers and chat templates of the reasoning-model families,
 * from the tokenizer packages on the npm registry (dev dependencies: they
 * ship each model's tokenizer.json and tokenizer_config.json), for test
 * models and wire stand-ins that must produce the ids a real model would.
 *
 * Where a family's own files are not packaged, they are derived from the
 * packaged ones by what the family changed, and said so below:
 * - QwQ-32B ships the same tokenizer.json as Qwen3 (the same vocabulary,
 *   merges and added tokens, `<think>` 151667 and `</think>` 151668).
 * - DeepSeek-R1 uses DeepSeek-V3's tokenizer, whose placeholders 128798 and
 *   128799 R1 turned into `<think>` and `</think>`.
 * - R1-Distill-Qwen is Qwen2.5's vocabulary with DeepSeek's tokens at
 *   151643-151649; R1-Distill-Llama is Llama 3.1's with DeepSeek's tokens in
 *   place of reserved ones (128000, 128001, 128011-128015).
 * - The templates of QwQ, Qwen3-Thinking-2507 and DeepSeek-R1 (whose distills
 *   ship R1's) are the packaged Qwen3 and DeepSeek-V3 templates with the
 *   change those models published: the generation prompt opens `<think>\n`,
 *   and R1's drops the thinking of earlier turns.
 * - gpt-oss's packaged files have no template: `HARMONY_TEMPLATE` writes the
 *   harmony format for plain messages (no tools, no date line).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Template } from "@huggingface/jinja";
import { TokenizerLoader } from "@lenml/tokenizers";
import type { ChatMessage } from "@thinkscope/core";
import type { FamilyId } from "@thinkscope/protocol";

type TokenizerPackage = "qwen3" | "qwen2_5" | "deepseek_v3" | "gptoss" | "llama3_1";

interface FamilyTokenizerSpec {
  package: TokenizerPackage;
  /** GGUF `tokenizer.ggml.pre`: the pre-tokenizer llama.cpp applies (as its converter names it). */
  pre: string;
  /** Added tokens the family changed: id to content and whether it is special. */
  addedTokens?: Readonly<Record<number, readonly [content: string, special: boolean]>>;
  bos?: string;
  eos: string;
  /** The family's template, from the package's (its `chat_template`). */
  template(packaged: string | undefined): string;
}

const DEEPSEEK_DISTILL_QWEN_TOKENS = {
  151643: ["<｜end▁of▁sentence｜>", true],
  151644: ["<｜User｜>", false],
  151645: ["<｜Assistant｜>", false],
  151646: ["<｜begin▁of▁sentence｜>", true],
  151647: ["<|EOT|>", false],
  151648: ["<think>", false],
  151649: ["</think>", false],
} as const;

const DEEPSEEK_DISTILL_LLAMA_TOKENS = {
  128000: ["<｜begin▁of▁sentence｜>", true],
  128001: ["<｜end▁of▁sentence｜>", true],
  128011: ["<｜User｜>", false],
  128012: ["<｜Assistant｜>", false],
  128013: ["<think>", false],
  128014: ["</think>", false],
  128015: ["<｜▁pad▁｜>", true],
} as const;

/** gpt-oss's harmony for plain messages: system header, developer instructions, turns, then `<|start|>assistant`. */
export const HARMONY_TEMPLATE =
  "{{- '<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\\n" +
  "Knowledge cutoff: 2024-06\\n\\nReasoning: medium\\n\\n" +
  "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>' -}}" +
  "{%- for message in messages -%}" +
  "{%- if message.role == 'system' -%}" +
  "{{- '<|start|>developer<|message|># Instructions\\n\\n' + message.content + '<|end|>' -}}" +
  "{%- elif message.role == 'user' -%}" +
  "{{- '<|start|>user<|message|>' + message.content + '<|end|>' -}}" +
  "{%- else -%}" +
  // Earlier answers keep their final channel only: the thinking of past turns is dropped.
  "{{- '<|start|>assistant<|channel|>final<|message|>' + message.content + '<|end|>' -}}" +
  "{%- endif -%}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|start|>assistant' -}}{%- endif -%}";

/** ChatML whose generation prompt opens `<think>\n`: a model of no known family that thinks in tags. */
const CHATML_THINK_TEMPLATE =
  "{%- for message in messages -%}" +
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' -}}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n<think>\\n' -}}{%- endif -%}";

/** Qwen3's template with the generation prompt opening the thinking (QwQ, Qwen3-Thinking-2507). */
function qwenOpeningThink(packaged: string | undefined): string {
  const generation = packaged?.lastIndexOf("{%- if add_generation_prompt %}") ?? -1;
  if (packaged === undefined || generation < 0) throw new Error("no Qwen3 generation prompt");
  return (
    packaged.slice(0, generation) +
    "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n<think>\\n' }}\n{%- endif %}\n"
  );
}

/** DeepSeek-V3's template as R1 changed it: `<think>\n` after the last `<｜Assistant｜>`, earlier thinking dropped. */
function deepseekR1(packaged: string | undefined): string {
  const history = "{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}";
  const generation = "{{'<｜Assistant｜>'}}{% endif %}";
  if (!packaged?.includes(history) || !packaged.endsWith(generation)) {
    throw new Error("the DeepSeek-V3 template changed: R1's edits no longer apply");
  }
  return packaged
    .replace(
      history,
      "{% set content = message['content'] %}{% if '</think>' in content %}" +
        "{% set content = content.split('</think>')[-1] %}{% endif %}" +
        "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}",
    )
    .replace(generation, "{{'<｜Assistant｜><think>\\n'}}{% endif %}");
}

const packaged = (template: string | undefined) => {
  if (template === undefined) throw new Error("the tokenizer package has no chat template");
  return template;
};

export const FAMILY_TOKENIZERS: Readonly<Record<FamilyId, FamilyTokenizerSpec>> = {
  qwen3: { package: "qwen3", pre: "qwen2", eos: "<|im_end|>", template: packaged },
  "qwen3-thinking-2507": {
    package: "qwen3",
    pre: "qwen2",
    eos: "<|im_end|>",
    template: qwenOpeningThink,
  },
  qwq: { package: "qwen3", pre: "qwen2", eos: "<|im_end|>", template: qwenOpeningThink },
  "deepseek-r1": {
    package: "deepseek_v3",
    pre: "deepseek-v3",
    addedTokens: { 128798: ["<think>", false], 128799: ["</think>", false] },
    bos: "<｜begin▁of▁sentence｜>",
    eos: "<｜end▁of▁sentence｜>",
    template: deepseekR1,
  },
  "r1-distill-qwen": {
    package: "qwen2_5",
    pre: "deepseek-r1-qwen",
    addedTokens: DEEPSEEK_DISTILL_QWEN_TOKENS,
    bos: "<｜begin▁of▁sentence｜>",
    eos: "<｜end▁of▁sentence｜>",
    template: () => deepseekR1(packageFiles("deepseek_v3").config.chat_template),
  },
  "r1-distill-llama": {
    package: "llama3_1",
    pre: "llama-bpe",
    addedTokens: DEEPSEEK_DISTILL_LLAMA_TOKENS,
    bos: "<｜begin▁of▁sentence｜>",
    eos: "<｜end▁of▁sentence｜>",
    template: () => deepseekR1(packageFiles("deepseek_v3").config.chat_template),
  },
  // s1 and s1.1 are fine-tuned Qwen2.5-32B-Instruct and keep its tokenizer and template.
  s1: { package: "qwen2_5", pre: "qwen2", eos: "<|im_end|>", template: packaged },
  "gpt-oss": {
    package: "gptoss",
    pre: "gpt-4o",
    bos: "<|startoftext|>",
    eos: "<|return|>",
    template: () => HARMONY_TEMPLATE,
  },
  // No known family: Qwen3's vocabulary (so `<think>` is one token) under a plain ChatML template.
  "think-tags": {
    package: "qwen3",
    pre: "qwen2",
    eos: "<|im_end|>",
    template: () => CHATML_THINK_TEMPLATE,
  },
};

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

interface TokenizerFiles {
  json: {
    model: { vocab: Record<string, number>; merges: Array<string | [string, string]> };
    added_tokens: AddedToken[];
  };
  config: { chat_template?: string } & Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const filesCache = new Map<TokenizerPackage, TokenizerFiles>();

function packageFiles(name: TokenizerPackage): TokenizerFiles {
  let files = filesCache.get(name);
  if (!files) {
    const read = (file: string) =>
      JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-${name}/models/${file}`), "utf8"));
    files = { json: read("tokenizer.json"), config: read("tokenizer_config.json") };
    filesCache.set(name, files);
  }
  return files;
}

// GGUF token types (llama.h).
const TYPE_NORMAL = 1;
const TYPE_CONTROL = 3;
const TYPE_USER_DEFINED = 4;
const TYPE_UNUSED = 5;

/** One family's tokenizer: the HF tokenizer for expected ids, and its vocabulary as a GGUF holds it. */
export class FamilyTokenizer {
  readonly chatTemplate: string;
  readonly bos: string | undefined;
  readonly eos: string;
  readonly pre: string;
  private readonly tokenizer: ReturnType<typeof TokenizerLoader.fromPreTrained>;
  private readonly files: TokenizerFiles;
  private readonly addedTokens: AddedToken[];
  private readonly template: Template;

  constructor(readonly family: FamilyId) {
    const spec = FAMILY_TOKENIZERS[family];
    const files = packageFiles(spec.package);
    const changed = spec.addedTokens ?? {};
    this.addedTokens = files.json.added_tokens.map((token) => {
      const change = changed[token.id];
      return change ? { ...token, content: change[0], special: change[1] } : token;
    });
    this.files = files;
    this.chatTemplate = spec.template(files.config.chat_template);
    this.template = new Template(this.chatTemplate);
    this.bos = spec.bos;
    this.eos = spec.eos;
    this.pre = spec.pre;
    // The template and the added tokens are the family's, not the package's.
    const config = { ...files.config };
    delete config.chat_template;
    delete config.added_tokens_decoder;
    this.tokenizer = TokenizerLoader.fromPreTrained({
      tokenizerJSON: { ...files.json, added_tokens: this.addedTokens } as never,
      tokenizerConfig: config as never,
    });
  }

  /** Text to ids as the model's tokenizer does (added tokens are parsed, nothing is prepended). */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false });
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: false });
  }

  /** The id of a text that is one token; throws otherwise. */
  id(text: string): number {
    const ids = this.encode(text);
    if (ids.length !== 1) throw new Error(`${JSON.stringify(text)} is ${ids.length} tokens`);
    return ids[0]!;
  }

  /** The chat template's prompt for these messages, as vLLM and llama.cpp render it. */
  render(messages: readonly ChatMessage[]): string {
    return this.template.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: true,
      bos_token: this.bos ?? "",
      eos_token: this.eos,
    });
  }

  /**
   * The vocabulary as llama.cpp's converter writes it: byte-level token
   * texts by id, added tokens as written, holes as unused `[PAD<id>]`;
   * special added tokens, and those that look special (`<|...|>`,
   * `<｜...｜>`), are control tokens, the others user-defined.
   */
  ggufVocabulary(): { tokens: string[]; types: number[]; merges: string[] } {
    const { vocab, merges } = this.files.json.model;
    let size = 0;
    for (const id of Object.values(vocab)) size = Math.max(size, id + 1);
    for (const token of this.addedTokens) size = Math.max(size, token.id + 1);
    const tokens = Array.from({ length: size }, (_, id) => `[PAD${id}]`);
    const types = new Array<number>(size).fill(TYPE_UNUSED);
    for (const [text, id] of Object.entries(vocab)) {
      tokens[id] = text;
      types[id] = TYPE_NORMAL;
    }
    for (const token of this.addedTokens) {
      tokens[token.id] = token.content;
      types[token.id] =
        token.special || looksSpecial(token.content) ? TYPE_CONTROL : TYPE_USER_DEFINED;
    }
    return {
      tokens,
      types,
      merges: merges.map((merge) => (typeof merge === "string" ? merge : merge.join(" "))),
    };
  }
}

function looksSpecial(text: string): boolean {
  return (
    (text.startsWith("<|") && text.endsWith("|>")) ||
    (text.startsWith("<｜") && text.endsWith("｜>"))
  );
}

const tokenizers = new Map<FamilyId, FamilyTokenizer>();

/** A family's tokenizer, loaded once per process (a load takes one to four seconds). */
export function familyTokenizer(family: FamilyId): FamilyTokenizer {
  let tokenizer = tokenizers.get(family);
  if (!tokenizer) {
    tokenizer = new FamilyTokenizer(family);
    tokenizers.set(family, tokenizer);
  }
  return tokenizer;
}
