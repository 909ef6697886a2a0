/**
 * Attacks on access: who can reach what, however they write the path, from
 * whichever host name, with how many sign-ins. Every test performs the
 * attack against a real listening server (raw HTTP where a client library
 * would clean the request up first).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../src/auth/credentials.ts";
import { ScriptPerRun, buildTestApp, listen, waitFor, type TestApp } from "../helpers.ts";
import { UPGRADE_HEADERS, rawRequest, spellingsOf } from "./raw-http.ts";

const TOKEN = "class-7f3c9a1e5b2d4c68";
const SECRET_PROMPT = "MARKER-PRIVATE-PROMPT-4411";
const SECRET_EXPERIMENT = "MARKER-PRIVATE-EXPERIMENT-9902";
const INDEX = "<!doctype html><title>Thinkscope page</title>";

const thinker = new ScriptPerRun("thinker", { replies: ["Hmm.</think>", "42"] });

let server: TestApp;
let base: string;
let distDir: string;
let runId: string;
let experimentId: string;
const logLines: string[] = [];
const bearer = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  distDir = mkdtempSync(join(tmpdir(), "thinkscope-access-page-"));
  writeFileSync(join(distDir, "index.html"), INDEX);
  mkdirSync(join(distDir, "assets"));
  writeFileSync(join(distDir, "assets", "app.js"), "console.log('page');");
  server = await buildTestApp({
    backends: [thinker],
    config: { authToken: TOKEN, webDist: distDir },
    log: { write: (line: string) => logLines.push(line) },
  });
  base = await listen(server.app);
  const run = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { ...bearer, "content-type": "application/json" },
    body: JSON.stringify({
      messages: [{ role: "user", content: SECRET_PROMPT }],
      budget_forcing: {},
    }),
  });
  expect(run.status).toBe(200);
  runId = run.headers.get("x-thinkscope-run-id")!;
  const experiment = await fetch(`${base}/api/experiments`, {
    method: "POST",
    headers: { ...bearer, "content-type": "application/json" },
    body: JSON.stringify({
      name: SECRET_EXPERIMENT,
      dataset: { generator: { seed: 1, count: 1, digits: 1 } },
    }),
  });
  expect(experiment.status).toBe(201);
  experimentId = ((await experiment.json()) as { id: string }).id;
  await waitFor(async () => {
    const detail = await fetch(`${base}/api/experiments/${experimentId}`, { headers: bearer });
    return ((await detail.json()) as { status: string }).status !== "running";
  });
});
afterAll(async () => {
  await server.close();
  rmSync(distDir, { recursive: true, force: true });
});

interface Route {
  method: string;
  path: string;
}

/** Every route the app serves, read from Fastify's own table (so a route added later is attacked too). */
function routesOf(table: string): Route[] {
  const routes: Route[] = [];
  const parents: string[] = [];
  for (const line of table.split("\n")) {
    const match = /^(.*?)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (parents[depth - 1] ?? "") + match[2]!;
    parents[depth] = path;
    for (const method of match[3]!.split(", ")) routes.push({ method, path });
  }
  return routes;
}

/** Open without a token by design; each is attacked on its own below. */
const PUBLIC = new Set([
  "GET /api/health",
  "HEAD /api/health",
  "GET /api/auth/status",
  "HEAD /api/auth/status",
  "POST /api/auth/login",
  "POST /api/auth/logout",
  "GET /assets/app.js",
  "HEAD /assets/app.js",
]);

function concrete(path: string): string {
  return path
    .replace("/api/runs/:id", `/api/runs/${runId}`)
    .replace("/api/experiments/:id", `/api/experiments/${experimentId}`);
}

/** A body each route would act on if it got through: a run to import, a run to start. */
function bodyFor(route: Route): { headers: Record<string, string>; body?: string } {
  if (route.method !== "POST") return { headers: {} };
  if (route.path === "/api/runs/import") {
    return {
      headers: { "content-type": "application/x-ndjson" },
      body: JSON.stringify({ id: "run_imported_by_attacker" }) + "\n",
    };
  }
  return {
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "thinker-model",
      prompt: "attack",
      messages: [{ role: "user", content: "attack" }],
      budget_forcing: {},
      dataset: { generator: { seed: 2, count: 1, digits: 1 } },
    }),
  };
}

