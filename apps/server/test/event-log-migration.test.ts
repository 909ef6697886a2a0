/**
 * A database written before the compact event log (one JSON row per event)
 * is converted when it is opened: its deltas move into chunks, and every run
 * replays exactly as it did before.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { BudgetForcingRun } from "@thinkscope/core";
import { ScriptedBackend } from "@thinkscope/core/testing";
import type { EngineEvent } from "@thinkscope/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS, detectFeatures } from "../src/store/migrations.ts";
import { DATABASE_FILE, RunStore } from "../src/store/run-store.ts";
import { THINK_PROMPT } from "./helpers.ts";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A database as the last release left it: schema version 5, events as JSON rows. */
function oldDatabase(runs: Record<string, EngineEvent[]>): string {
  dir = mkdtempSync(join(tmpdir(), "thinkscope-old-db-"));
  const file = join(dir, DATABASE_FILE);
  const db = new BetterSqlite3(file);
  db.exec(
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  const features = detectFeatures(db);
  for (const migration of MIGRATIONS.filter((m) => m.version <= 5)) {
    migration.up(db, features);
    db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(
      migration.version,
      migration.name,
      "2026-11-01T00:00:00.000Z",
    );
  }
  const insertRun =
    db.prepare(`INSERT INTO runs (id, created_at, updated_at, status, source, backend,
    prompt, rendered_prompt, mode, settings, text) VALUES (?, ?, ?, 'completed', 'page', 'scripted', 'Q', ?, 'chat', ?, '')`);
  const insertEvent = db.prepare("INSERT INTO run_events (run_id, seq, data) VALUES (?, ?, ?)");
  for (const [id, events] of Object.entries(runs)) {
    insertRun.run(id, "2026-11-01T00:00:00.000Z", "2026-11-01T00:00:00.000Z", THINK_PROMPT, "{}");
    events.forEach((event, seq) => insertEvent.run(id, seq, JSON.stringify(event)));
  }
  db.close();
  return dir;
}

async function engineEvents(runId: string, probeProbability?: (position: number) => number) {
  const backend = new ScriptedBackend({
    replies: ["Counting the apples slowly, one by one.</think>", "Seven."],
    ...(probeProbability ? { probeProbability } : {}),
  });
  const run = await BudgetForcingRun.prepare(await backend.openSession(), backend.capabilities, {
    prompt: THINK_PROMPT,
    runId,
    budgetForcing: { num_waits: 1 },
  });
  const events: EngineEvent[] = [];
  for await (const event of run.events()) events.push(event);
  return events;
}

describe("opening a database from before the compact event log", () => {
  it("converts it, and every run replays with identical events", async () => {
    const plain = await engineEvents("run_000000000000000a");
    const probed = await engineEvents("run_000000000000000b", (position) => position / 37);
    // A delta written by an older engine, with probabilities off today's grid: kept as it was.
    const older = plain.map((event) =>
      event.type === "delta" ? { ...event, endProbabilities: [1 / 3] } : event,
    );
    const before = {
      run_000000000000000a: plain,
      run_000000000000000b: probed,
      run_000000000000000c: older,
    };
    const store = RunStore.open(oldDatabase(before));
    try {
      for (const [id, events] of Object.entries(before)) {
        expect(store.get(id)!.events, id).toEqual(events);
      }
      const rows = (table: string, id: string) =>
        (
          store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE run_id = ?`).get(id) as {
            n: number;
          }
        ).n;
      // The deltas went into chunks; the other events stayed JSON rows.
      const deltas = plain.filter((event) => event.type === "delta").length;
      expect(rows("run_events", "run_000000000000000a")).toBe(plain.length - deltas);
      expect(rows("run_chunks", "run_000000000000000a")).toBeGreaterThan(0);
      expect(rows("run_chunks", "run_000000000000000b")).toBeGreaterThan(0);
      expect(rows("run_events", "run_000000000000000c")).toBe(older.length);
    } finally {
      store.close();
    }
  });
});
