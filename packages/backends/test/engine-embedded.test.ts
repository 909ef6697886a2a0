/**
 * The budget-forcing engine on the real llama.cpp path: the embedded backend
 * running the generated counting model, whose greedy output is known token
 * by token (thinks a..z, closes, answers " 42"; after "Wait" it writes
 * t..z and tries to close again).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BudgetForcingRun, RunTranscript } from "@thinkscope/core";
import type { BudgetForcing } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend, type EmbeddedSession } from "../src/index.ts";
import { getTestModel } from "../src/testing/index.ts";

const PROMPT = "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n<think>\n";
const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

let dataDir: string;
let backend: EmbeddedBackend;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-engine-"));
  const { path } = await getTestModel();
  backend = createEmbeddedBackend({ model: path, dataDir });
  await backend.prepare();
});

afterAll(async () => {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function run(budgetForcing: BudgetForcing) {
  const session = (await backend.openSession({})) as EmbeddedSession;
  const positions: number[] = [];
  try {
    const prepared = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt: PROMPT,
      budgetForcing,
    });
    const transcript = new RunTranscript();
    for await (const event of prepared.events()) {
      transcript.apply(event);
      if (event.type === "injection") positions.push(session.sequencePosition);
    }
    return { transcript, summary: transcript.summary(), positions };
  } finally {
    await session.close();
  }
}

describe("budget forcing on embedded llama.cpp", () => {
  it("plain run: the model's own close is accepted and the answer follows", async () => {
    const { transcript, summary } = await run({});
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", ALPHABET],
      ["end", "</think>"],
      ["answer", " 42"],
    ]);
    expect(summary).toMatchObject({
      thinking_tokens: 26,
      injected_tokens: 1,
      answer_tokens: 3,
      token_counts_exact: true,
      upstream_requests: 2,
      finish_reason: "stop",
    });
  });

  it("extend: two waits, each continuing the trace exactly", async () => {
    const { transcript, summary } = await run({ num_waits: 2 });
    expect(transcript.text).toBe(`${ALPHABET}Waittuvwxyz` + `Waittuvwxyz</think> 42`);
    expect(summary).toMatchObject({
      waits: 2,
      thinking_tokens: 26 + 1 + 7 + 1 + 7,
      upstream_requests: 4,
    });
  });

  it("cut: the close is forced at exactly the budget and the model answers after the lead-in", async () => {
    const { transcript, summary } = await run({ max_thinking_tokens: 10 });
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "abcdefghij"],
      ["forced_end", "\n</think>\n\nFinal Answer:"],
      ["answer", " 42"],
    ]);
    expect(summary).toMatchObject({ thinking_tokens: 10, forced_end: true });
  });

  it("reports the model's pressure to close at the step each wait replaced", async () => {
    const session = await backend.openSession({});
    try {
      const prepared = await BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt: PROMPT,
        budgetForcing: { num_waits: 1 },
      });
      const pressures: (number | undefined)[] = [];
      for await (const event of prepared.events()) {
        if (event.type === "injection") pressures.push(event.endProbability);
      }
      // The counting model closes with certainty after "z".
      expect(pressures).toHaveLength(2);
      for (const p of pressures) expect(p).toBeGreaterThan(0.99);
    } finally {
      await session.close();
    }
  });

  it("an injection evaluates only the injected tokens: no re-read of the prefix", async () => {
    const { transcript, summary, positions } = await run({ num_waits: 1 });
    expect(summary.waits).toBe(1);
    // Between the wait and the close the sequence grew by exactly the wait's one
    // token plus the seven tokens generated after it, nothing re-read.
    const [atWait, atEnd] = positions;
    expect(atEnd! - atWait!).toBe(1 + 7);
    // The continuation requests re-prefilled only their injected tokens.
    expect(summary.reprefilled_tokens).toBe(1 + 1); // "Wait", then "</think>"
    expect(transcript.text).toBe(`${ALPHABET}Waittuvwxyz</think> 42`);
  });
});
