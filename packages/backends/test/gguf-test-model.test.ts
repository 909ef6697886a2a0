import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, readGgufFileInfo, type Llama, type Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildTestModel,
  COUNTING_TRANSITIONS,
  encodeGguf,
  getTestModel,
  TestModelVocabulary,
} from "../src/testing/index.ts";

let dir: string;
let llama: Llama;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "thinkscope-gguf-"));
  llama = await getLlama({ gpu: false, build: "never", maxThreads: 0 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("encodeGguf", () => {
  it("writes a file node-llama-cpp's own GGUF reader reads back", async () => {
    const path = join(dir, "small.gguf");
    await writeFile(
      path,
      encodeGguf({
        metadata: [
          ["general.architecture", { type: "string", value: "llama" }],
          ["general.name", { type: "string", value: "héllo" }],
          ["test.count", { type: "u32", value: 7 }],
          ["test.ratio", { type: "f32", value: 0.5 }],
          ["test.flag", { type: "bool", value: true }],
          ["test.words", { type: "array", itemType: "string", values: ["a", "<think>"] }],
          ["test.ints", { type: "array", itemType: "i32", values: [-1, 2] }],
        ],
        tensors: [
          { name: "a", dims: [3], data: new Float32Array([1, 2, 3]) },
          { name: "b", dims: [2, 2], data: new Float32Array([1, 0, 0, 1]) },
        ],
      }),
    );
    const info = await readGgufFileInfo(path, { readTensorInfo: true });
    expect(info.version).toBe(3);
    const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(metadata.general).toMatchObject({ architecture: "llama", name: "héllo" });
    expect(metadata.test).toEqual({
      count: 7,
      ratio: 0.5,
      flag: true,
      words: ["a", "<think>"],
      ints: [-1, 2],
    });
    expect(
      info.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number), Number(t.offset)]),
    ).toEqual([
      ["a", [3], 0],
      ["b", [2, 2], 32], // each tensor starts on the 32-byte alignment
    ]);
  });

  it("refuses a tensor whose data does not match its dimensions", () => {
    expect(() =>
      encodeGguf({
        metadata: [],
        tensors: [{ name: "w", dims: [2, 3], data: new Float32Array(5) }],
      }),
    ).toThrow(/w: dims \[2, 3\] need 6 floats, got 5/);
  });
});

describe("test model vocabulary", () => {
  const vocab = new TestModelVocabulary(["Wait"]);

  it("names tokens as they read", () => {
    expect(vocab.tokens[vocab.id(" ")]).toBe("\u2581");
    expect(vocab.tokens[vocab.id("\n")]).toBe("<0x0A>");
    expect(vocab.tokens[vocab.id("Wait")]).toBe("Wait");
    expect(vocab.eos).toBe(vocab.id("<|im_end|>"));
    expect(() => vocab.id("ab")).toThrow(/"ab" is not a single token/);
  });

  it("rejects a transition to a token the vocabulary lacks", () => {
    expect(() => buildTestModel({ transitions: { a: "hello" } })).toThrow(
      /"hello" is not a single token/,
    );
    expect(() => buildTestModel({ transitions: { a: { b: 0 } } })).toThrow(
      /positive probabilities/,
    );
  });
});

describe("getTestModel", () => {
  it("caches one file per distinct options", async () => {
    const first = await getTestModel();
    const again = await getTestModel({});
    const other = await getTestModel({ transitions: { ...COUNTING_TRANSITIONS, z: "a" } });
    expect(again.path).toBe(first.path);
    expect(other.path).not.toBe(first.path);
  });
});

describe("the counting model on llama.cpp", () => {
  it("tokenizes the delimiters as single tokens and decodes greedily along the table", async () => {
    const { path, vocabulary: v } = await getTestModel();
    const model = await llama.loadModel({ modelPath: path });
    try {
      expect(model.tokenize("<think>", true)).toEqual([v.id("<think>")]);
      expect(model.tokenize("</think>", true)).toEqual([v.id("</think>")]);
      expect(model.tokenize("<|im_start|>", true)).toEqual([v.id("<|im_start|>")]);
      expect(model.tokenize("<|im_end|>", true)).toEqual([v.id("<|im_end|>")]);
      expect(model.tokenize("Wait", true)).toEqual([v.id("Wait")]);
      // Control tokens are text without `special`; user-defined ones stay whole, as in real models.
      expect(model.tokenize("<|im_start|>", false)).toHaveLength("<|im_start|>".length);
      expect(model.tokenize("a b\n", true)).toEqual(v.idsOf(["a", " ", "b", "\n"]));
      expect(model.tokens.eos).toBe(v.eos);

      const context = await model.createContext({ contextSize: 256, threads: 1 });
      const sequence = context.getSequence();
      const prompt = model.tokenize(
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n",
        true,
      );
      const out: number[] = [];
      for await (const token of sequence.evaluate(prompt, {
        temperature: 0,
        yieldEogToken: true,
      })) {
        out.push(token);
        if (model.isEogToken(token) || out.length > 40) break;
      }
      expect(model.detokenize(out as Token[], true)).toBe(
        "abcdefghijklmnopqrstuvwxyz</think> 42<|im_end|>",
      );
      await context.dispose();
    } finally {
      await model.dispose();
    }
  });
});
