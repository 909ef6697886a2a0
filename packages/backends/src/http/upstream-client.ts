import type { IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BackendError } from "@thinkscope/core";
import {
  disconnectedError,
  httpStatusError,
  malformedError,
  networkCode,
  timeoutError,
  unreachableError,
  type ErrorContext,
} from "./upstream-errors.ts";

/** How long an upstream may keep us waiting. */
export interface UpstreamTimeouts {
  /**
   * Until a stream's first bytes (or a passthrough's headers) arrive. Covers
   * queueing, model loading and prompt processing, so it is generous.
   */
  firstByteMs: number;
  /** Longest silence between two chunks of a stream: a stalled server. */
  idleMs: number;
  /** Whole-request limit for small JSON requests (models, tokenize, health). */
  requestMs: number;
}

/**
 * Connecting itself is bounded too (10 s, as undici's fetch does), and
 * reported as `upstream_timeout` like the limits below.
 */
export const DEFAULT_TIMEOUTS: UpstreamTimeouts = {
  firstByteMs: 300_000,
  idleMs: 60_000,
  requestMs: 30_000,
};

const CONNECT_TIMEOUT_MS = 10_000;

export interface UpstreamClientOptions {
  /** Names the backend in error messages (`vllm`, `llamacpp`...). */
  backend: string;
  /** Sent as `Authorization: Bearer ...`; never logged, never in an error. */
  apiKey?: string;
  timeouts?: Partial<UpstreamTimeouts>;
}

type Phase = "request" | "body";

/**
 * One upstream's HTTP access: JSON requests, streamed bodies and
 * passthrough, with timeouts, cancellation and errors mapped to
 * `BackendError`s. It knows nothing of any server's formats.
 */
export class UpstreamClient {
  readonly timeouts: UpstreamTimeouts;
  readonly errors: ErrorContext;
  private readonly apiKey: string | undefined;

