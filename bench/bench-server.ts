/**
 * Starts the Thinkscope server in a child process for a benchmark (see
 * bench-server-child.ts) and stops it; its data directory is temporary.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchServer {
  url: string;
  pid: number;
  /** Its data directory (the database lives here). */
  dataDir: string;
  /** The server's memory, after a full garbage collection when `gc` is true. */
  memory(gc?: boolean): Promise<NodeJS.MemoryUsage>;
  /** CPU time the server process has used so far (microseconds, user + system). */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Time a process's main thread has run on a CPU and has waited for one
 * (ms, Linux's /proc/PID/schedstat); undefined elsewhere. On a shared
 * machine the wait says how much of a slow figure is other processes' doing.
 */
export function schedStat(
  pid: number | "self",
): { onCpuMs: number; waitingMs: number } | undefined {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ").map(Number);
    return { onCpuMs: onCpu! / 1e6, waitingMs: waiting! / 1e6 };
  } catch {
    return undefined;
  }
}

/** How much of a stretch of time a process spent waiting for a CPU, as text for a report. */
export function cpuWaitNote(
  label: string,
  before: ReturnType<typeof schedStat>,
  after: ReturnType<typeof schedStat>,
  wallMs: number,
): string {
  if (!before || !after) return "";
  const waiting = after.waitingMs - before.waitingMs;
  return `${label} waited for a CPU ${((waiting / wallMs) * 100).toFixed(0)}% of the time`;
}

interface ProcessReport {
  usage: NodeJS.MemoryUsage;
  cpu: NodeJS.CpuUsage;
}

const CHILD = fileURLToPath(new URL("./bench-server-child.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** `env`: THINKSCOPE_* settings on top of a quiet log and a fresh data directory. */
export async function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "thinkscope-bench-"));
  const child: ChildProcess = fork(CHILD, [], {
    cwd: ROOT,
    // BENCH_SERVER_NODE_ARGS: extra flags for the server process, e.g. `--cpu-prof` to profile it.
    execArgv: [
      "--expose-gc",
      "--import",
      "tsx",
      ...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean),
    ],
    env: {
      ...process.env,
      THINKSCOPE_DATA_DIR: dataDir,
      THINKSCOPE_WEB_DIST: join(dataDir, "no-page"),
      THINKSCOPE_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening`)));
    child.on("message", (message: { type: string; url?: string }) => {
      if (message.type === "ready") resolve(message.url!);
    });
  });
  const ask = (gc: boolean) =>
    new Promise<ProcessReport>((resolve) => {
      const listener = (message: { type: string } & ProcessReport) => {
        if (message.type !== "memory") return;
        child.off("message", listener);
        resolve(message);
      };
      child.on("message", listener);
      child.send({ type: "memory", gc });
    });
  return {
    url,
    pid: child.pid!,
    dataDir,
    memory: async (gc = true) => (await ask(gc)).usage,
    cpuMicros: async () => {
      const { cpu } = await ask(false);
      return cpu.user + cpu.system;
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
