/**
 * The server's configuration (ARCHITECTURE.md, "Configuration", contract):
 * environment variables, also settable in a `thinkscope.config.json` whose
 * keys are the same variable names. The environment wins over the file.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface ServerConfig {
  host: string;
  port: number;
  /** Backend specs in order; the first is the default (`THINKSCOPE_BACKEND`, comma-separated). */
  backends: string[];
  /** Model for the default backend (`THINKSCOPE_MODEL`). */
  model: string | undefined;
  /** Key for the upstream; never sent to the browser, never logged. */
  apiKey: string | undefined;
  /** Absolute path of the data directory (database, downloaded models). */
  dataDir: string;
  /** Origins (`scheme://host:port`) allowed to open a WebSocket besides the server's own; `*` allows any. */
  allowedOrigins: string[];
  /** Largest request body in bytes (`THINKSCOPE_BODY_LIMIT`). */
  bodyLimit: number;
  /** Largest JSONL import body in bytes (`THINKSCOPE_IMPORT_LIMIT`). */
  importBodyLimit: number;
  /** Threads for the embedded backend (`THINKSCOPE_THREADS`); chosen from the model and machine when absent. */
  threads: number | undefined;
  /** Built page to serve (`THINKSCOPE_WEB_DIST`, default apps/web/dist). */
  webDist: string;
  logLevel: string;
  /**
   * Allows the hidden `scripted:` backend kind (`THINKSCOPE_ENABLE_TEST_BACKENDS=1`),
   * used by the crash test; never enable it in a deployment.
   */
  enableTestBackends: boolean;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const CONFIG_FILE_NAME = "thinkscope.config.json";
const DEFAULT_WEB_DIST = fileURLToPath(new URL("../../../web/dist", import.meta.url));

/** Every key the file and the environment accept. */
const KEYS = [
  "HOST",
  "PORT",
  "THINKSCOPE_BACKEND",
  "THINKSCOPE_MODEL",
  "THINKSCOPE_API_KEY",
  "THINKSCOPE_DATA_DIR",
  "THINKSCOPE_ALLOWED_ORIGINS",
  "THINKSCOPE_BODY_LIMIT",
  "THINKSCOPE_IMPORT_LIMIT",
  "THINKSCOPE_THREADS",
  "THINKSCOPE_WEB_DIST",
  "THINKSCOPE_LOG_LEVEL",
  "THINKSCOPE_ENABLE_TEST_BACKENDS",
] as const;
type Key = (typeof KEYS)[number];

/** Backend kinds a list entry may start with; used to split `THINKSCOPE_BACKEND` safely. */
const BACKEND_KINDS = ["embedded", "vllm", "llamacpp", "openai", "ollama", "scripted"];

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Values that win over both the file and the environment (tests, the CLI). */
  overrides?: Partial<ServerConfig>;
}

