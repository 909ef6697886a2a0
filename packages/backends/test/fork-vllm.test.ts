/**
 * Forking a run through the vLLM adapter, against a stand-in that replays
 * vLLM's wire format with a family's real tokenizer (vllm-stand-in.ts): the
 * fork's first request carries the parent's prompt ids, exactly `at` of its
 * continuation ids and the insertion's ids, so vLLM's prefix cache can hit;
 * under the parent's settings it reproduces the parent from any point.
 */
import {
  BudgetForcingRun,
  FAMILY_PROFILES,
  RunTranscript,
  continuationTokens,
  cutAtToken,
  withThinkingStart,
  type Backend,
} from "@thinkscope/core";
import type { BudgetForcing, EngineEvent } from "@thinkscope/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVllmBackend } from "../src/vllm/vllm-backend.ts";
import {
  FAMILY_QUESTION,
  FINAL_ANSWER_PREFIX,
  familyModelName,
  familyScript,
  type FamilyScript,
} from "../src/testing/index.ts";
import { startReplayServer, type ReplayServer } from "./__fixtures__/replay-server.ts";
import { vllmStandIn } from "./__fixtures__/vllm-stand-in.ts";

const FAMILY = "qwen3";
let server: ReplayServer;
let backend: Backend;
let script: FamilyScript;
let prompt: string;
let settings: BudgetForcing;

beforeAll(async () => {
  script = familyScript(FAMILY);
  const model = familyModelName(FAMILY);
  server = await startReplayServer(vllmStandIn(script.tokenizer, script.transitions, model));
  backend = createVllmBackend({ url: `${server.url}/v1`, model });
  const rendered = (await backend.applyChatTemplate?.([...FAMILY_QUESTION], {})) ?? "";
  prompt = script.opening === "" ? withThinkingStart(script.format, rendered) : rendered;
  settings = {
    format: FAMILY_PROFILES[FAMILY].format,
    num_waits: 1,
    wait_string: script.waitString,
    max_thinking_tokens: script.maxThinkingTokens,
    max_answer_tokens: 16,
    final_answer_prefix: FINAL_ANSWER_PREFIX,
  };
});

afterAll(async () => {
  await server.close();
});

/** One run; returns its events and the prompts of the `/v1/completions` requests it made. */
async function runOnce(fork?: { parent: EngineEvent[]; at: number; insert?: string }) {
  const before = server.requests.length;
  const session = await backend.openSession({});
  const events: EngineEvent[] = [];
  const transcript = new RunTranscript();
  try {
    const start = fork && {
      parentRunId: "run_0000000000000000",
      at: fork.at,
      insert: fork.insert ?? "",
      inherited: await cutAtToken(fork.parent, fork.at, session.detokenize?.bind(session)),
    };
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt,
      budgetForcing: settings,
      ...(start ? { fork: start } : {}),
    });
    for await (const event of run.events()) {
      events.push(event);
      transcript.apply(event);
    }
  } finally {
    await session.close();
  }
  const prompts = server.requests
    .slice(before)
    .filter((request) => request.path === "/v1/completions")
    .map((request) => (request.body as { prompt: number[] }).prompt);
  return { events, transcript, prompts };
}

/** Every point a fork may start at: any token boundary but inside an injection (never cut). */
function forkPoints(events: readonly EngineEvent[]): number[] {
  const points = [0];
  let count = 0;
  for (const e of events) {
    if (e.type !== "delta" && e.type !== "injection") continue;
    if (e.type === "delta") for (let i = 1; i < e.tokens; i++) points.push(count + i);
    count += e.tokens;
    points.push(count);
  }
  return [...new Set(points)];
}

function continuationIds(events: readonly EngineEvent[]): number[] {
  return events.flatMap((e) =>
    e.type === "delta" || e.type === "injection" ? (e.tokenIds ?? []) : [],
  );
}

describe("forking through the vLLM adapter (a stand-in replaying vLLM's wire format)", () => {
  let parent: Awaited<ReturnType<typeof runOnce>>;

  beforeAll(async () => {
    parent = await runOnce();
    expect(parent.prompts[0]).toEqual(script.promptIds);
  });

  it("sends the parent's prompt ids, exactly `at` continuation ids and the insertion's ids", async () => {
    const ids = continuationIds(parent.events);
    const at = script.firstIds.length - 2;
    const child = await runOnce({ parent: parent.events, at, insert: script.waitString });
    expect(child.prompts[0]).toEqual([
      ...script.promptIds,
      ...ids.slice(0, at),
      ...script.tokenizer.encode(script.waitString),
    ]);
    // The inserted wait counts as thinking, from the parent's count at the fork.
    const insert = child.events.find((e) => e.type === "injection" && e.kind === "insert");
    expect(insert).toMatchObject({ thinkingTokenIndex: at, tokens: script.waitIds.length });
  });

  it("reproduces the parent from any point with the same settings", async () => {
    const total = continuationTokens(parent.events);
    const parentIds = continuationIds(parent.events);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...forkPoints(parent.events)), async (at) => {
        const child = await runOnce({ parent: parent.events, at });
        // The fork's first request continues from `at`, or later when the engine itself must
        // inject there first (a forced close at the budget), as it did for the parent.
        const sent = child.prompts[0]!;
        expect(sent.length).toBeGreaterThanOrEqual(script.promptIds.length + at);
        expect(sent).toEqual([
          ...script.promptIds,
          ...parentIds.slice(0, sent.length - script.promptIds.length),
        ]);
        expect(continuationIds(child.events)).toEqual(parentIds);
        expect(child.transcript.text).toBe(parent.transcript.text);
        expect(child.transcript.summary()).toMatchObject({
          thinking_tokens: parent.transcript.summary().thinking_tokens,
          waits: parent.transcript.summary().waits,
          forced_end: parent.transcript.summary().forced_end,
          answer_tokens: parent.transcript.summary().answer_tokens,
        });
      }),
      { numRuns: 12, examples: [[0], [total]] },
    );
  });
});
