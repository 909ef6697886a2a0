/**
 * The access token (THINKSCOPE_AUTH_TOKEN) on each way in: the page, the
 * API and the WebSocket, each without a token, with a wrong one and with the
 * right one; the session cookie a teacher's link or the form sets; what
 * stays open (/api/health, telling nothing sensitive); and the token kept out of logs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendReadiness } from "@thinkscope/protocol";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../src/auth/credentials.ts";
import {
  ScriptPerRun,
  THINK_PROMPT,
  WsClient,
  buildTestApp,
  listen,
  withBudgetForcing,
  type TestApp,
} from "./helpers.ts";

const TOKEN = "class-7f3c9a1e5b2d4c68";
const INDEX = "<!doctype html><title>Thinkscope page</title>";

const thinker = new ScriptPerRun("thinker", { replies: ["Hmm.</think>", "42"] });
/** A backend that is down, with a message naming its upstream (what health must not tell strangers). */
function downBackend() {
  return Object.assign(new ScriptPerRun("down", { replies: [""] }), {
    readiness: async (): Promise<BackendReadiness> => ({
      state: "unavailable",
      message: "vllm: connection refused at http://10.1.2.3:8000/v1",
    }),
  });
}

let server: TestApp;
let base: string;
let distDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  distDir = mkdtempSync(join(tmpdir(), "thinkscope-auth-page-"));
  writeFileSync(join(distDir, "index.html"), INDEX);
  mkdirSync(join(distDir, "assets"));
  writeFileSync(join(distDir, "assets", "app.js"), "console.log('page');");
  server = await buildTestApp({
    backends: [thinker, downBackend()],
    config: { authToken: TOKEN, webDist: distDir },
    log: { write: (line: string) => logLines.push(line) },
  });
  base = await listen(server.app);
});
afterAll(async () => {
  await server.close();
  rmSync(distDir, { recursive: true, force: true });
});

