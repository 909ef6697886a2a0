/**
 * The experiments API on scripted backends: shapes, bad input, grading of
 * the answer segment, concurrency, cancel and resume, exports, deletion,
 * progress over the WebSocket, and recovery after a stop.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendError } from "@thinkscope/core";
import type {
  ExperimentDetail,
  ExperimentList,
  ExperimentProgressMessage,
  ExperimentResultsDocument,
} from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type App } from "../src/app.ts";
import { ScriptPerRun, WsClient, buildTestApp, listen, waitFor, type TestApp } from "./helpers.ts";

/** Thinks `Let me add.` (or more after a wait), then answers 12 in a box. */
const adder = new ScriptPerRun("adder", {
  replies: ["Let me add.</think>", " The sum is \\boxed{12}."],
});
/** Writes the right answer in its thinking, then a wrong one in its answer. */
const secondGuesser = new ScriptPerRun("second-guesser", {
  replies: ["It is \\boxed{12}.</think>", " No: 5."],
});
/** Its upstream fails every run after two tokens, for good. */
const broken = new ScriptPerRun("broken", {
  replies: ["Thinking.</think>", " 1"],
  failAt: {
    request: 0,
    afterTokens: 2,
    error: new BackendError("broken", "upstream_refused", "the upstream said no", {
      retryable: false,
    }),
  },
});
/** One token every 20 ms: slow enough to watch requests pile up. */
const slow = new ScriptPerRun("slow", {
  replies: ["Hmm.</think>", " 7"],
  chunkDelayMs: 20,
});

let server: TestApp;

beforeAll(async () => {
  server = await buildTestApp({ backends: [adder, secondGuesser, slow, broken] });
});
afterAll(() => server.close());

const GENERATED = { generator: { seed: 3, count: 4, digits: 1, kinds: ["addition"] } };

async function create(app: App, payload: object) {
  return app.inject({ method: "POST", url: "/api/experiments", payload });
}

async function detail(app: App, id: string): Promise<ExperimentDetail> {
  return (await app.inject({ url: `/api/experiments/${id}` })).json() as ExperimentDetail;
}

async function finished(app: App, id: string): Promise<ExperimentDetail> {
  await waitFor(async () => (await detail(app, id)).status !== "running", { timeoutMs: 30_000 });
  return detail(app, id);
}

