/** The page: served from apps/web/dist with client routes falling back to index.html, or a build hint. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScriptPerRun, buildTestApp, type TestApp } from "./helpers.ts";

const INDEX = "<!doctype html><title>Thinkscope page</title>";
let built: TestApp;
let unbuilt: TestApp;

beforeAll(async () => {
  unbuilt = await buildTestApp({ backends: [new ScriptPerRun("s", { replies: [""] })] });
  const dist = join(unbuilt.dataDir, "dist");
  mkdirSync(join(dist, "assets"), { recursive: true });
  writeFileSync(join(dist, "index.html"), INDEX);
  writeFileSync(join(dist, "assets", "app.js"), "console.log('page');");
  built = await buildTestApp({
    backends: [new ScriptPerRun("s", { replies: [""] })],
    config: { webDist: dist },
  });
});
afterAll(async () => {
  await built.close();
  await unbuilt.close();
});

describe("a built page", () => {
  it("is served with its assets, and index.html for the page's own routes", async () => {
    expect((await built.app.inject({ url: "/" })).body).toBe(INDEX);
    expect((await built.app.inject({ url: "/assets/app.js" })).body).toBe("console.log('page');");
    const route = await built.app.inject({ url: "/runs/run_123?tab=events" });
    expect(route.statusCode).toBe(200);
    expect(route.headers["content-type"]).toContain("text/html");
    expect(route.body).toBe(INDEX);
  });

  it("never answers the API's paths or missing files with the page", async () => {
    for (const url of ["/api/missing", "/v1/missing", "/assets/missing.js"]) {
      const response = await built.app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().error.code).toBe("not_found");
    }
    expect((await built.app.inject({ url: "/api/health" })).json().status).toBe("ok");
  });
});

describe("without a build", () => {
  it("says how to build the page", async () => {
    const response = await unbuilt.app.inject({ url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("npm run build");
  });
});
