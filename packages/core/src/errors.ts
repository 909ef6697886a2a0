/**
 * The one error type that crosses package boundaries. `code` is stable and
 * machine-readable (it becomes the HTTP/WebSocket error code); `message` is
 * for people; `retryable` says whether trying again may help; `status` is the
 * HTTP status a server should answer with.
 */
export class ThinkscopeError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  /** The request field at fault, when one is (`max_completion_tokens`, `budget_forcing.num_waits`). */
  readonly param: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown; param?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ThinkscopeError";
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
    this.param = options.param;
  }

  /** Works across duplicated module instances, unlike `instanceof`. */
  static isInstance(value: unknown): value is ThinkscopeError {
    return (
      value instanceof Error &&
      typeof (value as Partial<ThinkscopeError>).code === "string" &&
      typeof (value as Partial<ThinkscopeError>).status === "number"
    );
  }
}

/** Bad settings or input: refused before anything is generated. */
export class InvalidRequestError extends ThinkscopeError {
  constructor(code: string, message: string, param?: string) {
    super(code, message, param === undefined ? { status: 400 } : { status: 400, param });
    this.name = "InvalidRequestError";
  }
}

/**
 * The inference backend failed: refused connection, 5xx, a dropped or
 * malformed stream, a timeout. `status` is 502, or 504 for timeouts.
 */
export class BackendError extends ThinkscopeError {
  readonly backend: string;

  constructor(
    backend: string,
    code: string,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, `${backend}: ${message}`, { status: 502, retryable: true, ...options });
    this.name = "BackendError";
    this.backend = backend;
  }
}
