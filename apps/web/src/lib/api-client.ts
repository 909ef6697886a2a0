import type {
  BackendInfo,
  RunDetail,
  RunList,
  RunPreview,
  RunSpec,
  RunSource,
  RunStatus,
} from "@thinkscope/protocol";

/** A failed API call, with the server's error code when it sent one (`{ error: { code, message } }`). */
export class ApiError extends Error {
  readonly code: string;
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

export interface RunQuery {
  q?: string;
  model?: string;
  status?: RunStatus | "";
  source?: RunSource;
  exclude_source?: RunSource;
  experiment_id?: string;
  limit?: number;
  offset?: number;
}

export interface ImportResult {
  /** Runs stored, when the server says. */
  imported?: number;
  /** Anything else the server reports (skipped lines, errors). */
  [key: string]: unknown;
}

export interface ApiClient {
  health(): Promise<{ status: string }>;
  backends(): Promise<BackendInfo[]>;
  /** What a run of `spec` would use (prompt tokens, the model's context), or the 400 it would get. */
  preview(spec: RunSpec, signal?: AbortSignal): Promise<RunPreview>;
  listRuns(query: RunQuery): Promise<RunList>;
  getRun(id: string): Promise<RunDetail>;
  deleteRun(id: string): Promise<void>;
  /** A URL the browser downloads directly (streamed JSONL, no copy in memory). */
  exportUrl(query?: RunQuery): string;
  importRuns(jsonl: string): Promise<ImportResult>;
}

function queryString(query: RunQuery = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Where the runs export (JSONL) downloads from; filters apply, paging does not. */
export function runsExportUrl(query: RunQuery = {}, base = ""): string {
  return `${base}/api/runs/export${queryString({ ...query, limit: undefined, offset: undefined })}`;
}

/** One JSON request to the server: the parsed body, or an `ApiError` with the server's code and message. */
export type JsonCall = <T>(path: string, init?: RequestInit) => Promise<T>;

export interface ApiClientOptions {
  /** Called when the server answers 401: the page needs the access token (again). */
  onUnauthorized?(): void;
}

/** The request function every REST client of the page shares, so they fail the same way. */
export function createJsonCall(
  base = "",
  fetchImpl: typeof fetch = (...args) => fetch(...args),
  options: ApiClientOptions = {},
): JsonCall {
  return async function call<T>(path: string, init?: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, init);
    } catch (cause) {
      throw new ApiError(
        "unreachable",
        `The Thinkscope server did not answer (${cause instanceof Error ? cause.message : String(cause)}).`,
        0,
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let body: unknown = undefined;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // A proxy's HTML error page: fall through with the status line.
    }
    if (response.status === 401) options.onUnauthorized?.();
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(
        error?.code ?? `http_${response.status}`,
        error?.message ?? `${path} answered ${response.status} ${response.statusText}`.trim(),
        response.status,
      );
    }
    if (body === undefined && text !== "") {
      throw new ApiError("bad_response", `${path} did not answer with JSON.`, response.status);
    }
    return body as T;
  };
}

/** REST calls to the Thinkscope server (docs/api.md). `base` is "" on the same origin. */
export function createApiClient(
  base = "",
  fetchImpl: typeof fetch = (...args) => fetch(...args),
  options: ApiClientOptions = {},
): ApiClient {
  const call = createJsonCall(base, fetchImpl, options);
  return {
    health: () => call("/api/health"),
    backends: () => call("/api/backends"),
    preview: (spec, signal) =>
      call("/api/runs/preview", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(spec),
        signal,
      }),
    listRuns: (query) => call(`/api/runs${queryString(query)}`),
    getRun: (id) => call(`/api/runs/${encodeURIComponent(id)}`),
    async deleteRun(id) {
      await call(`/api/runs/${encodeURIComponent(id)}`, { method: "DELETE" });
    },
    exportUrl: (query) => runsExportUrl(query, base),
    importRuns: (jsonl) =>
      call("/api/runs/import", {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: jsonl,
      }),
  };
}