describe("the access token, however the path is written", () => {
  it("knows every route, and which few are public", () => {
    const routes = routesOf(server.app.printRoutes({ commonPrefix: false }));
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.filter((r) => PUBLIC.has(`${r.method} ${r.path}`))).toHaveLength(PUBLIC.size);
  });

  it("refuses every other route in every spelling without the token, and nothing happens", async () => {
    const routes = routesOf(server.app.printRoutes({ commonPrefix: false })).filter(
      (route) => !PUBLIC.has(`${route.method} ${route.path}`) && route.path !== "/ws",
    );
    const sessionsBefore = thinker.sessions.length;
    const runsBefore = server.app.runStore.list().total;
    let attempts = 0;
    for (const route of routes) {
      const path = concrete(route.path);
      for (const spelling of [path, ...spellingsOf(path)]) {
        const { headers, body } = bodyFor(route);
        const response = await rawRequest(base, route.method, spelling, { headers, body });
        attempts += 1;
        const what = `${route.method} ${spelling}`;
        expect([400, 401], what).toContain(response.status);
        expect(response.body, what).not.toContain(SECRET_PROMPT);
        expect(response.body, what).not.toContain(SECRET_EXPERIMENT);
        expect(response.body, what).not.toContain("thinker-model");
      }
    }
    expect(attempts).toBeGreaterThan(1000);
    // Nothing was started, imported or deleted.
    expect(thinker.sessions.length).toBe(sessionsBefore);
    expect(server.app.runStore.list().total).toBe(runsBefore);
    expect(server.app.runStore.get(runId)).not.toBeNull();
    expect(server.app.experiments.detail(experimentId).name).toBe(SECRET_EXPERIMENT);
  });

  it("serves the same spellings to a client with the token: the router reads them as these routes", async () => {
    for (const spelling of ["/%61pi/runs", "/api/%72uns", "/%61%70%69/runs", "/api/runs?q="]) {
      const response = await rawRequest(base, "GET", spelling, { headers: bearer });
      expect(response.status, spelling).toBe(200);
      expect(response.body, spelling).toContain(SECRET_PROMPT);
    }
    const exported = await rawRequest(base, "GET", "/%61pi/runs/export#.js", { headers: bearer });
    expect(exported.status).toBe(200);
    expect(exported.body).toContain(SECRET_PROMPT);
  });

  it("never upgrades a WebSocket without the token, however /ws is written", async () => {
    for (const spelling of ["/ws", ...spellingsOf("/ws"), "/ws?token=wrong-token-000"]) {
      const response = await rawRequest(base, "GET", spelling, { headers: UPGRADE_HEADERS });
      expect(response.status, spelling).not.toBe(101);
      expect([400, 401, 429], spelling).toContain(response.status);
    }
    const allowed = await rawRequest(base, "GET", "/%77s#.js", {
      headers: { ...UPGRADE_HEADERS, ...bearer },
    });
    expect(allowed.status).toBe(101);
  });

  it("keeps the public routes to what they are for", async () => {
    const health = await rawRequest(base, "GET", "/api/health");
    expect(health.status).toBe(200);
    expect(health.body).not.toContain("thinker-model");
    const script = await rawRequest(base, "GET", "/assets/app.js");
    expect(script.status).toBe(200);
    expect(script.body).toBe("console.log('page');");
    // A file of the page is public only under its own name: the page itself is not.
    for (const path of [
      "/",
      "/index.html",
      "/assets/../index.html",
      "/runs/x",
      "/assets/missing.js",
    ]) {
      const response = await rawRequest(base, "GET", path);
      expect(response.status, path).toBe(401);
      expect(response.body, path).not.toContain(INDEX);
    }
  });
});

