/**
 * Attacks from other sites' pages on a server without a token (a laptop's):
 * writes a browser sends without asking first (text/plain, forms,
 * multipart, no body), from foreign origins, and the headers that keep the
 * page from being framed or its responses sniffed.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, buildTestApp, listen, waitFor, type TestApp } from "../helpers.ts";
import { rawRequest } from "./raw-http.ts";

const thinker = new ScriptPerRun("thinker", { replies: ["Hmm.</think>", "42"] });

let server: TestApp;
let base: string;
let runId: string;
let exported: string;
let experimentId: string;

beforeAll(async () => {
  const dist = mkdtempSync(join(tmpdir(), "thinkscope-cross-site-page-"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>page</title>");
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "assets", "app.js"), "1");
  server = await buildTestApp({
    backends: [thinker],
    config: { webDist: dist, allowedOrigins: ["http://localhost:5173"] },
  });
  base = await listen(server.app);
  const run = await server.app.inject({
    method: "POST",
    url: "/v1/chat/completions",
    payload: { messages: [{ role: "user", content: "Q" }], budget_forcing: {} },
  });
  runId = run.headers["x-thinkscope-run-id"] as string;
  exported = (await server.app.inject({ url: "/api/runs/export" })).body;
  const experiment = await server.app.inject({
    method: "POST",
    url: "/api/experiments",
    payload: { dataset: { generator: { seed: 1, count: 1, digits: 1 } } },
  });
  experimentId = experiment.json().id;
  await waitFor(() => server.app.experiments.detail(experimentId).status !== "running");
});
afterAll(async () => {
  await server.close();
});

/** Every state-changing route, with the body it would act on. */
function writes(): { method: string; path: string; type: string; body: string }[] {
  const json = (body: unknown) => JSON.stringify(body);
  const chat = json({ messages: [{ role: "user", content: "x" }], budget_forcing: {} });
  return [
    { method: "POST", path: "/api/runs/import", type: "application/x-ndjson", body: exported },
    { method: "DELETE", path: `/api/runs/${runId}`, type: "", body: "" },
    { method: "POST", path: "/v1/chat/completions", type: "application/json", body: chat },
    {
      method: "POST",
      path: "/v1/completions",
      type: "application/json",
      body: json({ prompt: "x", budget_forcing: {} }),
    },
    {
      method: "POST",
      path: "/api/experiments",
      type: "application/json",
      body: json({ dataset: { generator: { seed: 2, count: 1, digits: 1 } } }),
    },
    { method: "POST", path: `/api/experiments/${experimentId}/cancel`, type: "", body: "" },
    { method: "POST", path: `/api/experiments/${experimentId}/resume`, type: "", body: "" },
    { method: "DELETE", path: `/api/experiments/${experimentId}`, type: "", body: "" },
    { method: "POST", path: "/api/auth/logout", type: "", body: "" },
  ];
}

function nothingChanged(before: { runs: number; sessions: number }) {
  expect(server.app.runStore.list().total).toBe(before.runs);
  expect(thinker.sessions.length).toBe(before.sessions);
  expect(server.app.runStore.get(runId)).not.toBeNull();
  expect(server.app.experiments.detail(experimentId).status).toBe("completed");
}

describe("writes from another site's page", () => {
  it("are refused from a foreign or opaque Origin, on every state-changing route, and change nothing", async () => {
    const before = { runs: server.app.runStore.list().total, sessions: thinker.sessions.length };
    for (const origin of [
      "http://evil.example",
      "null",
      "http://127.0.0.1:1",
      "http://localhost:5174",
    ]) {
      for (const write of writes()) {
        for (const type of [write.type, "text/plain", "application/x-www-form-urlencoded"]) {
          const headers: Record<string, string> = { origin };
          if (type) headers["content-type"] = type;
          const response = await rawRequest(base, write.method, write.path, {
            headers,
            body: write.body,
          });
          const what = `${origin} ${write.method} ${write.path} ${type}`;
          expect(response.status, what).toBe(403);
          expect(JSON.parse(response.body).error.code, what).toBe("origin_not_allowed");
        }
      }
    }
    nothingChanged(before);
  });

  it("are refused when the browser says they came from another site, even without an Origin", async () => {
    const before = { runs: server.app.runStore.list().total, sessions: thinker.sessions.length };
    for (const site of ["cross-site", "same-site"]) {
      for (const write of writes()) {
        const headers: Record<string, string> = { "sec-fetch-site": site };
        if (write.type) headers["content-type"] = write.type;
        const response = await rawRequest(base, write.method, write.path, {
          headers,
          body: write.body,
        });
        expect(response.status, `${site} ${write.path}`).toBe(403);
      }
    }
    nothingChanged(before);
  });

  it("take only their real content type: text/plain, forms and multipart are refused (415) before anything runs", async () => {
    const before = { runs: server.app.runStore.list().total, sessions: thinker.sessions.length };
    const bodied = writes().filter((write) => write.type !== "");
    for (const write of bodied) {
      for (const type of [
        "text/plain",
        "text/plain; charset=utf-8",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
      ]) {
        const response = await rawRequest(base, write.method, write.path, {
          headers: { "content-type": type },
          body: write.body,
        });
        expect(response.status, `${write.path} ${type}`).toBe(415);
      }
    }
    nothingChanged(before);
  });

  it("go through from this server's own page and from THINKSCOPE_ALLOWED_ORIGINS", async () => {
    const own = await rawRequest(base, "POST", "/v1/completions", {
      headers: {
        origin: base,
        "content-type": "application/json",
        "sec-fetch-site": "same-origin",
      },
      body: JSON.stringify({ prompt: "x", budget_forcing: {} }),
    });
    expect(own.status).toBe(200);
    const dev = await rawRequest(base, "POST", "/v1/completions", {
      headers: { origin: "http://localhost:5173", "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", budget_forcing: {} }),
    });
    expect(dev.status).toBe(200);
    // Clients that are not browsers send neither header.
    const script = await rawRequest(base, "POST", "/v1/completions", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "x", budget_forcing: {} }),
    });
    expect(script.status).toBe(200);
  });
});

describe("headers", () => {
  it("keeps the page from being framed and limits what it may load", async () => {
    const page = await rawRequest(base, "GET", "/");
    expect(page.status).toBe(200);
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    const csp = page.headers["content-security-policy"]!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
  });

  it("never lets a response be sniffed as another type", async () => {
    for (const path of ["/api/runs", "/api/runs/export", "/assets/app.js", "/api/missing"]) {
      const response = await rawRequest(base, "GET", path);
      expect(response.headers["x-content-type-options"], path).toBe("nosniff");
    }
  });

  it("lets exactly its own script run on the pages the server renders", async () => {
    const locked = await buildTestApp({
      backends: [thinker],
      config: { authToken: "class-7f3c9a1e5b2d4c68" },
    });
    try {
      const response = await locked.app.inject({ url: "/?token=class-7f3c9a1e5b2d4c68" });
      const csp = String(response.headers["content-security-policy"]);
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(response.body).toContain(`<script nonce="${nonce}">`);
      expect(csp).toContain("frame-ancestors 'none'");
      const form = await locked.app.inject({ url: "/" });
      expect(String(form.headers["content-security-policy"])).toContain("script-src 'none'");
    } finally {
      await locked.close();
    }
  });
});
