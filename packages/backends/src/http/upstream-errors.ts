import { BackendError } from "@thinkscope/core";

/**
 * The failures an upstream inference server can cause, as `BackendError`s
 * with stable codes. Messages name the URL (credentials removed) and, for
 * HTTP errors, an excerpt of what the server said; they never carry the API
 * key: every excerpt goes through `scrub` first.
 */
export const UPSTREAM_ERROR_CODES = {
  unreachable: "upstream_unreachable",
  timeout: "upstream_timeout",
  error: "upstream_error",
  disconnected: "upstream_disconnected",
  malformed: "upstream_malformed",
} as const;

/** How an error message may talk about one upstream. */
export interface ErrorContext {
  /** Prefix of every message, e.g. `vllm`. */
  backend: string;
  /** Removes secrets (the API key) from text that came from outside. */
  scrub: (text: string) => string;
}

const EXCERPT_LENGTH = 300;

/** A URL without user info, query or fragment, fit for a message. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

export function unreachableError(ctx: ErrorContext, url: string, cause: unknown): BackendError {
  const reason = networkReason(cause);
  return new BackendError(
    ctx.backend,
    UPSTREAM_ERROR_CODES.unreachable,
    `cannot reach ${displayUrl(url)}${reason ? ` (${reason})` : ""}. Is the server running?`,
    { status: 502, retryable: true, cause },
  );
}

export function timeoutError(
  ctx: ErrorContext,
  url: string,
  what: string,
  ms: number,
  cause?: unknown,
): BackendError {
  return new BackendError(
    ctx.backend,
    UPSTREAM_ERROR_CODES.timeout,
    `${displayUrl(url)} ${what} within ${formatMs(ms)}.`,
    { status: 504, retryable: true, cause },
  );
}

/** A non-2xx answer. 5xx and 429 may pass on retry; other 4xx will not. */
export function httpStatusError(
  ctx: ErrorContext,
  url: string,
  status: number,
  bodyText: string,
): BackendError {
  const said = upstreamMessage(bodyText);
  const hint =
    status === 401 || status === 403
      ? " Check THINKSCOPE_API_KEY."
      : status === 404
        ? " Check the URL and the model name."
        : "";
  return new BackendError(
    ctx.backend,
    UPSTREAM_ERROR_CODES.error,
    `${displayUrl(url)} answered HTTP ${status}${said ? `: ${ctx.scrub(said)}` : ""}.${hint}`,
    { status: 502, retryable: status >= 500 || status === 429 },
  );
}

/** An error the server reported inside an otherwise healthy stream. */
export function streamErrorEvent(ctx: ErrorContext, url: string, payload: unknown): BackendError {
  const said = upstreamMessage(typeof payload === "string" ? payload : JSON.stringify(payload));
  return new BackendError(
    ctx.backend,
    UPSTREAM_ERROR_CODES.error,
    `${displayUrl(url)} reported an error mid-stream: ${ctx.scrub(said || "(no message)")}`,
    { status: 502, retryable: true },
  );
}

export function disconnectedError(
  ctx: ErrorContext,
  url: string,
  detail: string,
  cause?: unknown,
): BackendError {
  return new BackendError(
    ctx.backend,
    UPSTREAM_ERROR_CODES.disconnected,
    `the stream from ${displayUrl(url)} ended early: ${detail}.`,
    { status: 502, retryable: true, cause },
  );
}

export function malformedError(
  ctx: ErrorContext,
  url: string,
  detail: string,
  sample?: string,
): BackendError {
  const excerpt =
    sample === undefined ? "" : ` (got ${JSON.stringify(excerptOf(ctx.scrub(sample)))})`;
  return new BackendError(
    ctx.backend,
    UPSTREAM_ERROR_CODES.malformed,
    `${displayUrl(url)} sent a response this adapter cannot read: ${detail}${excerpt}.`,
    { status: 502, retryable: false },
  );
}

/**
 * The human message inside an error body: OpenAI and vLLM put it in
 * `error.message`, older vLLM in `message`, FastAPI in `detail`, Ollama in
 * `error` as a string. Anything else is shown as a short excerpt.
 */
export function upstreamMessage(bodyText: string): string {
  const text = bodyText.trim();
  if (text === "") return "";
  try {
    const body = JSON.parse(text) as unknown;
    const found = messageIn(body);
    if (found) return excerptOf(found);
  } catch {
    // Not JSON (an HTML error page from a proxy, plain text): show its start.
  }
  return excerptOf(text.replace(/\s+/g, " "));
}

function messageIn(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ["error", "message", "detail"]) {
    const value = record[key];
    if (typeof value === "string" && value !== "") return value;
    if (typeof value === "object" && value !== null) {
      const inner = messageIn(value);
      if (inner) return inner;
    }
  }
  return undefined;
}

function excerptOf(text: string): string {
  return text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH)}…` : text;
}

function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The system error code behind a failed fetch (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`...). */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

function networkReason(cause: unknown): string | undefined {
  const code = networkCode(cause);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "network unreachable";
    case "ECONNRESET":
      return "connection reset";
    default:
      return code;
  }
}
