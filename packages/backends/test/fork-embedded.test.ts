/**
 * Forking a run on the real llama.cpp path, with the bundled tiny reasoner:
 * the child sends its parent's exact ids (prompt, the first `at`
 * continuation tokens, then the insertion's), starts from the parent's
 * counters, reuses the KV cache of the shared prefix, and, under the
 * parent's settings and seed, reproduces the parent from any point.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BudgetForcingRun,
  RunTranscript,
  continuationTokens,
  cutAtToken,
  type GenerateRequest,
  type GenerationEvent,
  type GenerationSession,
  type GenerationUsage,
} from "@thinkscope/core";
import type { BudgetForcing, EngineEvent, SamplingSettings } from "@thinkscope/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_EMBEDDED_MODEL,
  createEmbeddedBackend,
  type EmbeddedBackend,
} from "../src/index.ts";

const MODEL = DEFAULT_EMBEDDED_MODEL.bundledPath;
const PROBLEM = (
  JSON.parse(readFileSync(MODEL.replace(/\.gguf$/, ".heldout.jsonl"), "utf8").split("\n")[0]!) as {
    problem: string;
  }
).problem;
const SETTINGS: BudgetForcing = { num_waits: 2, max_thinking_tokens: 400, max_answer_tokens: 48 };

let dataDir: string;
let backend: EmbeddedBackend;
let prompt: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-fork-"));
  backend = createEmbeddedBackend({ dataDir });
  await backend.prepare();
  prompt = await backend.applyChatTemplate([{ role: "user", content: PROBLEM }], {});
});

afterAll(async () => {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** What one upstream request sent and how much of its prompt the backend evaluated. */
interface Sent {
  tokens: number[] | undefined;
  usage: GenerationUsage | undefined;
}

/** The embedded session, recording every request it is sent. */
function recording(session: GenerationSession, sent: Sent[]): GenerationSession {
  return {
    eosTokenIds: session.eosTokenIds,
    tokenize: session.tokenize!.bind(session),
    detokenize: session.detokenize!.bind(session),
    close: () => session.close(),
    async *generate(request: GenerateRequest): AsyncGenerator<GenerationEvent> {
      const record: Sent = { tokens: request.prompt.tokens, usage: undefined };
      sent.push(record);
      for await (const event of session.generate(request)) {
        if (event.type === "finish") record.usage = event.usage;
        yield event;
      }
    },
  };
}

interface Ran {
  events: EngineEvent[];
  transcript: RunTranscript;
  sent: Sent[];
}

async function runOnce(options: {
  sampling?: Partial<SamplingSettings>;
  fork?: { parent: EngineEvent[]; at: number; insert?: string };
}): Promise<Ran> {
  const sent: Sent[] = [];
  const inner = await backend.openSession({});
  const session = recording(inner, sent);
  try {
    const fork = options.fork && {
      parentRunId: "run_0000000000000000",
      at: options.fork.at,
      insert: options.fork.insert ?? "",
      inherited: await cutAtToken(options.fork.parent, options.fork.at, session.detokenize),
    };
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt,
      budgetForcing: SETTINGS,
      sampling: options.sampling ?? {},
      ...(fork ? { fork } : {}),
    });
    const events: EngineEvent[] = [];
    const transcript = new RunTranscript();
    for await (const event of run.events()) {
      events.push(event);
      transcript.apply(event);
    }
    return { events, transcript, sent };
  } finally {
    await session.close();
  }
}

/** The continuation's token ids, in order (generated and injected). */
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

/** The parent's counters after `at` continuation tokens, folded from its events independently of the engine. */
function countersAt(events: readonly EngineEvent[], at: number) {
  let count = 0;
  let thinking = 0;
  let waits = 0;
  let answering = false;
  for (const e of events) {
    if (e.type === "phase" && count <= at) answering = true;
    if (e.type !== "delta" && e.type !== "injection") continue;
    if (count + e.tokens > at) break;
    count += e.tokens;
    if (e.type === "injection" && e.kind === "wait") waits += 1;
    if (
      (e.type === "delta" && e.phase === "thinking") ||
      (e.type === "injection" && e.kind === "wait")
    )
      thinking += e.tokens;
  }
  return { thinking, waits, answering };
}

/** The run as a reader sees it: what was written and injected, in order, without times or stats. */
function trace(events: readonly EngineEvent[]) {
  return events.flatMap((e) => {
    if (e.type === "delta") return [["delta", e.phase, e.text, e.tokenIds, e.phaseTokens]];
    if (e.type === "injection") return [["injection", e.kind, e.text, e.tokenIds, e.waitNumber]];
    if (e.type === "phase") return [["phase"]];
    return [];
  });
}