describe("creating and reading an experiment", () => {
  it("runs the sweep and reports each setting in the contract's shape", async () => {
    const response = await create(server.app, {
      name: "adding",
      backend: "adder",
      dataset: GENERATED,
      sweep: { num_waits: [0, 1], max_thinking_tokens: [64, 512] },
      samples: 3,
    });
    expect(response.statusCode).toBe(201);
    const created = response.json() as ExperimentDetail;
    expect(created).toMatchObject({
      name: "adding",
      status: "running",
      backend: "adder",
      settings: 4,
      samples: 3,
      dataset: { source: "generator", problems: 4, available: 4, offset: 0 },
    });
    expect(created.progress.total).toBe(4 * 4 * 3);
    // Several samples without a temperature: Yue et al.'s sampling, base seed 0.
    expect(created.spec.sampling).toEqual({ temperature: 0.6, top_p: 0.95, seed: 0 });
    expect(created.spec.settings.map((s) => s.label)).toEqual([
      "max_thinking_tokens=64 num_waits=0",
      "max_thinking_tokens=64 num_waits=1",
      "max_thinking_tokens=512 num_waits=0",
      "max_thinking_tokens=512 num_waits=1",
    ]);

    const done = await finished(server.app, created.id);
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ total: 48, done: 48, pending: 0, failed: 0, running: 0 });
    expect(done.progress.tokens).toBeGreaterThan(done.progress.thinkingTokens);
    const problems = done.results.problems;
    expect(problems).toHaveLength(4);
    for (const setting of done.results.settings) {
      const correct = problems.filter((p) => p.reference === "12").length / problems.length;
      expect(setting.accuracy).toBeCloseTo(correct);
      expect(setting.majority_vote_accuracy).toBeCloseTo(correct);
      expect(setting.pass_at_k).toHaveLength(3);
      expect(setting.samples).toBe(12);
    }
    const [noWait, oneWait] = done.results.settings;
    expect(noWait!.mean_waits).toBe(0);
    expect(oneWait!.mean_waits).toBe(1);
    expect(oneWait!.mean_thinking_tokens).toBeGreaterThan(noWait!.mean_thinking_tokens!);
    expect(done.results.s1_metrics).toMatchObject({
      control: 1,
      scaling: 0,
      scaling_unit: "percentage points per doubling of thinking tokens",
    });
    const parallel = done.results.sequential_vs_parallel.parallel[0]!;
    expect(parallel.points.map((p) => p.n)).toEqual([1, 2, 3]);
    expect(parallel.points[2]!.tokens).toBeCloseTo(3 * noWait!.mean_thinking_tokens!);

    // Every item is a stored run, tagged with the experiment, openable in the trace view.
    const runId = problems[0]!.settings[1]!.run_ids[2]!;
    const run = (await server.app.inject({ url: `/api/runs/${runId}` })).json();
    expect(run).toMatchObject({
      source: "experiment",
      experimentId: created.id,
      status: "completed",
      budgetForcing: { num_waits: 1, max_thinking_tokens: 64 },
      sampling: { temperature: 0.6, top_p: 0.95, seed: 2 },
    });
    expect(run.prompt).toBe(`${problems[0]!.problem}\n\nPut your final answer within \\boxed{}.`);

    const list = (await server.app.inject({ url: "/api/experiments" })).json() as ExperimentList;
    expect(list.experiments.some((e) => e.id === created.id && e.status === "completed")).toBe(
      true,
    );
  });

  it("grades the answer segment, not a number in the thinking", async () => {
    const response = await create(server.app, {
      backend: "second-guesser",
      dataset: { jsonl: '{"problem": "What is 5 + 7?", "answer": 12}\n', name: "one.jsonl" },
    });
    const done = await finished(server.app, (response.json() as ExperimentDetail).id);
    expect(done.dataset).toMatchObject({ name: "one.jsonl", source: "upload", shape: "aime" });
    expect(done.results.settings[0]!.accuracy).toBe(0);
    expect(done.results.problems[0]!.settings[0]!.answers).toEqual(["5"]);
  });

  it("reads a dataset from the data directory's datasets folder, with a column mapping", async () => {
    const dir = join(server.dataDir, "datasets", "sets");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "mapped.jsonl"),
      '{"q": "What is 6 + 6?", "a": "12", "key": "x"}\n{"q": "What is 1 + 1?", "a": "2", "key": "y"}\n',
    );
    const response = await create(server.app, {
      backend: "adder",
      dataset: {
        path: join(dir, "mapped.jsonl"),
        columns: { problem: "q", answer: "a", id: "key" },
      },
      offset: 1,
      limit: 5,
    });
    expect(response.statusCode).toBe(201);
    const done = await finished(server.app, (response.json() as ExperimentDetail).id);
    expect(done.dataset).toMatchObject({
      name: "mapped.jsonl",
      shape: "mapped",
      available: 2,
      offset: 1,
      problems: 1,
    });
    expect(done.results.problems.map((p) => p.problem_id)).toEqual(["y"]);
  });
});

