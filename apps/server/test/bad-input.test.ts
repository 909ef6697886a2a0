/**
 * Bad input gets a 4xx `{ error: { code, message } }` that says what is
 * wrong, nothing is generated or stored, and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, THINK_PROMPT, buildTestApp, type TestApp } from "./helpers.ts";

const backend = new ScriptPerRun("thinker", {
  replies: ["Let me think.</think>", "42"],
  contextLength: 100,
});

let server: TestApp;

beforeAll(async () => {
  server = await buildTestApp({ backends: [backend], config: { bodyLimit: 4096 } });
});
afterAll(() => server.close());

async function send(
  payload: string | object,
  url = "/v1/completions",
  contentType = "application/json",
) {
  const response = await server.app.inject({
    method: "POST",
    url,
    headers: { "content-type": contentType },
    payload: typeof payload === "string" ? payload : JSON.stringify(payload),
  });
  return {
    status: response.statusCode,
    body: response.json() as { error: { code: string; message: string } },
  };
}

describe("bad input to /v1/completions", () => {
  const cases: Array<[string, string | object, number, string, RegExp]> = [
    ["malformed JSON", '{"prompt": "Q", ', 400, "invalid_json", /JSON/],
    ["an empty body", "", 400, "invalid_json", /Body cannot be empty/],
    [
      "a count given as a string",
      { prompt: THINK_PROMPT, budget_forcing: { max_thinking_tokens: "100" } },
      400,
      "invalid_request",
      /budget_forcing\/max_thinking_tokens must be integer/,
    ],
    [
      "a negative budget",
      { prompt: THINK_PROMPT, budget_forcing: { max_thinking_tokens: -5 } },
      400,
      "invalid_request",
      /max_thinking_tokens must be >= 0/,
    ],
    [
      "min above max",
      {
        prompt: THINK_PROMPT,
        budget_forcing: { min_thinking_tokens: 50, max_thinking_tokens: 10 },
      },
      400,
      "invalid_budget",
      /min_thinking_tokens \(50\) is above max_thinking_tokens \(10\)/,
    ],
    [
      "an unknown budget_forcing field",
      { prompt: THINK_PROMPT, budget_forcing: { max_thinking: 10 } },
      400,
      "invalid_request",
      /additional properties: max_thinking/,
    ],
    [
      "a wrongly typed prompt",
      { prompt: 42, budget_forcing: {} },
      400,
      "invalid_request",
      /body\/prompt must be/,
    ],
    [
      "an unknown model",
      { model: "gpt-17", prompt: THINK_PROMPT, budget_forcing: {} },
      404,
      "model_not_found",
      /"gpt-17" is not served here\. Available: thinker-model/,
    ],
    [
      "a budget over the context",
      { prompt: THINK_PROMPT, budget_forcing: { max_thinking_tokens: 80, max_answer_tokens: 20 } },
      400,
      "budget_exceeds_context",
      /context holds 100/,
    ],
    [
      "a prompt over the context",
      { prompt: "x".repeat(150), budget_forcing: { max_thinking_tokens: 1, max_answer_tokens: 1 } },
      400,
      "prompt_too_long",
      /The prompt has 150 tokens; the model's context holds 100/,
    ],
    [
      "an oversized body",
      { prompt: "x".repeat(5000), budget_forcing: {} },
      413,
      "body_too_large",
      /too large/i,
    ],
  ];

  it.each(cases)("refuses %s", async (_name, payload, status, code, message) => {
    const requestsBefore = backend.requests.length;
    const runsBefore = server.app.runStore.list().total;
    const response = await send(payload);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toMatch(message);
    // Refused before anything was generated or stored.
    expect(backend.requests.length).toBe(requestsBefore);
    expect(server.app.runStore.list().total).toBe(runsBefore);
  });

  it("refuses an unsupported content type", async () => {
    const response = await send("prompt=Q", "/v1/completions", "application/x-www-form-urlencoded");
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe("unsupported_media_type");
  });

  it("refuses chat messages it cannot render", async () => {
    const response = await send(
      {
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }],
        budget_forcing: {},
      },
      "/v1/chat/completions",
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: "invalid_message",
      type: "invalid_request_error",
      param: "messages[0].content[0]",
      message: 'messages[0].content[0] is a "image_url" part; only text parts are supported.',
    });
  });

  it("answers unknown routes and runs with JSON 404s", async () => {
    const route = await server.app.inject({ url: "/api/nothing" });
    expect(route.statusCode).toBe(404);
    expect(route.json().error.code).toBe("not_found");
    const run = await server.app.inject({ url: "/api/runs/run_0000" });
    expect(run.statusCode).toBe(404);
    expect(run.json().error).toEqual({
      code: "run_not_found",
      type: "not_found_error",
      param: null,
      message: 'No run with id "run_0000".',
    });
  });

  it("refuses bad runs queries", async () => {
    const response = await server.app.inject({ url: "/api/runs?limit=-1&status=sleeping" });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toBe(
      'querystring/status must be one of "running", "completed", "aborted", "error", "interrupted"; querystring/limit must be >= 1',
    );
  });

  it("keeps serving after all of that", async () => {
    const health = await server.app.inject({ url: "/api/health" });
    expect(health.json()).toEqual({
      status: "ok",
      backends: [{ id: "thinker", kind: "scripted", default: true, readiness: { state: "ready" } }],
    });
    const { status } = await send({
      prompt: THINK_PROMPT,
      budget_forcing: { max_thinking_tokens: 20, max_answer_tokens: 10 },
    });
    expect(status).toBe(200);
  });
});
