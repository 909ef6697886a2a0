/**
 * One page's WebSocket connection: `run` and `abort` in, the engine's events
 * out; `experiment.subscribe` / `experiment.unsubscribe` in, an experiment's
 * progress out. Outgoing messages go through one ordered queue flushed at
 * most every 50 ms; consecutive events coalesce into one `events` batch, so a
 * fast backend cannot flood the page, and nothing is dropped or reordered
 * (only an experiment's progress is replaced by a newer one still waiting).
 * Several runs may stream at once; the connection closing aborts them all.
 *
 * Backpressure: while more than `maxBufferedBytes` wait to reach the page
 * (in the socket and in the queue), its runs are not pulled, which pauses
 * the engine and the upstream stream behind it, and its messages are not
 * read. A page that stays that far behind for `stallTimeoutMs` has its runs
 * stopped as `interrupted` and is closed with `CLOSE_CLIENT_NOT_READING`.
 */
import { ThinkscopeError } from "@thinkscope/core";
import {
  CLOSE_CLIENT_NOT_READING,
  ClientMessageSchemas,
  RunKeySchema,
  type ClientMessageOf,
  type ClientMessageType,
  type ExperimentProgressMessage,
  type RunEventEnvelope,
  type RunSpec,
  type ServerMessage,
} from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import { Compile } from "typebox/compile";
import type { RawData, WebSocket } from "ws";
import type { BackendRegistry } from "../backends/registry.ts";
import type { ClientIdentity } from "./admission.ts";
import { describeSchemaErrors, dottedPath } from "../lib/schema-errors.ts";
import { runInputFromSpec, type ActiveRun, type RunService } from "./run-service.ts";

/** Each message type's compiled check: a bad message is described by the schema its type names. */
const checks = Object.fromEntries(
  Object.entries(ClientMessageSchemas).map(([type, schema]) => [type, Compile(schema)]),
) as { [T in ClientMessageType]: ReturnType<typeof Compile<(typeof ClientMessageSchemas)[T]>> };
const checkRunKey = Compile(RunKeySchema);
const MESSAGE_TYPES_TEXT = Object.keys(ClientMessageSchemas)
  .map((t) => `"${t}"`)
  .join(", ");

function isMessageType(type: string): type is ClientMessageType {
  return Object.hasOwn(ClientMessageSchemas, type);
}

export interface WsSessionOptions {
  /** Shortest time between two sends (ms). */
  flushIntervalMs?: number;
  /** Past this many bytes waiting for the page, its runs and its messages wait (the page is slow); nothing is dropped. */
  maxBufferedBytes?: number;
  /** How long the page may stay past `maxBufferedBytes` before it is closed (ms). */
  stallTimeoutMs?: number;
}

export interface WsSessionDeps {
  runs: RunService;
  backends: BackendRegistry;
  log: FastifyBaseLogger;
  /** Whom this connection's runs count against for per-client limits (the upgrade request's `clientId`). */
  client?: ClientIdentity;
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

/**
 * A message waiting for the next flush, serialized as it is queued so the
 * queue's size is known. Run events are kept one by one: consecutive ones
 * leave as one `events` message.
 */
type Queued = { type: "events"; items: string[] } | QueuedMessage;
type QueuedMessage = { type: "message"; json: string; progressOf?: string };

/** While the page is past the bound: the runs waiting for room, and the timer that gives up on it. */
interface Stall {
  waiting: Array<() => void>;
  timer: NodeJS.Timeout;
}

export class WsSession {
  private readonly runs = new Map<string, SessionRun>();
  private readonly subscriptions = new Map<string, () => void>();
  private queue: Queued[] = [];
  /** What waits in `queue` besides the socket's own buffer, in characters (about bytes: it is mostly ASCII). */
  private queuedLength = 0;
  private stall: Stall | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedBytes: number;
  private readonly stallTimeoutMs: number;
  private readonly stopStatus: () => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly deps: WsSessionDeps,
    options: WsSessionOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 50;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
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
    if (!isMessageType(type)) {
      return this.error(
        "unknown_message_type",
        `Unknown message type ${JSON.stringify(shortened(type))}: send ${MESSAGE_TYPES_TEXT}.`,
        key,
      );
    }
    const check = checks[type];
    if (!check.Check(message)) {
      const errors = check.Errors(message);
      const problem = describeSchemaErrors(errors, (path) => dottedPath(path, "the message"));
      return this.error("invalid_message", `Invalid ${type} message: ${problem}.`, key);
    }
    this.dispatch(type, message as ClientMessageOf<typeof type>);
  }

