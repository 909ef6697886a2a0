import type { ServerMessage, ServerMessageType } from "@thinkscope/protocol";
import type { ConnectionSlice } from "./connection-slice.ts";
import type { ExperimentsSlice } from "./experiments-slice.ts";
import type { RunsSlice } from "./runs-slice.ts";
import { errorNotice, type SliceCreator } from "./slice.ts";

type Receivers = RunsSlice & ConnectionSlice & ExperimentsSlice;
type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

/**
 * Which slice takes each server message: one entry per type, so adding a
 * message is one line here, and the typecheck asks for every type.
 */
const ROUTES: { [T in ServerMessageType]: (state: Receivers, message: MessageOf<T>) => void } = {
  events: (state, message) => state.receiveRunMessage(message),
  "run.accepted": (state, message) => state.receiveRunMessage(message),
  // An error names the run it refused; one that names none is about the connection.
  error: (state, message) =>
    message.key === undefined
      ? state.setNotice(errorNotice(message))
      : state.receiveRunMessage(message),
  "backend.status": (state, { backendId, readiness }) =>
    state.setBackendReadiness(backendId, readiness),
  "experiment.progress": (state, message) => state.applyExperimentProgress(message),
};

export interface MessageRouter {
  /** Hand one message from the WebSocket to the slice it concerns. */
  receive(message: ServerMessage): void;
}

export const createMessageRouter: SliceCreator<MessageRouter, Receivers> = () => (_set, get) => ({
  receive(message) {
    // ROUTES pairs each type with its handler; indexing by `message.type` loses that pairing.
    const route = ROUTES[message.type] as (state: Receivers, message: ServerMessage) => void;
    route(get(), message);
  },
});
