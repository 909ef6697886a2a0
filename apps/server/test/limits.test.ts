/**
 * Operator limits for shared use: concurrent runs per client (the n+1-th
 * refused, on the WebSocket and the API), requests per minute per client,
 * server-side caps on budgets (refused by name, never clamped), and how a
 * client is told apart (session, address, X-Forwarded-For from a trusted proxy).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent } from "@thinkscope/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/config.ts";
import {
  ScriptPerRun,
  THINK_PROMPT,
  WsClient,
  buildTestApp,
  listen,
  waitFor,
  type TestApp,
} from "./helpers.ts";

const quick = new ScriptPerRun("quick", { replies: ["Hmm.</think>", "42"] });
/** About 40 s of thinking: runs that stay open until the test stops them. */
const slow = new ScriptPerRun("slow", {
  replies: ["w".repeat(2000) + "</think>", "late"],
  chunkDelayMs: 20,
});

const open: WsClient[] = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

async function connect(base: string, headers: Record<string, string> = {}): Promise<WsClient> {
  const client = await WsClient.connect(base, headers);
  open.push(client);
  return client;
}

/** The error message for a run key, once it arrives. */
async function refusal(client: WsClient, key: string) {
  return client.next("error", (m) => m.key === key);
}

describe("concurrent runs per client", () => {
  let server: TestApp;
  let base: string;
  beforeAll(async () => {
    server = await buildTestApp({
      backends: [slow, quick],
      // Behind a proxy on this host: X-Forwarded-For tells the students apart.
      config: { maxConcurrentRunsPerClient: 2, trustProxy: ["127.0.0.1"] },
    });
    base = await listen(server.app);
  });
  afterAll(() => server.close());

  it("refuses the third run of a client with two going, over the WebSocket, with a clear message", async () => {
    const student = await connect(base, { "x-forwarded-for": "10.0.0.1" });
    for (const key of ["a", "b"]) {
      student.send({ type: "run", key, spec: { prompt: "Q", backend: "slow" } });
      await student.next("run.accepted", (m) => m.key === key);
    }
    student.send({ type: "run", key: "c", spec: { prompt: "Q", backend: "quick" } });
    const refused = await refusal(student, "c");
    expect(refused.code).toBe("too_many_runs");
    expect(refused.message).toContain("You already have 2 runs going");
    expect(refused.message).toContain("THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT=2");

    // A second tab of the same student shares the allowance.
    const tab = await connect(base, { "x-forwarded-for": "10.0.0.1" });
    tab.send({ type: "run", key: "d", spec: { prompt: "Q", backend: "quick" } });
    expect((await refusal(tab, "d")).code).toBe("too_many_runs");

    // Another student is not held back.
    const other = await connect(base, { "x-forwarded-for": "10.0.0.2" });
    other.send({ type: "run", key: "e", spec: { prompt: "Q", backend: "quick" } });
    await other.finished("e");

    // Stopping one run frees its slot.
    student.send({ type: "abort", key: "a" });
    await waitFor(() => student.events("a").some((e: EngineEvent) => e.type === "run.finished"));
    await waitFor(() => server.app.admission.runningFor("ip:10.0.0.1") === 1);
    student.send({ type: "run", key: "f", spec: { prompt: "Q", backend: "quick" } });
    await student.finished("f");
  });

  it("refuses the third concurrent /v1/completions with a 429 JSON error, and frees slots when streams end", async () => {
    const request = (signal?: AbortSignal) =>
      fetch(`${base}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "10.0.1.1" },
        body: JSON.stringify({
          model: "slow/slow-model",
          prompt: THINK_PROMPT,
          stream: true,
          budget_forcing: {},
        }),
        signal,
      });
    const stop = new AbortController();
    const streams = [await request(stop.signal), await request(stop.signal)];
    for (const stream of streams) expect(stream.status).toBe(200);

    const third = await request();
    expect(third.status).toBe(429);
    const body = (await third.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("too_many_runs");
    expect(body.error.message).toContain("the most this server allows at once");

    stop.abort();
    await waitFor(() => server.app.admission.runningFor("ip:10.0.1.1") === 0);
    const again = await fetch(`${base}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "10.0.1.1" },
      body: JSON.stringify({
        model: "quick/quick-model",
        prompt: THINK_PROMPT,
        budget_forcing: {},
      }),
    });
    expect(again.status).toBe(200);
  });

  it("gives the slot back when a run is refused while preparing", async () => {
    for (let i = 0; i < 3; i++) {
      const bad = await server.app.inject({
        method: "POST",
        url: "/v1/completions",
        headers: { "x-forwarded-for": "10.0.2.1" },
        payload: {
          model: "quick/quick-model",
          prompt: THINK_PROMPT,
          budget_forcing: { min_thinking_tokens: 10, max_thinking_tokens: 5 },
        },
      });
      expect(bad.statusCode).toBe(400);
    }
    expect(server.app.admission.runningFor("ip:10.0.2.1")).toBe(0);
  });
});