export function loadConfig(options: LoadConfigOptions = {}): ServerConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = readConfigFile(env.THINKSCOPE_CONFIG, cwd);
  // Relative paths in the file are relative to the file, in the environment to the working directory.
  const value = (key: Key): { raw: string; base: string } | undefined => {
    const fromEnv = env[key];
    if (fromEnv !== undefined && fromEnv !== "") return { raw: fromEnv, base: cwd };
    const fromFile = file?.values[key];
    if (fromFile !== undefined) return { raw: fromFile, base: file!.dir };
    return undefined;
  };
  const text = (key: Key) => value(key)?.raw;
  const path = (key: Key, fallback: string) => {
    const entry = value(key);
    if (!entry) return fallback;
    return isAbsolute(entry.raw) ? entry.raw : resolve(entry.base, entry.raw);
  };

  const config: ServerConfig = {
    host: text("HOST") ?? "127.0.0.1",
    port: integer("PORT", text("PORT"), 8787, { min: 0, max: 65535 }),
    backends: splitBackendList(text("THINKSCOPE_BACKEND") ?? "embedded"),
    model: text("THINKSCOPE_MODEL"),
    apiKey: text("THINKSCOPE_API_KEY"),
    dataDir: path("THINKSCOPE_DATA_DIR", resolve(cwd, "data")),
    allowedOrigins: list(text("THINKSCOPE_ALLOWED_ORIGINS")).map(normalizeOrigin),
    bodyLimit: integer("THINKSCOPE_BODY_LIMIT", text("THINKSCOPE_BODY_LIMIT"), 1024 * 1024, {
      min: 1024,
    }),
    importBodyLimit: integer(
      "THINKSCOPE_IMPORT_LIMIT",
      text("THINKSCOPE_IMPORT_LIMIT"),
      256 * 1024 * 1024,
      {
        min: 1024,
      },
    ),
    threads: optionalInteger("THINKSCOPE_THREADS", text("THINKSCOPE_THREADS"), {
      min: 1,
      max: 1024,
    }),
    webDist: path("THINKSCOPE_WEB_DIST", DEFAULT_WEB_DIST),
    logLevel: text("THINKSCOPE_LOG_LEVEL") ?? "info",
    enableTestBackends: flag(text("THINKSCOPE_ENABLE_TEST_BACKENDS")),
    configFile: file?.path,
    ...options.overrides,
  };
  if (config.backends.length === 0) {
    throw new ConfigError("THINKSCOPE_BACKEND lists no backend.");
  }
  return config;
}

/**
 * Splits `vllm:http://a/v1,embedded` at the commas that start a new backend,
 * so a comma inside one entry (a `scripted:` JSON spec, a URL query) stays in it.
 */
export function splitBackendList(value: string): string[] {
  const entries: string[] = [];
  for (const piece of value.split(",")) {
    const trimmed = piece.trim();
    const kind = trimmed.split(":", 1)[0]!.toLowerCase();
    if (entries.length === 0 || BACKEND_KINDS.includes(kind)) entries.push(trimmed);
    else entries[entries.length - 1] += "," + piece;
  }
  return entries.filter((entry) => entry !== "");
}

function readConfigFile(
  explicit: string | undefined,
  cwd: string,
): { path: string; dir: string; values: Partial<Record<Key, string>> } | undefined {
  const path = explicit ? resolve(cwd, explicit) : resolve(cwd, CONFIG_FILE_NAME);
  if (!existsSync(path)) {
    if (explicit)
      throw new ConfigError(`THINKSCOPE_CONFIG points to ${path}, which does not exist.`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${path} must hold a JSON object such as { "PORT": 8787 }.`);
  }
  const values: Partial<Record<Key, string>> = {};
  for (const [key, raw] of Object.entries(parsed)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(
        `${path}: unknown setting "${key}". Known settings: ${KEYS.join(", ")}.`,
      );
    }
    if (Array.isArray(raw) && raw.every((item) => typeof item === "string")) {
      values[key as Key] = raw.join(",");
    } else if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") {
      values[key as Key] = String(raw);
    } else {
      throw new ConfigError(
        `${path}: "${key}" must be a string, a number, a boolean or a list of strings.`,
      );
    }
  }
  return { path, dir: dirname(path), values };
}

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { min?: number; max?: number },
): number {
  return optionalInteger(name, raw, range) ?? fallback;
}

function optionalInteger(
  name: string,
  raw: string | undefined,
  { min = -Infinity, max = Infinity }: { min?: number; max?: number },
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}").`);
  }
  return value;
}

function flag(raw: string | undefined): boolean {
  return raw !== undefined && ["1", "true", "yes", "on"].includes(raw.toLowerCase());
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function normalizeOrigin(origin: string): string {
  if (origin === "*") return origin;
  try {
    return new URL(origin).origin;
  } catch {
    throw new ConfigError(
      `THINKSCOPE_ALLOWED_ORIGINS: "${origin}" is not an origin such as http://localhost:5173.`,
    );
  }
}
