/**
 * Resample analysis on real inference: the bundled tiny reasoner through the
 * embedded backend, the suggested sum with one forced wait, every sentence of
 * its thinking resampled; progress streamed, results stored and exported.
 */
import { createEmbeddedBackend } from "@thinkscope/backends";
import {
  sentencePoints,
  splitTrace,
  type ResampleAnalysis,
  type RunDetail,
} from "@thinkscope/protocol";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, listen, parseSse, type TestApp } from "./helpers.ts";

let server: TestApp;
let base: string;
let run: RunDetail;

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  // No model given: the bundled tiny reasoner.
  const backend = createEmbeddedBackend({ dataDir: tmpdir() });
  server = await buildTestApp({ backends: [backend] });
  base = await listen(server.app);
  // The page's suggested task for the tiny model: one forced wait.
  const response = await post("/v1/chat/completions", {
    messages: [{ role: "user", content: "What is 3891 + 1464?" }],
    budget_forcing: { num_waits: 1, max_thinking_tokens: 512, max_answer_tokens: 64 },
  });
  expect(response.status).toBe(200);
  const id = response.headers.get("x-thinkscope-run-id")!;
  run = (await (await fetch(`${base}/api/runs/${id}`)).json()) as RunDetail;
});
afterAll(() => server.close());

/** Starts an analysis and reads its progress stream to the end; returns every snapshot. */
async function analyse(body: object): Promise<ResampleAnalysis[]> {
  const started = await post(`/api/runs/${run.id}/resample`, body);
  expect(started.status).toBe(202);
  const { id } = (await started.json()) as ResampleAnalysis;
  const stream = await fetch(`${base}/api/resamples/${id}/events`);
  return parseSse(await stream.text()).filter((x): x is ResampleAnalysis => typeof x === "object");
}

describe("resample analysis", () => {
  it("forks n samples at every sentence, streams its progress, and stores each sample as a fork", async () => {
    const snapshots = await analyse({ points: "sentences", n: 4, reference: "5355" });
    const last = snapshots.at(-1)!;
    expect(last.status).toBe("completed");
    const split = splitTrace(run.events);
    expect(last.points.map((p) => p.at)).toEqual(sentencePoints(split));
    expect(last.total).toBe(last.points.length * 4);
    // Progress: one snapshot per finished sample, in order, then the end.
    const done = snapshots.map((s) => s.done);
    expect(done[0]).toBe(0);
    expect(done.at(-1)).toBe(last.total);
    expect(done.every((d, i) => i === 0 || d >= done[i - 1]!)).toBe(true);
    expect(new Set(done).size).toBe(last.total + 1);
    // The spans are the sentences, in order.
    expect(last.spans.map((s) => s.text)).toEqual(split.sentences.map((s) => s.text));
    for (const point of last.points) {
      expect(point.samples).toHaveLength(4);
      expect(point.answers.reduce((n, a) => n + a.count, 0)).toBe(4);
      const right = point.samples.filter((s) => s.correct).length;
      expect(point.accuracy).toBe(right / 4);
      for (const sample of point.samples) {
        const child = (await (await fetch(`${base}/api/runs/${sample.runId}`)).json()) as RunDetail;
        expect(child).toMatchObject({ parentRunId: run.id, forkAt: point.at, resampleId: last.id });
        // The sample kept the parent's first `at` tokens.
        const prefix = run.events
          .filter((e) => e.type === "delta" || e.type === "injection")
          .reduce(
            (acc, e) =>
              acc.n + e.tokens <= point.at ? { n: acc.n + e.tokens, text: acc.text + e.text } : acc,
            { n: 0, text: "" },
          );
        if (prefix.n === point.at) expect(child.text.startsWith(prefix.text)).toBe(true);
      }
    }
    // Stored and exportable.
    const stored = (await (
      await fetch(`${base}/api/resamples/${last.id}`)
    ).json()) as ResampleAnalysis;
    expect(stored).toEqual(last);
    const csv = await (await fetch(`${base}/api/resamples/${last.id}/export`)).text();
    expect(csv.trim().split("\n")).toHaveLength(last.total + 1);
    const family = (await (await fetch(`${base}/api/runs/${run.id}/family`)).json()) as {
      runs: { id: string }[];
    };
    expect(family.runs.length).toBeGreaterThanOrEqual(last.total + 1);
    console.log(
      "resample importance:",
      JSON.stringify(last.spans.map((s) => [s.text, s.importance, s.accuracyChange])),
    );
  }, 300_000);

  it("greedy samples reproduce the run from every point: no sentence moves the answer", async () => {
    const snapshots = await analyse({ points: "sentences", n: 2, sampling: { temperature: 0 } });
    const last = snapshots.at(-1)!;
    expect(last.status).toBe("completed");
    for (const point of last.points) {
      expect(point.answers).toHaveLength(1);
      expect(point.answers[0]!.count).toBe(2);
    }
    expect(new Set(last.points.map((p) => p.answers[0]!.answer)).size).toBe(1);
    expect(last.spans.every((s) => s.importance === 0)).toBe(true);
  }, 300_000);

  it("refuses what it cannot analyse with a clear error", async () => {
    const missing = await post("/api/runs/run_0123456789abcdef/resample", { points: "sentences" });
    expect(missing.status).toBe(404);
    const past = await post(`/api/runs/${run.id}/resample`, { points: [0, 100000] });
    expect(past.status).toBe(400);
    expect(((await past.json()) as { error: { message: string } }).error.message).toMatch(
      /past the run's/,
    );
    const bad = await post(`/api/runs/${run.id}/resample`, { points: "words" });
    expect(bad.status).toBe(400);
  });
});
