import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type {
  Backend,
  ChatMessage,
  GenerationSession,
  ModelInfo,
  PassthroughRequest,
} from "@thinkscope/core";
import type { BackendCapabilities } from "@thinkscope/protocol";
import { DEFAULT_EMBEDDED_MODEL, createEmbeddedBackend } from "@thinkscope/backends";
import { ScriptedBackend, type ScriptedBackendOptions } from "@thinkscope/core/testing";
import type { EngineEvent } from "@thinkscope/protocol";
import type { ServerMessage } from "@thinkscope/protocol";
import { WebSocket } from "ws";
import { buildApp, type App } from "../src/app.ts";
import type { RegisteredBackend } from "../src/backends/registry.ts";
import { loadConfig, type ServerConfig } from "../src/config/config.ts";
import type { LogDestination } from "../src/lib/logger.ts";
import type { RunStoreOptions } from "../src/store/run-store.ts";

export const THINK_PROMPT = "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n";

/**
 * A scripted backend whose script restarts for every session, so each run
 * of a shared app sees the same replies. It also counts, over all sessions,
 * the requests sent and the streams cancelled before they finished.
 */
export class ScriptPerRun implements Backend {
  readonly kind = "scripted" as const;
  readonly capabilities: BackendCapabilities;
  readonly sessions: ScriptedBackend[] = [];
  passthrough?: (request: PassthroughRequest) => Promise<Response>;
  applyChatTemplate?: (messages: ChatMessage[], options: { model?: string }) => Promise<string>;

  constructor(
    readonly id: string,
    private readonly options: ScriptedBackendOptions,
  ) {
    this.capabilities = new ScriptedBackend(options).capabilities;
  }

  get cancelled(): number {
    return this.sessions.reduce((n, s) => n + s.cancelled, 0);
  }

  get requests(): ScriptedBackend["requests"] {
    return this.sessions.flatMap((s) => s.requests);
  }

  async listModels(): Promise<ModelInfo[]> {
    return [{ id: `${this.id}-model`, contextLength: this.options.contextLength }];
  }

  async readiness() {
    return { state: "ready" as const };
  }

  tokenize(text: string, options: { special: boolean }): Promise<number[]> {
    return new ScriptedBackend(this.options).tokenize(text, options);
  }

  async openSession(): Promise<GenerationSession> {
    const backend = new ScriptedBackend(this.options);
    this.sessions.push(backend);
    return backend.openSession();
  }

  async close(): Promise<void> {}
}

export interface TestApp {
  app: App;
  config: ServerConfig;
  dataDir: string;
  /** Closes the app and deletes its data directory. */
  close(): Promise<void>;
}

export async function buildTestApp(
  options: {
    backends: Backend[] | RegisteredBackend[];
    config?: Partial<ServerConfig>;
    log?: LogDestination | false;
    storeOptions?: RunStoreOptions;
  } = { backends: [] },
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "thinkscope-server-test-"));
  const config = loadConfig({
    env: { THINKSCOPE_DATA_DIR: dataDir, THINKSCOPE_WEB_DIST: join(dataDir, "no-web-build") },
    cwd: dataDir,
    overrides: options.config,
  });
  const backends = options.backends.map((b) => ("backend" in b ? b : { backend: b }));
  const app = await buildApp({
    config,
    backends,
    log: options.log ?? false,
    storeOptions: options.storeOptions,
  });
  return {
    app,
    config,
    dataDir,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A server on the bundled tiny reasoner (real llama.cpp inference, one
 * thread), listening; `base` is its URL. The model file is local: nothing is
 * downloaded.
 */
export async function bundledModelApp(
  config?: Partial<ServerConfig>,
): Promise<{ server: TestApp; base: string }> {
  const backend = createEmbeddedBackend({
    model: DEFAULT_EMBEDDED_MODEL.bundledPath,
    dataDir: tmpdir(),
    threads: 1,
  });
  const server = await buildTestApp({ backends: [backend], ...(config ? { config } : {}) });
  return { server, base: await listen(server.app) };
}

/** Listens on a free port of 127.0.0.1; returns the base URL. */
export async function listen(app: App): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** The `data:` payloads of an SSE body, parsed (`[DONE]` kept as the string). */
export function parseSse(body: string): unknown[] {
  return body
    .split("\n\n")
    .map((block) => block.trim())
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length))
    .map((data) => (data === "[DONE]" ? data : JSON.parse(data)));
}

/** Polls `check` until it returns something truthy, and returns that. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5_000, intervalMs = 10 } = {},
): Promise<NonNullable<Exclude<T, false | "" | 0>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<Exclude<T, false | "" | 0>>;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A WebSocket client that keeps every message it receives, for assertions. */
export class WsClient {
  readonly messages: ServerMessage[] = [];
  /** When each message arrived (ms, same index as `messages`). */
  readonly arrivals: number[] = [];
  closed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      this.arrivals.push(performance.now());
    });
    socket.on("close", () => (this.closed = true));
  }

  static async connect(baseUrl: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const socket = new WebSocket(baseUrl.replace(/^http/, "ws") + "/ws", { headers });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
    });
    return new WsClient(socket);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Every event of the run with this key, in order of arrival. */
  events(key: string): EngineEvent[] {
    return this.messages.flatMap((m) =>
      m.type === "events" ? m.items.filter((i) => i.key === key).map((i) => i.event) : [],
    );
  }

  /** Waits until the run with this key has finished; returns its events. Throws on an error message for it. */
  async finished(key: string, timeoutMs = 5_000): Promise<EngineEvent[]> {
    await waitFor(
      () => {
        const refused = this.messages.find((m) => m.type === "error" && m.key === key);
        if (refused) throw new Error(`run ${key} refused: ${JSON.stringify(refused)}`);
        return this.events(key).some((e) => e.type === "run.finished");
      },
      { timeoutMs },
    );
    return this.events(key);
  }

  async next<T extends ServerMessage["type"]>(
    type: T,
    match: (message: Extract<ServerMessage, { type: T }>) => boolean = () => true,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    return waitFor(() =>
      this.messages.find(
        (m): m is Extract<ServerMessage, { type: T }> =>
          m.type === type && match(m as Extract<ServerMessage, { type: T }>),
      ),
    );
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * An `openai` client request with this server's extra body field. The client
 * sends fields it does not know as they are; only its types lack this one.
 */
export function withBudgetForcing<T extends object>(params: T, budgetForcing: object): T {
  return { ...params, budget_forcing: budgetForcing };
}

/** `node --import tsx src/main.ts`: the server as `npm start` runs it. */
export const MAIN_COMMAND = [
  process.execPath,
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
  fileURLToPath(new URL("../src/main.ts", import.meta.url)),
];

/**
 * The environment for `MAIN_COMMAND` on a scripted test backend: a free
 * port on the loopback, its own data directory, no page build.
 */
export function mainProcessEnv(dataDir: string, backend: object): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOST: "127.0.0.1",
    PORT: "0",
    THINKSCOPE_DATA_DIR: dataDir,
    THINKSCOPE_WEB_DIST: join(dataDir, "no-web-build"),
    THINKSCOPE_ENABLE_TEST_BACKENDS: "1",
    THINKSCOPE_BACKEND: `scripted:${JSON.stringify(backend)}`,
  };
}
