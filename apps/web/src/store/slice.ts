/**
 * What the store's slices share, and all that one slice knows of another.
 * Nothing here imports a slice: a slice that needs another's state reads it
 * through `get()`, typed by the small interfaces below, which the slice that
 * holds that state extends. The whole state is put together in app-store.ts,
 * so no slice imports another and the store has no import cycle.
 */
import type { StateCreator } from "zustand";
import type { BackendInfo, ClientMessage, ContextRoom, RunSpec } from "@thinkscope/protocol";
import type { ApiClient } from "../lib/api-client.ts";
import type { ExperimentsApi } from "../lib/experiments-api.ts";
import type { PlaygroundSettings, Refusal } from "../lib/run-settings.ts";
import type { SocketStatus } from "../lib/run-socket.ts";
import type { LiveRun, RunGroup } from "./live-run.ts";

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

/**
 * One slice (zustand's slices pattern): its own state and actions, `Own`,
 * made with the store's `set` and `get`, which also see what the slice
 * `Needs` of the others.
 */
export type SliceCreator<Own, Needs = unknown> = (
  deps: StoreDeps,
) => StateCreator<Own & Needs, [], [], Own>;

export type LoadState = "idle" | "loading" | "ready" | "error";

/** A message for the user that belongs to no run (shown in a dismissible banner). */
export interface Notice {
  tone: "error" | "info";
  text: string;
}

/** A server error as a notice. */
export function errorNotice({ code, message }: { code: string; message: string }): Notice {
  return { tone: "error", text: `${message} (${code})` };
}

// ---- What slices read of one another ----------------------------------------

/** The notice banner (the connection slice). */
export interface Notices {
  setNotice(notice: Notice | null): void;
}

/** The run panel's settings (the settings slice). */
export interface SettingsState {
  settings: PlaygroundSettings;
}

/** What the server said of the panel's settings when asked for their preview (the preview slice). */
export interface PreviewState {
  /**
   * The prompt's tokens and the model's context from the last preview that
   * answered, kept while the next is on its way: budgets left out are fitted
   * to it. null before the first answer, or when the context is unknown.
   */
  contextRoom: ContextRoom | null;
  /** The server's refusal of the settings as they were last previewed. */
  refusal: Refusal | null;
}

export type ServerState = "unknown" | "ok" | "unreachable";

/** The server, its WebSocket and its backends (the connection slice). */
export interface ConnectionState {
  socket: SocketStatus;
  /** Whether the REST API answered the last time it was asked. */
  server: ServerState;
  /** null until the first answer from /api/backends. */
  backends: BackendInfo[] | null;
}

/** The runs this page follows (the runs slice). */
export interface RunControl {
  /** Live runs by key: the playground's current run and the current comparison's runs. */
  runs: Record<string, LiveRun>;
  /** Send one run; returns its key, or null when it could not be sent (a notice says why). */
  startRun(spec: RunSpec, options: { group: RunGroup; label?: string }): string | null;
  stopRun(key: string): void;
  /** Drop runs (finished ones only; a running one is stopped first). */
  forgetRuns(keys: readonly string[]): void;
}