describe("client identity", () => {
  it("ignores X-Forwarded-For unless THINKSCOPE_TRUST_PROXY names the proxy", async () => {
    const server = await buildTestApp({
      backends: [slow],
      config: { maxConcurrentRunsPerClient: 1 },
    });
    try {
      const base = await listen(server.app);
      const first = await connect(base, { "x-forwarded-for": "10.9.0.1" });
      first.send({ type: "run", key: "a", spec: { prompt: "Q" } });
      await first.next("run.accepted");
      // A made-up header does not make a new client.
      const spoofed = await connect(base, { "x-forwarded-for": "10.9.0.2" });
      spoofed.send({ type: "run", key: "b", spec: { prompt: "Q" } });
      expect((await refusal(spoofed, "b")).code).toBe("too_many_runs");
      expect(server.app.admission.runningFor("ip:127.0.0.1")).toBe(1);
    } finally {
      for (const client of open.splice(0)) client.close();
      await server.close();
    }
  });

  it("counts a signed-in page by its session, so students behind one address each get their own", async () => {
    const server = await buildTestApp({
      backends: [slow],
      // A class behind one NAT: the address gets room for all of them, each session its own share.
      config: {
        maxConcurrentRunsPerClient: 1,
        maxConcurrentRunsPerAddress: 2,
        authToken: "classroom-token-2024",
      },
    });
    try {
      const base = await listen(server.app);
      const signIn = async () => {
        const response = await server.app.inject({
          method: "POST",
          url: "/api/auth/login",
          payload: { token: "classroom-token-2024" },
        });
        return [response.headers["set-cookie"]].flat()[0]!.split(";", 1)[0]!;
      };
      for (const key of ["ann", "bob"]) {
        const student = await connect(base, { cookie: await signIn() });
        student.send({ type: "run", key, spec: { prompt: "Q" } });
        await student.next("run.accepted");
      }
    } finally {
      for (const client of open.splice(0)) client.close();
      await server.close();
    }
  });

  it("marks the cookie Secure when a trusted proxy says the page came over HTTPS", async () => {
    const server = await buildTestApp({
      backends: [quick],
      config: { authToken: "classroom-token-2024", trustProxy: ["127.0.0.1"] },
    });
    try {
      const login = (headers: Record<string, string>) =>
        server.app.inject({
          method: "POST",
          url: "/api/auth/login",
          headers,
          payload: { token: "classroom-token-2024" },
        });
      const https = await login({ "x-forwarded-proto": "https" });
      expect([https.headers["set-cookie"]].flat().join()).toMatch(/; Secure/);
      const plain = await login({});
      expect([plain.headers["set-cookie"]].flat().join()).not.toMatch(/Secure/);
    } finally {
      await server.close();
    }
  });
});

