import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS_DIR, REPO_ROOT } from "./paths.ts";

export interface ServerProcessOptions {
  /** `THINKSCOPE_BACKEND` entries, the first the default; none: the shipped default (the bundled model). */
  backends: string[];
  /** Names the log file `artifacts/e2e/server-<name>.log`. */
  name: string;
  /** How long the server and every backend may take to become ready. */
  readyTimeoutMs?: number;
  /** More environment for the server (`THINKSCOPE_ENABLE_TEST_BACKENDS` for a `scripted:` backend). */
  env?: Record<string, string>;
}

export interface ServerProcess {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  logPath: string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; removes the data directory. */
  stop(): Promise<void>;
}

interface Health {
  backends: { id: string; readiness: { state: string; message?: string } }[];
}

/** A port the OS says is free right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** The server's environment: ours only, so a developer's THINKSCOPE_* or config file cannot leak in. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("THINKSCOPE_") || key === "HOST" || key === "PORT") continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts the real server (`node --import tsx apps/server/src/main.ts`) on a
 * free port with a fresh data directory, and resolves once /api/health says
 * every backend is ready (the embedded backend loads its model on first ask).
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "thinkscope-e2e-"));
  // An explicit empty config file, so a thinkscope.config.json in the checkout is not read.
  const configFile = join(dataDir, "thinkscope.config.json");
  writeFileSync(configFile, "{}\n");
  const port = await freePort();
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const logPath = join(ARTIFACTS_DIR, `server-${options.name}.log`);
  const log = createWriteStream(logPath);

  const child = spawn(process.execPath, ["--import", "tsx", "apps/server/src/main.ts"], {
    cwd: REPO_ROOT,
    env: serverEnv({
      HOST: "127.0.0.1",
      PORT: String(port),
      ...(options.backends.length > 0 ? { THINKSCOPE_BACKEND: options.backends.join(",") } : {}),
      THINKSCOPE_DATA_DIR: dataDir,
      THINKSCOPE_CONFIG: configFile,
      THINKSCOPE_LOG_LEVEL: "warn",
      ...options.env,
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  // A test run that dies without afterAll must not leave the server behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited(child);
      clearTimeout(timer);
    }
    log.end();
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, child, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    const tail = readFileSync(logPath, "utf8").slice(-3000);
    throw new Error(`${(error as Error).message}\nServer log (${logPath}):\n${tail}`, {
      cause: error,
    });
  }
  return { url, logPath, stop };
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `The server exited before it was ready (code ${child.exitCode ?? child.signalCode}).`,
      );
    }
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      const health = (await response.json()) as Health;
      const broken = health.backends.find((b) => b.readiness.state === "unavailable");
      if (broken) {
        throw new Error(`Backend ${broken.id} is unavailable: ${broken.readiness.message ?? ""}`);
      }
      if (response.ok && health.backends.every((b) => b.readiness.state === "ready")) return;
      last = JSON.stringify(health.backends.map((b) => [b.id, b.readiness.state]));
    } catch (error) {
      if ((error as Error).message.startsWith("Backend ")) throw error;
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`The server at ${url} was not ready within ${timeoutMs} ms (last: ${last}).`);
}
