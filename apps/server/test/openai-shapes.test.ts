/**
 * The OpenAI-compatible endpoints' shapes without a client library: the
 * non-streaming bodies, OpenAI field mapping, and requests without
 * `budget_forcing` (forwarded upstream unchanged, or a plain generation).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ScriptPerRun,
  THINK_PROMPT,
  buildTestApp,
  listen,
  parseSse,
  type TestApp,
} from "./helpers.ts";

const thinker = new ScriptPerRun("thinker", {
  replies: ["Let me think.</think>", " Check again.</think>", "The answer is 42. Done.<|im_end|>"],
});
/** Thinks once, then answers (for runs without waits). */
const direct = new ScriptPerRun("direct", {
  replies: ["Let me think.</think>", "The answer is 42. Done."],
});
/** A server backend: budget-forced runs are scripted, everything else is forwarded to `upstream`. */
const proxied = new ScriptPerRun("proxied", { replies: ["unused"] });

const forwarded: Array<{ url: string; body: unknown; authorization?: string }> = [];
let upstream: Server;
let server: TestApp;
let base: string;

async function readBody(request: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of request) body += chunk;
  return body;
}

beforeAll(async () => {
  // A stand-in for vLLM's OpenAI server: records what it is sent.
  upstream = createServer(async (request, response) => {
    const body = JSON.parse(await readBody(request)) as { stream?: boolean; model?: string };
    forwarded.push({ url: request.url!, body });
    if (body.model === "missing") {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ object: "error", message: "The model `missing` does not exist." }),
      );
    } else if (body.stream) {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write('data: {"choices":[{"text":"up"}]}\n\n');
      response.end('data: {"choices":[{"text":"stream"}]}\n\ndata: [DONE]\n\n');
    } else {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          id: "upstream-1",
          object: "text_completion",
          choices: [{ text: "from upstream" }],
        }),
      );
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  proxied.passthrough = ({ path, body, signal }) =>
    fetch(upstreamUrl + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });

  server = await buildTestApp({ backends: [thinker, proxied, direct] });
  base = await listen(server.app);
});
afterAll(async () => {
  await server.close();
  await new Promise((resolve) => upstream.close(resolve));
});

async function post(path: string, body: unknown) {
  const response = await server.app.inject({ method: "POST", url: path, payload: body as object });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

describe("budget-forced responses", () => {
  it("answers /v1/completions with the continuation, usage and budget_forcing", async () => {
    const { status, body, headers } = await post("/v1/completions", {
      model: "thinker",
      prompt: THINK_PROMPT,
      budget_forcing: { num_waits: 1 },
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      object: "text_completion",
      model: "thinker-model",
      choices: [
        {
          index: 0,
          text: "Let me think.Wait Check again.</think>The answer is 42. Done.",
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      budget_forcing: { waits: 1, thinking_tokens: 30, injected_tokens: 5, answer_tokens: 23 },
    });
    // OpenAI's meaning: reasoning (the wait included) plus answer; the injected close is in neither.
    expect(body.usage.completion_tokens).toBe(30 + 23);
    expect(body.usage.completion_tokens_details.reasoning_tokens).toBe(30);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    // The run is stored, findable by the id in the response.
    const runId = headers["x-thinkscope-run-id"] as string;
    expect(body.id).toBe(`cmpl-${runId}`);
    const stored = (await server.app.inject({ url: `/api/runs/${runId}` })).json();
    expect(stored).toMatchObject({
      status: "completed",
      source: "api",
      mode: "raw",
      prompt: THINK_PROMPT,
    });
  });

  it("answers chat with the answer in content and the thinking in reasoning_content", async () => {
    const { body } = await post("/v1/chat/completions", {
      model: "thinker",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "6 x 7?" }] },
      ],
      budget_forcing: { num_waits: 1 },
    });
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0].message).toEqual({
      role: "assistant",
      content: "The answer is 42. Done.",
      reasoning_content: "Let me think.Wait Check again.",
      reasoning: "Let me think.Wait Check again.",
    });
    // The chat template was applied and the thinking opened.
    const sent = thinker.requests.at(-1)!.promptText;
    expect(
      sent.startsWith(
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n6 x 7?<|im_end|>\n",
      ),
    ).toBe(true);
    expect(sent).toContain("<|im_start|>assistant\n<think>\n");
  });

  it("caps thinking plus answer with max_tokens, and ends the answer at stop strings", async () => {
    const capped = await post("/v1/completions", {
      model: "direct",
      prompt: THINK_PROMPT,
      max_tokens: 16,
      budget_forcing: {},
    });
    // An eighth of the cap is the answer's (2), the rest the thinking's (14, of which the model used 13).
    expect(capped.body.budget_forcing).toMatchObject({ thinking_tokens: 13, answer_tokens: 2 });
    expect(capped.body.usage.completion_tokens).toBe(15);
    expect(capped.body.choices[0].text).toBe("Let me think.</think>Th");
    expect(capped.body.choices[0].finish_reason).toBe("length");

    const stopped = await post("/v1/completions", {
      model: "direct",
      prompt: THINK_PROMPT,
      stop: ["42"],
      temperature: 0.6,
      seed: 7,
      budget_forcing: {},
    });
    expect(stopped.body.choices[0].text).toBe("Let me think.</think>The answer is ");
    expect(stopped.body.choices[0].finish_reason).toBe("stop");
    const stored = (
      await server.app.inject({ url: `/api/runs/${stopped.headers["x-thinkscope-run-id"]}` })
    ).json();
    expect(stored.status).toBe("completed");
    expect(stored.sampling).toEqual({ temperature: 0.6, seed: 7 });
  });

  it("streams completions as text chunks with the injection marked", async () => {
    const response = await fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "direct",
        prompt: THINK_PROMPT,
        stream: true,
        budget_forcing: {},
      }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = parseSse(await response.text());
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Array<{
      object: string;
      choices: Array<{ text: string; injected?: string }>;
    }>;
    expect(chunks.every((c) => c.object === "text_completion")).toBe(true);
    expect(chunks.map((c) => c.choices[0]!.text).join("")).toBe(
      "Let me think.</think>The answer is 42. Done.",
    );
    expect(chunks.filter((c) => c.choices[0]!.injected).map((c) => c.choices[0])).toMatchObject([
      { text: "</think>", injected: "end" },
    ]);
  });

  it("refuses n > 1 with a clear message", async () => {
    const { status, body } = await post("/v1/completions", {
      prompt: THINK_PROMPT,
      n: 2,
      budget_forcing: {},
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: "unsupported_parameter",
      param: "n",
      type: "invalid_request_error",
    });
    expect(body.error.message).toMatch(/^n is not supported here/);
  });
});

