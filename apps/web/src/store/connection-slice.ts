import type { BackendReadiness } from "@thinkscope/protocol";
import { ApiError } from "../lib/api-client.ts";
import { firstRunSettings } from "../lib/bundled-model.ts";
import type { SocketStatus } from "../lib/run-socket.ts";
import { selectedBackend } from "./selectors.ts";
import type { ConnectionState, Notice, Notices, SettingsState, SliceCreator } from "./slice.ts";

export interface ConnectionSlice extends ConnectionState, Notices {
  backendsError: string | null;
  /** A message for the user that belongs to no run (shown in a dismissible banner). */
  notice: Notice | null;
  /** The server wants its access token and this page has not presented it (or it changed). */
  authRequired: boolean;
  setAuthRequired(required: boolean): void;
  setSocketStatus(status: SocketStatus): void;
  loadBackends(): Promise<void>;
  setBackendReadiness(backendId: string, readiness: BackendReadiness): void;
  retryConnection(): void;
}

export const createConnectionSlice: SliceCreator<ConnectionSlice, SettingsState> =
  (deps) => (set, get) => {
    let backendsSeen = false;
    return {
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
          if (!backendsSeen) {
            backendsSeen = true;
            // A fresh page on the bundled model opens on the one task that model can do.
            const state = get();
            const start = firstRunSettings(state.settings, selectedBackend(state));
            if (start) set({ settings: start });
          }
        } catch (error) {
          const unreachable = error instanceof ApiError && error.unreachable;
          set({
            server: unreachable ? "unreachable" : "ok",
            backendsError: error instanceof Error ? error.message : String(error),
          });
        }
      },
      setBackendReadiness(backendId, readiness) {
        const wasReady =
          get().backends?.find((b) => b.id === backendId)?.readiness.state === "ready";
        set((state) => ({
          backends:
            state.backends?.map((b) => (b.id === backendId ? { ...b, readiness } : b)) ?? null,
        }));
        // A model that just loaded knows its context length now.
        if (readiness.state === "ready" && !wasReady) void get().loadBackends();
      },
      setNotice: (notice) => set({ notice }),
      retryConnection() {
        deps.reconnect();
        void get().loadBackends();
      },
    };
  };
