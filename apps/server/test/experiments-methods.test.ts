/**
 * Thinking-control methods compared in an experiment: each is a setting of
 * its own, and `eliminate` with `verifier: "reference"` checks each attempt
 * against the problem's reference answer, which only an experiment knows.
 */
import type { Backend, GenerationSession, ModelInfo } from "@thinkscope/core";
import { ScriptedBackend, type ScriptedBackendOptions } from "@thinkscope/core/testing";
import type { ExperimentDetail } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, buildTestApp, waitFor, type TestApp } from "./helpers.ts";

/** Each run (session) follows the next script in turn: samples that disagree, each as sure as its script says. */
class ScriptPerSample implements Backend {
  readonly kind = "scripted" as const;
  readonly capabilities;
  private next = 0;

  constructor(
    readonly id: string,
    private readonly scripts: ScriptedBackendOptions[],
  ) {
    this.capabilities = new ScriptedBackend(scripts[0]!).capabilities;
  }

  async listModels(): Promise<ModelInfo[]> {
    return [{ id: `${this.id}-model` }];
  }

  async readiness() {
    return { state: "ready" as const };
  }

  async openSession(): Promise<GenerationSession> {
    const script = this.scripts[this.next++ % this.scripts.length]!;
    return new ScriptedBackend(script).openSession();
  }

  async close(): Promise<void> {}
}

/** Two unsure samples answer 5, one sure sample answers 12. */
const voters = new ScriptPerSample("voters", [
  { replies: ["a</think>", " \\boxed{5}"], tokenLogprob: () => -3 },
  { replies: ["b</think>", " \\boxed{5}"], tokenLogprob: () => -3 },
  { replies: ["c</think>", " \\boxed{12}"], tokenLogprob: () => -0.01 },
]);

/**
 * Per upstream request: thinking that ends in 11, then (when probed) its
 * answer 11, more thinking ending in 12, the probe's 12, and the answer.
 * Without elimination the second reply is its answer: "11}".
 */
const guesser = new ScriptPerRun("guesser", {
  replies: ["5 + 7 = 11</think>", "11}", " no, 12</think>", "12}", " \\boxed{12}"],
});

let server: TestApp;
beforeAll(async () => {
  server = await buildTestApp({ backends: [guesser, voters] });
});
afterAll(() => server.close());

describe("methods in an experiment", () => {
  it('eliminate with verifier "reference" rejects the wrong first answer and accepts the right one', async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/api/experiments",
      payload: {
        backend: "guesser",
        dataset: { jsonl: '{"problem": "What is 5 + 7?", "answer": 12}\n', name: "one.jsonl" },
        settings: [{}, { eliminate: { attempts: 1, verifier: "reference" } }],
      },
    });
    expect(response.statusCode).toBe(201);
    const id = (response.json() as ExperimentDetail).id;
    await waitFor(
      async () =>
        ((await server.app.inject({ url: `/api/experiments/${id}` })).json() as ExperimentDetail)
          .status !== "running",
      { timeoutMs: 30_000 },
    );
    const done = (
      await server.app.inject({ url: `/api/experiments/${id}` })
    ).json() as ExperimentDetail;
    expect(done.status).toBe("completed");
    const [plain, eliminating] = done.results.settings;
    expect(plain!.setting.label).toBe("base");
    expect(plain!.accuracy).toBe(0);
    expect(eliminating!.setting.label).toBe('eliminate={"attempts":1,"verifier":"reference"}');
    expect(eliminating!.accuracy).toBe(1);
    expect(done.results.problems[0]!.settings.map((s) => s.answers)).toEqual([["11"], ["12"]]);
  });

  it("refuses a method's bad field before anything runs, naming the setting", async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/api/experiments",
      payload: {
        backend: "guesser",
        dataset: { jsonl: '{"problem": "What is 5 + 7?", "answer": 12}\n' },
        settings: [{ loop_guard: { window: 0 } }],
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(/loop_guard/);
  });

  it("a confidence vote lets one sure sample outvote two unsure ones, where the majority is wrong", async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/api/experiments",
      payload: {
        backend: "voters",
        dataset: { jsonl: '{"problem": "What is 5 + 7?", "answer": 12}\n' },
        samples: 3,
        concurrency: 1,
        vote: { method: "confidence", window: 4 },
      },
    });
    expect(response.statusCode).toBe(201);
    const id = (response.json() as ExperimentDetail).id;
    await waitFor(
      async () =>
        ((await server.app.inject({ url: `/api/experiments/${id}` })).json() as ExperimentDetail)
          .status !== "running",
      { timeoutMs: 30_000 },
    );
    const done = (
      await server.app.inject({ url: `/api/experiments/${id}` })
    ).json() as ExperimentDetail;
    const [setting] = done.results.settings;
    expect(done.results.problems[0]!.settings[0]!.answers).toEqual(["5", "5", "12"]);
    expect(setting!.majority_vote_accuracy).toBe(0);
    expect(setting!.confidence_vote_accuracy).toBe(1);
  });

  it("refuses a confidence vote on a backend without token log-probabilities", async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/api/experiments",
      payload: {
        backend: "guesser",
        dataset: { jsonl: '{"problem": "What is 5 + 7?", "answer": 12}\n' },
        vote: { method: "confidence" },
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: "unsupported_by_backend" });
  });
});
