/**
 * `thinkscope experiment` as a user runs it: a child process, the embedded
 * backend on the counting test model (thinks a..z, after a Wait t..z, then
 * answers " 42"), the experiment and its runs saved in the data directory.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getTestModel } from "@thinkscope/backends/testing";
import type { ExperimentResultsDocument } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../src/index.ts";

const BIN = fileURLToPath(new URL("../bin/thinkscope.js", import.meta.url));
let dataDir: string;
let backend: string;
let dataset: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-experiment-cli-"));
  backend = `embedded:${(await getTestModel()).path}`;
  dataset = join(dataDir, "answers.jsonl");
  await writeFile(
    dataset,
    '{"problem": "What is 6 * 7?", "answer": 42}\n{"problem": "What is 6 * 7 - 1?", "answer": 41}\n',
  );
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function thinkscope(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, THINKSCOPE_DATA_DIR: dataDir, THINKSCOPE_BACKEND: "", NO_COLOR: "1" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe("thinkscope experiment", () => {
  it("--json prints one object whose settings follow the contract, and saves every run", async () => {
    const result = await thinkscope(
      "experiment",
      "--backend",
      backend,
      "--dataset",
      dataset,
      "--sweep",
      "num_waits=0,1",
      "--samples",
      "2",
      "--json",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as ExperimentResultsDocument;
    expect(output.settings).toHaveLength(2);
    const [noWait, oneWait] = output.settings;
    for (const setting of output.settings) {
      expect(setting).toMatchObject({
        accuracy: 0.5,
        majority_vote_accuracy: 0.5,
        pass_at_k: [0.5, 0.5],
      });
    }
    expect(noWait!.setting.budget_forcing).toMatchObject({ num_waits: 0 });
    expect(noWait!.mean_thinking_tokens).toBe(26);
    // "Wait" and "tuvwxyz" after the first close.
    expect(oneWait!.mean_thinking_tokens).toBe(34);
    expect(output.s1_metrics).toMatchObject({ control: 1, performance: 0.5, scaling: 0 });
    expect(output).toMatchObject({
      status: "completed",
      samples: 2,
      dataset: { name: "answers.jsonl" },
    });

    const store = RunStore.open(dataDir);
    try {
      const runs = store.list({ experimentId: output.experiment_id });
      expect(runs.total).toBe(8);
      expect(runs.runs.every((r) => r.source === "experiment" && r.status === "completed")).toBe(
        true,
      );
    } finally {
      store.close();
    }
  });

  it("--preset runs the preset's problems and settings on the backend given", async () => {
    const result = await thinkscope(
      "experiment",
      "--preset",
      "tiny-reasoner",
      "--backend",
      backend,
      "--limit",
      "2",
      "--samples",
      "1",
      "--json",
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as ExperimentResultsDocument;
    expect(output).toMatchObject({
      preset: "tiny-reasoner",
      samples: 1,
      dataset: { name: "tiny-reasoner.heldout.jsonl", problems: 2 },
    });
    expect(output.settings.map((s) => s.setting.varied)).toEqual([
      { num_waits: 0, max_thinking_tokens: 768 },
      { num_waits: 1, max_thinking_tokens: 768 },
      { num_waits: 2, max_thinking_tokens: 768 },
      { num_waits: 3, max_thinking_tokens: 768 },
      { num_waits: 4, max_thinking_tokens: 768 },
      { num_waits: 6, max_thinking_tokens: 768 },
      { num_waits: 6, max_thinking_tokens: 128 },
      { num_waits: 6, max_thinking_tokens: 192 },
      { num_waits: 6, max_thinking_tokens: 256 },
    ]);
    // The counting model thinks 26 tokens and 8 more per wait: 74 with six
    // waits, inside every cap (the tiny reasoner's checks are what the caps cut).
    expect(output.settings.map((s) => s.mean_thinking_tokens)).toEqual([
      26, 34, 42, 50, 58, 74, 74, 74, 74,
    ]);
  });

  it("--preset rl-vs-base runs the bundled model and its sharpened twin side by side", async () => {
    const result = await thinkscope(
      "experiment",
      "--preset",
      "rl-vs-base",
      "--limit",
      "2",
      "--samples",
      "4",
      "--json",
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as ExperimentResultsDocument;
    expect(output.model).toBeNull();
    expect(output.settings.map((s) => s.setting.label)).toEqual([
      "model=tiny-reasoner",
      "model=tiny-reasoner-rl",
    ]);
    // One embedded backend per model file, each setting on its own.
    const [base, twin] = output.settings;
    expect(base!.setting.backend).not.toBe(twin!.setting.backend);
    for (const setting of output.settings) {
      expect(setting.pass_at_k).toHaveLength(4);
      expect(setting.mean_waits).toBe(0);
      expect(setting.samples).toBe(8);
    }
  });

  it("prints a table without --json", async () => {
    const result = await thinkscope(
      "experiment",
      "--backend",
      backend,
      "--generate",
      "count=3,digits=1,seed=2",
      "--sweep",
      "max_thinking_tokens=5,100",
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^setting\s+accuracy\s+think tokens\s+majority\s+pass@1/);
    expect(result.stdout).toMatch(/max_thinking_tokens=5\s+0\.0%\s+5\.0/);
    expect(result.stdout).toMatch(/s1 metrics: Control 100\.0%/);
    expect(result.stderr).toMatch(/Saved as exp_/);
  });

  it("refuses bad options before loading a model", async () => {
    const sweep = await thinkscope("experiment", "--generate", "count=2", "--sweep", "colour=1,2");
    expect(sweep.code).toBe(2);
    expect(sweep.stderr).toMatch(/Unknown sweep field "colour"/);
    expect(sweep.stderr).toMatch(/model, max_thinking_tokens/);

    const bad = join(dataDir, "bad.jsonl");
    await writeFile(bad, '{"problem": "a", "answer": 1}\n{"problem": "b"}\n');
    const lines = await thinkscope("experiment", "--backend", backend, "--dataset", bad);
    expect(lines.code).toBe(2);
    expect(lines.stderr).toMatch(/line 2: missing field `answer`/);

    const preset = await thinkscope("experiment", "--preset", "nope");
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/Unknown preset "nope"/);

    const none = await thinkscope("experiment");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--dataset FILE, --generate/);
  });

  it("--set and --sweep reach nested method fields by dotted path, keeping what --set gave", async () => {
    const result = await thinkscope(
      "experiment",
      "--backend",
      backend,
      "--dataset",
      dataset,
      "--set",
      "eliminate.verifier=reference",
      "--set",
      "budget_message=Time is up.",
      "--sweep",
      "eliminate.attempts=0,2",
      "--json",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as ExperimentResultsDocument;
    expect(output.settings.map((s) => s.setting.budget_forcing)).toEqual([
      {
        format: "think-tags",
        budget_message: "Time is up.",
        eliminate: { verifier: "reference", attempts: 0 },
      },
      {
        format: "think-tags",
        budget_message: "Time is up.",
        eliminate: { verifier: "reference", attempts: 2 },
      },
    ]);
    // The reference verifier got each problem's answer: no run was refused.
    expect(output.settings.map((s) => s.samples)).toEqual([2, 2]);
  });

  it("--sweep refuses a field that is not one, naming the dotted form", async () => {
    const result = await thinkscope(
      "experiment",
      "--backend",
      backend,
      "--dataset",
      dataset,
      "--sweep",
      "colour.shade=1,2",
      "--json",
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unknown sweep field "colour.shade"/);
  });

  it("refuses a sweep over a model no backend serves, naming the ones served", async () => {
    const models = await thinkscope(
      "experiment",
      "--backend",
      backend,
      "--generate",
      "count=2",
      "--sweep",
      "model=no-such-model",
    );
    expect(models.code).toBe(2);
    expect(models.stderr).toMatch(/The model "no-such-model" is not served here/);
  });
});
