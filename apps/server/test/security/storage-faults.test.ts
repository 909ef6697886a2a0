/**
 * The run store's disk, failing: a full filesystem, a full database, another
 * process holding the write lock, a write that fails on the flush timer.
 * Each time the client is told (`storage_full`, `storage_unavailable`), the
 * server keeps serving and says it is degraded, no run is left `running`,
 * nothing the client was shown is lost, and the store recovers once the
 * fault is gone.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { EngineEvent } from "@thinkscope/protocol";
import type { RunList } from "@thinkscope/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { DATABASE_FILE } from "../../src/store/run-store.ts";
import {
  ScriptPerRun,
  THINK_PROMPT,
  WsClient,
  buildTestApp,
  listen,
  parseSse,
  waitFor,
  type TestApp,
} from "../helpers.ts";

/**
 * Thinking that does not compress away (runs are stored compressed): 9,000
 * letters from a fixed pseudo-random sequence, about 25 KB on disk.
 */
const THOUGHT = Array.from({ length: 9_000 }, (_, i) =>
  String.fromCharCode(97 + ((i * 7919 + ((i * i) % 104_729)) % 26)),
).join("");
/** A run of ~9,000 events (one token a letter) that streams for about a second. */
const slow = () =>
  new ScriptPerRun("thinker", {
    replies: [THOUGHT + "</think>", "Seven apples."],
    tokensPerChunk: 16,
    chunkDelayMs: 2,
  });
const BUDGET = { max_thinking_tokens: 10_000, max_answer_tokens: 50 };

let server: TestApp | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await server?.close();
  server = null;
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function start(options: Parameters<typeof buildTestApp>[0]): Promise<string> {
  server = await buildTestApp(options);
  return listen(server.app);
}

async function health(url: string) {
  return (await fetch(`${url}/api/health`)).json() as Promise<{
    status: string;
    store?: { code: string; message: string };
  }>;
}

async function getRun(url: string, id: string) {
  return (await fetch(`${url}/api/runs/${id}`)).json() as Promise<{
    status: string;
    error: { code: string } | null;
    events: EngineEvent[];
  }>;
}

/** The status of every run listed. */
async function statuses(url: string): Promise<string[]> {
  const { runs } = (await (await fetch(`${url}/api/runs`)).json()) as RunList;
  return runs.map((run) => run.status);
}

/** A page run over the WebSocket: its id and every event the page was shown. */
async function pageRun(
  url: string,
  key: string,
): Promise<{ runId: string; events: EngineEvent[] }> {
  const client = await WsClient.connect(url);
  try {
    client.send({
      type: "run",
      key,
      spec: { prompt: THINK_PROMPT, mode: "raw", budget_forcing: BUDGET },
    });
    const { runId } = await client.next("run.accepted");
    return { runId, events: await client.finished(key, 15_000) };
  } finally {
    client.close();
  }
}

/** A non-streamed API run's answer: the completion, or an error. */
interface ApiAnswer {
  status: number;
  body: {
    choices?: { text: string }[];
    error?: { code: string; message: string; run_id?: string };
  };
}

async function apiRun(url: string): Promise<ApiAnswer> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: THINK_PROMPT, budget_forcing: BUDGET }),
  });
  return { status: response.status, body: (await response.json()) as ApiAnswer["body"] };
}

/** A streamed API run: its id and the SSE payloads. */
async function streamedRun(url: string): Promise<{ runId: string; payloads: unknown[] }> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: THINK_PROMPT, stream: true, budget_forcing: BUDGET }),
  });
  expect(response.status).toBe(200);
  return {
    runId: response.headers.get("x-thinkscope-run-id")!,
    payloads: parseSse(await response.text()),
  };
}

function expectToldOf(events: EngineEvent[], code: string) {
  expect(events.at(-2)).toMatchObject({ type: "run.error", code });
  expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "error" });
}