describe("requests per minute per client", () => {
  let server: TestApp;
  let base: string;
  beforeAll(async () => {
    server = await buildTestApp({
      backends: [quick],
      config: { rateLimitPerMinute: 4, trustProxy: ["127.0.0.1"] },
    });
    base = await listen(server.app);
  });
  afterAll(() => server.close());

  const get = (url: string, from: string) =>
    server.app.inject({ url, headers: { "x-forwarded-for": from } });

  it("answers the request over the limit with 429 rate_limited and Retry-After", async () => {
    for (let i = 0; i < 4; i++) expect((await get("/api/runs", "10.1.0.1")).statusCode).toBe(200);
    const over = await get("/api/runs", "10.1.0.1");
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe("rate_limited");
    expect(over.json().error.message).toContain("4 per minute per client");
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    // Others keep their own allowance.
    expect((await get("/api/runs", "10.1.0.2")).statusCode).toBe(200);
  });

  it("does not meter health checks or the page", async () => {
    for (let i = 0; i < 10; i++) {
      expect((await get("/api/health", "10.1.1.1")).statusCode).toBe(200);
      expect((await get("/", "10.1.1.1")).statusCode).toBe(200);
    }
    expect((await get("/api/runs", "10.1.1.1")).statusCode).toBe(200);
  });

  it("counts each run a WebSocket starts, from the same allowance", async () => {
    // The upgrade is one request; three runs make four.
    const student = await connect(base, { "x-forwarded-for": "10.1.2.1" });
    for (const key of ["r1", "r2", "r3"]) {
      student.send({ type: "run", key, spec: { prompt: "Q" } });
      await student.finished(key);
    }
    student.send({ type: "run", key: "r4", spec: { prompt: "Q" } });
    const refused = await refusal(student, "r4");
    expect(refused.code).toBe("rate_limited");
    expect((await get("/api/runs", "10.1.2.1")).statusCode).toBe(429);
  });
});

