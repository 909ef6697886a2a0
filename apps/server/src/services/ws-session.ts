/**
 * One page's WebSocket connection: `run` and `abort` in, the engine's events
 * out. Outgoing messages go through one ordered queue flushed at most every
 * 50 ms; consecutive events coalesce into one `events` batch, so a fast
 * backend cannot flood the page, and nothing is dropped or reordered. Several
 * runs may stream at once; the connection closing aborts them all.
 */
import { ThinkscopeError } from "@thinkscope/core";
import {
  ClientMessageSchema,
  type ClientMessage,
  type RunSpec,
  type ServerMessage,
} from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import { Compile } from "typebox/compile";
import type { RawData, WebSocket } from "ws";
import type { BackendRegistry } from "../backends/registry.ts";
import { describeSchemaErrors, dottedPath } from "../lib/schema-errors.ts";
import { runInputFromSpec, type ActiveRun, type RunService } from "./run-service.ts";

const checkClientMessage = Compile(ClientMessageSchema);

export interface WsSessionOptions {
  /** Shortest time between two sends (ms). */
  flushIntervalMs?: number;
  /** While the socket holds more than this unsent, sending waits (the page is slow); nothing is dropped. */
  maxBufferedBytes?: number;
}

export interface WsSessionDeps {
  runs: RunService;
  backends: BackendRegistry;
  log: FastifyBaseLogger;
}

interface SessionRun {
  run: ActiveRun | null;
  /** Aborted before the run had started. */
  aborted: boolean;
}

export class WsSession {
  private readonly runs = new Map<string, SessionRun>();
  private queue: ServerMessage[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedBytes: number;
  private readonly stopStatus: () => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: WsSessionDeps,
    options: WsSessionOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    socket.on("message", (data, isBinary) => this.receive(data, isBinary));
    socket.on("close", () => this.close());
    socket.on("error", (error) => deps.log.debug({ err: error }, "websocket error"));
    this.stopStatus = deps.backends.onStatus((backendId, readiness) =>
      this.send({ type: "backend.status", backendId, readiness }),
    );
  }

  /** Runs this connection has streaming (or starting). */
  get activeRuns(): number {
    return this.runs.size;
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.error("invalid_message", "Messages are JSON text, not binary.");
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return this.error("invalid_json", "The message is not valid JSON.");
    }
    const type = (message as { type?: unknown } | null)?.type;
    const key =
      typeof (message as { key?: unknown }).key === "string"
        ? (message as { key: string }).key
        : undefined;
    if (type !== "run" && type !== "abort") {
      return this.error(
        "unknown_message_type",
        `Unknown message type ${JSON.stringify(type)}: send "run" or "abort".`,
        key,
      );
    }
    if (!checkClientMessage.Check(message)) {
      // The union's other branch (the other message type) would only add noise.
      const branch = type === "run" ? 0 : 1;
      const errors = checkClientMessage
        .Errors(message)
        .filter((e) => !e.schemaPath.startsWith(`#/anyOf/${1 - branch}`));
      const problem = describeSchemaErrors(errors, (path) => dottedPath(path, "the message"));
      return this.error("invalid_message", `Invalid ${type} message: ${problem}.`, key);
    }
    const valid = message as ClientMessage;
    if (valid.type === "run") void this.startRun(valid.key, valid.spec);
    else this.abortRun(valid.key);
  }

  private async startRun(key: string, spec: RunSpec): Promise<void> {
    if (this.runs.has(key)) {
      return this.error(
        "duplicate_key",
        `A run with key "${key}" is already running on this connection.`,
        key,
      );
    }
    const entry: SessionRun = { run: null, aborted: false };
    this.runs.set(key, entry);
    try {
      const run = await this.deps.runs.start(runInputFromSpec(spec, "page"));
      entry.run = run;
      this.send({ type: "run.accepted", key, runId: run.id });
      const events = run.events();
      // Aborted while it was starting: it still streams its start and its end, so the page sees it finish.
      if (this.closed || entry.aborted) run.abort(this.closed ? "interrupted" : "aborted");
      for await (const event of events) {
        this.send({ type: "events", items: [{ key, runId: run.id, event }] });
      }
    } catch (error) {
      if (ThinkscopeError.isInstance(error)) {
        this.error(error.code, error.message, key);
      } else {
        this.deps.log.error({ err: error }, "a page run failed");
        this.error("internal_error", "The run could not be started.", key);
      }
    } finally {
      this.runs.delete(key);
    }
  }

  private abortRun(key: string): void {
    const entry = this.runs.get(key);
    if (!entry)
      return this.error(
        "unknown_key",
        `No run with key "${key}" is running on this connection.`,
        key,
      );
    entry.aborted = true;
    entry.run?.abort("aborted");
  }

  private error(code: string, message: string, key?: string): void {
    this.send(
      key === undefined ? { type: "error", code, message } : { type: "error", key, code, message },
    );
  }

  private send(message: ServerMessage): void {
    if (this.closed) return;
    const last = this.queue.at(-1);
    if (message.type === "events" && last?.type === "events") last.items.push(...message.items);
    else this.queue.push(message);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastFlush + this.flushIntervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    if (this.closed || this.queue.length === 0) return;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      // The page is not keeping up: hold everything and try again shortly.
      this.lastFlush = Date.now();
      this.schedule();
      return;
    }
    const messages = this.queue;
    this.queue = [];
    this.lastFlush = Date.now();
    for (const message of messages) this.socket.send(JSON.stringify(message));
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.stopStatus();
    for (const entry of this.runs.values()) {
      entry.aborted = true;
      entry.run?.abort("interrupted");
    }
  }
}
