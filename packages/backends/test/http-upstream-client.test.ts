import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readNdjsonValues } from "../src/http/ndjson-values.ts";
import { readSseEvents } from "../src/http/sse-events.ts";
import { UpstreamClient } from "../src/http/upstream-client.ts";
import { upstreamMessage } from "../src/http/upstream-errors.ts";
import {
  closedPort,
  collect,
  jsonAnswer,
  neverAnswer,
  startReplayServer,
  type ReplayServer,
} from "./__fixtures__/replay-server.ts";
import { failureOf } from "./__fixtures__/requests.ts";

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function* chunks(...parts: string[]): AsyncGenerator<string> {
  for (const part of parts) yield part;
}

const malformed = (detail: string) =>
  Object.assign(new Error(detail), { code: "upstream_malformed" });

describe("readSseEvents", () => {
  it("joins an event split anywhere across chunks and skips keep-alive comments", async () => {
    const events = await collect(
      readSseEvents(
        chunks("da", 'ta: {"a"', ":1}\n", ": ping\n\n", "\ndata: [DONE]\n\n"),
        malformed,
      ),
    );
    expect(events.map((event) => event.data)).toEqual(['{"a":1}', "[DONE]"]);
  });

  it("surfaces llama.cpp's non-standard `error:` field as an error event", async () => {
    const events = await collect(readSseEvents(chunks('error: {"message":"boom"}\n\n'), malformed));
    expect(events).toEqual([{ event: "error", data: '{"message":"boom"}' }]);
  });
});

describe("readNdjsonValues", () => {
  it("joins a line split across chunks and ignores blank lines", async () => {
    const values = await collect(readNdjsonValues(chunks('{"a":', '1}\n\n{"b":2}\n'), malformed));
    expect(values).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it("leaves a truncated last line to the caller", async () => {
    expect(await collect(readNdjsonValues(chunks('{"a":1}\n{"b":'), malformed))).toEqual([
      { a: 1 },
    ]);
  });
});

describe("UpstreamClient", () => {
  it("streams text whole when a character's bytes arrive in different reads", async () => {
    const text = 'data: {"text":"é😀 ∑ 是"}\n\n';
    const bytes = Buffer.from(text);
    const http = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      // One byte per write, each after a pause, so every read ends inside a character.
      let at = 0;
      const next = () => {
        if (at === bytes.length) return response.end();
        response.write(bytes.subarray(at, ++at));
        setTimeout(next, 2);
      };
      next();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const client = new UpstreamClient({ backend: "test" });
      const parts = await collect(
        client.streamText(`http://127.0.0.1:${port}/`, {}, new AbortController().signal),
      );
      expect(parts.length).toBeGreaterThan(5);
      expect(parts.join("")).toBe(text);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("sends the key as a Bearer token and scrubs it from every message", async () => {
    server = await startReplayServer({
      "GET /v1/models": jsonAnswer(403, "forbidden for key sk-123 at this proxy"),
    });
    const client = new UpstreamClient({ backend: "openai", apiKey: "sk-123" });
    const error = await failureOf(client.json(`${server.url}/v1/models`));
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-123");
    expect(error).toMatchObject({ code: "upstream_error", status: 502, retryable: false });
    expect(error.message).toBe(
      `openai: ${server.url}/v1/models answered HTTP 403: forbidden for key [redacted] at this proxy. Check THINKSCOPE_API_KEY.`,
    );
  });

  it("names the URL when the server cannot be reached", async () => {
    const base = await closedPort();
    const client = new UpstreamClient({ backend: "vllm" });
    const error = await failureOf(client.json(`${base}/v1/models?token=secret`));
    expect(error).toMatchObject({ code: "upstream_unreachable", status: 502, retryable: true });
    expect(error.message).toBe(
      `vllm: cannot reach ${base}/v1/models (connection refused). Is the server running?`,
    );
  });

  it("times out a JSON request that gets no answer", async () => {
    server = await startReplayServer({ "GET /health": neverAnswer });
    const client = new UpstreamClient({ backend: "llamacpp", timeouts: { requestMs: 150 } });
    expect(await failureOf(client.json(`${server.url}/health`))).toMatchObject({
      code: "upstream_timeout",
      status: 504,
    });
  });

  it("reports a JSON body that is not JSON as upstream_malformed", async () => {
    server = await startReplayServer({
      "GET /v1/models": jsonAnswer(200, "<html>proxy login</html>"),
    });
    const client = new UpstreamClient({ backend: "openai" });
    expect(await failureOf(client.json(`${server.url}/v1/models`))).toMatchObject({
      code: "upstream_malformed",
    });
  });

  it("passthrough turns a refused connection into upstream_unreachable and returns error statuses untouched", async () => {
    const client = new UpstreamClient({ backend: "vllm" });
    const refused = await failureOf(
      client.passthrough(`${await closedPort()}/v1/completions`, {}, new AbortController().signal),
    );
    expect(refused).toMatchObject({ code: "upstream_unreachable" });

    server = await startReplayServer({
      "POST /v1/completions": jsonAnswer(400, { error: { message: "bad prompt" } }),
    });
    const response = await client.passthrough(
      `${server.url}/v1/completions`,
      { prompt: "" },
      new AbortController().signal,
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { message: "bad prompt" } });
  });
});

describe("upstreamMessage", () => {
  it("finds the message in the error shapes servers use", () => {
    expect(
      upstreamMessage('{"error":{"message":"vLLM says no","type":"BadRequestError","code":400}}'),
    ).toBe("vLLM says no");
    expect(upstreamMessage('{"object":"error","message":"old vLLM says no"}')).toBe(
      "old vLLM says no",
    );
    expect(upstreamMessage('{"error":"model not found"}')).toBe("model not found");
    expect(upstreamMessage('{"detail":[{"msg":"field required"}]}')).toBe(
      '{"detail":[{"msg":"field required"}]}',
    );
    expect(upstreamMessage("x".repeat(400))).toHaveLength(301);
  });
});
