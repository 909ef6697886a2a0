/**
 * Thinking-control methods on the real embedded engine (node-llama-cpp)
 * with the bundled tiny reasoner: what a method does to the model's own
 * decoding, not to a script.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BudgetForcingRun, RunTranscript, type RunRequest } from "@thinkscope/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../src/index.ts";
import { getTestModel } from "../src/testing/index.ts";

let dataDir: string;
let backend: EmbeddedBackend;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-methods-"));
  backend = createEmbeddedBackend({ dataDir });
  await backend.prepare();
});

afterAll(async () => {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function run(problem: string, request: Omit<RunRequest, "prompt">): Promise<RunTranscript> {
  const session = await backend.openSession({});
  try {
    const prompt = await backend.applyChatTemplate([{ role: "user", content: problem }], {});
    const prepared = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt,
      ...request,
    });
    const transcript = new RunTranscript();
    for await (const event of prepared.events()) transcript.apply(event);
    return transcript;
  } finally {
    await session.close();
  }
}

describe("suppress on the embedded engine", () => {
  it("keeps a word the model writes out of its thinking, and out of nothing else", async () => {
    const budget = { num_waits: 1, max_thinking_tokens: 400, max_answer_tokens: 40 };
    const free = await run("What is 4821 + 397?", { budgetForcing: budget });
    // After the wait the model checks its sum: ", let me check digit by digit:".
    expect(free.thinkingText).toContain("check");
    const banned = await run("What is 4821 + 397?", {
      budgetForcing: { ...budget, suppress: ["check"] },
    });
    expect(banned.thinkingText).not.toContain("check");
    // The ban is on the word, not its letters: they still appear elsewhere.
    expect(banned.thinkingText).toMatch(/c/);
    expect(banned.answerText).toMatch(/boxed/);
  });
});

describe("loop_guard on the embedded engine", () => {
  // A generated model that, after a short preamble `xyz`, says `abcd` over and
  // over and never closes its thinking; after a forced close it answers ` 42`.
  const LOOPING = {
    "<think>": "\n",
    "\n": "x",
    x: "y",
    y: "z",
    z: "a",
    a: "b",
    b: "c",
    c: "d",
    d: "a",
    ":": " ",
    " ": "4",
    "4": "2",
    "2": "<|im_end|>",
  };
  const PROMPT = "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n<think>\n";

  it("closes a looping model within 3 windows of the loop starting", async () => {
    const { path } = await getTestModel({ transitions: LOOPING });
    const looper = createEmbeddedBackend({ model: path, dataDir });
    try {
      await looper.prepare();
      for (const guard of [
        { window: 8, repeats: 3 },
        { window: 6, repeats: 2 },
      ]) {
        const session = await looper.openSession({});
        try {
          const run = await BudgetForcingRun.prepare(session, looper.capabilities, {
            prompt: PROMPT,
            budgetForcing: { max_thinking_tokens: 500, loop_guard: guard },
          });
          const transcript = new RunTranscript();
          const reasons: string[] = [];
          for await (const event of run.events()) {
            transcript.apply(event);
            if (event.type === "injection") reasons.push(event.reason);
          }
          expect(reasons).toEqual(["loop"]);
          const thinking = transcript.summary().thinking_tokens;
          const loopStart = "xyz".length;
          expect(transcript.thinkingText.slice(0, 11)).toBe("xyzabcdabcd");
          expect(thinking - loopStart).toBeLessThanOrEqual(3 * guard.window);
          expect(transcript.answerText).toBe(" 42");
        } finally {
          await session.close();
        }
      }
    } finally {
      await looper.close();
    }
  });
});

describe("probes on the embedded engine", () => {
  it("leave the main sequence as it was: an elimination continues exactly as the same text injected as a wait", async () => {
    const budget = { max_thinking_tokens: 400, max_answer_tokens: 32 };
    const eliminated = await run("What is 3891 + 1464?", {
      budgetForcing: {
        ...budget,
        eliminate: { attempts: 1, text: "The answer is not {answer}.\nWait" },
      },
    });
    const [elimination] = eliminated.segments.filter((s) => s.type === "elimination");
    expect(elimination?.text).toMatch(/^The answer is not \d+\.\nWait$/);
    // The probe ran on the same sequence; were its tokens left in the cache, the text would differ.
    const waited = await run("What is 3891 + 1464?", {
      budgetForcing: { ...budget, num_waits: 1, wait_string: elimination!.text },
    });
    expect(eliminated.text).toBe(waited.text);
    expect(eliminated.summary().probe_tokens).toBeGreaterThan(0);
  });
});

describe("token log-probabilities on the embedded engine", () => {
  it("report a lowest group confidence no greedy decoding can go below", async () => {
    const transcript = await run("What is 4821 + 397?", {
      budgetForcing: { num_waits: 1, max_thinking_tokens: 400, max_answer_tokens: 40 },
      confidenceWindow: 16,
    });
    const lowest = transcript.stats?.lowestGroupLogprob;
    expect(lowest).toBeLessThanOrEqual(0);
    // Greedy picks the most likely token, so each has at least 1 / vocabulary of the mass.
    const vocabulary = 358;
    expect(lowest).toBeGreaterThanOrEqual(Math.log(1 / vocabulary));
  });
});
