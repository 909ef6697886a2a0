/**
 * What `npm start` shows a person at a terminal: one line with the URL to
 * open (and the token link when a token is set), no JSON log line per
 * request. The server runs as a real process under a pseudo-terminal
 * (util-linux `script`); without a terminal it logs JSON, which
 * crash.test.ts reads.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readyLine } from "../src/lib/ready-line.ts";
import { MAIN_COMMAND, mainProcessEnv } from "./helpers.ts";

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts the server under a pseudo-terminal; resolves with everything it printed once it is ready. */
async function startAtTerminal(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), "thinkscope-terminal-test-"));
  dirs.push(dataDir);
  const command = MAIN_COMMAND.map((part) => `'${part}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    env: {
      ...mainProcessEnv(dataDir, { replies: ["Two.</think>", "2"] }),
      THINKSCOPE_LOG_LEVEL: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let printed = "";
  child.stderr!.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
      const match = /ready at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}): ${printed}`)));
  });
  return { child, url, printed: () => printed };
}

describe.skipIf(!hasScript).concurrent("the server at a terminal", () => {
  it("prints one ready line with its URL, and no log line for requests", async () => {
    const server = await startAtTerminal({});
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}api/health`)).status).toBe(200);
    const reply = await fetch(`${server.url}v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "<think>", budget_forcing: {} }),
    });
    expect(reply.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines = server.printed().trim().split(/\r?\n/);
    expect(lines).toEqual([
      expect.stringMatching(/^thinkscope: ready at http:\/\/127\.0\.0\.1:\d+\/$/),
    ]);
    server.child.kill("SIGTERM");
  });

  it("prints the link with the access token when one is set", async () => {
    const token = "a-long-access-token-for-the-class-0123456789";
    const server = await startAtTerminal({ THINKSCOPE_AUTH_TOKEN: token });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const link = new RegExp(`open (http://127\\.0\\.0\\.1:\\d+/\\?token=${token})`).exec(
      server.printed(),
    )?.[1];
    expect(link, server.printed()).toBeDefined();
    // The link lets its holder in: the token goes into a cookie for the page's own requests.
    expect((await fetch(`${server.url}api/runs`)).status).toBe(401);
    expect((await fetch(link!, { redirect: "manual" })).status).toBeLessThan(400);
    server.child.kill("SIGTERM");
  });

  it("shows the requests when THINKSCOPE_LOG_LEVEL asks for them", async () => {
    const server = await startAtTerminal({ THINKSCOPE_LOG_LEVEL: "info" });
    await fetch(`${server.url}api/health`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.printed()).toContain('"url":"/api/health"');
    server.child.kill("SIGTERM");
  });
});

describe("the ready line", () => {
  const at = (address: string, family: string, port = 8787) =>
    ({ address, family, port }) as AddressInfo;

  it("names the address the server listens on, and the loopback one when it listens everywhere", () => {
    expect(readyLine(at("127.0.0.1", "IPv4"))).toBe("thinkscope: ready at http://127.0.0.1:8787/");
    expect(readyLine(at("::1", "IPv6"))).toBe("thinkscope: ready at http://[::1]:8787/");
    expect(readyLine(at("0.0.0.0", "IPv4"))).toBe(
      "thinkscope: ready at http://127.0.0.1:8787/ (listening on every address)",
    );
    expect(readyLine(at("::", "IPv6"))).toContain("http://127.0.0.1:8787/");
  });

  it("escapes a token that is not URL-safe in the link", () => {
    expect(readyLine(at("127.0.0.1", "IPv4"), "a b&c=d/e+f")).toContain(
      "open http://127.0.0.1:8787/?token=a%20b%26c%3Dd%2Fe%2Bf",
    );
  });
});
