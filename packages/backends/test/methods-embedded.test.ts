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
