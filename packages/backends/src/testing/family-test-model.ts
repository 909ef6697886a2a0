/**
 * Test models with a family's real vocabulary and chat template and tiny
 * scripted weights: byte-level BPE GGUF files that llama.cpp tokenizes as the
 * real model's GGUF, whose greedy output follows a script of token ids.
 *
 * The weights follow the one-hot trick of test-model.ts, made small for a
 * vocabulary of 128k-201k tokens: only the tokens the script uses get a
 * dimension of their own (one-hot embedding, an output column that maps it to
 * its successor); every other token shares the last dimension, which maps to
 * the end of sequence. The two vocabulary-sized matrices are f16 at width
 * 32, about 10 MB each for a 151k vocabulary, instead of 600 MB one-hot.
 */
import { createHash } from "node:crypto";
import { mkdir, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FamilyId } from "@thinkscope/protocol";
import { familyTokenizer, type FamilyTokenizer } from "./family-tokenizers.ts";
import { writeGguf, type GgufFile, type GgufTensor, type GgufValue } from "./gguf-writer.ts";

export interface FamilyTestModelOptions {
  family: FamilyId;
  /** Token id to the id the model writes after it; any other token is followed by the end of sequence. */
  transitions: ReadonlyMap<number, number>;
  /** `general.name`, which the family is matched from. */
  name: string;
  /** A chat template instead of the family's (to test a wrong one). */
  chatTemplate?: string;
  contextLength?: number;
}

// Bump when the file layout changes, so cached files are rebuilt.
const GENERATOR_VERSION = 1;
const MARGIN = 30;
const RMS_EPS = 1e-5;
const HEAD_DIM = 16;
const FFN_LENGTH = 32;
/** A multiple of 32 keeps ggml's kernels on their fast paths. */
const WIDTH_STEP = 32;

/** Build a family test model's GGUF content (no I/O). */
export function buildFamilyTestModel(options: FamilyTestModelOptions): GgufFile {
  const tokenizer = familyTokenizer(options.family);
  const { tokens, types, merges } = tokenizer.ggufVocabulary();
  const vocabSize = tokens.length;
  const eos = tokenizer.id(tokenizer.eos);

  // Dimension per scripted token, the last one for every other token.
  const scripted = [...new Set([...options.transitions.keys(), ...options.transitions.values()])];
  const width = Math.ceil((scripted.length + 1) / WIDTH_STEP) * WIDTH_STEP;
  const rest = width - 1;
  const dimension = new Map(scripted.map((id, index) => [id, index]));
  for (const id of scripted) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new Error(
        `family test model: token ${id} is outside the ${vocabSize}-token vocabulary`,
      );
    }
  }

  const embedding = new Float32Array(width * vocabSize);
  for (let token = 0; token < vocabSize; token++) {
    embedding[token * width + (dimension.get(token) ?? rest)] = 1;
  }
  // RMS norm scales a one-hot vector by 1 / sqrt(1/width + eps); undo it so a chosen logit is MARGIN.
  const logit = MARGIN * Math.sqrt(1 / width + RMS_EPS);
  const output = new Float32Array(width * vocabSize);
  for (const [from, to] of options.transitions) output[to * width + dimension.get(from)!] = logit;
  output[eos * width + rest] = logit;

  const zeros = (n: number) => new Float32Array(n);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const tensors: GgufTensor[] = [
    { name: "token_embd.weight", dims: [width, vocabSize], data: embedding, type: "f16" },
    { name: "blk.0.attn_norm.weight", dims: [width], data: ones(width) },
    { name: "blk.0.attn_q.weight", dims: [width, HEAD_DIM], data: zeros(width * HEAD_DIM) },
    { name: "blk.0.attn_k.weight", dims: [width, HEAD_DIM], data: zeros(width * HEAD_DIM) },
    { name: "blk.0.attn_v.weight", dims: [width, HEAD_DIM], data: zeros(width * HEAD_DIM) },
    // Zero output projections: attention and FFN add nothing to the residual stream.
    { name: "blk.0.attn_output.weight", dims: [HEAD_DIM, width], data: zeros(width * HEAD_DIM) },
    { name: "blk.0.ffn_norm.weight", dims: [width], data: ones(width) },
    { name: "blk.0.ffn_gate.weight", dims: [width, FFN_LENGTH], data: zeros(width * FFN_LENGTH) },
    { name: "blk.0.ffn_up.weight", dims: [width, FFN_LENGTH], data: zeros(width * FFN_LENGTH) },
    { name: "blk.0.ffn_down.weight", dims: [FFN_LENGTH, width], data: zeros(width * FFN_LENGTH) },
    { name: "output_norm.weight", dims: [width], data: ones(width) },
    { name: "output.weight", dims: [width, vocabSize], data: output, type: "f16" },
  ];

  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const metadata: Array<readonly [string, GgufValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: options.name }],
    ["general.alignment", u32(32)],
    ["general.file_type", u32(1)],
    ["llama.context_length", u32(options.contextLength ?? 512)],
    ["llama.embedding_length", u32(width)],
    ["llama.block_count", u32(1)],
    ["llama.feed_forward_length", u32(FFN_LENGTH)],
    ["llama.attention.head_count", u32(1)],
    ["llama.attention.head_count_kv", u32(1)],
    ["llama.attention.key_length", u32(HEAD_DIM)],
    ["llama.attention.value_length", u32(HEAD_DIM)],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: RMS_EPS }],
    ["llama.rope.dimension_count", u32(HEAD_DIM)],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["llama.vocab_size", u32(vocabSize)],
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: tokenizer.pre }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", values: tokens }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", values: types }],
    ["tokenizer.ggml.merges", { type: "array", itemType: "string", values: merges }],
    ["tokenizer.ggml.eos_token_id", u32(eos)],
    // The templates write the BOS themselves; the tokenizer prepends nothing.
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
    [
      "tokenizer.chat_template",
      { type: "string", value: options.chatTemplate ?? tokenizer.chatTemplate },
    ],
  ];
  if (tokenizer.bos !== undefined)
    metadata.push(["tokenizer.ggml.bos_token_id", u32(tokenizer.id(tokenizer.bos))]);
  return { metadata, tensors };
}

/**
 * A family test model file for these options, built once and cached in the
 * temp directory under a hash of the options (so parallel test files share it).
 */
export async function getFamilyTestModel(
  options: FamilyTestModelOptions,
): Promise<{ path: string; tokenizer: FamilyTokenizer }> {
  const tokenizer = familyTokenizer(options.family);
  const key = createHash("sha256")
    .update(
      JSON.stringify({
        v: GENERATOR_VERSION,
        ...options,
        transitions: [...options.transitions],
        template: options.chatTemplate ?? tokenizer.chatTemplate,
      }),
    )
    .digest("hex")
    .slice(0, 16);
  const dir = join(tmpdir(), "thinkscope-test-models");
  const path = join(dir, `${options.family}-${key}.gguf`);
  if (await stat(path).catch(() => null)) return { path, tokenizer };
  await mkdir(dir, { recursive: true });
  // Write then rename, so a concurrent reader never sees half a file.
  const partial = `${path}.${process.pid}.${Date.now()}.partial`;
  await writeGguf(partial, buildFamilyTestModel(options));
  await rename(partial, path);
  return { path, tokenizer };
}
