/**
 * Tiny llama-architecture GGUF models whose greedy continuation follows a
 * transition table, so tests on the real llama.cpp path know every token in
 * advance, so engine tests on real llama.cpp need no download.
 *
 * How the weights make that exact: the model width is at least the
 * vocabulary size and each token's embedding is one-hot. Attention and FFN
 * output matrices are zero, so the residual stream stays the current token's
 * one-hot vector through every layer, and the output matrix maps it straight
 * to logits: the chosen next token(s) get a logit of `MARGIN + ln p`, every
 * other token 0. The next token therefore depends on the current token only
 * (one-token lookback): that is the model's one limitation, and enough for
 * budget-forcing tests.
 */
import { createHash } from "node:crypto";
import { mkdir, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeGguf, type GgufFile, type GgufTensor, type GgufValue } from "./gguf-writer.ts";

/** Next token for a token: one token text, or a distribution `{ text: probability }`. */
export type TestModelTransition = string | Readonly<Record<string, number>>;

export interface TestModelOptions {
  /**
   * Token text to its successor. Keys and values are token texts as they read:
   * `" "` for the space token, `"\n"`, `"<think>"`, `"<0xE2>"` for a byte token,
   * or one of `words`. Defaults to `COUNTING_TRANSITIONS`; giving a table
   * replaces it (spread `COUNTING_TRANSITIONS` to extend it).
   */
  transitions?: Readonly<Record<string, TestModelTransition>>;
  /** Successor of every token without a transition. Defaults to `<|im_end|>` (end of sequence). */
  fallback?: string;
  /** Extra multi-character tokens, marked user-defined so they always tokenize whole. Defaults to `["Wait"]`. */
  words?: readonly string[];
  /** Jinja chat template stored as `tokenizer.chat_template`; `null` stores none. Defaults to `CHATML_THINK_TEMPLATE`. */
  chatTemplate?: string | null;
  /** Training context length written to the file. Defaults to 4096. */
  contextLength?: number;
  /** Transformer blocks (all inert). Defaults to 1. */
  layers?: number;
  /** `general.name`. Defaults to `thinkscope-test-model`. */
  name?: string;
}

/** ChatML with the thinking start pre-inserted after the assistant tag, as QwQ and R1 distills do. */
export const CHATML_THINK_TEMPLATE =
  "{%- for message in messages -%}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' -}}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}" +
  "{{- '<|im_start|>assistant\\n<think>\\n' -}}" +
  "{%- endif -%}";

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

/**
 * The default "counting" model. From a prompt ending in `<think>\n` it thinks
 * `abc...z` (26 tokens), closes with `</think>` and answers ` 42`, then ends
 * (`<|im_end|>`). After an injected `Wait` it continues `tuvwxyz` and tries to
 * close again; after a forced close ending in `Final Answer:` it answers ` 42`.
 */
export const COUNTING_TRANSITIONS: Readonly<Record<string, TestModelTransition>> = Object.freeze({
  "<think>": "\n",
  "\n": "a",
  ...Object.fromEntries([...LETTERS.slice(0, -1)].map((c, i) => [c, LETTERS[i + 1]!])),
  z: "</think>",
  "</think>": " ",
  ":": " ",
  " ": "4",
  "4": "2",
  "2": "<|im_end|>",
  Wait: "t",
});

// Bump when the file layout changes, so cached files are rebuilt.
const GENERATOR_VERSION = 1;
const MARGIN = 30;
const RMS_EPS = 1e-5;
const HEAD_DIM = 16;
const FFN_LENGTH = 32;

const TYPE_NORMAL = 1;
const TYPE_UNKNOWN = 2;
const TYPE_CONTROL = 3;
const TYPE_USER_DEFINED = 4;
const TYPE_BYTE = 6;
const SPM_SPACE = "\u2581";

