/**
 * The `thinkscope` CLI as a user runs it: a real child process, the embedded
 * backend on the generated counting model (thinks a..z, closes, answers " 42").
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getTestModel } from "@thinkscope/backends/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../src/index.ts";

const BIN = fileURLToPath(new URL("../bin/thinkscope.js", import.meta.url));
const RAW_PROMPT = "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n";
let dataDir: string;
let modelPath: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-cli-"));
  modelPath = (await getTestModel()).path;
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

describe("thinkscope run", () => {
  it("--fork RUN_ID --at N --insert TEXT continues a saved run from that token, saved as its fork", async () => {
    const backend = ["--backend", `embedded:${modelPath}`];
    const parent = await thinkscope("run", ...backend, "--raw", "--json", RAW_PROMPT);
    expect(parent.code).toBe(0);
    const parentId = JSON.parse(parent.stdout).run_id as string;
    const fork = await thinkscope(
      "run",
      ...backend,
      "--json",
      "--fork",
      parentId,
      "--at",
      "4",
      "--insert",
      "Wait",
      "--max-thinking-tokens",
      "10",
    );
    expect(fork.stderr).toBe("");
    const output = JSON.parse(fork.stdout);
    // The parent's format and settings, the given budget laid over them.
    expect(output.text).toBe("abcdWaittuvwx\n</think>\n\nFinal Answer: 42");
    expect(output.budget_forcing).toMatchObject({ thinking_tokens: 10, forced_end: true });
    const store = RunStore.open(dataDir);
    try {
      expect(store.get(output.run_id)).toMatchObject({
        parentRunId: parentId,
        forkAt: 4,
        mode: "raw",
      });
    } finally {
      store.close();
    }
    const refused = await thinkscope("run", ...backend, "--fork", parentId);
    expect(refused).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--fork needs --at N"),
    });
  });

  it("--raw --json prints the API's budget_forcing object and saves the run", async () => {
    const result = await thinkscope(
      "run",
      "--backend",
      `embedded:${modelPath}`,
      "--raw",
      "--json",
      "--num-waits",
      "1",
      RAW_PROMPT,
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.text).toBe("abcdefghijklmnopqrstuvwxyzWaittuvwxyz</think> 42");
    expect(output.budget_forcing).toMatchObject({
      thinking_tokens: 34,
      injected_tokens: 2,
      answer_tokens: 3,
      waits: 1,
      forced_end: false,
      token_counts_exact: true,
      upstream_requests: 3,
    });
    expect(output.budget_forcing.segments.map((s: { type: string }) => s.type)).toEqual([
      "thinking",
      "wait",
      "thinking",
      "end",
      "answer",
    ]);
    const store = RunStore.open(dataDir);
    try {
      expect(store.get(output.run_id)).toMatchObject({
        source: "cli",
        status: "completed",
        mode: "raw",
      });
    } finally {
      store.close();
    }
  });

  it("prints the trace live with each injection visibly marked", async () => {
    const result = await thinkscope(
      "run",
      "--backend",
      `embedded:${modelPath}`,
      "--max-thinking-tokens",
      "4",
      "Count",
    );
    expect(result.code).toBe(0);
    // The chat prompt went through the GGUF's own template, which opens the thinking.
    expect(result.stdout).toContain("abcd ✂⏎</think>⏎⏎Final Answer: ");
    expect(result.stdout).toContain(" 42");
    expect(result.stderr).toMatch(/thinking 4 tokens .* forced close/);
  });

  it.each([
    [["--num-waits", "-1"], /--num-waits/],
    [["--max-thinking-tokens", "ten"], /--max-thinking-tokens/],
    [
      ["--min-thinking-tokens", "9", "--max-thinking-tokens", "5"],
      /min_thinking_tokens \(9\) is above/,
    ],
    [["--format", "xml"], /--format/],
    [["--format", "custom"], /needs --think-start and --think-end/],
    [["--backend", "foo:http://x"], /Unknown backend kind "foo"/],
  ])(
    "refuses %j with a clear message and exit code 2, before loading a model",
    async (args, message) => {
      const result = await thinkscope("run", ...args, "What is 2+2?");
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe("");
    },
  );
});
