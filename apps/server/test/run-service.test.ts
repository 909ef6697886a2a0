/**
 * The run service on its own, as the CLI and experiments use it: start,
 * stream, stop, and the status each way of ending leaves in the store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidRequestError } from "@thinkscope/core";
import type { EngineEvent } from "@thinkscope/protocol";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendRegistry } from "../src/backends/registry.ts";
import { createScrubber } from "../src/lib/secrets.ts";
import { RunService } from "../src/services/run-service.ts";
import { RunStore } from "../src/store/run-store.ts";
import { ScriptPerRun, THINK_PROMPT } from "./helpers.ts";

const quick = new ScriptPerRun("quick", { replies: ["Think.</think>", "Done."] });
const slow = new ScriptPerRun("slow", {
  replies: ["w".repeat(2000) + "</think>", "late"],
  chunkDelayMs: 10,
});

let dir: string;
let store: RunStore;
let runs: RunService;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "thinkscope-run-service-test-"));
  store = RunStore.open(dir);
  runs = new RunService({
    backends: new BackendRegistry([{ backend: quick }, { backend: slow }]),
    store,
    // A silent logger of the type the service takes.
    log: Fastify({ logger: false }).log,
    scrub: createScrubber([]),
  });
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function drain(events: AsyncIterable<EngineEvent>): Promise<EngineEvent[]> {
  const all: EngineEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe("RunService", () => {
  it("runs a raw prompt to the end and stores it as completed", async () => {
    const run = await runs.start({
      prompt: THINK_PROMPT,
      mode: "raw",
      source: "cli",
      backend: "quick",
    });
    expect(store.get(run.id)!.status).toBe("running");
    const events = await drain(run.events());
    expect(run.transcript.text).toBe("Think.</think>Done.");
    expect(await run.done).toBe("completed");
    expect(store.get(run.id)).toMatchObject({
      status: "completed",
      source: "cli",
      text: "Think.</think>Done.",
      // As stored: JSON, so fields set to undefined are absent.
      events: JSON.parse(JSON.stringify(events)),
    });
  });

  it("refuses bad settings before opening a session", async () => {
    const sessions = quick.sessions.length;
    await expect(
      runs.start({ prompt: "Q", mode: "chat", source: "cli", budgetForcing: { num_waits: 100 } }),
    ).rejects.toThrow(InvalidRequestError);
    expect(quick.sessions.length).toBe(sessions);
  });

  it("stops on its caller's signal, recorded with the status asked for", async () => {
    const controller = new AbortController();
    const run = await runs.start(
      { prompt: THINK_PROMPT, mode: "raw", source: "cli", backend: "slow" },
      { signal: controller.signal, abortStatus: "aborted" },
    );
    const events: EngineEvent[] = [];
    for await (const event of run.events()) {
      events.push(event);
      if (events.length === 5) controller.abort();
    }
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "aborted" });
    expect(await run.done).toBe("aborted");
    expect(store.get(run.id)!.status).toBe("aborted");
  });

  it("records a run stopped before it streamed, and streams nothing for it", async () => {
    const run = await runs.start({
      prompt: THINK_PROMPT,
      mode: "raw",
      source: "page",
      backend: "slow",
    });
    run.abort("interrupted");
    expect(await run.done).toBe("interrupted");
    expect(await drain(run.events())).toEqual([]);
    expect(store.get(run.id)).toMatchObject({ status: "interrupted", text: "" });
  });

  it("treats a consumer that stops reading as a client gone: interrupted, upstream cancelled", async () => {
    const cancelled = slow.cancelled;
    const run = await runs.start({
      prompt: THINK_PROMPT,
      mode: "raw",
      source: "page",
      backend: "slow",
    });
    let deltas = 0;
    for await (const event of run.events()) {
      if (event.type === "delta" && ++deltas === 3) break;
    }
    expect(await run.done).toBe("interrupted");
    expect(store.get(run.id)!.text).toBe("www");
    expect(slow.cancelled).toBe(cancelled + 1);
    expect(runs.activeCount).toBe(0);
  });
});
