/**
 * The page's WebSocket (`/ws`). Client messages are a map from `type` to
 * schema, so adding one is one entry here (and its handler on the server,
 * which the typecheck then asks for), and a bad message is described by the
 * schema its `type` names. Server messages are what the server sends; it
 * produces them itself, so they are types only.
 */
import { Type, type Static } from "typebox";
import type { BackendReadiness } from "./backends.ts";
import type { EngineEvent } from "./events.ts";
import {
  ExperimentSubscribeSchema,
  ExperimentUnsubscribeSchema,
  type ExperimentProgressMessage,
} from "./experiments.ts";
import { RunSpecSchema } from "./runs.ts";

/** Chosen by the client to match replies to its run; unique per connection. */
export const RunKeySchema = Type.String({ minLength: 1, maxLength: 100 });

export const ClientMessageSchemas = {
  /** Start a run; the server answers `run.accepted`, then streams its events. */
  run: Type.Object(
    { type: Type.Literal("run"), key: RunKeySchema, spec: RunSpecSchema },
    { additionalProperties: false },
  ),
  /** Stop a run of this connection (stored as `aborted`). */
  abort: Type.Object(
    { type: Type.Literal("abort"), key: RunKeySchema },
    { additionalProperties: false },
  ),
  "experiment.subscribe": ExperimentSubscribeSchema,
  "experiment.unsubscribe": ExperimentUnsubscribeSchema,
} as const;

/** Any client message: the union of the map's schemas. */
export const ClientMessageSchema = Type.Union(Object.values(ClientMessageSchemas));

export type ClientMessageType = keyof typeof ClientMessageSchemas;
export type ClientMessageOf<T extends ClientMessageType> = Static<(typeof ClientMessageSchemas)[T]>;
export type ClientMessage = { [T in ClientMessageType]: ClientMessageOf<T> }[ClientMessageType];

/**
 * The close code of a connection whose client stopped reading for too long
 * (reason "client not reading"); its runs are stored as `interrupted`.
 */
export const CLOSE_CLIENT_NOT_READING = 4000;

/** One engine event of one run, as batched to the page. */
export interface RunEventEnvelope {
  key: string;
  runId: string;
  event: EngineEvent;
}

export type ServerMessage =
  /** Engine events in order, flushed at most every ~50 ms so a fast backend cannot flood the page. */
  | { type: "events"; items: RunEventEnvelope[] }
  /** A run was accepted and stored under `runId`. */
  | { type: "run.accepted"; key: string; runId: string }
  /** A message that could not be taken (bad JSON, unknown type, bad settings). `key` when it concerned a run. */
  | { type: "error"; key?: string; code: string; message: string }
  /** Readiness changed (model downloading or loading). */
  | { type: "backend.status"; backendId: string; readiness: BackendReadiness }
  /** A followed experiment's progress (`experiment.subscribe`). */
  | ExperimentProgressMessage;

export type ServerMessageType = ServerMessage["type"];