/** The vocabulary of a test model, to compute expected ids without llama.cpp. */
export class TestModelVocabulary {
  readonly tokens: readonly string[];
  readonly types: readonly number[];
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[]) {
    const tokens = ["<unk>", "<s>", "<|im_end|>", "<|im_start|>", "<think>", "</think>"];
    const types = [
      TYPE_UNKNOWN,
      TYPE_CONTROL,
      TYPE_CONTROL,
      TYPE_CONTROL,
      TYPE_USER_DEFINED,
      TYPE_USER_DEFINED,
    ];
    for (let b = 0; b < 256; b++) {
      tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
      types.push(TYPE_BYTE);
    }
    tokens.push(SPM_SPACE);
    types.push(TYPE_NORMAL);
    for (let c = 0x21; c < 0x7f; c++) {
      tokens.push(String.fromCharCode(c));
      types.push(TYPE_NORMAL);
    }
    for (const word of words) {
      if ([...word].length < 2 || tokens.includes(word)) {
        throw new Error(
          `test model word ${JSON.stringify(word)} must be new and longer than one character`,
        );
      }
      tokens.push(word);
      types.push(TYPE_USER_DEFINED);
    }
    this.tokens = tokens;
    this.types = types;
    this.ids = new Map(tokens.map((t, i) => [t, i]));
  }

  get size(): number {
    return this.tokens.length;
  }

  get bos(): number {
    return this.id("<s>");
  }

  get eos(): number {
    return this.id("<|im_end|>");
  }

  /** The id of the one token that reads `text` (`" "` is the space token, `"\n"` the newline byte). */
  id(text: string): number {
    const direct = this.ids.get(text === " " ? SPM_SPACE : text);
    if (direct !== undefined) return direct;
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length === 1)
      return this.ids.get(`<0x${bytes[0]!.toString(16).toUpperCase().padStart(2, "0")}>`)!;
    throw new Error(`${JSON.stringify(text)} is not a single token of the test model`);
  }

  /** Ids of a text made of single-token pieces (characters, or whole words and specials listed here). */
  idsOf(pieces: readonly string[]): number[] {
    return pieces.map((p) => this.id(p));
  }
}

interface ResolvedOptions {
  transitions: Readonly<Record<string, TestModelTransition>>;
  fallback: string;
  words: readonly string[];
  chatTemplate: string | null;
  contextLength: number;
  layers: number;
  name: string;
}

function resolveOptions(options: TestModelOptions): ResolvedOptions {
  const resolved = {
    transitions: options.transitions ?? COUNTING_TRANSITIONS,
    fallback: options.fallback ?? "<|im_end|>",
    words: options.words ?? ["Wait"],
    chatTemplate: options.chatTemplate === undefined ? CHATML_THINK_TEMPLATE : options.chatTemplate,
    contextLength: options.contextLength ?? 4096,
    layers: options.layers ?? 1,
    name: options.name ?? "thinkscope-test-model",
  };
  if (!Number.isInteger(resolved.contextLength) || resolved.contextLength < 16) {
    throw new Error(
      `test model contextLength must be an integer >= 16, got ${resolved.contextLength}`,
    );
  }
  if (!Number.isInteger(resolved.layers) || resolved.layers < 1) {
    throw new Error(`test model layers must be a positive integer, got ${resolved.layers}`);
  }
  return resolved;
}

function distribution(transition: TestModelTransition): Array<[string, number]> {
  if (typeof transition === "string") return [[transition, 1]];
  const entries = Object.entries(transition);
  const total = entries.reduce((sum, [, p]) => sum + p, 0);
  if (entries.length === 0 || entries.some(([, p]) => !(p > 0)) || !(total > 0)) {
    throw new Error(
      `test model transition ${JSON.stringify(transition)} needs positive probabilities`,
    );
  }
  return entries.map(([text, p]) => [text, p / total]);
}