describe("requests with a field only the upstream honours", () => {
  it("are forwarded to a server backend unchanged, and its answer piped back", async () => {
    const request = {
      model: "proxied-model",
      prompt: "Hi",
      max_tokens: 5,
      logit_bias: { "50256": -100 },
      user: "u1",
    };
    const { status, body } = await post("/v1/completions", request);
    expect(status).toBe(200);
    expect(body).toEqual({
      id: "upstream-1",
      object: "text_completion",
      choices: [{ text: "from upstream" }],
    });
    expect(forwarded.at(-1)).toEqual({ url: "/v1/completions", body: request });
  });

  it("pipe the upstream's status and body back, errors included", async () => {
    const { status, body } = await post("/v1/chat/completions", {
      model: "proxied/missing",
      messages: [{ role: "user", content: "Hi" }],
      tools: [{ type: "function", function: { name: "f" } }],
    });
    expect(status).toBe(404);
    expect(body.message).toMatch(/does not exist/);
    // `backend/model` names the backend; upstream gets the model's own name.
    expect(forwarded.at(-1)!.body).toMatchObject({ model: "missing" });
  });

  it("stream the upstream's SSE through", async () => {
    const response = await fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "proxied-model", prompt: "Hi", stream: true, logprobs: 2 }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(
      'data: {"choices":[{"text":"up"}]}\n\ndata: {"choices":[{"text":"stream"}]}\n\ndata: [DONE]\n\n',
    );
  });

  it("are refused by name on a backend with no upstream", async () => {
    const { status, body } = await post("/v1/chat/completions", {
      model: "thinker",
      messages: [{ role: "user", content: "Hi" }],
      response_format: { type: "json_object" },
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "unsupported_parameter", param: "response_format" });
  });
});

describe("requests without budget_forcing", () => {
  it("are runs: the thinking separated from the answer, and stored", async () => {
    const { status, body, headers } = await post("/v1/chat/completions", {
      model: "direct",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(status).toBe(200);
    expect(body.choices[0].message).toEqual({
      role: "assistant",
      content: "The answer is 42. Done.",
      reasoning_content: "Let me think.",
      reasoning: "Let me think.",
    });
    expect(body.budget_forcing).toMatchObject({ waits: 0, forced_end: false });
    const stored = (
      await server.app.inject({ url: `/api/runs/${headers["x-thinkscope-run-id"]}` })
    ).json();
    expect(stored).toMatchObject({ status: "completed", source: "api", mode: "chat" });
  });

  it("lists every backend's models on /v1/models", async () => {
    const response = await server.app.inject({ url: "/v1/models" });
    expect(response.json()).toMatchObject({
      object: "list",
      data: [
        { id: "thinker-model", object: "model", backend: "thinker" },
        { id: "proxied-model", object: "model", backend: "proxied" },
        { id: "direct-model", object: "model", backend: "direct" },
      ],
    });
  });
});
