/**
 * The real server process, killed (SIGKILL) in the middle of a run, then
 * started again: the run is listed as interrupted with its partial text.
 * Uses the hidden `scripted:` backend (THINKSCOPE_ENABLE_TEST_BACKENDS=1)
 * to stream slowly without a model.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIN_COMMAND, mainProcessEnv, THINK_PROMPT } from "./helpers.ts";

const THOUGHT =
  "Let me count slowly: " + "one two three four five six seven eight nine ten ".repeat(20);

let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "thinkscope-crash-test-"));
});
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

const SLOW_BACKEND = { replies: [THOUGHT + "</think>", "Ten."], chunkDelayMs: 10 };

/** Starts `node --import tsx src/main.ts` and resolves with its URL once it listens. */
async function startServer(
  backend: object = SLOW_BACKEND,
): Promise<{ child: ChildProcess; url: string }> {
  const [command, ...args] = MAIN_COMMAND;
  const child = spawn(command!, args, {
    cwd: dataDir,
    env: mainProcessEnv(dataDir, backend),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
  });
  return { child, url };
}

describe("a server killed mid-run", () => {
  it("lists the run as interrupted with its partial text after a restart", async () => {
    const first = await startServer();
    const response = await fetch(`${first.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: THINK_PROMPT, stream: true, budget_forcing: {} }),
    });
    const runId = response.headers.get("x-thinkscope-run-id")!;
    const reader = response.body!.getReader();
    let received = "";
    for (let chunks = 0; chunks < 40;) {
      const { value } = await reader.read();
      const text = new TextDecoder().decode(value);
      for (const data of text.split("\n\n").filter((block) => block.startsWith("data: {"))) {
        received += (JSON.parse(data.slice(6)) as { choices: Array<{ text: string }> }).choices[0]!
          .text;
        chunks += 1;
      }
    }
    // Long enough for several batched writes to have reached the database.
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    await reader.cancel().catch(() => {});

    const second = await startServer();
    try {
      const list = (await (await fetch(`${second.url}/api/runs`)).json()) as {
        runs: Array<{ id: string; status: string }>;
      };
      expect(list.runs).toHaveLength(1);
      expect(list.runs[0]).toMatchObject({ id: runId, status: "interrupted" });
      const run = (await (await fetch(`${second.url}/api/runs/${runId}`)).json()) as {
        text: string;
        summary: { thinking_tokens: number };
        events: Array<{ type: string }>;
      };
      // Everything up to the last ~100 ms before the kill is there, and nothing else.
      expect(THOUGHT.startsWith(run.text)).toBe(true);
      expect(run.text.length).toBeGreaterThanOrEqual(received.length);
      expect(run.summary.thinking_tokens).toBe(run.text.length);
      expect(run.events[0]!.type).toBe("run.started");
      expect(run.events.some((e) => e.type === "run.finished")).toBe(false);
      // Searchable like any run.
      const found = (await (await fetch(`${second.url}/api/runs?q=slowly`)).json()) as {
        total: number;
      };
      expect(found.total).toBe(1);
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((resolve) => second.child.once("exit", resolve));
    }
  });
});

describe("a server killed in the middle of a long, fast run", () => {
  it("loses at most the last 250 ms of a 20,000-token run", async () => {
    // One token a letter (the scripted tokenizer), 20,000 of them, streaming for a few seconds.
    const thought = Array.from({ length: 20_000 }, (_, i) =>
      String.fromCharCode(97 + (i % 26)),
    ).join("");
    const first = await startServer({
      replies: [thought + "</think>", "Done."],
      tokensPerChunk: 8,
      chunkDelayMs: 1,
    });
    const response = await fetch(`${first.url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        prompt: THINK_PROMPT,
        stream: true,
        budget_forcing: { max_thinking_tokens: 30_000, max_answer_tokens: 10 },
      }),
    });
    const runId = response.headers.get("x-thinkscope-run-id")!;
    /** When the client had each count of tokens (`received[n]` = the time it had n + 1). */
    const receivedAt: number[] = [];
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    while (receivedAt.length < 10_000) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the run ended before the kill");
      pending += decoder.decode(value, { stream: true });
      const blocks = pending.split("\n\n");
      pending = blocks.pop()!;
      const now = performance.now();
      for (const block of blocks.filter((b) => b.startsWith("data: {"))) {
        const chunk = JSON.parse(block.slice(6)) as { choices: Array<{ text: string }> };
        for (let i = 0; i < chunk.choices[0]!.text.length; i++) receivedAt.push(now);
      }
    }
    const killedAt = performance.now();
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    await reader.cancel().catch(() => {});

    const second = await startServer();
    try {
      const run = (await (await fetch(`${second.url}/api/runs/${runId}`)).json()) as {
        status: string;
        text: string;
      };
      expect(run.status).toBe("interrupted");
      expect(thought.startsWith(run.text)).toBe(true);
      // Every token the client had 250 ms before the kill is stored.
      const before = receivedAt.filter((time) => time <= killedAt - 250).length;
      expect(before).toBeGreaterThan(1_000);
      expect(run.text.length).toBeGreaterThanOrEqual(before);
    } finally {
      second.child.kill("SIGTERM");
      await new Promise((resolve) => second.child.once("exit", resolve));
    }
  });
});
