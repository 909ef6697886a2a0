/**
 * The run store on a real SQLite file: written as runs stream, searchable,
 * paged, deletable, exportable, importable, and recovering runs a dead
 * process left running.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BudgetForcingRun } from "@thinkscope/core";
import type { EngineEvent } from "@thinkscope/protocol";
import { ScriptedBackend } from "@thinkscope/core/testing";
import type { RunDetail } from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importRunsJsonl } from "../src/store/run-import.ts";
import { RunStore, type NewRun } from "../src/store/run-store.ts";
import { THINK_PROMPT } from "./helpers.ts";

let dir: string;
let store: RunStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "thinkscope-store-test-"));
  store = RunStore.open(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function newRun(overrides: Partial<NewRun> = {}): NewRun {
  counter += 1;
  return {
    id: `run_${String(counter).padStart(16, "0")}`,
    source: "page",
    backend: "scripted",
    model: "model-a",
    prompt: "What is six times seven?",
    renderedPrompt: THINK_PROMPT,
    mode: "chat",
    budgetForcing: { num_waits: 1 },
    sampling: { temperature: 0 },
    ...overrides,
  };
}

/** Real engine events for a scripted reply. */
async function engineEvents(replies: string[], runId: string): Promise<EngineEvent[]> {
  const backend = new ScriptedBackend({ replies });
  const run = await BudgetForcingRun.prepare(await backend.openSession(), backend.capabilities, {
    prompt: THINK_PROMPT,
    runId,
  });
  const events: EngineEvent[] = [];
  for await (const event of run.events()) events.push(event);
  return events;
}

/** Stores a whole run the way the run service does. */
async function storeRun(replies: string[], overrides: Partial<NewRun> = {}): Promise<RunDetail> {
  const run = newRun(overrides);
  store.createRun(run);
  const events = await engineEvents(replies, run.id);
  for (const event of events) store.appendEvent(run.id, event);
  const transcript = new (await import("@thinkscope/core")).RunTranscript();
  for (const event of events) transcript.apply(event);
  store.finishRun(run.id, {
    status: "completed",
    summary: transcript.summary(),
    text: transcript.text,
    answer: transcript.answerText,
    error: null,
  });
  return store.get(run.id)!;
}

describe("writing runs", () => {
  it("keeps the row, the events in order, and the outcome", async () => {
    const detail = await storeRun(["Six sevens.</think>", "42"]);
    expect(detail).toMatchObject({
      status: "completed",
      text: "Six sevens.</think>42",
      answer: "42",
      budgetForcing: { num_waits: 1 },
      sampling: { temperature: 0 },
      experimentId: null,
      error: null,
    });
    expect(detail.events[0]!.type).toBe("run.started");
    expect(detail.events.at(-1)!.type).toBe("run.finished");
    expect(detail.summary!.segments.map((s) => s.type)).toEqual(["thinking", "end", "answer"]);
  });

  it("writes queued events in batches: a full chunk of deltas, or within the flush interval", async () => {
    const run = newRun();
    store.createRun(run);
    const events = await engineEvents(["x".repeat(300) + "</think>", "42"], run.id);
    /** Events on disk: JSON rows plus the deltas their chunks hold. */
    const count = () =>
      (
        store.db
          .prepare(
            `SELECT (SELECT count(*) FROM run_events WHERE run_id = @id) +
              (SELECT coalesce(sum(count), 0) FROM run_chunks WHERE run_id = @id) AS n`,
          )
          .get({ id: run.id }) as { n: number }
      ).n;
    for (const event of events.slice(0, 255)) store.appendEvent(run.id, event);
    expect(count()).toBe(0);
    store.appendEvent(run.id, events[255]!);
    expect(count()).toBe(256);
    store.appendEvent(run.id, events[256]!);
    expect(count()).toBe(256);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(count()).toBe(257);
    // The deltas are in chunks, a few bytes each; only the start is a JSON row.
    const json = store.db.prepare("SELECT count(*) AS n FROM run_events WHERE run_id = ?");
    expect((json.get(run.id) as { n: number }).n).toBe(1);
  });

  it("shows a streaming run as it is now", async () => {
    const run = newRun();
    store.createRun(run);
    const events = await engineEvents(["Thinking hard</think>", "42"], run.id);
    for (const event of events.slice(0, 6)) store.appendEvent(run.id, event);
    const live = store.get(run.id)!;
    expect(live.status).toBe("running");
    expect(live.text).toBe("Think");
    expect(live.events).toHaveLength(6);
  });
});

