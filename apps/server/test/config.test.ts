import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBackends } from "../src/backends/create-backends.ts";
import { ConfigError, loadConfig, splitBackendList } from "../src/config/config.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "thinkscope-config-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("loadConfig", () => {
  it("defaults to 127.0.0.1:8787, the embedded backend and ./data", () => {
    const config = loadConfig({ env: {}, cwd: dir });
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8787,
      backends: ["embedded"],
      model: undefined,
      apiKey: undefined,
      dataDir: join(dir, "data"),
      allowedOrigins: [],
      bodyLimit: 1024 * 1024,
      enableTestBackends: false,
      configFile: undefined,
    });
  });

  it("reads thinkscope.config.json, with the environment winning and file paths relative to the file", () => {
    writeFileSync(
      join(dir, "thinkscope.config.json"),
      JSON.stringify({
        PORT: 9000,
        HOST: "0.0.0.0",
        THINKSCOPE_BACKEND: ["vllm:http://gpu:8000/v1", "embedded"],
        THINKSCOPE_DATA_DIR: "state",
        THINKSCOPE_ALLOWED_ORIGINS: "http://localhost:5173/, https://class.example",
      }),
    );
    const config = loadConfig({ env: { PORT: "9100" }, cwd: dir });
    expect(config).toMatchObject({
      host: "0.0.0.0",
      port: 9100,
      backends: ["vllm:http://gpu:8000/v1", "embedded"],
      dataDir: join(dir, "state"),
      allowedOrigins: ["http://localhost:5173", "https://class.example"],
      configFile: join(dir, "thinkscope.config.json"),
    });
  });

  it("refuses bad values with a message naming the setting", () => {
    expect(() => loadConfig({ env: { PORT: "eighty" }, cwd: dir })).toThrow(
      new ConfigError('PORT must be a whole number from 0 to 65535 (got "eighty").'),
    );
    expect(() =>
      loadConfig({ env: { THINKSCOPE_ALLOWED_ORIGINS: "not an origin" }, cwd: dir }),
    ).toThrow(/THINKSCOPE_ALLOWED_ORIGINS: "not an origin" is not an origin/);
    writeFileSync(
      join(dir, "thinkscope.config.json"),
      JSON.stringify({ THINKSCOPE_BACKNED: "vllm:x" }),
    );
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/unknown setting "THINKSCOPE_BACKNED"/);
    writeFileSync(join(dir, "thinkscope.config.json"), "{ PORT: 1 }");
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/is not valid JSON/);
  });
});

describe("slow clients", () => {
  it("hold 1 MiB for a page and wait 30 s for a client that reads nothing, unless set", () => {
    expect(loadConfig({ env: {}, cwd: dir })).toMatchObject({
      sendBufferLimit: 1024 * 1024,
      stalledClientTimeoutMs: 30_000,
    });
    const env = {
      THINKSCOPE_SEND_BUFFER_LIMIT: "262144",
      THINKSCOPE_STALLED_CLIENT_TIMEOUT_MS: "5000",
    };
    expect(loadConfig({ env, cwd: dir })).toMatchObject({
      sendBufferLimit: 262_144,
      stalledClientTimeoutMs: 5_000,
    });
    expect(() => loadConfig({ env: { THINKSCOPE_SEND_BUFFER_LIMIT: "10" }, cwd: dir })).toThrow(
      /THINKSCOPE_SEND_BUFFER_LIMIT must be a whole number from 16384/,
    );
  });
});

describe("backend lists", () => {
  it("split at commas that start a new backend only", () => {
    expect(splitBackendList("vllm:http://a:8000/v1, embedded")).toEqual([
      "vllm:http://a:8000/v1",
      "embedded",
    ]);
    expect(splitBackendList('scripted:{"replies":["a,b","c"]},ollama:http://o:11434')).toEqual([
      'scripted:{"replies":["a,b","c"]}',
      "ollama:http://o:11434",
    ]);
  });

  it("build the configured adapters, and refuse unknown kinds and the test backend unless enabled", async () => {
    const base = {
      model: undefined,
      apiKey: undefined,
      dataDir: dir,
      threads: undefined,
      enableTestBackends: false,
    };
    const built = await createBackends({
      ...base,
      backends: ["vllm:http://127.0.0.1:9/v1", "ollama:http://127.0.0.1:9"],
    });
    expect(built.map((b) => b.backend.kind)).toEqual(["vllm", "ollama"]);
    await Promise.all(built.map((b) => b.backend.close()));

    await expect(createBackends({ ...base, backends: ["tgi:http://x"] })).rejects.toThrow(
      /Unknown backend kind "tgi"/,
    );
    await expect(
      createBackends({ ...base, backends: ['scripted:{"replies":["a"]}'] }),
    ).rejects.toThrow(/test-only backend; set THINKSCOPE_ENABLE_TEST_BACKENDS=1/);
    const scripted = await createBackends({
      ...base,
      enableTestBackends: true,
      backends: ['scripted:{"replies":["a"],"id":"slow"}'],
    });
    expect(scripted[0]).toMatchObject({ id: "slow", backend: { kind: "scripted" } });
  });
});