describe("metering, however the path is written", () => {
  it("counts every spelling against the same allowance", async () => {
    const limited = await buildTestApp({
      backends: [thinker],
      config: { authToken: TOKEN, rateLimitPerMinute: 6 },
    });
    try {
      const url = await listen(limited.app);
      const spellings = ["/api/runs", "/%61pi/runs", "/api/%72uns", "/%61%70%69/runs", "/API/runs"];
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const spelling = spellings[i % spellings.length]!;
        statuses.push((await rawRequest(url, "GET", spelling, { headers: bearer })).status);
      }
      // /API/runs is not a route (a 404 is not counted); the other spellings share six requests.
      expect(statuses.filter((s) => s === 200)).toHaveLength(6);
      expect(statuses.slice(-1)[0]).toBe(429);
      const upgrade = await rawRequest(url, "GET", "/%77s", {
        headers: { ...UPGRADE_HEADERS, ...bearer },
      });
      expect(upgrade.status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe("DNS rebinding", () => {
  it("answers a loopback-bound server only under loopback names, over HTTP and for the WebSocket", async () => {
    for (const host of [
      "evil.example",
      "evil.example:80",
      "127.0.0.1.evil.example",
      "localhost.evil.example",
    ]) {
      const page = await rawRequest(base, "GET", "/api/health", { headers: { host } });
      expect(page.status, host).toBe(403);
      expect(JSON.parse(page.body).error.code).toBe("host_not_allowed");
      const socket = await rawRequest(base, "GET", "/ws", {
        headers: { ...UPGRADE_HEADERS, ...bearer, host, origin: `http://${host}` },
      });
      expect(socket.status, host).toBe(403);
      const runs = await rawRequest(base, "GET", "/api/runs", { headers: { ...bearer, host } });
      expect(runs.status, host).toBe(403);
      expect(runs.body).not.toContain(SECRET_PROMPT);
    }
    const port = new URL(base).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      "[::1]",
      "127.1.2.3",
    ]) {
      const response = await rawRequest(base, "GET", "/api/health", { headers: { host } });
      expect(response.status, host).toBe(200);
    }
  });

  it("answers the names THINKSCOPE_ALLOWED_HOSTS lists, and any name when bound to every address", async () => {
    const named = await buildTestApp({
      backends: [thinker],
      config: { allowedHosts: ["thinkscope.lan", ".school.example"] },
    });
    const open = await buildTestApp({ backends: [thinker], config: { host: "0.0.0.0" } });
    const pinned = await buildTestApp({
      backends: [thinker],
      config: { host: "0.0.0.0", allowedHosts: ["thinkscope.example.org"] },
    });
    try {
      const status = async (app: TestApp, host: string) =>
        (await app.app.inject({ url: "/api/health", headers: { host } })).statusCode;
      expect(await status(named, "thinkscope.lan:8787")).toBe(200);
      expect(await status(named, "lab.school.example")).toBe(200);
      expect(await status(named, "school.example")).toBe(200);
      expect(await status(named, "evilschool.example")).toBe(403);
      expect(await status(open, "anything.example")).toBe(200);
      expect(await status(pinned, "thinkscope.example.org")).toBe(200);
      expect(await status(pinned, "evil.example")).toBe(403);
      // The container's own health check comes in as localhost.
      expect(await status(pinned, "127.0.0.1:8787")).toBe(200);
    } finally {
      await Promise.all([named.close(), open.close(), pinned.close()]);
    }
  });
});

describe("sessions", () => {
  async function signIn(url = base): Promise<string> {
    const response = await fetch(`${url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: TOKEN }),
    });
    expect(response.status).toBe(204);
    const header = response.headers.getSetCookie().find((c) => c.startsWith(SESSION_COOKIE));
    return header!.split(";", 1)[0]!;
  }

  it("ends a session for good on logout: a copy of the cookie stops working", async () => {
    const cookie = await signIn();
    const copy = cookie;
    expect((await fetch(`${base}/api/runs`, { headers: { cookie } })).status).toBe(200);
    const out = await fetch(`${base}/api/auth/logout`, { method: "POST", headers: { cookie } });
    expect(out.status).toBe(204);
    expect((await fetch(`${base}/api/runs`, { headers: { cookie: copy } })).status).toBe(401);
    const upgrade = await rawRequest(base, "GET", "/ws", {
      headers: { ...UPGRADE_HEADERS, cookie: copy },
    });
    expect(upgrade.status).toBe(401);
  });

  it("keeps sessions across a restart of the server", async () => {
    const first = await buildTestApp({ backends: [thinker], config: { authToken: TOKEN } });
    const url = await listen(first.app);
    const cookie = await signIn(url);
    await first.app.close();
    const again = await buildTestApp({
      backends: [thinker],
      config: { authToken: TOKEN, dataDir: first.dataDir },
    });
    try {
      const response = await again.app.inject({ url: "/api/runs", headers: { cookie } });
      expect(response.statusCode).toBe(200);
    } finally {
      await again.close();
      rmSync(first.dataDir, { recursive: true, force: true });
    }
  });

  it("gives no new allowance for signing in again: limits count the address too", async () => {
    const limited = await buildTestApp({
      backends: [thinker],
      config: { authToken: TOKEN, rateLimitPerMinute: 4 },
    });
    try {
      const url = await listen(limited.app);
      const cookies = [];
      for (let i = 0; i < 5; i++) cookies.push(await signIn(url));
      const statuses = [];
      for (const cookie of cookies) {
        for (let i = 0; i < 2; i++) {
          statuses.push((await fetch(`${url}/api/runs`, { headers: { cookie } })).status);
        }
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(4);
      expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    } finally {
      await limited.close();
    }
  });

  it("limits sign-ins per address", async () => {
    const fresh = await buildTestApp({ backends: [thinker], config: { authToken: TOKEN } });
    try {
      const url = await listen(fresh.app);
      let refused: Response | undefined;
      for (let i = 0; i < 200 && !refused; i++) {
        const response = await fetch(`${url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: TOKEN }),
        });
        if (response.status === 429) refused = response;
        else expect(response.status).toBe(204);
      }
      expect(refused).toBeDefined();
      expect(((await refused!.json()) as { error: { code: string } }).error.code).toBe(
        "too_many_sign_ins",
      );
    } finally {
      await fresh.close();
    }
  });

  it("lets a class behind one address sign in when its run rate was raised for it", async () => {
    const students = 300;
    const hall = await buildTestApp({
      backends: [thinker],
      config: { authToken: TOKEN, rateLimitPerAddressPerMinute: students * 2 },
    });
    try {
      const url = await listen(hall.app);
      const statuses: number[] = [];
      for (let i = 0; i < students; i++) {
        const response = await fetch(`${url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token: TOKEN }),
        });
        statuses.push(response.status);
      }
      expect(statuses.filter((status) => status !== 204)).toEqual([]);
    } finally {
      await hall.close();
    }
  });
});

describe("where signing in sends the browser", () => {
  const away = [
    "//evil.example/",
    "/\t/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:%20x=y",
    "/\r\nSet-Cookie: x=y",
    "/\u0000/evil.example",
  ];

  it("only to a path of this site, and never a 500", async () => {
    for (const next of away) {
      const response = await fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: TOKEN, next }).toString(),
        redirect: "manual",
      });
      expect(response.status, JSON.stringify(next)).toBe(303);
      const location = response.headers.get("location")!;
      expect(new URL(location, base).origin, JSON.stringify(next)).toBe(base);
      expect(location).not.toMatch(/[\r\n]/);
      expect(response.headers.getSetCookie().some((c) => c.startsWith("x="))).toBe(false);
    }
  });

  it("keeps a ?token= link on this site however its path is written", async () => {
    for (const path of ["//evil.example/", "/\\evil.example", "/%09/evil.example"]) {
      const response = await rawRequest(base, "GET", `${path}?token=${TOKEN}`);
      expect([200, 401], path).toContain(response.status);
      const target = /location\.replace\((".*?")\)/.exec(response.body)?.[1];
      if (target) expect(new URL(JSON.parse(target) as string, base).origin, path).toBe(base);
    }
  });
});

describe("what a client learns", () => {
  it("never sees a token in the log, right or wrong, from a page, the API or the WebSocket", async () => {
    await rawRequest(base, "GET", "/?token=wrong-token-in-url-1");
    await rawRequest(base, "GET", "/ws?token=wrong-token-in-url-2", { headers: UPGRADE_HEADERS });
    await rawRequest(base, "GET", "/api/runs?token=wrong-token-in-url-3");
    await rawRequest(base, "GET", `/?token=${TOKEN}`);
    const log = logLines.join("\n");
    for (const secret of [
      TOKEN,
      "wrong-token-in-url-1",
      "wrong-token-in-url-2",
      "wrong-token-in-url-3",
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(log).toContain("token=[redacted]");
  });

  it("reads no configuration, environment or database file as a dataset, whatever the folders say", async () => {
    const folder = mkdtempSync(join(tmpdir(), "thinkscope-dataset-dir-"));
    const secrets = {
      "thinkscope.config.json": JSON.stringify({ THINKSCOPE_API_KEY: "sk-secret-in-config" }),
      ".env": "THINKSCOPE_API_KEY=sk-secret-in-env\n",
      "prod.env": "KEY=sk-secret\n",
      "copy.db": "SQLite format 3",
    };
    for (const [name, text] of Object.entries(secrets)) writeFileSync(join(folder, name), text);
    symlinkSync(join(folder, "thinkscope.config.json"), join(folder, "innocent.jsonl"));
    writeFileSync(join(folder, "fine.jsonl"), '{"problem": "What is 1 + 1?", "answer": 2}\n');
    const app = await buildTestApp({
      backends: [thinker],
      config: { datasetDirs: [folder] },
    });
    try {
      const create = (path: string) =>
        app.app.inject({ method: "POST", url: "/api/experiments", payload: { dataset: { path } } });
      for (const name of [...Object.keys(secrets), "innocent.jsonl"]) {
        const response = await create(join(folder, name));
        expect(response.statusCode, name).toBe(400);
        expect(response.json().error.code, name).toBe("dataset_path_not_allowed");
        expect(response.body, name).not.toContain("sk-secret");
      }
      expect((await create(join(folder, "fine.jsonl"))).statusCode).toBe(201);
      // The data directory holds the database; only its datasets folder is read.
      writeFileSync(join(app.dataDir, "set.jsonl"), '{"problem": "What is 1 + 1?", "answer": 2}\n');
      expect((await create(join(app.dataDir, "set.jsonl"))).json().error.code).toBe(
        "dataset_path_not_allowed",
      );
      expect((await create("thinkscope.config.json")).json().error.code).toBe(
        "dataset_path_not_allowed",
      );
    } finally {
      await app.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
