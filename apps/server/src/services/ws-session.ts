/**
 * One page's WebSocket connection: `run` and `abort` in, the engine's events
 * out; `experiment.subscribe` / `experiment.unsubscribe` in, an experiment's
 * progress out. Outgoing messages go through one ordered queue flushed at
 * most every 50 ms; consecutive events coalesce into one `events` batch, so a
 * fast backend cannot flood the page, and nothing is dropped or reordered
 * (only an experiment's progress is replaced by a newer one still waiting).
 * Several runs may stream at once; the connection closing aborts them all.
 */
import { ThinkscopeError } from "@thinkscope/core";
import {
  ClientMessageSchema,
  RunKeySchema,
  type ClientMessage,
  type ExperimentProgressMessage,
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
const checkRunKey = Compile(RunKeySchema);
/** The message types in the order of `ClientMessageSchema`'s branches. */
const MESSAGE_TYPES = ["run", "abort", "experiment.subscribe", "experiment.unsubscribe"];
const MESSAGE_TYPES_TEXT = MESSAGE_TYPES.map((t) => `"${t}"`).join(", ");

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
  /** Whom this connection's runs count against for per-client limits (the upgrade request's `clientId`). */
  client?: string;
  /** Counts a run against the client's request rate; throws (a 429 `rate_limited`) when it is over. */
  countRun?: () => Promise<void>;
  /** Follows experiments' progress; without it, subscribing is refused. */
  experiments?: {
    subscribe(id: string, listener: (message: ExperimentProgressMessage) => void): () => void;
  };
}

interface SessionRun {
  run: ActiveRun | null;
  /** Aborted before the run had started. */
  aborted: boolean;
}

export class WsSession {
  private readonly runs = new Map<string, SessionRun>();
  private readonly subscriptions = new Map<string, () => void>();
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

  /** Any failure while handling a message is told to the page; the connection and the server stay up. */
  private receive(data: RawData, isBinary: boolean): void {
    try {
      this.handle(data, isBinary);
    } catch (error) {
      this.fail(error);
    }
  }

  private handle(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.error("invalid_message", "Messages are JSON text, not binary.");
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return this.error("invalid_json", "The message is not valid JSON.");
    }
    // Only an object with a string `type` is read any further: `null`, arrays and numbers are JSON too.
    if (!isMessageEnvelope(message)) {
      return this.error(
        "invalid_message",
        `A message is a JSON object with a string "type": ${MESSAGE_TYPES_TEXT}.`,
      );
    }
    const { type } = message;
    // Errors about a run carry its key when it is one a page could have sent.
    const key = checkRunKey.Check(message.key) ? message.key : undefined;
    const branch = MESSAGE_TYPES.indexOf(type);
    if (branch < 0) {
      return this.error(
        "unknown_message_type",
        `Unknown message type ${JSON.stringify(shortened(type))}: send ${MESSAGE_TYPES_TEXT}.`,
        key,
      );
    }
    if (!checkClientMessage.Check(message)) {
      // The union's other branches (the other message types) would only add noise.
      const errors = checkClientMessage.Errors(message).filter((e) => {
        const other = /^#\/anyOf\/(\d+)/.exec(e.schemaPath);
        return !other || Number(other[1]) === branch;
      });
      const problem = describeSchemaErrors(errors, (path) => dottedPath(path, "the message"));
      return this.error("invalid_message", `Invalid ${type} message: ${problem}.`, key);
    }
    const valid = message as ClientMessage;
    if (valid.type === "run") this.startRun(valid.key, valid.spec).catch((e) => this.fail(e));
    else if (valid.type === "abort") this.abortRun(valid.key);
    else if (valid.type === "experiment.subscribe") this.subscribe(valid.experimentId);
    else this.unsubscribe(valid.experimentId);
  }

  /** An unexpected failure: logged, and answered with an `error` message. */
  private fail(error: unknown): void {
    this.deps.log.error({ err: error }, "a WebSocket message failed");
    this.error("internal_error", "The message could not be handled.");
  }

  private subscribe(experimentId: string): void {
    const { experiments } = this.deps;
    if (!experiments) {
      return this.error("experiments_unavailable", "This server does not run experiments.");
    }
    // Subscribing again resends the current progress.
    this.unsubscribe(experimentId);
    try {
      const stop = experiments.subscribe(experimentId, (message) => this.send(message));
      this.subscriptions.set(experimentId, stop);
    } catch (error) {
      if (!ThinkscopeError.isInstance(error)) throw error;
      this.error(error.code, error.message);
    }
  }

  private unsubscribe(experimentId: string): void {
    this.subscriptions.get(experimentId)?.();
    this.subscriptions.delete(experimentId);
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
      await this.deps.countRun?.();
      const run = await this.deps.runs.start(runInputFromSpec(spec, "page"), {
        client: this.deps.client,
      });
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
    else if (message.type === "experiment.progress") {
      // Only the latest progress of an experiment matters: replace one still waiting.
      const waiting = this.queue.findIndex(
        (m) => m.type === "experiment.progress" && m.experimentId === message.experimentId,
      );
      if (waiting >= 0) this.queue[waiting] = message;
      else this.queue.push(message);
    } else this.queue.push(message);
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
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    for (const entry of this.runs.values()) {
      entry.aborted = true;
      entry.run?.abort("interrupted");
    }
  }
}

function isMessageEnvelope(value: unknown): value is { type: string; key?: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === "string"
  );
}

/** A client's text quoted back in an error, cut short: a message may be as long as the payload limit. */
function shortened(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
