/**
 * Values derived from more than one slice's state, for slices (through
 * `get()`) and components (through `useApp`) alike.
 */
import type { BackendInfo } from "@thinkscope/protocol";
import type { ConnectionState, SettingsState } from "./slice.ts";

/** The backend the run panel points at: the chosen one, or the server's default. */
export function selectedBackend(
  state: Pick<ConnectionState, "backends"> & SettingsState,
): BackendInfo | undefined {
  const backends = state.backends ?? [];
  if (state.settings.backend !== "") return backends.find((b) => b.id === state.settings.backend);
  return backends.find((b) => b.default) ?? backends[0];
}

/** Whether a run can be sent now, and if not, why (for the Run button's hint). */
export function runBlocker(state: ConnectionState & SettingsState): string | null {
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
