import type { BackendInfo, BackendReadiness } from "@thinkscope/protocol";
import { ApiError } from "../lib/api-client.ts";
import { fitDefaultBudgets } from "../lib/run-settings.ts";
import type { SocketStatus } from "../lib/run-socket.ts";
import type { AppState, SliceCreator } from "./store-types.ts";

export type ServerState = "unknown" | "ok" | "unreachable";

export interface Notice {
  tone: "error" | "info";
  text: string;
}

export interface ConnectionSlice {
  socket: SocketStatus;
  /** Whether the REST API answered the last time it was asked. */
  server: ServerState;
  /** null until the first answer from /api/backends. */
  backends: BackendInfo[] | null;
  backendsError: string | null;
  /** A message for the user that belongs to no run (shown in a dismissible banner). */
  notice: Notice | null;
  /** The server wants its access token and this page has not presented it (or it changed). */
  authRequired: boolean;
  setAuthRequired(required: boolean): void;
  setSocketStatus(status: SocketStatus): void;
  loadBackends(): Promise<void>;
  setBackendReadiness(backendId: string, readiness: BackendReadiness): void;
  setNotice(notice: Notice | null): void;
  retryConnection(): void;
}

export const createConnectionSlice: SliceCreator<ConnectionSlice> = (deps) => (set, get) => ({
  socket: { state: "connecting", attempt: 0, retryInMs: null },
  server: "unknown",
  backends: null,
  backendsError: null,
  notice: null,
  authRequired: false,
  setAuthRequired: (authRequired) => set({ authRequired }),
  setSocketStatus(status) {
    const wasOpen = get().socket.state === "open";
    set({ socket: status });
    // A new connection may mean a restarted server: its backends may have changed.
    if (status.state === "open" && !wasOpen) void get().loadBackends();
  },
  async loadBackends() {
    try {
      const backends = await deps.api.backends();
      set({ backends, backendsError: null, server: "ok" });
      const context = selectedBackend(get())?.capabilities.contextLength;
      const fitted = fitDefaultBudgets(get().settings, context);
      if (fitted !== get().settings) set({ settings: fitted });
    } catch (error) {
      const unreachable = error instanceof ApiError && error.unreachable;
      set({
        server: unreachable ? "unreachable" : "ok",
        backendsError: error instanceof Error ? error.message : String(error),
      });
    }
  },
  setBackendReadiness(backendId, readiness) {
    const wasReady = get().backends?.find((b) => b.id === backendId)?.readiness.state === "ready";
    set((state) => ({
      backends: state.backends?.map((b) => (b.id === backendId ? { ...b, readiness } : b)) ?? null,
    }));
    // A model that just loaded knows its context length now.
    if (readiness.state === "ready" && !wasReady) void get().loadBackends();
  },
  setNotice: (notice) => set({ notice }),
  retryConnection() {
    deps.reconnect();
    void get().loadBackends();
  },
});

/** The backend the run panel points at: the chosen one, or the server's default. */
export function selectedBackend(
  state: Pick<AppState, "backends" | "settings">,
): BackendInfo | undefined {
  const backends = state.backends ?? [];
  if (state.settings.backend !== "") return backends.find((b) => b.id === state.settings.backend);
  return backends.find((b) => b.default) ?? backends[0];
}

/** Whether a run can be sent now, and if not, why (for the Run button's hint). */
export function runBlocker(
  state: Pick<AppState, "socket" | "backends" | "settings" | "server">,
): string | null {
  if (state.socket.state !== "open") {
    return state.server === "unreachable"
      ? "The Thinkscope server is not reachable."
      : "Not connected to the server yet.";
  }
  const backend = selectedBackend(state);
  if (state.backends && state.backends.length > 0 && !backend) {
    return `The backend "${state.settings.backend}" is not configured on this server.`;
  }
  if (backend?.readiness.state === "loading")
    return `The backend is getting ready: ${backend.readiness.message}`;
  if (backend?.readiness.state === "unavailable")
    return `The backend is unavailable: ${backend.readiness.message}`;
  return null;
}
