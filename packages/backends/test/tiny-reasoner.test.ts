/**
 * The bundled tiny reasoning model (models/tiny-reasoner.gguf, trained by
 * tools/tiny-reasoner) and its sharpened twin (models/tiny-reasoner-rl.gguf):
 * llama.cpp through the embedded backend decodes each exactly as torch did at
 * export time, the base is the default model when nothing else is
 * configured, and each forced wait buys it accuracy.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BudgetForcingRun, RunTranscript, grade } from "@thinkscope/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_EMBEDDED_MODEL,
  createEmbeddedBackend,
  resolveDefaultModel,
  type EmbeddedBackend,
} from "../src/index.ts";

interface ParityCase {
  name: string;
  text: string;
  prompt_ids: number[];
  continuation_ids: number[];
}

const MODEL = DEFAULT_EMBEDDED_MODEL.bundledPath;
const TWIN = MODEL.replace(/\.gguf$/, "-rl.gguf");
const parityCases = (model: string): ParityCase[] =>
  JSON.parse(readFileSync(model.replace(/\.gguf$/, ".parity.json"), "utf8"));
let dataDir: string;
let backend: EmbeddedBackend;
let twin: EmbeddedBackend;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-tiny-"));
  // No model given: the backend must pick the bundled file by itself.
  backend = createEmbeddedBackend({ dataDir });
  twin = createEmbeddedBackend({ dataDir, model: TWIN });
  await Promise.all([backend.prepare(), twin.prepare()]);
});

afterAll(async () => {
  await Promise.all([backend.close(), twin.close()]);
  await rm(dataDir, { recursive: true, force: true });
});

/** Greedy decoding of the recorded prompt gives torch's ids, and ends where torch ended. */
async function expectParity(served: EmbeddedBackend, parity: ParityCase): Promise<void> {
  const session = await served.openSession({});
  try {
    expect(await session.tokenize!(parity.text, { special: true })).toEqual(parity.prompt_ids);
    const eos = session.eosTokenIds ?? [];
    const expected = parity.continuation_ids.filter((id) => !eos.includes(id));
    const endsInEos = expected.length < parity.continuation_ids.length;
    const generated: number[] = [];
    let endOfSequence = false;
    for await (const event of session.generate({
      prompt: { tokens: parity.prompt_ids },
      // Where torch ended the sequence, leave room for the end to show.
      maxTokens: endsInEos ? expected.length + 1 : expected.length,
      stopTokenIds: [],
      stopStrings: [],
      sampling: { temperature: 0 },
      signal: new AbortController().signal,
    })) {
      if (event.type === "tokens") generated.push(...(event.tokenIds ?? []));
      else endOfSequence = event.endOfSequence === true;
    }
    expect(generated).toEqual(expected);
    if (endsInEos) expect(endOfSequence).toBe(true);
  } finally {
    await session.close();
  }
}

describe("the bundled tiny reasoner", () => {
  it("is the default embedded model when none is configured", () => {
    expect(existsSync(MODEL)).toBe(true);
    expect(resolveDefaultModel()).toBe(MODEL);
    expect(backend.modelSpec).toBe(MODEL);
    // Without the file, the default falls back to a real model downloaded on first use.
    expect(resolveDefaultModel(() => false)).toBe(DEFAULT_EMBEDDED_MODEL.downloadUri);
  });

  it.each(parityCases(MODEL).map((c) => [c.name, c] as const))(
    "decodes %s exactly as torch did (parity of the export)",
    (_name, parity) => expectParity(backend, parity),
  );

  it("shows budget forcing at work: each forced wait repairs more held-out sums", async () => {
    const heldOut = readFileSync(MODEL.replace(/\.gguf$/, ".heldout.jsonl"), "utf8")
      .trim()
      .split("\n")
      .slice(0, 20)
      .map((line) => JSON.parse(line) as { problem: string; answer: number });
    const session = await backend.openSession({});
    const correct = { 0: 0, 1: 0, 2: 0 };
    try {
      for (const { problem, answer } of heldOut) {
        const prompt = await backend.applyChatTemplate([{ role: "user", content: problem }], {});
        for (const numWaits of [0, 1, 2] as const) {
          const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
            prompt,
            budgetForcing: { num_waits: numWaits, max_thinking_tokens: 512, max_answer_tokens: 64 },
          });
          const transcript = new RunTranscript();
          for await (const event of run.events()) transcript.apply(event);
          if (grade(transcript.answerText, String(answer)).correct) correct[numWaits] += 1;
        }
      }
    } finally {
      await session.close();
    }
    // Greedy and deterministic: the quick pass alone is seldom right; each
    // check after a Wait fixes one more wrong column, so the second wait
    // still gains, though less than the first.
    expect(correct[0]).toBeLessThanOrEqual(4);
    expect(correct[1] - correct[0]).toBeGreaterThanOrEqual(4);
    expect(correct[2] - correct[1]).toBeGreaterThanOrEqual(2);
    expect(correct[2] - correct[1]).toBeLessThan(correct[1] - correct[0]);
  });
});

describe("the tiny reasoner's token entropy", () => {
  it("is reported for every token, and high where the model decides a carry, low where it copies", async () => {
    const session = await backend.openSession({});
    const tokens: { text: string; bits: number }[] = [];
    try {
      const prompt = await backend.applyChatTemplate(
        [{ role: "user", content: "What is 4821 + 397?" }],
        {},
      );
      const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt,
        budgetForcing: { num_waits: 1, max_thinking_tokens: 512, max_answer_tokens: 64 },
        tokenEntropy: true,
      });
      for await (const event of run.events()) {
        if (event.type !== "delta" || event.tokens === 0) continue;
        // One token per delta on this backend, each with its entropy.
        expect(event.entropies).toHaveLength(event.tokens);
        tokens.push({ text: event.text, bits: event.entropies![0]! });
      }
    } finally {
      await session.close();
    }
    expect(backend.capabilities.tokenEntropy).toBe(true);
    const most = Math.log2(backend.info!.vocabularySize!);
    expect(tokens.every(({ bits }) => bits >= 0 && bits <= most)).toBe(true);

    // The quick pass: "Quick, without carrying: 1+7=8 2+9=1 ...". Its words are
    // fixed, so the model is sure of them; a column's result digit is where it
    // weighs carrying, and that is where it is unsure.
    const text = tokens.map((t) => t.text).join("");
    const quickEnd = text.indexOf("\n");
    let at = 0;
    const words: number[] = [];
    const sums: number[] = [];
    for (const [i, { text: piece, bits }] of tokens.entries()) {
      if (at >= quickEnd) break;
      if (/[a-z]/i.test(piece)) words.push(bits);
      if (/\d/.test(piece) && tokens[i - 1]?.text === "=") sums.push(bits);
      at += piece.length;
    }
    expect(words.length).toBeGreaterThan(10);
    expect(sums.length).toBe(4);
    expect(Math.min(...sums)).toBeGreaterThan(10 * Math.max(...words, 0.01));
  });
});

describe("the sharpened twin (tiny-reasoner-rl)", () => {
  it("is served by name next to the base model", () => {
    expect(existsSync(TWIN)).toBe(true);
    expect(twin.modelId).toBe("tiny-reasoner-rl");
    expect(backend.modelId).toBe("tiny-reasoner");
  });

  it.each(parityCases(TWIN).map((c) => [c.name, c] as const))(
    "decodes %s exactly as torch did (parity of the export)",
    (_name, parity) => expectParity(twin, parity),
  );
});