  constructor(options: UpstreamClientOptions) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.apiKey = options.apiKey === "" ? undefined : options.apiKey;
    const key = this.apiKey;
    this.errors = {
      backend: options.backend,
      scrub: (text) => (key ? text.split(key).join("[redacted]") : text),
    };
  }

  /** GET or POST a small JSON request and parse the JSON answer. */
  async json<T>(
    url: string,
    init: { body?: unknown; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const limit = init.timeoutMs ?? this.timeouts.requestMs;
    const controller = new AbortController();
    const unlink = linkAbort(init.signal, controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limit);
    let phase: Phase = "request";
    try {
      const response = await fetch(url, {
        method: init.body === undefined ? "GET" : "POST",
        headers: this.headers(init.body !== undefined),
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: controller.signal,
      });
      phase = "body";
      const text = await response.text();
      if (!response.ok) throw httpStatusError(this.errors, url, response.status, text);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw malformedError(this.errors, url, "the body is not JSON", text.slice(0, 200));
      }
    } catch (error) {
      throw this.classify(
        error,
        url,
        phase,
        init.signal,
        timedOut ? ["did not answer", limit] : undefined,
      );
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }

  /** GET `url` and return its status and body whatever the status (health checks). */
  async status(url: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
    const controller = new AbortController();
    const unlink = linkAbort(signal, controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeouts.requestMs);
    try {
      const response = await fetch(url, {
        headers: this.headers(false),
        signal: controller.signal,
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      throw this.classify(
        error,
        url,
        "request",
        signal,
        timedOut ? ["did not answer", this.timeouts.requestMs] : undefined,
      );
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }

  /**
   * POST `body` and yield the response body as text, chunk by chunk. Ending
   * the iteration early (a consumer's `break`, `return()`, or `signal`)
   * aborts the request, which closes the connection so the server stops
   * generating. The idle timer is paused while the consumer holds a chunk,
   * so a slow consumer is never mistaken for a stalled server.
   *
   * Node's own HTTP client, not `fetch`: when the consumer falls behind a
   * fast upstream, undici's fetch parses its backlog again on every resume
   * (measured: most of a proxy's CPU), while Node's parser pauses the
   * socket and reads each byte once. Each chunk is everything the socket
   * had, so a consumer that is behind gets many events in one.
   */
  async *streamText(url: string, body: unknown, signal: AbortSignal): AsyncGenerator<string> {
    const controller = new AbortController();
    const unlink = linkAbort(signal, controller);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut: [string, number] | undefined;
    const arm = (what: string, ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = [what, ms];
        controller.abort();
      }, ms);
    };
    let phase: Phase = "request";
    try {
      arm("sent nothing", this.timeouts.firstByteMs);
      const response = await postStreaming(url, JSON.stringify(body), {
        headers: { ...this.headers(true), Accept: "text/event-stream, application/x-ndjson" },
        signal: controller.signal,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
      });
      phase = "body";
      // Decoded per read, not per HTTP chunk: a server that sends each token as
      // its own chunk would otherwise cost a decode and a string per token.
      const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        let text = "";
        for await (const chunk of response)
          text += decoder.decode(chunk as Buffer, { stream: true });
        throw httpStatusError(this.errors, url, status, text + decoder.decode());
      }
      for await (const chunk of response) {
        clearTimeout(timer);
        yield decoder.decode(chunk as Buffer, { stream: true });
        // A body that had fully arrived still yields its buffered chunks after an abort.
        if (controller.signal.aborted) throw abortError();
        arm("went silent", this.timeouts.idleMs);
      }
      const rest = decoder.decode();
      if (rest !== "") yield rest;
      // A body cut short by the server (no final chunk) ends the iteration without an error.
      if (!response.complete) throw new Error("the body ended before its last chunk");
    } catch (error) {
      throw this.classify(error, url, phase, signal, timedOut);
    } finally {
      clearTimeout(timer);
      unlink();
      // Ends the request if it is still running (the consumer stopped early).
      controller.abort();
    }
  }

  /**
   * Forward a JSON body and hand back the upstream's response as it is
   * (status, headers and a streaming body). Only connection failures and a
   * missing answer within `firstByteMs` become errors.
   */
  async passthrough(url: string, body: unknown, signal: AbortSignal): Promise<Response> {
    const controller = new AbortController();
    linkAbort(signal, controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeouts.firstByteMs);
    try {
      return await fetch(url, {
        method: "POST",
        headers: this.headers(true),
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (error) {
      throw this.classify(
        error,
        url,
        "request",
        signal,
        timedOut ? ["did not answer", this.timeouts.firstByteMs] : undefined,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = {};
    if (json) headers["Content-Type"] = "application/json";
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    return headers;
  }

  private classify(
    error: unknown,
    url: string,
    phase: Phase,
    signal: AbortSignal | undefined,
    timedOut: [string, number] | undefined,
  ): unknown {
    // The caller gave up: that is not an upstream failure, so say so plainly.
    if (signal?.aborted) return signal.reason ?? error;
    if (timedOut) return timeoutError(this.errors, url, timedOut[0], timedOut[1], error);
    if (BackendError.isInstance(error)) return error;
    const code = networkCode(error);
    if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETHINKSCOPE_CONNECT_TIMEOUT") {
      return timeoutError(
        this.errors,
        url,
        "did not accept a connection",
        CONNECT_TIMEOUT_MS,
        error,
      );
    }
    if (phase === "request") return unreachableError(this.errors, url, error);
    return disconnectedError(this.errors, url, "the connection closed before the end", error);
  }
}

function abortError(): DOMException {
  return new DOMException("The request was aborted.", "AbortError");
}

/**
 * A POST with Node's HTTP client, resolved with the response once its
 * headers arrive. `signal` destroys the request (closing the connection);
 * a connection not made within `connectTimeoutMs` fails with code
 * `ETHINKSCOPE_CONNECT_TIMEOUT`.
 */
function postStreaming(
  url: string,
  body: string,
  options: { headers: Record<string, string>; signal: AbortSignal; connectTimeoutMs: number },
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(target, {
      method: "POST",
      headers: { ...options.headers, "Content-Length": Buffer.byteLength(body) },
      signal: options.signal,
    });
    request.once("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        const error = Object.assign(new Error("The connection was not accepted in time."), {
          code: "ETHINKSCOPE_CONNECT_TIMEOUT",
        });
        request.destroy(error);
      }, options.connectTimeoutMs);
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    });
    request.once("response", resolve);
    request.once("error", reject);
    request.end(body);
  });
}

/** Forward an outer abort into `controller`; returns the unlink function. */
function linkAbort(signal: AbortSignal | undefined, controller: AbortController): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    controller.abort(signal.reason);
    return () => {};
  }
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** `base` + `path` with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