describe("a full disk", () => {
  it("SQLITE_FULL on a real small filesystem mid-run: the page is told storage_full, health is degraded, the run is not left running; freed, the run is stored whole and the next one completes", async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "thinkscope-tmpfs-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=768k", "tmpfs", dir], { stdio: "pipe" });
    } catch (error) {
      ctx.skip(`mounting a tmpfs is not permitted here (${String(error).split("\n")[0]})`);
    }
    cleanups.push(() => execFileSync("umount", ["-l", dir]));
    const url = await start({
      backends: [slow()],
      config: { dataDir: dir },
      storeOptions: { retryIntervalMs: 100 },
    });
    // Room for the run's row and a few batches of its events, not for all of them.
    const { bavail, bsize } = statfsSync(dir);
    const filler = join(dir, "filler");
    writeFileSync(filler, Buffer.alloc(bavail * bsize - 96 * 1024));

    const { runId, events } = await pageRun(url, "full");
    expectToldOf(events, "storage_full");
    expect(events.filter((e) => e.type === "delta").length).toBeGreaterThan(100);
    expect(await health(url)).toMatchObject({
      status: "degraded",
      store: { code: "storage_full", message: expect.stringMatching(/storage is full/) },
    });
    // Not running, and nothing the page was shown is missing (what could not be written is still queued).
    const failed = await getRun(url, runId);
    expect(failed).toMatchObject({ status: "error", error: { code: "storage_full" } });
    expect(failed.events).toEqual(events);
    expect((await fetch(`${url}/api/runs`)).status).toBe(200);

    unlinkSync(filler);
    await waitFor(async () => (await health(url)).status === "ok");
    const db = new BetterSqlite3(join(dir, DATABASE_FILE), { readonly: true });
    cleanups.push(() => db.close());
    expect(db.prepare("SELECT status, error_code FROM runs WHERE id = ?").get(runId)).toEqual({
      status: "error",
      error_code: "storage_full",
    });
    // Every event the page was shown is on disk: JSON rows and the deltas their chunks hold.
    const stored = db.prepare(`SELECT (SELECT count(*) FROM run_events WHERE run_id = @id) +
      (SELECT coalesce(sum(count), 0) FROM run_chunks WHERE run_id = @id) AS n`);
    expect(stored.get({ id: runId })).toEqual({ n: events.length });
    expect((await fetch(`${url}/api/runs/${runId}`, { method: "DELETE" })).status).toBe(204);
    const next = await apiRun(url);
    expect(next.status).toBe(200);
    expect(next.body.choices![0]!.text).toContain("Seven apples.");
    expect(await health(url)).toEqual({ status: "ok", backends: expect.any(Array) });
  });

  it("SQLITE_FULL from the database's page limit: a stream gets an error event, a new run is refused with 507 storage_full, DELETE works; raised, runs complete again", async () => {
    const url = await start({ backends: [slow()], storeOptions: { retryIntervalMs: 100 } });
    const { db } = server!.app.runStore;
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 4}`);

    const { runId, payloads } = await streamedRun(url);
    expect(payloads.at(-1)).toMatchObject({ error: { code: "storage_full", run_id: runId } });
    expect(payloads).not.toContain("[DONE]");
    expect(await health(url)).toMatchObject({
      status: "degraded",
      store: { code: "storage_full" },
    });
    const failed = await getRun(url, runId);
    expect(failed.status).toBe("error");
    expectToldOf(failed.events, "storage_full");

    // Still full: a non-streamed run is answered with the error (refused at its start, or ended by it).
    const refused = await apiRun(url);
    expect(refused).toMatchObject({
      status: 507,
      body: { error: { code: "storage_full", message: expect.stringMatching(/storage is full/) } },
    });
    expect(await statuses(url)).not.toContain("running");
    // Deleting frees pages: it works while the database is full.
    expect((await fetch(`${url}/api/runs/${runId}`, { method: "DELETE" })).status).toBe(204);

    db.pragma("max_page_count = 1073741823");
    expect((await apiRun(url)).status).toBe(200);
    expect(await health(url)).toMatchObject({ status: "ok" });
    expect(await health(url)).not.toHaveProperty("store");
  });
});

describe("another process holding the write lock", () => {
  /** A second connection to the server's database file, holding its write lock until released. */
  function holdWriteLock(): () => void {
    const other = new BetterSqlite3(join(server!.dataDir, DATABASE_FILE));
    other.exec("BEGIN IMMEDIATE");
    let held = true;
    const release = () => {
      if (held) other.exec("ROLLBACK");
      held = false;
    };
    cleanups.push(() => {
      release();
      other.close();
    });
    return release;
  }

  it("SQLITE_BUSY for less than the bound: the run's writes wait and retry, and every event is stored", async () => {
    const url = await start({ backends: [slow()], storeOptions: { lockWaitMs: 4_000 } });
    const release = holdWriteLock();
    setTimeout(release, 1_500);
    const { runId, events } = await pageRun(url, "busy");
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "stop" });
    const stored = await getRun(url, runId);
    expect(stored.status).toBe("completed");
    expect(stored.events).toEqual(events);
    expect((await health(url)).status).toBe("ok");
  });

  it("SQLITE_BUSY past the bound: the run ends as storage_unavailable, the server keeps serving, and recovers when the lock is released", async () => {
    const url = await start({
      backends: [slow()],
      storeOptions: { lockWaitMs: 600, retryIntervalMs: 100 },
    });
    const release = holdWriteLock();
    const { runId, events } = await pageRun(url, "locked");
    expectToldOf(events, "storage_unavailable");
    expect(await health(url)).toMatchObject({
      status: "degraded",
      store: { code: "storage_unavailable" },
    });
    // Reads go on while another process writes; the run, not yet written at all, is not listed as running.
    expect(await statuses(url)).not.toContain("running");

    release();
    await waitFor(async () => (await health(url)).status === "ok");
    const stored = await getRun(url, runId);
    expect(stored).toMatchObject({ status: "error", error: { code: "storage_unavailable" } });
    expect(stored.events).toEqual(events);
    expect((await apiRun(url)).status).toBe(200);
  });
});

describe("a write that fails", () => {
  /** Makes every write of this kind fail from now on, as a broken disk would; returns the repair. */
  function breakWrites(
    statement: "INSERT ON runs" | "INSERT ON run_events" | "UPDATE ON runs",
  ): () => void {
    const { db } = server!.app.runStore;
    db.exec(
      `CREATE TEMP TRIGGER broken BEFORE ${statement} BEGIN SELECT RAISE(ABORT, 'broken disk'); END`,
    );
    return () => db.exec("DROP TRIGGER temp.broken");
  }

  it("when the run starts: it is refused before anything streams (503 storage_unavailable, an error message on the page) and nothing is stored", async () => {
    const url = await start({ backends: [slow()] });
    const repair = breakWrites("INSERT ON runs");
    const refused = await apiRun(url);
    expect(refused).toMatchObject({
      status: 503,
      body: { error: { code: "storage_unavailable" } },
    });
    const client = await WsClient.connect(url);
    cleanups.push(() => client.close());
    client.send({
      type: "run",
      key: "refused",
      spec: { prompt: THINK_PROMPT, mode: "raw", budget_forcing: BUDGET },
    });
    expect(await client.next("error")).toMatchObject({
      key: "refused",
      code: "storage_unavailable",
    });
    expect(client.messages.some((m) => m.type === "run.accepted")).toBe(false);
    expect(await statuses(url)).toEqual([]);
    expect(await health(url)).toMatchObject({ status: "degraded" });

    repair();
    expect((await apiRun(url)).status).toBe(200);
    expect(await health(url)).toMatchObject({ status: "ok" });
  });

  it("on the flush timer, mid-run: no uncaught exception, the run ends as storage_unavailable, the server keeps serving", async () => {
    const crashes: unknown[] = [];
    const record = (error: unknown) => crashes.push(error);
    process.on("uncaughtException", record);
    process.on("unhandledRejection", record);
    cleanups.push(() => {
      process.off("uncaughtException", record);
      process.off("unhandledRejection", record);
    });
    // Slow enough that events are written by the timer, not by the 64-event threshold.
    const backend = new ScriptPerRun("thinker", {
      replies: [THOUGHT.slice(0, 200) + "</think>", "Seven."],
      chunkDelayMs: 5,
    });
    const url = await start({ backends: [backend], storeOptions: { retryIntervalMs: 100 } });
    const client = await WsClient.connect(url);
    cleanups.push(() => client.close());
    client.send({
      type: "run",
      key: "timer",
      spec: { prompt: THINK_PROMPT, mode: "raw", budget_forcing: BUDGET },
    });
    const { runId } = await client.next("run.accepted");
    await waitFor(() => client.events("timer").length > 5);
    const repair = breakWrites("INSERT ON run_events");
    const events = await client.finished("timer");
    expectToldOf(events, "storage_unavailable");
    expect(crashes).toEqual([]);
    expect((await health(url)).status).toBe("degraded");
    expect((await fetch(`${url}/api/runs`)).status).toBe(200);

    repair();
    await waitFor(async () => (await health(url)).status === "ok");
    expect((await getRun(url, runId)).events).toEqual(events);
    expect(crashes).toEqual([]);
  });

  it("at the run's end: the client gets the storage error, not a 200, and the run is not left running (DELETE works)", async () => {
    const url = await start({ backends: [slow()], storeOptions: { retryIntervalMs: 100 } });
    const repair = breakWrites("UPDATE ON runs");
    const { status, body } = await apiRun(url);
    expect(status).toBe(503);
    expect(body.error).toMatchObject({
      code: "storage_unavailable",
      message: expect.stringMatching(/run store/),
    });
    const runId = body.error!.run_id!;
    expect((await getRun(url, runId)).status).toBe("error");
    expect(await health(url)).toMatchObject({ status: "degraded" });

    repair();
    await waitFor(async () => (await health(url)).status === "ok");
    expect((await getRun(url, runId)).status).toBe("error");
    expect((await fetch(`${url}/api/runs/${runId}`, { method: "DELETE" })).status).toBe(204);
    expect((await apiRun(url)).status).toBe(200);
  });
});
