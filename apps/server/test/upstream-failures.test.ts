/**
 * When the upstream fails, the client gets a clear 502/504 (JSON, or an
 * error event mid-stream), and the partial run is stored with status error.
 */
import { BackendError, type Backend } from "@thinkscope/core";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ScriptPerRun,
  THINK_PROMPT,
  buildTestApp,
  listen,
  parseSse,
  withBudgetForcing,
  type TestApp,
} from "./helpers.ts";

const dropping = new ScriptPerRun("dropping", {
  replies: ["abcdefghij</think>", "42"],
  failAt: { request: 0, afterTokens: 5 },
});
const stalling = new ScriptPerRun("stalling", {
  replies: ["abcdefghij</think>", "42"],
  failAt: {
    request: 0,
    afterTokens: 3,
    error: new BackendError("stalling", "upstream_timeout", "no token for 30 s", { status: 504 }),
  },
});
const buggy = new ScriptPerRun("buggy", {
  replies: ["abcdefghij</think>", "42"],
  failAt: {
    request: 0,
    afterTokens: 2,
    error: new TypeError("Cannot read properties of undefined (reading 'x')"),
  },
});
/** An upstream that refuses the connection before any run starts. */
const refusing: Backend = Object.assign(new ScriptPerRun("refusing", { replies: [""] }), {
  openSession: async () => {
    throw new BackendError(
      "refusing",
      "upstream_unreachable",
      "connect ECONNREFUSED 127.0.0.1:8000",
    );
  },
});

let server: TestApp;
let base: string;

beforeAll(async () => {
  server = await buildTestApp({ backends: [dropping, stalling, buggy, refusing] });
  base = await listen(server.app);
});
afterAll(() => server.close());

function completion(model: string, stream = false) {
  return server.app.inject({
    method: "POST",
    url: "/v1/completions",
    payload: { model, prompt: THINK_PROMPT, stream, budget_forcing: {} },
  });
}

describe("an upstream failing mid-run", () => {
  it("answers 502 with the run id, and stores the partial run as error", async () => {
    const response = await completion("dropping");
    expect(response.statusCode).toBe(502);
    const { error } = response.json();
    expect(error).toMatchObject({
      code: "upstream_disconnected",
      message: "scripted: the stream ended early",
    });
    const stored = server.app.runStore.get(error.run_id)!;
    expect(stored).toMatchObject({
      status: "error",
      text: "abcde",
      error: { code: "upstream_disconnected", message: "scripted: the stream ended early" },
    });
    expect(stored.summary).toMatchObject({ thinking_tokens: 5, finish_reason: "error" });
  });

  it("answers 504 for a stalled upstream", async () => {
    const response = await completion("stalling");
    expect(response.statusCode).toBe(504);
    expect(response.json().error).toMatchObject({
      code: "upstream_timeout",
      message: "stalling: no token for 30 s",
    });
    expect(server.app.runStore.get(response.json().error.run_id)).toMatchObject({
      status: "error",
      text: "abc",
    });
  });

  it("ends a stream with an error event after the partial output", async () => {
    const response = await completion("dropping", true);
    expect(response.statusCode).toBe(200);
    const events = parseSse(response.body) as Array<{
      choices?: Array<{ text: string }>;
      error?: { code: string; run_id: string };
    }>;
    expect(events.map((e) => e.choices?.[0]?.text ?? "").join("")).toBe("abcde");
    const last = events.at(-1)!;
    expect(last.error).toMatchObject({ code: "upstream_disconnected" });
    // No [DONE] after an error: the stream did not complete.
    expect(events).not.toContain("[DONE]");
    expect(server.app.runStore.get(last.error!.run_id)!.status).toBe("error");
  });

  it("makes the openai client throw an APIError carrying the message", async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create(
      withBudgetForcing(
        {
          model: "dropping",
          messages: [{ role: "user", content: "Q" }],
          stream: true,
        },
        {},
      ),
    );
    let reasoning = "";
    await expect(
      (async () => {
        for await (const chunk of stream) {
          reasoning +=
            (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)
              ?.reasoning_content ?? "";
        }
      })(),
    ).rejects.toThrow(/the stream ended early/);
    expect(reasoning).toBe("abcde");
  });

  it("hides the details of a bug (500) but keeps the partial run", async () => {
    const response = await completion("buggy");
    expect(response.statusCode).toBe(500);
    const { error } = response.json();
    expect(error).toMatchObject({ code: "internal_error", message: "Internal server error." });
    expect(server.app.runStore.get(error.run_id)).toMatchObject({ status: "error", text: "ab" });
  });
});

describe("an upstream refusing before the run starts", () => {
  it("answers 502 and stores nothing", async () => {
    const before = server.app.runStore.list().total;
    const response = await completion("refusing");
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({
      error: {
        code: "upstream_unreachable",
        type: "server_error",
        param: null,
        message: "refusing: connect ECONNREFUSED 127.0.0.1:8000",
      },
    });
    expect(server.app.runStore.list().total).toBe(before);
  });
});
