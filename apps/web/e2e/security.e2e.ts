/**
 * Attacks that need a real browser: another site's page making Chromium
 * write to a laptop's Thinkscope (no token), and a page that rebinds its own
 * name to 127.0.0.1. Chromium maps `evil.example` to 127.0.0.1 itself
 * (`--host-resolver-rules`), which is exactly what a rebinding DNS answer does.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot } from "./support/browser.ts";
import { startServerProcess, type ServerProcess } from "./support/server-process.ts";
import { e2eModels } from "./support/test-models.ts";

let server: ServerProcess;
let browser: Browser;
let attacker: Server;
let attackerUrl: string;
let runLine: string;
/** Valid run ids, so that only the cross-site rule can refuse the attacker's import. */
const PLANTED_ID = "run_a77ac4e2000000aa";
const IMPORTED_ID = "run_a77ac4e2000000bb";

/** A run exported from this server, renamed so an import of it can be told apart. */
async function exportedRun(url: string, id: string): Promise<string> {
  const made = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "<think>\n", budget_forcing: {}, max_tokens: 8 }),
  });
  expect(made.status).toBe(200);
  const line = (await (await fetch(`${url}/api/runs/export`)).text()).split("\n")[0]!;
  return JSON.stringify({ ...JSON.parse(line), id });
}

/** The attacker's page: it tries every write a page may send without asking first. */
function attackPage(target: string, line: string): string {
  const body = JSON.stringify(line + "\n");
  return `<!doctype html><title>cute cats</title>
<form id="f" method="post" enctype="text/plain" target="sink" action="${target}/api/runs/import">
<input name='${line.slice(0, 10)}' value='${line.slice(10).replaceAll("'", "&#39;")}'></form>
<iframe name="sink"></iframe>
<script>
const attempts = [
  fetch(${JSON.stringify(target)} + "/api/runs/import", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: ${body} }),
  fetch(${JSON.stringify(target)} + "/api/runs/import", { method: "POST", mode: "no-cors", body: new Blob([${body}]) }),
  fetch(${JSON.stringify(target)} + "/v1/completions", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: JSON.stringify({ prompt: "x", budget_forcing: {} }) }),
];
navigator.sendBeacon(${JSON.stringify(target)} + "/api/runs/import", new Blob([${body}], { type: "text/plain" }));
document.getElementById("f").submit();
Promise.allSettled(attempts).then(() => { document.title = "done"; });
</script>`;
}

beforeAll(async () => {
  const models = await e2eModels();
  server = await startServerProcess({
    name: "security",
    backends: [`embedded:${models.counting}`],
  });
  runLine = await exportedRun(server.url, PLANTED_ID);
  attacker = createServer((_request, response) => {
    response.setHeader("content-type", "text/html");
    response.end(attackPage(server.url, runLine));
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  // `localhost` is another site than `127.0.0.1`, where Thinkscope is.
  attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"],
  });
});
afterAll(async () => {
  await browser?.close();
  attacker?.close();
  await server?.stop();
});

async function stored(id: string): Promise<boolean> {
  const response = await fetch(`${server.url}/api/runs/${id}`);
  return response.status === 200;
}

describe("another site's page in the user's browser", () => {
  it("cannot import runs or start runs on a server without a token", async () => {
    const runsBefore = ((await (await fetch(`${server.url}/api/runs`)).json()) as { total: number })
      .total;
    const page = await browser.newPage();
    await page.goto(attackerUrl);
    await page.waitForFunction(() => document.title === "done");
    // The form post and the beacon are fire-and-forget: give them time to land.
    await page.waitForTimeout(1_000);
    await screenshot(page, "security-cross-site-attacker");
    expect(await stored(PLANTED_ID)).toBe(false);
    const runsAfter = ((await (await fetch(`${server.url}/api/runs`)).json()) as { total: number })
      .total;
    expect(runsAfter).toBe(runsBefore);
    await page.close();
  });

  it("cannot read the server through a name rebound to 127.0.0.1", async () => {
    const port = new URL(server.url).port;
    const page = await browser.newPage();
    const response = await page.goto(`http://evil.example:${port}/`);
    expect(response?.status()).toBe(403);
    const read = await page.evaluate(async () => {
      const runs = await fetch("/api/runs");
      return { status: runs.status, text: await runs.text() };
    });
    expect(read.status).toBe(403);
    expect(read.text).toContain("host_not_allowed");
    const socket = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve("open");
          ws.onerror = () => resolve("refused");
        }),
      `ws://evil.example:${port}/ws`,
    );
    expect(socket).toBe("refused");
    await page.close();
  });

  it("still lets the page itself import a run", async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const status = await page.evaluate(
      async ({ line, from, to }) =>
        (
          await fetch("/api/runs/import", {
            method: "POST",
            headers: { "content-type": "application/x-ndjson" },
            body: line.replace(from, to) + "\n",
          })
        ).status,
      { line: runLine, from: PLANTED_ID, to: IMPORTED_ID },
    );
    expect(status).toBe(200);
    expect(await stored(IMPORTED_ID)).toBe(true);
    await page.close();
  });
});