describe("forking a run on the embedded backend (bundled model)", () => {
  let parent: Ran;
  let promptIds: number[];

  beforeAll(async () => {
    parent = await runOnce({});
    promptIds = parent.sent[0]!.tokens!;
    // The settings give the property something to cross: waits, a close, an answer.
    expect(parent.transcript.summary().waits).toBeGreaterThan(0);
    expect(parent.transcript.answerText).not.toBe("");
  });

  it("sends the parent's prompt ids, exactly `at` continuation ids and the insertion's ids, reusing the cached prefix", async () => {
    const ids = continuationIds(parent.events);
    const at = Math.floor(ids.length / 3);
    const child = await runOnce({
      fork: { parent: parent.events, at, insert: " Hmm, let me reconsider." },
    });
    const insertIds = await backend.tokenize(" Hmm, let me reconsider.", { special: false });
    expect(child.sent[0]!.tokens).toEqual([...promptIds, ...ids.slice(0, at), ...insertIds]);
    // The parent's sequence still holds the shared prefix: at most the insertion is evaluated
    // (less when its first tokens happen to be what the parent wrote next).
    const usage = child.sent[0]!.usage!;
    expect(usage.promptTokensCached).toBeGreaterThanOrEqual(promptIds.length + at);
    expect(usage.promptTokensEvaluated).toBeLessThanOrEqual(insertIds.length);
    expect(usage.promptTokensEvaluated! + usage.promptTokensCached!).toBe(
      promptIds.length + at + insertIds.length,
    );
    const started = child.events[0];
    expect(started).toMatchObject({
      type: "run.started",
      fork: { at, insertTokens: insertIds.length },
    });
  });

  it("starts the child from the parent's counters at the fork point", async () => {
    const total = continuationTokens(parent.events);
    const firstWait = parent.events.findIndex((e) => e.type === "injection" && e.kind === "wait");
    // Just past the first wait: one wait used, the thinking counted through it.
    const at = continuationTokens(parent.events.slice(0, firstWait + 1)) + 3;
    expect(at).toBeLessThan(total);
    const expected = countersAt(parent.events, at);
    const child = await runOnce({ fork: { parent: parent.events, at, insert: "Wait" } });
    const insert = child.events.find(
      (e): e is Extract<EngineEvent, { type: "injection" }> =>
        e.type === "injection" && e.kind === "insert",
    )!;
    expect(insert.thinkingTokenIndex).toBe(expected.thinking);
    const firstOwn = child.events
      .slice(child.events.indexOf(insert) + 1)
      .find((e) => e.type === "delta");
    expect(firstOwn).toMatchObject({
      phase: "thinking",
      phaseTokens: expected.thinking + insert.tokens + 1,
    });
    const nextWait = child.events.find(
      (e) =>
        e.type === "injection" &&
        e.kind === "wait" &&
        child.events.indexOf(e) > child.events.indexOf(insert),
    );
    if (nextWait && nextWait.type === "injection")
      expect(nextWait.waitNumber).toBe(expected.waits + 1);
    expect(child.transcript.summary().waits).toBeLessThanOrEqual(SETTINGS.num_waits!);
  });

  it("reproduces the parent from any point with the same settings (greedy)", async () => {
    const total = continuationTokens(parent.events);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...forkPoints(parent.events)), async (at) => {
        const child = await runOnce({ fork: { parent: parent.events, at } });
        expect(trace(child.events)).toEqual(trace(parent.events));
        expect(child.transcript.text).toBe(parent.transcript.text);
        const {
          segments: _a,
          upstream_requests: _b,
          reprefilled_tokens: _c,
          cached_prompt_tokens: _d,
          ...counts
        } = child.transcript.summary();
        const {
          segments: _e,
          upstream_requests: _f,
          reprefilled_tokens: _g,
          cached_prompt_tokens: _h,
          ...expected
        } = parent.transcript.summary();
        expect(counts).toEqual(expected);
      }),
      { numRuns: 8, examples: [[0], [total]] },
    );
  });

  it("reproduces a sampled parent with the same seed from any point where it sent a request", async () => {
    const sampling = { temperature: 0.9, seed: 7 };
    const sampled = await runOnce({ sampling });
    // Each request starts its sampler from the seed, so the points it began at reproduce exactly.
    const starts = [0];
    for (const e of sampled.events) {
      if (e.type === "injection")
        starts.push(continuationTokens(sampled.events.slice(0, sampled.events.indexOf(e) + 1)));
    }
    for (const at of starts) {
      const child = await runOnce({ sampling, fork: { parent: sampled.events, at } });
      expect(child.transcript.text).toBe(sampled.transcript.text);
    }
  });
});
