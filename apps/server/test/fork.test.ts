/**
 * Forks through every entry point, on real inference: the embedded backend
 * running the generated counting model (thinks `a..z`, tries to close;
 * after a `Wait` it writes `t..z`; answers ` 42`), the OpenAI endpoints,
 * the WebSocket and the SQLite store.
 */
import { createEmbeddedBackend } from "@thinkscope/backends";
import { getTestModel } from "@thinkscope/backends/testing";
import type { EngineEvent, RunDetail, RunList } from "@thinkscope/protocol";
import { tmpdir } from "node:os";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsClient, buildTestApp, listen, withBudgetForcing, type TestApp } from "./helpers.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";
const PROMPT = "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n<think>\n";

let server: TestApp;
let base: string;
let client: OpenAI;
/** A completed run: `a..z`, one wait, `t..z`, the close, ` 42` (26 + 1 + 7 + 1 + 3 tokens). */
let parent: RunDetail;

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function getRun(id: string): Promise<RunDetail> {
  return (await (await fetch(`${base}/api/runs/${id}`)).json()) as RunDetail;
}

beforeAll(async () => {
  const { path } = await getTestModel();
  const backend = createEmbeddedBackend({ model: path, dataDir: tmpdir(), threads: 1 });
  server = await buildTestApp({ backends: [backend] });
  base = await listen(server.app);
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "x", maxRetries: 0 });
  const response = await post("/v1/completions", {
    prompt: PROMPT,
    budget_forcing: { num_waits: 1, max_thinking_tokens: 100 },
  });
  expect(response.status).toBe(200);
  parent = await getRun(response.headers.get("x-thinkscope-run-id")!);
  expect(parent.text).toBe(`${ALPHABET}Waittuvwxyz</think> 42`);
});
afterAll(() => server.close());