describe("finding runs", () => {
  beforeEach(async () => {
    await storeRun(["Multiply six by seven.</think>", "42"], {
      prompt: "What is six times seven?",
    });
    await storeRun(["Photosynthesis uses light.</think>", "Plants"], {
      prompt: "How do plants eat?",
      model: "model-b",
    });
    await storeRun(["Seven plus six.</think>", "13"], {
      prompt: "Add six and seven",
      source: "api",
    });
  });

  it("searches prompts and text by words and word prefixes", () => {
    expect(store.list({ q: "seven" }).runs.map((r) => r.prompt)).toEqual([
      "Add six and seven",
      "What is six times seven?",
    ]);
    expect(store.list({ q: "photo" }).runs.map((r) => r.prompt)).toEqual(["How do plants eat?"]);
    expect(store.list({ q: "six multiply" }).total).toBe(1);
    expect(store.list({ q: "</think>" }).total).toBe(3);
    // Query syntax in user input is text, not FTS5 operators.
    expect(store.list({ q: 'seven" OR "plants' }).total).toBe(0);
    expect(store.list({ q: "NEAR(" }).total).toBe(0);
  });

  it("filters by model, status, source and pages through the results", () => {
    expect(store.list({ model: "model-b" }).runs.map((r) => r.answer)).toEqual(["Plants"]);
    expect(store.list({ source: "api" }).total).toBe(1);
    expect(store.list({ excludeSource: "api" }).total).toBe(2);
    expect(store.list({ excludeSource: "api" }).runs.every((r) => r.source !== "api")).toBe(true);
    expect(store.list({ status: "running" }).total).toBe(0);
    const first = store.list({ limit: 2 });
    const second = store.list({ limit: 2, offset: 2 });
    expect(first.total).toBe(3);
    expect(first.runs).toHaveLength(2);
    expect(second.runs).toHaveLength(1);
    expect(new Set([...first.runs, ...second.runs].map((r) => r.id)).size).toBe(3);
  });

  it("deletes a run with its events, and no longer finds it", () => {
    const [run] = store.list({ q: "plants" }).runs;
    expect(store.delete(run!.id)).toBe(true);
    expect(store.get(run!.id)).toBeNull();
    expect(store.list({ q: "plants" }).total).toBe(0);
    expect(
      store.db.prepare("SELECT count(*) AS n FROM run_events WHERE run_id = ?").get(run!.id),
    ).toEqual({ n: 0 });
    expect(store.delete(run!.id)).toBe(false);
  });
});

/** Imports a JSONL body the way the import route does (streamed). */
function importJsonl(into: RunStore, body: string) {
  const log = { warn: () => {} } as unknown as FastifyBaseLogger;
  const tooLarge = () => new Error("too large");
  return importRunsJsonl(into, Readable.from([body]), { maxBytes: 1e9, tooLarge, log });
}

describe("export and import", () => {
  it("round-trips every run through JSONL, keeping ids, or renaming them on conflict", async () => {
    await storeRun(["One.</think>", "1"]);
    await storeRun(["Two.</think>", "2"], { experimentId: "exp_1" });
    const lines = [...store.exportLines()];
    expect(lines).toHaveLength(2);
    const originals = lines.map((line) => JSON.parse(line) as RunDetail);

    const otherDir = mkdtempSync(join(tmpdir(), "thinkscope-store-test-"));
    const other = RunStore.open(otherDir);
    try {
      expect(await importJsonl(other, lines.join(""))).toEqual({
        imported: 2,
        renamed: [],
      });
      for (const original of originals) expect(other.get(original.id)).toEqual(original);
      expect(other.list({ q: "two" }).total).toBe(1);

      const again = await importJsonl(other, lines.join(""));
      expect(again.renamed.map((r) => r.from)).toEqual(originals.map((r) => r.id));
      const copy = other.get(again.renamed[0]!.to)!;
      expect(copy.text).toBe(originals[0]!.text);
      expect(copy.events[0]).toMatchObject({ type: "run.started", runId: copy.id });
      expect(other.list().total).toBe(4);
    } finally {
      other.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it("refuses a file with bad lines whole, naming the lines", async () => {
    await storeRun(["One.</think>", "1"]);
    const good = [...store.exportLines()][0]!.trim();
    const broken = { ...JSON.parse(good), status: "finished" };
    const body = [good, "{nope", JSON.stringify(broken), "", good].join("\n");
    await expect(importJsonl(store, body)).rejects.toThrow(
      /^Nothing was imported: 2 of 4 lines are not valid runs\. line 2: not JSON \(.*\); line 3: status must be one of "running", "completed"/,
    );
    await expect(importJsonl(store, "\n\n")).rejects.toThrow(/holds no runs/);
    expect(store.list().total).toBe(1);
  });
});

describe("recovery after a crash", () => {
  it("marks runs left running by a dead process as interrupted, rebuilt from their events", async () => {
    const run = newRun();
    store.createRun(run);
    const events = await engineEvents(["Partial thought</think>", "42"], run.id);
    for (const event of events.slice(0, 9)) store.appendEvent(run.id, event);
    store.flush();
    // The writer died: its pid is one that has exited.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    store.db.prepare("UPDATE runs SET owner_pid = ? WHERE id = ?").run(dead, run.id);
    store.close();

    store = RunStore.open(dir);
    expect(store.get(run.id)!.status).toBe("running");
    expect(store.recoverInterrupted()).toBe(1);
    const recovered = store.get(run.id)!;
    expect(recovered).toMatchObject({ status: "interrupted", text: "Partial " });
    expect(recovered.summary).toMatchObject({ thinking_tokens: 8, finish_reason: null });
    expect(store.list({ q: "partial" }).total).toBe(1);
  });

  it("leaves alone runs another live process is writing", () => {
    const run = newRun();
    store.createRun(run);
    store.db.prepare("UPDATE runs SET owner_pid = ? WHERE id = ?").run(process.ppid, run.id);
    const other = RunStore.open(dir);
    try {
      expect(other.recoverInterrupted()).toBe(0);
      expect(other.get(run.id)!.status).toBe("running");
    } finally {
      other.close();
    }
  });
});