describe("budget caps", () => {
  let server: TestApp;
  let base: string;
  beforeAll(async () => {
    server = await buildTestApp({
      backends: [quick],
      config: { maxThinkingTokensCap: 64, maxAnswerTokensCap: 16, maxWaitsCap: 2 },
    });
    base = await listen(server.app);
  });
  afterAll(() => server.close());

  const complete = (body: Record<string, unknown>) =>
    server.app.inject({
      method: "POST",
      url: "/v1/completions",
      payload: { prompt: THINK_PROMPT, ...body },
    });

  it("refuses a budget above a cap with a 400 naming the cap, storing nothing", async () => {
    const before = server.app.runStore.list({}).total;
    const cases: [Record<string, unknown>, string][] = [
      [
        { budget_forcing: { max_thinking_tokens: 65 } },
        "max_thinking_tokens 65 is above this server's cap of 64 (THINKSCOPE_MAX_THINKING_TOKENS_CAP). Ask for 64 or fewer.",
      ],
      [
        { budget_forcing: { max_answer_tokens: 17 } },
        "max_answer_tokens 17 is above this server's cap of 16",
      ],
      [{ budget_forcing: { max_answer_tokens: 1000 } }, "THINKSCOPE_MAX_ANSWER_TOKENS_CAP"],
      [{ budget_forcing: { num_waits: 3 } }, "num_waits 3 is above this server's cap of 2"],
      [{ budget_forcing: { max_extensions: 64 } }, "THINKSCOPE_MAX_WAITS_CAP"],
      [{ budget_forcing: { min_thinking_tokens: 100 } }, "min_thinking_tokens 100"],
    ];
    for (const [body, message] of cases) {
      const response = await complete(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe("budget_above_cap");
      expect(response.json().error.message).toContain(message);
    }
    expect(server.app.runStore.list({}).total).toBe(before);
  });

  it("refuses it on the WebSocket too", async () => {
    const student = await connect(base);
    student.send({
      type: "run",
      key: "big",
      spec: { prompt: "Q", budget_forcing: { max_thinking_tokens: 32768 } },
    });
    const refused = await refusal(student, "big");
    expect(refused.code).toBe("budget_above_cap");
    expect(refused.message).toContain("cap of 64");
  });

  it("runs a request at the caps, and fills in capped defaults for what a request leaves out", async () => {
    const atCaps = await complete({
      budget_forcing: { max_thinking_tokens: 64, max_answer_tokens: 16, num_waits: 2 },
    });
    expect(atCaps.statusCode).toBe(200);

    const student = await connect(base);
    student.send({ type: "run", key: "plain", spec: { prompt: "Q" } });
    const started = (await student.finished("plain")).find((e) => e.type === "run.started");
    expect(started).toMatchObject({
      settings: { maxThinkingTokens: 64, maxAnswerTokens: 16, maxExtensions: 2 },
    });
    const runId = (await student.next("run.accepted")).runId;
    // The request as admitted: the wait cap filled in; the budgets are fitted under their caps.
    expect(server.app.runStore.get(runId)!.budgetForcing).toEqual({ max_extensions: 2 });
  });

  it("holds every caller of the run service to the caps (experiments start runs there)", async () => {
    await expect(
      server.app.runService.start({
        prompt: THINK_PROMPT,
        mode: "raw",
        source: "experiment",
        budgetForcing: { max_thinking_tokens: 4096 },
      }),
    ).rejects.toMatchObject({ code: "budget_above_cap", status: 400 });
  });

  it("holds a request without budget_forcing, or with a large token cap, to the caps", async () => {
    for (const body of [{}, { max_tokens: 100_000 }, { max_tokens: 40 }]) {
      const response = await complete(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(200);
      const runId = response.headers["x-thinkscope-run-id"] as string;
      const started = server.app.runStore.get(runId)!.events.find((e) => e.type === "run.started");
      if (started?.type !== "run.started") throw new Error("no run.started");
      expect(started.settings.maxThinkingTokens).toBeLessThanOrEqual(64);
      expect(started.settings.maxAnswerTokens).toBeLessThanOrEqual(16);
      const cap = (body as { max_tokens?: number }).max_tokens ?? Infinity;
      expect(
        started.settings.maxThinkingTokens + started.settings.maxAnswerTokens,
      ).toBeLessThanOrEqual(cap);
    }
  });
});

describe("configuration", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "thinkscope-limits-config-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads every limit from the environment; none is set by default", () => {
    expect(loadConfig({ env: {}, cwd: dir })).toMatchObject({
      authToken: undefined,
      trustProxy: false,
      maxConcurrentRunsPerClient: undefined,
      rateLimitPerMinute: undefined,
      maxThinkingTokensCap: undefined,
      maxAnswerTokensCap: undefined,
      maxWaitsCap: undefined,
    });
    const config = loadConfig({
      cwd: dir,
      env: {
        THINKSCOPE_AUTH_TOKEN: " 0123456789abcdef0123 ",
        THINKSCOPE_TRUST_PROXY: "127.0.0.1, 10.0.0.0/8, uniquelocal, ::1",
        THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT: "2",
        THINKSCOPE_RATE_LIMIT_PER_MINUTE: "30",
        THINKSCOPE_MAX_THINKING_TOKENS_CAP: "8192",
        THINKSCOPE_MAX_ANSWER_TOKENS_CAP: "2048",
        THINKSCOPE_MAX_WAITS_CAP: "6",
      },
    });
    expect(config).toMatchObject({
      authToken: "0123456789abcdef0123",
      trustProxy: ["127.0.0.1", "10.0.0.0/8", "uniquelocal", "::1"],
      maxConcurrentRunsPerClient: 2,
      rateLimitPerMinute: 30,
      maxThinkingTokensCap: 8192,
      maxAnswerTokensCap: 2048,
      maxWaitsCap: 6,
    });
    expect(loadConfig({ cwd: dir, env: { THINKSCOPE_TRUST_PROXY: "true" } }).trustProxy).toBe(true);
  });

  it("refuses values that would not protect anything, naming the setting", () => {
    const load = (env: Record<string, string>) => () => loadConfig({ cwd: dir, env });
    expect(load({ THINKSCOPE_AUTH_TOKEN: "short" })).toThrow(ConfigError);
    expect(load({ THINKSCOPE_AUTH_TOKEN: "short" })).toThrow(/openssl rand -hex 24/);
    expect(load({ THINKSCOPE_TRUST_PROXY: "1" })).toThrow(/THINKSCOPE_TRUST_PROXY: "1"/);
    expect(load({ THINKSCOPE_TRUST_PROXY: "10.0.0.0/40" })).toThrow(ConfigError);
    expect(load({ THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT: "0" })).toThrow(
      /THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT must be a whole number from 1/,
    );
    expect(load({ THINKSCOPE_MAX_THINKING_TOKENS_CAP: "lots" })).toThrow(
      /THINKSCOPE_MAX_THINKING_TOKENS_CAP/,
    );
  });
});