/** `name=value` of the session cookie a response sets, for sending back. */
function sessionCookieOf(setCookie: string | string[] | undefined): string {
  const header = [setCookie ?? []].flat().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!header) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`);
  return header.split(";", 1)[0]!;
}

async function signIn(): Promise<string> {
  const response = await server.app.inject({
    method: "POST",
    url: "/api/auth/login",
    payload: { token: TOKEN },
  });
  expect(response.statusCode).toBe(204);
  return sessionCookieOf(response.headers["set-cookie"]);
}

describe("the page", () => {
  it("without a token: the token form, with status 401, not the page", async () => {
    const response = await server.app.inject({ url: "/" });
    expect(response.statusCode).toBe(401);
    expect(response.headers["content-type"]).toContain("text/html");
    expect(response.body).toContain('name="token"');
    expect(response.body).not.toContain(INDEX);
    // The page's own routes are locked too; its files hold no data and stay loadable.
    expect((await server.app.inject({ url: "/runs/run_1" })).statusCode).toBe(401);
    const script = await server.app.inject({ url: "/assets/app.js" });
    expect(script.statusCode).toBe(200);
    expect(script.body).toBe("console.log('page');");
  });

  it("with a wrong ?token=: the form again, saying so, and no cookie", async () => {
    const response = await server.app.inject({ url: "/?token=not-the-token" });
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain("That token is not right");
    expect(response.headers["set-cookie"]).toBeUndefined();
  });

  it("with the right ?token=: a session cookie, then on to the same URL without the token", async () => {
    const response = await server.app.inject({ url: `/?token=${TOKEN}&prompt=Why` });
    expect(response.statusCode).toBe(200);
    const setCookie = [response.headers["set-cookie"]].flat().join("\n");
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toContain(TOKEN);
    // Sent on from the page itself (a same-site navigation carries a Strict cookie), token dropped.
    expect(response.body).toContain('location.replace("/?prompt=Why")');
    expect(response.body).not.toContain(TOKEN);
    expect(response.headers["referrer-policy"]).toBe("no-referrer");

    const page = await server.app.inject({
      url: "/?prompt=Why",
      headers: { cookie: sessionCookieOf(response.headers["set-cookie"]) },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toBe(INDEX);
  });

  it("signs in through the form: a cookie and a redirect to where the student was going", async () => {
    const form = (token: string, next: string) =>
      server.app.inject({
        method: "POST",
        url: "/api/auth/login",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ token, next }).toString(),
      });
    const wrong = await form("guess-guess-guess", "/library");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("That token is not right");

    const right = await form(TOKEN, "/library");
    expect(right.statusCode).toBe(303);
    expect(right.headers.location).toBe("/library");
    const page = await server.app.inject({
      url: "/",
      headers: { cookie: sessionCookieOf(right.headers["set-cookie"]) },
    });
    expect(page.body).toBe(INDEX);

    // Never to another site.
    const away = await form(TOKEN, "//evil.example/");
    expect(away.headers.location).toBe("/");
  });

  it("sends a link from another site round once through this site, where a Strict cookie is sent", async () => {
    const response = await server.app.inject({
      url: "/?prompt=x",
      headers: { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('location.replace("/?prompt=x")');
    expect(response.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses a forged or tampered cookie, and one signed for another token", async () => {
    const cookie = await signIn();
    const tampered = cookie.slice(0, -3) + (cookie.endsWith("AAA") ? "BBB" : "AAA");
    const forged = `${SESSION_COOKIE}=AAAAAAAAAAAAAAAAAAAAAA`;
    for (const sent of [tampered, forged]) {
      expect((await server.app.inject({ url: "/", headers: { cookie: sent } })).statusCode).toBe(
        401,
      );
    }
    const other = await buildTestApp({
      backends: [thinker],
      config: { authToken: "another-token-after-rotation" },
    });
    try {
      const response = await other.app.inject({ url: "/api/runs", headers: { cookie } });
      expect(response.statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe("the API", () => {
  it("without a token: 401 with a JSON error and a Bearer challenge", async () => {
    const response = await server.app.inject({ url: "/api/runs" });
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toBe('Bearer realm="Thinkscope"');
    expect(response.json().error.code).toBe("unauthorized");
    expect(response.json().error.message).toContain("Authorization: Bearer");
    const completion = await server.app.inject({
      method: "POST",
      url: "/v1/completions",
      payload: { prompt: THINK_PROMPT, budget_forcing: {} },
    });
    expect(completion.statusCode).toBe(401);
    expect(thinker.sessions).toHaveLength(0);
  });

  it("with a wrong token: 401 invalid_token", async () => {
    const response = await server.app.inject({
      url: "/api/runs",
      headers: { authorization: "Bearer class-7f3c9a1e5b2d4c6X" },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toEqual({
      code: "invalid_token",
      message: "The access token is not right.",
    });
  });

  it("with the right token, as a bearer header or the page's cookie: served", async () => {
    const bearer = await server.app.inject({
      url: "/api/runs",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bearer.statusCode).toBe(200);
    const cookie = await server.app.inject({
      url: "/api/backends",
      headers: { cookie: await signIn() },
    });
    expect(cookie.statusCode).toBe(200);
  });

  it("takes the token as an OpenAI client's API key", async () => {
    const right = new OpenAI({ baseURL: `${base}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const completion = await right.completions.create(
      withBudgetForcing({ model: "thinker-model", prompt: THINK_PROMPT }, { num_waits: 0 }),
    );
    expect(completion.choices[0]!.text).toBe("Hmm.</think>42");

    const wrong = new OpenAI({ baseURL: `${base}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it("logs in and out from JSON (the page's token prompt), and reports the state", async () => {
    const status = async (cookie?: string) =>
      (
        await server.app.inject({
          url: "/api/auth/status",
          headers: cookie ? { cookie } : {},
        })
      ).json();
    expect(await status()).toEqual({ required: true, authenticated: false });
    const wrong = await server.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { token: "nope-nope-nope" },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe("invalid_token");
    const cookie = await signIn();
    expect(await status(cookie)).toEqual({ required: true, authenticated: true });

    const out = await server.app.inject({
      method: "POST",
      url: "/api/auth/logout",
      headers: { cookie },
    });
    expect(out.statusCode).toBe(204);
    expect([out.headers["set-cookie"]].flat().join()).toMatch(
      new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0|${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`),
    );
  });

  it("keeps /api/health open, telling strangers only each backend's state", async () => {
    const open = await server.app.inject({ url: "/api/health" });
    expect(open.statusCode).toBe(200);
    expect(open.json()).toEqual({
      status: "ok",
      backends: [
        { id: "thinker", kind: "scripted", default: true, readiness: { state: "ready" } },
        { id: "down", kind: "scripted", default: false, readiness: { state: "unavailable" } },
      ],
    });
    expect(open.body).not.toContain("10.1.2.3");
    const signedIn = await server.app.inject({
      url: "/api/health",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    // Signed in, the message is told, but not the upstream's address (that stays in the log).
    expect(signedIn.json().backends[1].readiness.message).toBe(
      "vllm: connection refused at [upstream]",
    );
    expect(signedIn.body).not.toContain("10.1.2.3");
  });

  it("never writes the token to the log, even from a URL", async () => {
    logLines.length = 0;
    await server.app.inject({ url: `/?token=${TOKEN}` });
    await server.app.inject({ url: "/api/runs", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });
});

describe("the WebSocket", () => {
  it("refuses an upgrade without a token, before upgrading", async () => {
    await expect(WsClient.connect(base)).rejects.toThrow(/upgrade refused: 401/);
  });

  it("refuses a wrong token, as ?token=, bearer header or cookie", async () => {
    const ws = base.replace(/^http/, "ws");
    await expect(WsClient.connect(`${base}`, { cookie: `${SESSION_COOKIE}=x.y` })).rejects.toThrow(
      /401/,
    );
    await expect(
      WsClient.connect(base, { authorization: "Bearer class-7f3c9a1e5b2d4c6X" }),
    ).rejects.toThrow(/401/);
    const { WebSocket } = await import("ws");
    const refused = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${ws}/ws?token=wrong-wrong-wrong`);
      socket.once("open", () => reject(new Error("opened")));
      socket.once("unexpected-response", (_request, response) => resolve(response.statusCode!));
    });
    expect(refused).toBe(401);
  });

  it("opens with the page's cookie and runs", async () => {
    const client = await WsClient.connect(base, { cookie: await signIn(), origin: base });
    client.send({ type: "run", key: "k", spec: { prompt: "Q", backend: "thinker" } });
    const events = await client.finished("k");
    expect(events.at(-1)).toMatchObject({ type: "run.finished", finishReason: "stop" });
    client.close();
  });

  it("opens with the right ?token= or bearer header (scripts, not browsers)", async () => {
    const { WebSocket } = await import("ws");
    const socket = new WebSocket(`${base.replace(/^http/, "ws")}/ws?token=${TOKEN}`);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("unexpected-response", (_r, response) =>
        reject(new Error(`refused ${response.statusCode}`)),
      );
    });
    socket.close();
    const client = await WsClient.connect(base, { authorization: `Bearer ${TOKEN}` });
    client.close();
  });
});

describe("guessing", () => {
  it("locks an address out after 30 wrong tokens, whatever it tries next, and no other address", async () => {
    const guarded = await buildTestApp({
      backends: [thinker],
      config: { authToken: TOKEN, trustProxy: ["127.0.0.1"] },
    });
    try {
      const attempt = (token: string, from: string) =>
        guarded.app.inject({
          url: "/api/runs",
          headers: { authorization: `Bearer ${token}`, "x-forwarded-for": from },
        });
      for (let i = 0; i < 30; i++) {
        expect((await attempt(`guess-number-${i}`, "10.3.0.1")).statusCode).toBe(401);
      }
      const locked = await attempt(TOKEN, "10.3.0.1");
      expect(locked.statusCode).toBe(429);
      expect(locked.json().error.code).toBe("too_many_wrong_tokens");
      // The page's ?token= and the form are the same door.
      const link = await guarded.app.inject({
        url: `/?token=${TOKEN}`,
        headers: { "x-forwarded-for": "10.3.0.1" },
      });
      expect(link.statusCode).toBe(429);
      expect((await attempt(TOKEN, "10.3.0.2")).statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
