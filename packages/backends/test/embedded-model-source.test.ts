/**
 * Where the embedded model comes from: local files, downloads (against a
 * local HTTP server, since these machines are offline), and the messages a
 * user gets when neither works.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  chooseThreads,
  createEmbeddedBackend,
  DEFAULT_EMBEDDED_MODEL,
  gpuFromEnv,
  parseModelSource,
  resolveDefaultModel,
  threadsFromEnv,
  type EmbeddedBackend,
  type EmbeddedLoadProgress,
} from "../src/index.ts";
import { getTestModel } from "../src/testing/index.ts";

let dataDir: string;
let modelBytes: Buffer;
let server: Server;
let baseUrl: string;
// How the server answers each path; a stalled response sends part of the file and then nothing.
const routes = new Map<string, (res: ServerResponse) => void>();
const backends: EmbeddedBackend[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-source-"));
  modelBytes = await readFile((await getTestModel()).path);
  server = createServer((req, res) => {
    const route = routes.get(req.url ?? "");
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    if (req.method === "HEAD") {
      res.writeHead(200, { "content-length": modelBytes.length }).end();
      return;
    }
    route(res);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  vi.unstubAllEnvs();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await rm(dataDir, { recursive: true, force: true });
});

function backend(model: string, onProgress?: (p: EmbeddedLoadProgress) => void): EmbeddedBackend {
  const created = createEmbeddedBackend({ model, dataDir, onProgress });
  backends.push(created);
  return created;
}

describe("default model", () => {
  it("is the bundled tiny reasoner when built, else Qwen3-0.6B by download", () => {
    const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
    expect(DEFAULT_EMBEDDED_MODEL.bundledPath).toBe(join(repoRoot, "models", "tiny-reasoner.gguf"));
    expect(resolveDefaultModel(() => true)).toBe(DEFAULT_EMBEDDED_MODEL.bundledPath);
    expect(resolveDefaultModel(() => false)).toBe("hf:unsloth/Qwen3-0.6B-GGUF:Q8_0");
    expect(resolveDefaultModel()).toBe(
      existsSync(DEFAULT_EMBEDDED_MODEL.bundledPath)
        ? DEFAULT_EMBEDDED_MODEL.bundledPath
        : DEFAULT_EMBEDDED_MODEL.downloadUri,
    );
    expect(createEmbeddedBackend({ dataDir }).modelSpec).toBe(resolveDefaultModel());
  });
});

describe("model specs and settings", () => {
  it("tells files from download URIs", () => {
    expect(parseModelSource("hf:owner/repo:Q8_0")).toMatchObject({
      kind: "download",
      uri: "hf:owner/repo:Q8_0",
    });
    expect(parseModelSource("https://example.com/m.gguf")).toMatchObject({ kind: "download" });
    expect(parseModelSource("models/x.gguf")).toMatchObject({
      kind: "file",
      path: resolve("models/x.gguf"),
    });
    expect(parseModelSource("file:///tmp/x.gguf")).toMatchObject({
      kind: "file",
      path: "/tmp/x.gguf",
    });
    expect(() => parseModelSource("  ")).toThrow(/empty: set THINKSCOPE_MODEL/);
    expect(() => createEmbeddedBackend({ dataDir, model: "m.gguf", contextSize: 0 })).toThrow(
      /contextSize must be a positive integer/,
    );
  });

  it("reads THINKSCOPE_THREADS and THINKSCOPE_EMBEDDED_GPU strictly", () => {
    expect(threadsFromEnv(undefined)).toBeUndefined();
    expect(threadsFromEnv("3")).toBe(3);
    expect(() => threadsFromEnv("two")).toThrow(
      /THINKSCOPE_THREADS=two must be a positive integer/,
    );
    expect(gpuFromEnv(undefined)).toBe(false);
    expect(gpuFromEnv("CUDA")).toBe("cuda");
    expect(gpuFromEnv("cpu")).toBe(false);
    expect(() => gpuFromEnv("tpu")).toThrow(/not one of auto, cuda, vulkan, metal, cpu/);
  });

  it("uses one thread for small models and leaves a core free for larger ones", () => {
    expect(chooseThreads({ modelBytes: 2e6, cpuMathCores: 8, availableCores: 8 })).toBe(1);
    expect(chooseThreads({ modelBytes: 6e8, cpuMathCores: 2, availableCores: 2 })).toBe(1);
    expect(chooseThreads({ modelBytes: 6e8, cpuMathCores: 4, availableCores: 8 })).toBe(4);
    expect(
      chooseThreads({ override: 3, modelBytes: 2e6, cpuMathCores: 2, availableCores: 2 }),
    ).toBe(3);
  });
});

describe("unavailable models", () => {
  it("says what to do when the file is missing", async () => {
    const missing = join(dataDir, "nope.gguf");
    const b = backend(missing);
    const expected = { code: "model_unavailable", status: 503 };
    await expect(b.openSession({})).rejects.toMatchObject(expected);
    const readiness = await b.readiness();
    expect(readiness).toEqual({
      state: "unavailable",
      message: expect.stringContaining(`model file not found: ${missing}; set THINKSCOPE_MODEL`),
    });
  });

  it("says what to do when the file is not a GGUF", async () => {
    const broken = join(dataDir, "broken.gguf");
    await writeFile(broken, "not a model");
    await expect(backend(broken).prepare()).rejects.toMatchObject({
      code: "model_unavailable",
      message: expect.stringMatching(/could not load .*broken\.gguf.*set THINKSCOPE_MODEL/),
    });
  });

  it("fails fast with the offline message when the download server is unreachable", async () => {
    // Hugging Face URIs resolve through HF_ENDPOINT; point it at a closed port.
    vi.stubEnv("HF_ENDPOINT", "http://127.0.0.1:9/");
    const started = Date.now();
    await expect(backend("hf:unsloth/Qwen3-0.6B-GGUF:Q8_0").prepare()).rejects.toMatchObject({
      code: "model_unavailable",
      retryable: true,
      message: expect.stringMatching(
        /^could not download hf:unsloth\/Qwen3-0\.6B-GGUF:Q8_0 \(offline\?\): .*Put the GGUF file in .*models and set THINKSCOPE_MODEL/,
      ),
    });
    await expect(backend("http://127.0.0.1:9/m.gguf").prepare()).rejects.toMatchObject({
      code: "model_unavailable",
      message: expect.stringContaining("could not download http://127.0.0.1:9/m.gguf (offline?)"),
    });
    await expect(backend(`${baseUrl}/missing.gguf`).prepare()).rejects.toMatchObject({
      message: expect.stringContaining("the server answered HTTP 404"),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("downloads", () => {
  it("downloads a URL into <dataDir>/models with progress, then works offline from there", async () => {
    routes.set("/models/counting.gguf", (res) => {
      res.writeHead(200, { "content-length": modelBytes.length }).end(modelBytes);
    });
    const progress: EmbeddedLoadProgress[] = [];
    const url = `${baseUrl}/models/counting.gguf`;
    const b = backend(url, (p) => progress.push(p));
    expect(b.modelId).toBe(url);
    expect(await b.readiness()).toMatchObject({ state: "loading" });
    await b.prepare();
    expect(await b.readiness()).toEqual({ state: "ready" });

    const downloaded = join(dataDir, "models", "counting.gguf");
    expect(b.info?.path).toBe(downloaded);
    // Buffer.equals: a deep toEqual over a megabyte takes seconds.
    expect((await readFile(downloaded)).equals(modelBytes)).toBe(true);
    const download = progress.filter((p) => p.phase === "download");
    expect(download.at(-1)).toMatchObject({ progress: 1, totalBytes: modelBytes.length });
    expect(download.at(-1)?.message).toMatch(/^downloading .*counting\.gguf: 100% of 1\.\d MB$/);
    expect(progress.at(-1)).toMatchObject({ phase: "ready", progress: 1 });

    const session = await b.openSession({});
    const ids = await session.tokenize("<think>\n", { special: true });
    let text = "";
    for await (const event of session.generate({
      prompt: { tokens: ids },
      maxTokens: 3,
      stopTokenIds: [],
      stopStrings: [],
      sampling: { temperature: 0 },
      signal: new AbortController().signal,
    })) {
      if (event.type === "tokens") text += event.text;
    }
    expect(text).toBe("abc");
    await session.close();

    // The server is gone: the downloaded file is found without asking it.
    routes.delete("/models/counting.gguf");
    await expect(backend(url).prepare()).resolves.toBeUndefined();
  });

  it("gives up on a download that stops sending, with the offline message", async () => {
    const { resolveModelPath } = await import("../src/embedded/model-source.ts");
    routes.set("/models/stalls.gguf", (res) => {
      res.writeHead(200, { "content-length": modelBytes.length });
      res.write(modelBytes.subarray(0, 100_000));
    });
    const started = Date.now();
    await expect(
      resolveModelPath(parseModelSource(`${baseUrl}/models/stalls.gguf`), {
        modelsDir: join(dataDir, "models"),
        stallTimeoutMs: 300,
      }),
    ).rejects.toMatchObject({
      code: "model_unavailable",
      message: expect.stringContaining("(offline?): the download stalled (no data for 0.3 s)"),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // No half file is left where a later start would take it for the model.
    expect(existsSync(join(dataDir, "models", "stalls.gguf"))).toBe(false);
  });
});
