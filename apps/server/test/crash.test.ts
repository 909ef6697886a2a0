/**
 * The real server process, killed (SIGKILL) in the middle of a run, then
 * started again: the run is listed as interrupted with its partial text.
 * Uses the hidden `scripted:` backend (THINKSCOPE_ENABLE_TEST_BACKENDS=1)
 * to stream slowly without a model.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { THINK_PROMPT } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
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

/** Starts `node --import tsx src/main.ts` and resolves with its URL once it listens. */
async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", TSX, MAIN], {
    cwd: dataDir,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: "0",
      THINKSCOPE_DATA_DIR: dataDir,
      THINKSCOPE_WEB_DIST: join(dataDir, "no-web-build"),
      THINKSCOPE_ENABLE_TEST_BACKENDS: "1",
      THINKSCOPE_BACKEND: `scripted:${JSON.stringify({ replies: [THOUGHT + "</think>", "Ten."], chunkDelayMs: 10 })}`,
    },
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