  /** One handler per message type: the typecheck asks for a handler when a type is added. */
  private readonly handlers: {
    [T in ClientMessageType]: (message: ClientMessageOf<T>) => void;
  } = {
    run: (message) => void this.startRun(message.key, message.spec).catch((e) => this.fail(e)),
    abort: (message) => this.abortRun(message.key),
    "experiment.subscribe": (message) => this.subscribe(message.experimentId),
    "experiment.unsubscribe": (message) => this.unsubscribe(message.experimentId),
  };

  private dispatch<T extends ClientMessageType>(type: T, message: ClientMessageOf<T>): void {
    (this.handlers[type] as (message: ClientMessageOf<T>) => void)(message);
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
        this.sendEvent({ key, runId: run.id, event });
        // Not asking for the next event pauses the engine, and its upstream, until the page reads.
        if (this.stall) await this.room();
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

  private send(message: Exclude<ServerMessage, { type: "events" }>): void {
    if (this.closed) return;
    const json = JSON.stringify(message);
    // Only the latest progress of an experiment matters: replace one still waiting.
    const progressOf = message.type === "experiment.progress" ? message.experimentId : undefined;
    const waiting =
      progressOf === undefined
        ? undefined
        : this.queue.find(
            (m): m is QueuedMessage => m.type === "message" && m.progressOf === progressOf,
          );
    if (waiting) {
      this.queuedLength += json.length - waiting.json.length;
      waiting.json = json;
    } else {
      this.queue.push({ type: "message", json, progressOf });
      this.queuedLength += json.length;
    }
    this.schedule();
    this.checkBacklog();
  }

  private sendEvent(item: RunEventEnvelope): void {
    if (this.closed) return;
    const json = JSON.stringify(item);
    const last = this.queue.at(-1);
    if (last?.type === "events") last.items.push(json);
    else this.queue.push({ type: "events", items: [json] });
    this.queuedLength += json.length + 1;
    this.schedule();
    this.checkBacklog();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastFlush + this.flushIntervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    if (this.closed) return;
    this.lastFlush = Date.now();
    // While the socket itself is full, messages wait here, where a newer progress can still replace one.
    if (this.queue.length > 0 && this.socket.bufferedAmount <= this.maxBufferedBytes) {
      for (const queued of this.queue) {
        this.socket.send(queued.type === "events" ? eventsMessage(queued.items) : queued.json);
      }
      this.queue = [];
      this.queuedLength = 0;
    }
    this.checkBacklog();
  }

  /** Holds the page's runs and messages while too much waits for it, and lets them go once it has read. */
  private checkBacklog(): void {
    const over = this.socket.bufferedAmount + this.queuedLength > this.maxBufferedBytes;
    if (over && !this.stall) {
      this.socket.pause();
      this.stall = {
        waiting: [],
        timer: setTimeout(() => this.dropStalledPage(), this.stallTimeoutMs),
      };
    } else if (!over && this.stall) {
      this.endStall();
    }
    // The socket says nothing when it drains: look again at the next flush.
    if (this.stall) this.schedule();
  }

  /** Resolves once the page has read enough, or the connection is gone. */
  private room(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stall) this.stall.waiting.push(resolve);
      else resolve();
    });
  }

  private endStall(): void {
    if (!this.stall) return;
    const { waiting, timer } = this.stall;
    this.stall = null;
    clearTimeout(timer);
    this.socket.resume();
    for (const wake of waiting) wake();
  }

  private dropStalledPage(): void {
    this.deps.log.warn(
      { client: this.deps.client, runs: this.runs.size },
      "closing a WebSocket whose client stopped reading",
    );
    this.close();
    this.socket.close(CLOSE_CLIENT_NOT_READING, "client not reading");
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.queuedLength = 0;
    this.stopStatus();
    for (const stop of this.subscriptions.values()) stop();
    this.subscriptions.clear();
    for (const entry of this.runs.values()) {
      entry.aborted = true;
      entry.run?.abort("interrupted");
    }
    // Runs waiting for room go on to their end (aborted), and a client that reads again can see the close.
    this.endStall();
  }
}

/** An `events` message from items serialized when they were queued (each event is serialized once). */
function eventsMessage(items: string[]): string {
  return `{"type":"events","items":[${items.join(",")}]}`;
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
