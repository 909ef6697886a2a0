import type { StateCreator } from "zustand";
import type { ClientMessage } from "@thinkscope/protocol";
import type { ExperimentsApi } from "../lib/experiments-api.ts";
import type { ApiClient } from "../lib/api-client.ts";
import type { CompareSlice } from "./compare-slice.ts";
import type { ConnectionSlice } from "./connection-slice.ts";
import type { DisplaySlice } from "./display-slice.ts";
import type { ExperimentsSlice } from "./experiments-slice.ts";
import type { LibrarySlice } from "./library-slice.ts";
import type { RunsSlice } from "./runs-slice.ts";
import type { SettingsSlice } from "./settings-slice.ts";

/** The whole page state: one bound store built from slices (zustand's slices pattern). */
export type AppState = SettingsSlice &
  RunsSlice &
  CompareSlice &
  LibrarySlice &
  ConnectionSlice &
  DisplaySlice &
  ExperimentsSlice;

/** What the store needs from the outside world; tests pass fakes. */
export interface StoreDeps {
  api: ApiClient;
  /** The experiments API; the real one on the page's origin when not given. */
  experiments?: ExperimentsApi;
  /** Send on the WebSocket; false when it is not connected (nothing was sent). */
  send(message: ClientMessage): boolean;
  /** Skip the WebSocket's reconnect backoff. */
  reconnect(): void;
  /** Milliseconds, for replays at recorded speed. */
  now(): number;
}

export type SliceCreator<T> = (deps: StoreDeps) => StateCreator<AppState, [], [], T>;
