/**
 * An experiment on real inference (the embedded backend running a generated
 * GGUF model in llama.cpp), cancelled, the server stopped and restarted,
 * resumed, stopped mid-run, restarted and resumed again: its results equal
 * those of the same experiment run without a break.
 *
 * The model samples: its thinking is `ab` or `abcd`, it answers 1, 10, 12, 7
 * or 9 at random, so seeded sampling gives varied but reproducible results.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createEmbeddedBackend } from "@thinkscope/backends";
import { getTestModel } from "@thinkscope/backends/testing";
import type { ExperimentDetail, ExperimentResults } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "../src/app.ts";
import { buildTestApp, waitFor, type TestApp } from "./helpers.ts";

const SAMPLING_MODEL = {
  transitions: {
    "<think>": "\n",
    "\n": "a",
    a: "b",
    b: { c: 0.5, "</think>": 0.5 },
    c: "d",
    d: "</think>",
    Wait: "c",
    "</think>": " ",
    // A forced close ends in "Final Answer:".
    ":": " ",
    " ": { "1": 0.4, "7": 0.3, "9": 0.3 },
    "1": { "0": 0.3, "2": 0.3, "<|im_end|>": 0.4 },
  },
};

const EXPERIMENT = {
  dataset: { generator: { seed: 7, count: 10, digits: 1, kinds: ["addition"] } },
  settings: [{ num_waits: 0 }, { num_waits: 1 }, { max_thinking_tokens: 1 }],
  budget_forcing: { max_answer_tokens: 8 },
  samples: 4,
  sampling: { temperature: 0.8, seed: 11 },
  concurrency: 2,
};

let modelPath: string;
let first: TestApp;
const extraApps: App[] = [];

beforeAll(async () => {
  modelPath = (await getTestModel(SAMPLING_MODEL)).path;
  first = await buildTestApp({ backends: [embedded()] });
});
afterAll(async () => {
  for (const app of extraApps) await app.close();
  await first.app.close();
  rmSync(first.dataDir, { recursive: true, force: true });
});

function embedded() {
  return createEmbeddedBackend({ model: modelPath, dataDir: tmpdir(), threads: 1 });
}

/** The server started again on the same data directory. */
async function restart(): Promise<App> {
  const app = await buildApp({
    config: first.config,
    backends: [{ backend: embedded() }],
    log: false,
  });
  extraApps.push(app);
  return app;
}

async function detail(app: App, id: string): Promise<ExperimentDetail> {
  return (await app.inject({ url: `/api/experiments/${id}` })).json() as ExperimentDetail;
}

async function finished(app: App, id: string): Promise<ExperimentDetail> {
  await waitFor(async () => (await detail(app, id)).status !== "running", { timeoutMs: 60_000 });
  return detail(app, id);
}

/** Results without run ids, which differ between two runs of the same item. */
function comparable(results: ExperimentResults) {
  return {
    ...results,
    problems: results.problems.map((row) => ({
      ...row,
      settings: row.settings.map(({ run_ids, ...cell }) => {
        expect(run_ids.every((id) => typeof id === "string")).toBe(true);
        return cell;
      }),
    })),
  };
}

describe("an experiment on the embedded backend", () => {
  it("cancelled, restarted, resumed, interrupted and resumed again, ends as an unbroken one", async () => {
    const started = Date.now();
    const created = await first.app.inject({
      method: "POST",
      url: "/api/experiments",
      payload: EXPERIMENT,
    });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as ExperimentDetail).id;
    expect((created.json() as ExperimentDetail).progress.total).toBe(120);

    // Cancel part-way: running items go back to pending, their runs end aborted.
    await waitFor(async () => (await detail(first.app, id)).progress.done >= 20, {
      timeoutMs: 60_000,
    });
    const cancel = await first.app.inject({ method: "POST", url: `/api/experiments/${id}/cancel` });
    expect(cancel.statusCode).toBe(200);
    const cancelled = cancel.json() as ExperimentDetail;
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.progress).toMatchObject({ running: 0, failed: 0, inFlight: 0 });
    expect(cancelled.progress.done).toBeGreaterThanOrEqual(20);
    expect(cancelled.progress.done + cancelled.progress.pending).toBe(120);
    expect(cancelled.results.complete).toBe(false);
    await first.app.close();

    // A restarted server has it as it was; resume, then stop the server mid-run.
    const second = await restart();
    expect((await detail(second, id)).status).toBe("cancelled");
    const resumed = await second.inject({ method: "POST", url: `/api/experiments/${id}/resume` });
    expect(resumed.statusCode).toBe(200);
    expect((resumed.json() as ExperimentDetail).status).toBe("running");
    const before = cancelled.progress.done;
    await waitFor(async () => (await detail(second, id)).progress.done >= before + 20, {
      timeoutMs: 60_000,
    });
    await second.close();

    const third = await restart();
    const interrupted = await detail(third, id);
    expect(interrupted.status).toBe("interrupted");
    expect(interrupted.progress.running).toBe(0);
    expect(interrupted.progress.done).toBeGreaterThanOrEqual(before + 20);
    expect(interrupted.progress.done).toBeLessThan(120);
    await third.inject({ method: "POST", url: `/api/experiments/${id}/resume` });
    const done = await finished(third, id);
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ done: 120, pending: 0, failed: 0 });
    const brokenMs = Date.now() - started;

    // The same experiment, never interrupted.
    const unbrokenStart = Date.now();
    const again = await third.inject({
      method: "POST",
      url: "/api/experiments",
      payload: EXPERIMENT,
    });
    const unbroken = await finished(third, (again.json() as ExperimentDetail).id);
    const unbrokenMs = Date.now() - unbrokenStart;
    expect(unbroken.status).toBe("completed");
    expect(comparable(done.results)).toEqual(comparable(unbroken.results));

    // The results are not trivially equal: the settings differ, and so do samples (each
    // sample's seed is the base seed plus its index; this model ignores the prompt).
    const [noWait, oneWait, capped] = unbroken.results.settings;
    expect(noWait!.mean_thinking_tokens).toBeLessThan(oneWait!.mean_thinking_tokens!);
    expect(capped!.forced_end_rate).toBe(1);
    expect(oneWait!.mean_waits).toBe(1);
    const answers = new Set(unbroken.results.problems.flatMap((p) => p.settings[0]!.answers));
    expect(answers.size).toBeGreaterThan(1);
    const accuracy = unbroken.results.settings.map((s) => s.accuracy!);
    expect(Math.max(...accuracy)).toBeGreaterThan(0);

    // Every item's run is stored and can be opened.
    const runs = await third.inject({
      url: `/api/runs?experiment_id=${id}&status=completed&limit=500`,
    });
    expect(runs.json().total).toBe(120);
    console.info(
      `embedded experiment, 120 runs: unbroken ${unbrokenMs} ms; ` +
        `cancelled + restarted + interrupted + resumed ${brokenMs} ms; ` +
        `mean in flight ${unbroken.throughput?.meanInFlight.toFixed(2)} of ${unbroken.throughput?.concurrency}`,
    );
  });
});
