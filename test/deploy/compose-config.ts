/**
 * Runs Debian's `docker-compose config` (the classic 1.29; no Docker engine
 * needed) on a compose file and returns the resolved file: variables filled
 * in from a given env file, anchors merged, paths made absolute.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export const hasDockerCompose = spawnSync("docker-compose", ["version"]).error === undefined;

export interface ComposeService {
  image?: string;
  build?: { context: string } | string;
  command?: string | string[];
  environment?: Record<string, string | null>;
  ports?: (string | { target: number; published?: number | string; host_ip?: string })[];
  volumes?: (string | { source?: string; target: string; read_only?: boolean })[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; start_period?: string };
  profiles?: string[];
  ipc?: string;
  shm_size?: string;
  deploy?: {
    resources?: {
      reservations?: {
        devices?: {
          driver?: string;
          count?: string | number;
          device_ids?: string[];
          capabilities?: string[];
        }[];
      };
    };
  };
}

export interface ResolvedCompose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  /** What docker-compose printed on stderr (warnings such as unset variables). */
  warnings: string;
}

/**
 * `docker-compose --env-file ENV -f FILE config`, run with an environment
 * holding only PATH, so nothing from the caller's shell (a PORT, a
 * THINKSCOPE_MODEL) leaks into the interpolation. Rejects with
 * docker-compose's own message when the file is invalid.
 */
export async function resolveCompose(file: string, envText = ""): Promise<ResolvedCompose> {
  const dir = await mkdtemp(join(tmpdir(), "thinkscope-compose-"));
  try {
    const envFile = join(dir, "env");
    await writeFile(envFile, envText);
    const { stdout, stderr } = await run(
      "docker-compose",
      ["--env-file", envFile, "-f", join(REPO_ROOT, file), "config"],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }, cwd: REPO_ROOT },
    );
    const parsed = parse(stdout) as Omit<ResolvedCompose, "warnings">;
    return { ...parsed, warnings: stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function service(compose: ResolvedCompose, name: string): ComposeService {
  const found = compose.services[name];
  if (!found)
    throw new Error(`no service "${name}"; have ${Object.keys(compose.services).join(", ")}`);
  return found;
}

/**
 * A command as its argument list. The compose files write commands as one
 * string without quoted arguments, which Compose splits at whitespace.
 */
export function commandArgs(svc: ComposeService): string[] {
  const { command } = svc;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

/** The value after `--flag` (or in `--flag=value`), or undefined. */
export function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

export interface PublishedPort {
  hostIp: string | undefined;
  published: number | undefined;
  target: number;
}

/** Ports in either form: 1.29 prints `IP:HOST:CONTAINER/tcp`, Compose v2 objects. */
export function publishedPorts(svc: ComposeService): PublishedPort[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port !== "string") {
      return {
        hostIp: port.host_ip,
        published: port.published === undefined ? undefined : Number(port.published),
        target: port.target,
      };
    }
    const parts = port.replace(/\/(tcp|udp)$/, "").split(":");
    const target = Number(parts.pop());
    const published = parts.length > 0 ? Number(parts.pop()) : undefined;
    return { hostIp: parts[0], published, target };
  });
}

export interface Mount {
  source: string | undefined;
  target: string;
  readOnly: boolean;
}

export function mounts(svc: ComposeService): Mount[] {
  return (svc.volumes ?? []).map((volume) => {
    if (typeof volume !== "string") {
      return { source: volume.source, target: volume.target, readOnly: volume.read_only === true };
    }
    const [source, target, mode] = volume.split(":");
    return { source, target: target!, readOnly: (mode ?? "").split(",").includes("ro") };
  });
}

export function dependsOn(svc: ComposeService): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, "service_started"]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

export function healthcheckText(svc: ComposeService): string {
  const test = svc.healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(" ") : test;
}

/** `http://vllm:8000/v1` from `vllm:http://vllm:8000/v1` (ARCHITECTURE.md, THINKSCOPE_BACKEND). */
export function backendUrl(spec: string | null | undefined): { kind: string; url: URL } {
  if (!spec) throw new Error("THINKSCOPE_BACKEND is not set");
  const colon = spec.indexOf(":");
  return { kind: spec.slice(0, colon), url: new URL(spec.slice(colon + 1)) };
}
