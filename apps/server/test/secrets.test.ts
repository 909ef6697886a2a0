/**
 * The upstream API key never leaves the server: not in a response, an SSE or
 * WebSocket error, a stored run, a page, or a log line, even when the
 * upstream quotes it back.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BackendError } from "@thinkscope/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackends } from "../src/backends/create-backends.ts";
import {
  ScriptPerRun,
  THINK_PROMPT,
  WsClient,
  buildTestApp,
  listen,
  type TestApp,
} from "./helpers.ts";

const KEY = "sk-live-THINKSCOPE-0123456789abcdef";

const leaky = new ScriptPerRun("leaky", {
  replies: ["abc</think>", "42"],
  failAt: {
    request: 0,
    afterTokens: 2,
    error: new BackendError(
      "leaky",
      "upstream_unauthorized",
      `401 from upstream: invalid key "${KEY}"`,
    ),
  },
});
const proxied = new ScriptPerRun("proxied", { replies: [""] });
/** Fails before the run starts: the error reaches the error handler, which logs it whole. */
const refusing = Object.assign(new ScriptPerRun("refusing", { replies: [""] }), {
  openSession: async () => {
    throw new BackendError("refusing", "upstream_unauthorized", `the key ${KEY} was refused`, {
      status: 502,
    });
  },
});

let upstream: Server;
let server: TestApp;
let base: string;
const log: string[] = [];

beforeAll(async () => {
  // An upstream that echoes the credentials it was sent in its error body.
  upstream = createServer((request, response) => {
    response.writeHead(401, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        error: { message: `Incorrect API key provided: ${request.headers.authorization}` },
      }),
    );
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  proxied.passthrough = ({ path, body, signal }) =>
    fetch(upstreamUrl + path, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
  // A real vLLM adapter holding the key (its upstream is down).
  const vllm = await createBackends({
    backends: [`vllm:${upstreamUrl}/v1`],
    model: "some-model",
    apiKey: KEY,
    dataDir: "/nonexistent",
    threads: undefined,
    enableTestBackends: false,
  });
  server = await buildTestApp({
    backends: [{ backend: leaky }, { backend: proxied }, { backend: refusing }, ...vllm],
    config: { apiKey: KEY, logLevel: "debug" },
    log: { write: (line: string) => log.push(line) },
  });
  base = await listen(server.app);
});
afterAll(async () => {
  await server.close();
  await new Promise((resolve) => upstream.close(resolve));
});

describe("the upstream API key", () => {
  it("is scrubbed from an upstream error, in the response and the stored run", async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/v1/completions",
      headers: { authorization: `Bearer ${KEY}` },
      payload: { model: "leaky", prompt: THINK_PROMPT, budget_forcing: {} },
    });
    expect(response.statusCode).toBe(502);
    expect(response.json().error.message).toBe(
      'leaky: 401 from upstream: invalid key "[redacted]"',
    );
    const stored = server.app.runStore.get(response.json().error.run_id)!;
    expect(stored.error!.message).toBe('leaky: 401 from upstream: invalid key "[redacted]"');
    expect(JSON.stringify(stored)).not.toContain(KEY);
  });

  it("is scrubbed from streamed and WebSocket errors", async () => {
    const sse = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "leaky",
        messages: [{ role: "user", content: "Q" }],
        stream: true,
        budget_forcing: {},
      }),
    });
    const body = await sse.text();
    expect(body).toContain("[redacted]");
    expect(body).not.toContain(KEY);

    const page = await WsClient.connect(base);
    page.send({ type: "run", key: "k", spec: { prompt: "Q", backend: "leaky" } });
    const events = await page.finished("k");
    expect(JSON.stringify(events)).toContain("[redacted]");
    expect(JSON.stringify(page.messages)).not.toContain(KEY);
    page.close();
  });

  it("is scrubbed from an upstream error body passed through", async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      payload: {
        model: "proxied-model",
        messages: [{ role: "user", content: "Q" }],
        // A field only the upstream honours: the request goes to it as it is.
        logprobs: true,
      },
    });
    expect(response.statusCode).toBe(401);
    expect(response.body).toBe(
      '{"error":{"message":"Incorrect API key provided: Bearer [redacted]"}}',
    );
  });

  it("is not in what the page can read about backends", async () => {
    for (const url of [
      "/api/backends",
      "/api/health",
      "/v1/models",
      "/api/runs",
      "/api/runs/export",
      "/",
    ]) {
      const response = await server.app.inject({ url });
      expect(response.body, url).not.toContain(KEY);
    }
    const vllm = (await server.app.inject({ url: "/api/backends" }))
      .json()
      .find((b: { kind: string }) => b.kind === "vllm");
    expect(vllm).toMatchObject({ id: "vllm", kind: "vllm" });
  });

  it("is never written to the log, though the failures that quoted it were logged", async () => {
    const response = await server.app.inject({
      method: "POST",
      url: "/v1/completions",
      payload: { model: "refusing", prompt: THINK_PROMPT, budget_forcing: {} },
    });
    expect(response.json().error.message).toBe("refusing: the key [redacted] was refused");
    const all = log.join("");
    // The error handler logged the error object itself, stack and all.
    expect(
      log.some(
        (line) =>
          line.includes('"request failed"') && line.includes("the key [redacted] was refused"),
      ),
    ).toBe(true);
    expect(all).toContain("[redacted]");
    expect(all).not.toContain(KEY);
    expect(all).not.toContain(KEY.slice(3));
  });
});