describe("bad input", () => {
  async function refused(payload: object) {
    const response = await create(server.app, { backend: "adder", dataset: GENERATED, ...payload });
    expect(response.statusCode).toBe(400);
    return response.json().error as { code: string; message: string };
  }

  it("names bad dataset lines", async () => {
    const error = await refused({
      dataset: { jsonl: '{"problem": "a", "answer": 1}\nnot json\n{"problem": "b"}\n' },
    });
    expect(error.code).toBe("invalid_dataset");
    expect(error.message).toMatch(/line 2: not valid JSON/);
    expect(error.message).toMatch(/line 3: missing field `answer`/);
  });

  it("refuses an unknown preset, a bad sweep, a bad setting and a bad template", async () => {
    expect(await refused({ preset: "gpt-5" })).toMatchObject({
      code: "unknown_preset",
      message: expect.stringContaining("tiny-reasoner"),
    });
    expect((await refused({ sweep: { num_waits: [1, -2] } })).message).toMatch(/num_waits/);
    expect((await refused({ sweep: { colour: ["red"] } })).code).toBe("invalid_request");
    expect(
      await refused({
        budget_forcing: { max_thinking_tokens: 10 },
        sweep: { min_thinking_tokens: [0, 20] },
      }),
    ).toMatchObject({
      code: "invalid_budget",
      message: expect.stringMatching(
        /^Setting 2 \(min_thinking_tokens=20\): min_thinking_tokens \(20\)/,
      ),
    });
    expect((await refused({ settings: [{ num_waits: 1 }, { num_waits: 1 }] })).code).toBe(
      "duplicate_setting",
    );
    expect((await refused({ prompt: { template: "Solve it." } })).code).toBe("invalid_template");
    expect((await refused({ backend: "nowhere" })).code).toBe("unknown_backend");
    expect((await refused({ offset: 10 })).code).toBe("empty_slice");
  });

  it("reads no file outside the allowed folders", async () => {
    const error = await refused({ dataset: { path: "/etc/passwd" } });
    expect(error.code).toBe("dataset_path_not_allowed");
    // Whether a file outside exists is not told either.
    expect((await refused({ dataset: { path: "/etc/no-such-file" } })).code).toBe(
      "dataset_path_not_allowed",
    );
    // A link inside the data directory cannot lead out.
    const elsewhere = mkdtempSync(join(tmpdir(), "thinkscope-outside-"));
    try {
      writeFileSync(join(elsewhere, "set.jsonl"), '{"problem": "What is 1 + 1?", "answer": 2}\n');
      mkdirSync(join(server.dataDir, "datasets"), { recursive: true });
      symlinkSync(join(elsewhere, "set.jsonl"), join(server.dataDir, "datasets", "link.jsonl"));
      expect(
        (await refused({ dataset: { path: join(server.dataDir, "datasets", "link.jsonl") } })).code,
      ).toBe("dataset_path_not_allowed");
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    expect(
      (await refused({ dataset: { path: join(server.dataDir, "datasets", "none.jsonl") } })).code,
    ).toBe("dataset_not_found");
  });

  it("answers 404 for an unknown experiment", async () => {
    const response = await server.app.inject({ url: "/api/experiments/exp_nothing" });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe("experiment_not_found");
  });
});

describe("running", () => {
  it("keeps the configured number of requests in flight", async () => {
    const response = await create(server.app, {
      backend: "slow",
      dataset: { generator: { seed: 1, count: 8, digits: 1 } },
      samples: 2,
      concurrency: 4,
    });
    const done = await finished(server.app, (response.json() as ExperimentDetail).id);
    const throughput = done.throughput!;
    expect(throughput.concurrency).toBe(4);
    expect(throughput.peakInFlight).toBe(4);
    expect(throughput.meanInFlight).toBeGreaterThan(3);
    console.info(
      `slow scripted backend, 16 runs at concurrency 4: ${done.progress.elapsedMs} ms, ` +
        `mean in flight ${throughput.meanInFlight.toFixed(2)}, points ` +
        JSON.stringify(throughput.points.map((p) => [p.t, p.inFlight])),
    );
  });

  it("cancels (runs aborted, items pending), resumes, exports and deletes", async () => {
    const response = await create(server.app, {
      backend: "slow",
      dataset: { generator: { seed: 2, count: 6, digits: 1 } },
      sweep: { wait_string: ["Wait", "Hmm"] },
      concurrency: 3,
    });
    const id = (response.json() as ExperimentDetail).id;
    await waitFor(async () => (await detail(server.app, id)).progress.done >= 2);
    const busy = await server.app.inject({ method: "DELETE", url: `/api/experiments/${id}` });
    expect(busy.statusCode).toBe(409);
    const cancelled = (
      await server.app.inject({ method: "POST", url: `/api/experiments/${id}/cancel` })
    ).json() as ExperimentDetail;
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.progress.pending).toBeGreaterThan(0);
    const aborted = await server.app.inject({
      url: `/api/runs?experiment_id=${id}&status=aborted`,
    });
    expect(aborted.json().total).toBeGreaterThan(0);
    const again = await server.app.inject({ method: "POST", url: `/api/experiments/${id}/cancel` });
    expect(again.json().error.code).toBe("experiment_not_running");

    await server.app.inject({ method: "POST", url: `/api/experiments/${id}/resume` });
    const done = await finished(server.app, id);
    expect(done.progress).toMatchObject({ done: 12, pending: 0 });
    const resumeDone = await server.app.inject({
      method: "POST",
      url: `/api/experiments/${id}/resume`,
    });
    expect(resumeDone.json().error.code).toBe("experiment_completed");

    const csv = await server.app.inject({ url: `/api/experiments/${id}/results.csv` });
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split("\r\n");
    expect(lines[0]).toMatch(
      /^setting,label,max_thinking_tokens,.*,accuracy,mean_thinking_tokens,majority_vote_accuracy,.*pass_at_1$/,
    );
    expect(lines.slice(1).map((l) => l.split(",")[1])).toEqual([
      "wait_string=Wait",
      "wait_string=Hmm",
    ]);
    const items = await server.app.inject({ url: `/api/experiments/${id}/results.csv?rows=items` });
    expect(items.body.trim().split("\r\n")).toHaveLength(13);

    const json = (
      await server.app.inject({ url: `/api/experiments/${id}/results.json` })
    ).json() as ExperimentResultsDocument;
    expect(json).toMatchObject({ experiment_id: id, status: "completed", samples: 1 });
    expect(Object.keys(json.settings[0]!)).toEqual(
      expect.arrayContaining([
        "setting",
        "accuracy",
        "mean_thinking_tokens",
        "majority_vote_accuracy",
        "pass_at_k",
      ]),
    );

    const deleted = await server.app.inject({ method: "DELETE", url: `/api/experiments/${id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await server.app.inject({ url: `/api/experiments/${id}` })).statusCode).toBe(404);
    expect((await server.app.inject({ url: `/api/runs?experiment_id=${id}` })).json().total).toBe(
      0,
    );
  });

  it("stops as failed when runs keep failing, keeping each failed run", async () => {
    const response = await create(server.app, {
      backend: "broken",
      dataset: { generator: { seed: 6, count: 20, digits: 1 } },
      concurrency: 1,
    });
    const done = await finished(server.app, (response.json() as ExperimentDetail).id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({
      code: "upstream_refused",
      message: expect.stringContaining("the upstream said no"),
    });
    // Five failures in a row stop it; the rest stays pending for a resume.
    expect(done.progress).toMatchObject({ failed: 5, done: 0, pending: 15 });
    const failedRuns = await server.app.inject({
      url: `/api/runs?experiment_id=${done.id}&status=error`,
    });
    expect(failedRuns.json().total).toBe(5);
  });

  it("sends progress over the WebSocket until the experiment ends", async () => {
    const base = await listen(server.app);
    const page = await WsClient.connect(base);
    try {
      page.send({ type: "experiment.subscribe" });
      expect(await page.next("error")).toMatchObject({
        code: "invalid_message",
        message: expect.stringContaining("experimentId"),
      });
      page.send({ type: "experiment.subscribe", experimentId: "exp_missing" });
      expect(await page.next("error", (m) => m.code !== "invalid_message")).toMatchObject({
        code: "experiment_not_found",
      });

      const response = await create(server.app, {
        backend: "slow",
        dataset: { generator: { seed: 4, count: 4, digits: 1 } },
        concurrency: 2,
      });
      const id = (response.json() as ExperimentDetail).id;
      page.send({ type: "experiment.subscribe", experimentId: id });
      const last = await page.next(
        "experiment.progress",
        (m) => m.experimentId === id && m.status === "completed",
      );
      expect(last.progress).toMatchObject({ total: 4, done: 4, inFlight: 0 });
      const progress = page.messages.filter(
        (m): m is ExperimentProgressMessage => m.type === "experiment.progress",
      );
      // Coalesced: fewer messages than changes, the done count never going back.
      const done = progress.map((m) => m.progress.done);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      expect(progress.some((m) => m.status === "running")).toBe(true);
    } finally {
      page.close();
    }
  });
});

describe("a server stopped while an experiment runs", () => {
  it("marks it interrupted and resumes it after the restart", async () => {
    const first = await buildTestApp({ backends: [slow] });
    const apps: App[] = [];
    try {
      const response = await create(first.app, {
        dataset: { generator: { seed: 5, count: 6, digits: 1 } },
        concurrency: 2,
      });
      const id = (response.json() as ExperimentDetail).id;
      await waitFor(async () => (await detail(first.app, id)).progress.done >= 1);
      await first.app.close();

      const second = await buildApp({
        config: first.config,
        backends: [{ backend: slow }],
        log: false,
      });
      apps.push(second);
      const stopped = await detail(second, id);
      expect(stopped.status).toBe("interrupted");
      expect(stopped.progress.running).toBe(0);
      expect(stopped.progress.pending).toBeGreaterThan(0);
      const interruptedRuns = await second.inject({
        url: `/api/runs?experiment_id=${id}&status=interrupted`,
      });
      expect(interruptedRuns.json().total).toBeGreaterThan(0);

      await second.inject({ method: "POST", url: `/api/experiments/${id}/resume` });
      expect((await finished(second, id)).progress).toMatchObject({ done: 6, pending: 0 });
    } finally {
      for (const app of apps) await app.close();
      await first.close();
    }
  });
});

describe("a sweep over models", () => {
  it("runs each model's settings on the backend that lists it, labelled by model", async () => {
    const before = { adder: adder.sessions.length, guesser: secondGuesser.sessions.length };
    const response = await create(server.app, {
      dataset: GENERATED,
      sweep: { model: ["adder-model", "second-guesser-model"], num_waits: [0, 1] },
      samples: 2,
    });
    expect(response.statusCode).toBe(201);
    const created = response.json() as ExperimentDetail;
    expect(created.model).toBeNull();
    expect(
      created.spec.settings.map(({ label, model, backend }) => ({ label, model, backend })),
    ).toEqual([
      { label: "model=adder-model num_waits=0", model: "adder-model", backend: "adder" },
      { label: "model=adder-model num_waits=1", model: "adder-model", backend: "adder" },
      {
        label: "model=second-guesser-model num_waits=0",
        model: "second-guesser-model",
        backend: "second-guesser",
      },
      {
        label: "model=second-guesser-model num_waits=1",
        model: "second-guesser-model",
        backend: "second-guesser",
      },
    ]);
    const done = await finished(server.app, created.id);
    expect(done.status).toBe("completed");
    // 4 problems x 2 settings x 2 samples on each backend.
    expect(adder.sessions.length - before.adder).toBe(16);
    expect(secondGuesser.sessions.length - before.guesser).toBe(16);
    // Each setting's answers come from its own model: the adder says 12, the second guesser 5.
    for (const row of done.results.problems) {
      expect(row.settings.map((cell) => cell.answers)).toEqual([
        ["12", "12"],
        ["12", "12"],
        ["5", "5"],
        ["5", "5"],
      ]);
    }
  });

  async function refused(payload: object) {
    const response = await create(server.app, payload);
    expect(response.statusCode).toBe(400);
    return response.json().error as { code: string; message: string };
  }

  it("refuses a model no backend lists, and a backend id in place of a model", async () => {
    expect(await refused({ dataset: GENERATED, sweep: { model: ["gpt-5"] } })).toMatchObject({
      code: "model_not_found",
      message: expect.stringContaining("adder-model"),
    });
    expect(await refused({ dataset: GENERATED, sweep: { model: ["adder"] } })).toMatchObject({
      code: "invalid_sweep",
      message: expect.stringContaining("names a backend, not a model"),
    });
  });
});

describe("presets", () => {
  it("lists the presets and runs one on a named backend, with its own slice and settings", async () => {
    const presets = (await server.app.inject({ url: "/api/experiments/presets" })).json();
    expect(presets.presets.map((p: { id: string }) => p.id)).toEqual([
      "tiny-reasoner",
      "s1-curve",
      "rl-vs-base",
      "sequential-vs-parallel",
      "methods",
    ]);

    const response = await create(server.app, {
      preset: "tiny-reasoner",
      backend: "adder",
      limit: 3,
    });
    expect(response.statusCode).toBe(201);
    const created = response.json() as ExperimentDetail;
    expect(created).toMatchObject({
      preset: "tiny-reasoner",
      name: "tiny-reasoner",
      samples: 3,
      dataset: {
        source: "preset",
        name: "tiny-reasoner.heldout.jsonl",
        available: 200,
        problems: 3,
      },
    });
    expect(created.spec.prompt).toEqual({ mode: "chat", template: "{problem}" });
    expect(created.spec.settings.map((s) => s.varied.num_waits)).toEqual([
      0, 1, 2, 3, 4, 6, 6, 6, 6,
    ]);
    expect(created.progress.total).toBe(3 * 9 * 3);
    await finished(server.app, created.id);

    // Overrides: a sweep replaces the preset's settings; sampling merges field by field.
    const custom = await create(server.app, {
      preset: "tiny-reasoner",
      backend: "adder",
      limit: 1,
      sweep: { num_waits: [0, 3] },
      sampling: { seed: 5 },
    });
    const overridden = custom.json() as ExperimentDetail;
    expect(overridden.spec.settings.map((s) => s.label)).toEqual(["num_waits=0", "num_waits=3"]);
    expect(overridden.spec.sampling).toEqual({ temperature: 0.3, top_p: 0.95, seed: 5 });
    await finished(server.app, overridden.id);
  });

  it("says which models a preset that sweeps models needs when no backend serves them", async () => {
    const response = await create(server.app, { preset: "rl-vs-base", backend: "adder" });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: "model_not_found",
      message: expect.stringContaining(
        "THINKSCOPE_BACKEND=embedded:models/tiny-reasoner.gguf,embedded:models/tiny-reasoner-rl.gguf",
      ),
    });
  });

  it("says which model a preset needs when no backend serves it", async () => {
    const response = await create(server.app, { preset: "tiny-reasoner" });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: "preset_backend_missing",
      message: expect.stringContaining("models/tiny-reasoner.gguf"),
    });
  });
});
