/**
 * The server's configuration (listed in README.md and docs/deploy.md):
 * environment variables, also settable in a `thinkscope.config.json` whose
 * keys are the same variable names. The environment wins over the file.
 */
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
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
  /**
   * Origins (`scheme://host:port`) besides the server's own whose pages may
   * open a WebSocket or send state-changing requests; `*` allows any.
   */
  allowedOrigins: string[];
  /**
   * `Host` names the server answers to besides loopback ones when bound to a
   * loopback address (`THINKSCOPE_ALLOWED_HOSTS`): a defence against DNS
   * rebinding. `*` allows any; a leading dot allows a domain and its subdomains.
   * When bound to another address, any host unless this lists some.
   */
  allowedHosts: string[];
  /** Folders besides `<dataDir>/datasets` that experiments may read datasets from (`THINKSCOPE_DATASET_DIRS`). */
  datasetDirs: string[];
  /** Largest request body in bytes (`THINKSCOPE_BODY_LIMIT`). */
  bodyLimit: number;
  /** Largest JSONL import body in bytes (`THINKSCOPE_IMPORT_LIMIT`). */
  importBodyLimit: number;
  /**
   * Bytes that may wait to be sent to one WebSocket client (`THINKSCOPE_SEND_BUFFER_LIMIT`);
   * past it, that client's runs are not pulled (their upstream pauses) until it reads.
   */
  sendBufferLimit: number;
  /**
   * How long a client may leave its runs blocked by not reading (the WebSocket over
   * `sendBufferLimit`, a streamed response that cannot take more) before they are
   * stopped as `interrupted` and its connection closed (`THINKSCOPE_STALLED_CLIENT_TIMEOUT_MS`).
   */
  stalledClientTimeoutMs: number;
  /**
   * WebSocket connections one client address may hold open at once
   * (`THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS`): each can hold its send
   * buffer in memory, so their number is bounded even on an open laptop server.
   */
  maxConnectionsPerAddress: number;
  /** Threads for the embedded backend (`THINKSCOPE_THREADS`); chosen from the model and machine when absent. */
  threads: number | undefined;
  /** Built page to serve (`THINKSCOPE_WEB_DIST`, default apps/web/dist). */
  webDist: string;
  /** `THINKSCOPE_LOG_LEVEL`; unset, each entry point picks its own (the server `info`, the CLI `warn`). */
  logLevel: string | undefined;
  /**
   * Access token for the page, the API and the WebSocket (`THINKSCOPE_AUTH_TOKEN`);
   * open access when absent. Never logged (scrubbed like the API key).
   */
  authToken: string | undefined;
  /**
   * Which reverse proxies' `X-Forwarded-For` / `X-Forwarded-Proto` to believe
   * (`THINKSCOPE_TRUST_PROXY`), as Fastify's `trustProxy`: `false` (default),
   * the proxies' addresses or CIDR ranges, or `true` (believe any sender,
   * spoofable unless the proxy overwrites the header).
   */
  trustProxy: boolean | string[];
  /** Runs one client may have starting or streaming at once (`THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT`); no limit when absent. */
  maxConcurrentRunsPerClient: number | undefined;
  /**
   * Runs one client address may have going at once, over all its sessions
   * (`THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS`); the per-client limit when absent.
   */
  maxConcurrentRunsPerAddress: number | undefined;
  /** Metered requests per minute per client (`THINKSCOPE_RATE_LIMIT_PER_MINUTE`); no limit when absent. */
  rateLimitPerMinute: number | undefined;
  /**
   * Metered requests per minute per client address, over all its sessions
   * (`THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE`); the per-client limit when absent.
   */
  rateLimitPerAddressPerMinute: number | undefined;
  /** Largest `max_thinking_tokens` a request may ask for (`THINKSCOPE_MAX_THINKING_TOKENS_CAP`). */
  maxThinkingTokensCap: number | undefined;
  /** Largest `max_answer_tokens` a request may ask for (`THINKSCOPE_MAX_ANSWER_TOKENS_CAP`). */
  maxAnswerTokensCap: number | undefined;
  /** Most waits one run may inject: `num_waits` and `max_extensions` (`THINKSCOPE_MAX_WAITS_CAP`). */
  maxWaitsCap: number | undefined;
  /**
   * Allows the hidden `scripted:` backend kind (`THINKSCOPE_ENABLE_TEST_BACKENDS=1`),
   * used by the crash test; never enable it in a deployment.
   */
  enableTestBackends: boolean;
  /**
   * Whether requests to the OpenAI-compatible API are kept as runs, as page
   * runs are (`THINKSCOPE_STORE_API_RUNS`, default on); off, they stream and
   * are not written anywhere.
   */
  storeApiRuns: boolean;
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
  "THINKSCOPE_ALLOWED_HOSTS",
  "THINKSCOPE_DATASET_DIRS",
  "THINKSCOPE_BODY_LIMIT",
  "THINKSCOPE_IMPORT_LIMIT",
  "THINKSCOPE_SEND_BUFFER_LIMIT",
  "THINKSCOPE_STALLED_CLIENT_TIMEOUT_MS",
  "THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS",
  "THINKSCOPE_THREADS",
  "THINKSCOPE_WEB_DIST",
  "THINKSCOPE_LOG_LEVEL",
  "THINKSCOPE_ENABLE_TEST_BACKENDS",
  "THINKSCOPE_STORE_API_RUNS",
  "THINKSCOPE_AUTH_TOKEN",
  "THINKSCOPE_TRUST_PROXY",
  "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT",
  "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS",
  "THINKSCOPE_RATE_LIMIT_PER_MINUTE",
  "THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE",
  "THINKSCOPE_MAX_THINKING_TOKENS_CAP",
  "THINKSCOPE_MAX_ANSWER_TOKENS_CAP",
  "THINKSCOPE_MAX_WAITS_CAP",
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
  const paths = (key: Key) => {
    const entry = value(key);
    return list(entry?.raw).map((raw) => (isAbsolute(raw) ? raw : resolve(entry!.base, raw)));
  };

  const config: ServerConfig = {
    host: text("HOST") ?? "127.0.0.1",
    port: integer("PORT", text("PORT"), 8787, { min: 0, max: 65535 }),
    backends: splitBackendList(text("THINKSCOPE_BACKEND") ?? "embedded"),
    model: text("THINKSCOPE_MODEL"),
    apiKey: text("THINKSCOPE_API_KEY"),
    dataDir: path("THINKSCOPE_DATA_DIR", resolve(cwd, "data")),
    allowedOrigins: list(text("THINKSCOPE_ALLOWED_ORIGINS")).map(normalizeOrigin),
    allowedHosts: list(text("THINKSCOPE_ALLOWED_HOSTS")).map(normalizeHostPattern),
    datasetDirs: paths("THINKSCOPE_DATASET_DIRS"),
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
    sendBufferLimit: integer(
      "THINKSCOPE_SEND_BUFFER_LIMIT",
      text("THINKSCOPE_SEND_BUFFER_LIMIT"),
      1024 * 1024,
      { min: 16 * 1024 },
    ),
    stalledClientTimeoutMs: integer(
      "THINKSCOPE_STALLED_CLIENT_TIMEOUT_MS",
      text("THINKSCOPE_STALLED_CLIENT_TIMEOUT_MS"),
      30_000,
      { min: 100 },
    ),
    maxConnectionsPerAddress: integer(
      "THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS",
      text("THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS"),
      256,
      { min: 1, max: 1_000_000 },
    ),
    threads: optionalInteger("THINKSCOPE_THREADS", text("THINKSCOPE_THREADS"), {
      min: 1,
      max: 1024,
    }),
    webDist: path("THINKSCOPE_WEB_DIST", DEFAULT_WEB_DIST),
    logLevel: text("THINKSCOPE_LOG_LEVEL"),
    enableTestBackends: flag(text("THINKSCOPE_ENABLE_TEST_BACKENDS")),
    storeApiRuns: onOff("THINKSCOPE_STORE_API_RUNS", text("THINKSCOPE_STORE_API_RUNS"), true),
    authToken: authToken(text("THINKSCOPE_AUTH_TOKEN")),
    trustProxy: trustProxy(text("THINKSCOPE_TRUST_PROXY")),
    maxConcurrentRunsPerClient: optionalInteger(
      "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT",
      text("THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT"),
      { min: 1, max: 1_000_000 },
    ),
    maxConcurrentRunsPerAddress: optionalInteger(
      "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS",
      text("THINKSCOPE_MAX_CONCURRENT_RUNS_PER_ADDRESS"),
      { min: 1, max: 1_000_000 },
    ),
    rateLimitPerMinute: optionalInteger(
      "THINKSCOPE_RATE_LIMIT_PER_MINUTE",
      text("THINKSCOPE_RATE_LIMIT_PER_MINUTE"),
      { min: 1, max: 1_000_000 },
    ),
    rateLimitPerAddressPerMinute: optionalInteger(
      "THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE",
      text("THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE"),
      { min: 1, max: 1_000_000 },
    ),
    maxThinkingTokensCap: optionalInteger(
      "THINKSCOPE_MAX_THINKING_TOKENS_CAP",
      text("THINKSCOPE_MAX_THINKING_TOKENS_CAP"),
      { min: 1, max: 10_000_000 },
    ),
    maxAnswerTokensCap: optionalInteger(
      "THINKSCOPE_MAX_ANSWER_TOKENS_CAP",
      text("THINKSCOPE_MAX_ANSWER_TOKENS_CAP"),
      { min: 1, max: 10_000_000 },
    ),
    maxWaitsCap: optionalInteger("THINKSCOPE_MAX_WAITS_CAP", text("THINKSCOPE_MAX_WAITS_CAP"), {
      min: 0,
      max: 10_000,
    }),
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

/** A setting that is on or off, with a default; anything else is a mistake worth saying. */
function onOff(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new ConfigError(`${name} must be on or off (true/false, 1/0, yes/no); got "${raw}".`);
}

function flag(raw: string | undefined): boolean {
  return raw !== undefined && ["1", "true", "yes", "on"].includes(raw.toLowerCase());
}

/** Short tokens are guessable from a classroom's worth of tries; a generated one is 48 characters. */
const MIN_AUTH_TOKEN_LENGTH = 12;

function authToken(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const token = raw.trim();
  if (token.length < MIN_AUTH_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError(
      `THINKSCOPE_AUTH_TOKEN must be at least ${MIN_AUTH_TOKEN_LENGTH} characters without spaces; ` +
        "make one with `openssl rand -hex 24`.",
    );
  }
  return token;
}

/**
 * Fastify's `trustProxy` from text: a flag, or the proxies' addresses and
 * CIDR ranges (and proxy-addr's names `loopback`, `linklocal`, `uniquelocal`).
 * Hop counts are refused: Fastify 5 ignores them (a hop count cannot tell a
 * proxy from a client that sends its own X-Forwarded-For).
 */
function trustProxy(raw: string | undefined): boolean | string[] {
  if (raw === undefined) return false;
  const value = raw.trim().toLowerCase();
  if (["true", "yes", "on"].includes(value)) return true;
  if (["false", "no", "off", "0", ""].includes(value)) return false;
  const entries = list(raw);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split("/");
    const family = isIP(address ?? "");
    const named = ["loopback", "linklocal", "uniquelocal"].includes(entry);
    const prefixOk =
      bits === undefined ||
      (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32) && extra === undefined);
    if (!named && (family === 0 || !prefixOk)) {
      throw new ConfigError(
        `THINKSCOPE_TRUST_PROXY: "${entry}" is not a proxy address. Name the proxies whose ` +
          "X-Forwarded-For to believe (127.0.0.1, loopback, uniquelocal, 10.0.0.0/8), or true for any.",
      );
    }
  }
  return entries;
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** A host name as `Host` headers carry it, lower case; `*`, or `.example.org` for a domain and its subdomains. */
function normalizeHostPattern(host: string): string {
  const value = host.toLowerCase();
  if (value === "*" || /^\.?[a-z0-9.-]+$/.test(value) || /^\[[0-9a-f:.]+\]$/.test(value))
    return value;
  throw new ConfigError(
    `THINKSCOPE_ALLOWED_HOSTS: "${host}" is not a host name such as thinkscope.example.org, ` +
      ".example.org (with its subdomains) or *.",
  );
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