/** Build the GGUF content of a test model (no I/O). */
export function buildTestModel(options: TestModelOptions = {}): {
  file: GgufFile;
  vocabulary: TestModelVocabulary;
} {
  const o = resolveOptions(options);
  const vocab = new TestModelVocabulary(o.words);
  const vocabSize = vocab.size;
  // Wide enough for a one-hot code per token; a multiple of 32 keeps ggml's kernels on their fast paths.
  const width = Math.ceil(vocabSize / 32) * 32;

  const embedding = new Float32Array(width * vocabSize);
  for (let t = 0; t < vocabSize; t++) embedding[t * width + t] = 1;

  // RMS norm scales a one-hot vector by 1 / sqrt(1/width + eps); undo it so logits are exactly MARGIN + ln p.
  const normScale = 1 / Math.sqrt(1 / width + RMS_EPS);
  const output = new Float32Array(width * vocabSize);
  const fallback = vocab.id(o.fallback);
  const successors = new Map<number, Array<[number, number]>>();
  for (const [from, transition] of Object.entries(o.transitions)) {
    successors.set(
      vocab.id(from),
      distribution(transition).map(([to, p]) => [vocab.id(to), p]),
    );
  }
  for (let t = 0; t < vocabSize; t++) {
    for (const [next, p] of successors.get(t) ?? [[fallback, 1]]) {
      output[next * width + t] = (MARGIN + Math.log(p)) / normScale;
    }
  }

  const ones = (n: number) => new Float32Array(n).fill(1);
  const zeros = (n: number) => new Float32Array(n);
  const tensors: GgufTensor[] = [
    { name: "token_embd.weight", dims: [width, vocabSize], data: embedding },
  ];
  for (let i = 0; i < o.layers; i++) {
    tensors.push(
      { name: `blk.${i}.attn_norm.weight`, dims: [width], data: ones(width) },
      { name: `blk.${i}.attn_q.weight`, dims: [width, HEAD_DIM], data: zeros(width * HEAD_DIM) },
      { name: `blk.${i}.attn_k.weight`, dims: [width, HEAD_DIM], data: zeros(width * HEAD_DIM) },
      { name: `blk.${i}.attn_v.weight`, dims: [width, HEAD_DIM], data: zeros(width * HEAD_DIM) },
      // Zero output projection: attention adds nothing to the residual stream.
      {
        name: `blk.${i}.attn_output.weight`,
        dims: [HEAD_DIM, width],
        data: zeros(width * HEAD_DIM),
      },
      { name: `blk.${i}.ffn_norm.weight`, dims: [width], data: ones(width) },
      {
        name: `blk.${i}.ffn_gate.weight`,
        dims: [width, FFN_LENGTH],
        data: zeros(width * FFN_LENGTH),
      },
      {
        name: `blk.${i}.ffn_up.weight`,
        dims: [width, FFN_LENGTH],
        data: zeros(width * FFN_LENGTH),
      },
      {
        name: `blk.${i}.ffn_down.weight`,
        dims: [FFN_LENGTH, width],
        data: zeros(width * FFN_LENGTH),
      },
    );
  }
  tensors.push(
    { name: "output_norm.weight", dims: [width], data: ones(width) },
    { name: "output.weight", dims: [width, vocabSize], data: output },
  );

  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const metadata: Array<readonly [string, GgufValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: o.name }],
    ["general.alignment", u32(32)],
    ["general.file_type", u32(0)],
    ["llama.context_length", u32(o.contextLength)],
    ["llama.embedding_length", u32(width)],
    ["llama.block_count", u32(o.layers)],
    ["llama.feed_forward_length", u32(FFN_LENGTH)],
    ["llama.attention.head_count", u32(1)],
    ["llama.attention.head_count_kv", u32(1)],
    ["llama.attention.key_length", u32(HEAD_DIM)],
    ["llama.attention.value_length", u32(HEAD_DIM)],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: RMS_EPS }],
    ["llama.rope.dimension_count", u32(HEAD_DIM)],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["llama.vocab_size", u32(vocabSize)],
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: vocab.tokens }],
    [
      "tokenizer.ggml.scores",
      { type: "array", itemType: "f32", values: vocab.tokens.map(() => 0) },
    ],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", values: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", u32(vocab.id("<unk>"))],
    ["tokenizer.ggml.bos_token_id", u32(vocab.bos)],
    ["tokenizer.ggml.eos_token_id", u32(vocab.eos)],
    ["tokenizer.ggml.eot_token_id", u32(vocab.eos)],
    ["tokenizer.ggml.padding_token_id", u32(vocab.id("<unk>"))],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    ["tokenizer.ggml.add_space_prefix", { type: "bool", value: false }],
  ];
  if (o.chatTemplate !== null)
    metadata.push(["tokenizer.chat_template", { type: "string", value: o.chatTemplate }]);

  return { file: { metadata, tensors }, vocabulary: vocab };
}

/** Write a test model to `path`. */
export async function writeTestModel(
  path: string,
  options: TestModelOptions = {},
): Promise<{ path: string; vocabulary: TestModelVocabulary }> {
  const { file, vocabulary } = buildTestModel(options);
  await writeGguf(path, file);
  return { path, vocabulary };
}

/**
 * A test model file for these options, built once and cached in the temp
 * directory under a hash of the options (so parallel test files share it).
 */
export async function getTestModel(
  options: TestModelOptions = {},
): Promise<{ path: string; vocabulary: TestModelVocabulary }> {
  const resolved = resolveOptions(options);
  const key = createHash("sha256")
    .update(JSON.stringify({ v: GENERATOR_VERSION, ...resolved }))
    .digest("hex")
    .slice(0, 16);
  const dir = join(tmpdir(), "thinkscope-test-models");
  const path = join(dir, `${key}.gguf`);
  const vocabulary = new TestModelVocabulary(resolved.words);
  if (await stat(path).catch(() => null)) return { path, vocabulary };
  await mkdir(dir, { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const partial = `${path}.${process.pid}.${Date.now()}.partial`;
  await writeTestModel(partial, options);
  await rename(partial, path);
  return { path, vocabulary };
}
