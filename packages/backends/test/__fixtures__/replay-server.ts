import { readFileSync } from "node:fs";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server (127.0.0.1, random port) that replays recorded wire
 * fixtures, so adapter tests run the real fetch, SSE and NDJSON paths.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  body: unknown,
) => void | Promise<void>;

export interface ReplayServer {
  url: string;
  requests: RecordedRequest[];
  /**
   * Resolves with the time (ms) a response was closed by the client before
   * it ended; rejects when none closes within `withinMs`.
   */
  nextClientAbort(withinMs?: number): Promise<number>;
  close(): Promise<void>;
}

export async function startReplayServer(routes: Record<string, Handler>): Promise<ReplayServer> {
  const requests: RecordedRequest[] = [];
  const abortWaiters: ((time: number) => void)[] = [];
  const aborts: number[] = [];
  const server = createServer(async (request, response) => {
    const raw = await readBody(request);
    let body: unknown = raw;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      // Keep the raw text.
    }
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    requests.push({ method: request.method ?? "GET", path, headers: request.headers, body });
    response.on("close", () => {
      if (response.writableEnded) return;
      const time = Date.now();
      const waiter = abortWaiters.shift();
      if (waiter) waiter(time);
      else aborts.push(time);
    });
    const handler = routes[`${request.method} ${path}`];
    if (!handler) {
      response.writeHead(404, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ error: { message: `no route ${request.method} ${path}` } }));
      return;
    }
    await handler(request, response, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    nextClientAbort: (withinMs = 3_000) => {
      const done = aborts.shift();
      if (done !== undefined) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no client abort within ${withinMs} ms`)),
          withinMs,
        );
        abortWaiters.push((time) => {
          clearTimeout(timer);
          resolve(time);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (it was just freed). */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export function fixture(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), "utf8");
}

/** The events of an SSE fixture, each with its blank-line terminator, exactly as recorded. */
export function sseEvents(name: string): string[] {
  return fixture(name)
    .split(/(?<=\n\n)/)
    .filter((event) => event.trim() !== "");
}

/** The lines of an NDJSON fixture, each with its newline. */
export function ndjsonLines(name: string): string[] {
  return fixture(name)
    .split(/(?<=\n)/)
    .filter((line) => line.trim() !== "");
}

export interface StreamOptions {
  contentType?: string;
  /** Pause between chunks, so they arrive as separate reads. */
  delayMs?: number;
  /** What happens after the last chunk: end normally, drop the connection, or go silent. */
  after?: "end" | "destroy" | "hang";
}

/** Stream `chunks` one write each, then end, drop or hang. */
export function streamChunks(chunks: readonly string[], options: StreamOptions = {}): Handler {
  return async (_request, response) => {
    response.writeHead(200, {
      "Content-Type": options.contentType ?? "text/event-stream",
      "Cache-Control": "no-cache",
    });
    response.flushHeaders();
    for (const chunk of chunks) {
      if (response.destroyed) return;
      response.write(chunk);
      await sleep(options.delayMs ?? 2);
    }
    if (options.after === "destroy") response.socket?.destroy();
    else if (options.after !== "hang") response.end();
  };
}

/** Stream an endless series of chunks until the client goes away. */
export function streamForever(
  chunk: (index: number) => string,
  contentType = "text/event-stream",
): Handler {
  return async (_request, response) => {
    response.writeHead(200, { "Content-Type": contentType });
    response.flushHeaders();
    for (let index = 0; !response.destroyed && index < 10_000; index++) {
      response.write(chunk(index));
      await sleep(20);
    }
  };
}

export function jsonAnswer(status: number, body: unknown): Handler {
  return (_request, response) => {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  };
}

/** Accept the request and never answer. */
export const neverAnswer: Handler = () => {};

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collect every event of an async iterable (or the error it threw). */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (text += chunk));
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });
}