describe("forking a stored run", () => {
  it("on /v1/completions: the child continues from `at` with the insertion, under the parent's settings, and is stored as its fork", async () => {
    const response = await post("/v1/completions", {
      fork: { run_id: parent.id, at: 5, insert: "Wait" },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      choices: { text: string }[];
      budget_forcing: { waits: number; thinking_tokens: number };
    };
    // The parent's num_waits carries over; no wait was used at token 5, so the model's first close is extended.
    expect(body.choices[0]!.text).toBe(`abcdeWaittuvwxyzWaittuvwxyz</think> 42`);
    expect(body.budget_forcing).toMatchObject({ waits: 1, thinking_tokens: 5 + 1 + 7 + 1 + 7 });

    const child = await getRun(response.headers.get("x-thinkscope-run-id")!);
    expect(child).toMatchObject({
      parentRunId: parent.id,
      forkAt: 5,
      prompt: parent.prompt,
      renderedPrompt: parent.renderedPrompt,
      budgetForcing: parent.budgetForcing,
    });
    expect(child.events[0]).toMatchObject({
      type: "run.started",
      fork: { parentRunId: parent.id, at: 5, insertTokens: 1 },
    });
    const insert = child.events.find((e) => e.type === "injection" && e.kind === "insert");
    expect(insert).toMatchObject({ text: "Wait", thinkingTokenIndex: 5, reason: "fork_insert" });

    const forks = (await (
      await fetch(`${base}/api/runs?parent_run_id=${parent.id}`)
    ).json()) as RunList;
    expect(forks.runs.map((run) => run.id)).toContain(child.id);
  });

  it("with the parent's settings reproduces the parent, re-evaluating one token of the cached prefix", async () => {
    const response = await post("/v1/completions", { fork: { run_id: parent.id, at: 30 } });
    const child = await getRun(response.headers.get("x-thinkscope-run-id")!);
    expect(child.text).toBe(parent.text);
    expect(child.summary).toMatchObject({
      thinking_tokens: parent.summary!.thinking_tokens,
      waits: parent.summary!.waits,
      answer_tokens: parent.summary!.answer_tokens,
    });
    // llama.cpp keeps no logits of old positions: the last kept token is evaluated again.
    expect(child.summary!.cached_prompt_tokens).toBeGreaterThan(30);
  });

  it("under other settings: a fork with a smaller budget is cut there", async () => {
    const response = await post("/v1/completions", {
      fork: { run_id: parent.id, at: 10 },
      budget_forcing: { max_thinking_tokens: 12, max_answer_tokens: 8 },
    });
    const body = (await response.json()) as { choices: { text: string }[] };
    expect(body.choices[0]!.text).toMatch(/^abcdefghijkl\n<\/think>\n\nFinal Answer:/);
  });

  it("on /v1/chat/completions, with the official client: thinking and answer split as for any run", async () => {
    const chatParent = await client.chat.completions.create(
      withBudgetForcing(
        { model: "", messages: [{ role: "user" as const, content: "Count" }] },
        { num_waits: 0 },
      ),
    );
    const parentId = (await (await fetch(`${base}/api/runs?limit=1`)).json()) as RunList;
    expect(parentId.runs[0]!.mode).toBe("chat");
    expect(chatParent.choices[0]!.message.content).toBe(" 42");
    const fork = (await client.chat.completions.create({
      model: "",
      fork: { run_id: parentId.runs[0]!.id, at: 3, insert: "Wait" },
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)) as unknown as {
      choices: { message: { content: string; reasoning_content: string } }[];
    };
    expect(fork.choices[0]!.message.reasoning_content).toBe("abcWaittuvwxyz");
    expect(fork.choices[0]!.message.content).toBe(" 42");

    // Streamed, the insertion is thinking like the text around it.
    const stream = await client.chat.completions.create({
      model: "",
      stream: true,
      fork: { run_id: parentId.runs[0]!.id, at: 3, insert: "Wait" },
    } as unknown as OpenAI.ChatCompletionCreateParamsStreaming);
    let reasoning = "";
    let content = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as
        { content?: string; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? "";
      content += delta?.content ?? "";
    }
    expect([reasoning, content]).toEqual(["abcWaittuvwxyz", " 42"]);
  });

  it("over the WebSocket `run` message", async () => {
    const page = await WsClient.connect(base);
    page.send({
      type: "run",
      key: "f",
      spec: { fork: { run_id: parent.id, at: 26, insert: "Wait" } },
    });
    const events = await page.finished("f", 30_000);
    page.close();
    const text = events
      .map((e: EngineEvent) => (e.type === "delta" || e.type === "injection" ? e.text : ""))
      .join("");
    // An insertion is not one of the engine's waits: the parent's num_waits still extends the next close.
    expect(text).toBe(`${ALPHABET}WaittuvwxyzWaittuvwxyz</think> 42`);
    const started = events[0];
    expect(started).toMatchObject({ type: "run.started", fork: { at: 26 } });
  });

  it("refuses bad forks with a clear error, storing nothing", async () => {
    const before = ((await (await fetch(`${base}/api/runs`)).json()) as RunList).total;
    const cases: [unknown, number, string, RegExp][] = [
      [{ fork: { run_id: "run_0123456789abcdef", at: 0 } }, 404, "run_not_found", /No run/],
      [{ prompt: PROMPT, fork: { run_id: parent.id, at: 0 } }, 400, "invalid_fork", /not both/],
      [{ fork: { run_id: parent.id, at: 39 } }, 400, "invalid_fork", /from 0 to 38/],
      [{ fork: { run_id: parent.id, at: -1 } }, 400, "invalid_request", /at/],
    ];
    for (const [body, status, code, message] of cases) {
      const response = await post("/v1/completions", body);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      expect(answer, JSON.stringify(body)).toHaveProperty("error");
      const { error } = answer;
      expect([response.status, error.code]).toEqual([status, code]);
      expect(error.message).toMatch(message);
    }
    expect(((await (await fetch(`${base}/api/runs`)).json()) as RunList).total).toBe(before);
  });
});
