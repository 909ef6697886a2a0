import { useShallow } from "zustand/react/shallow";
import { useApp } from "../../store/app-store.ts";
import { formatMs } from "../../lib/format.ts";

/**
 * What is wrong with the connection and what to do about it: server not
 * reachable, WebSocket reconnecting, no usable backend; plus notices that
 * belong to no run. One live region, so screen readers hear each change.
 */
export function ConnectionBanner() {
  const { socket, server, backends, backendsError, notice, authRequired } = useApp(
    useShallow((s) => ({
      socket: s.socket,
      server: s.server,
      backends: s.backends,
      backendsError: s.backendsError,
      notice: s.notice,
      authRequired: s.authRequired,
    })),
  );
  const retry = useApp((s) => s.retryConnection);
  const setNotice = useApp((s) => s.setNotice);
  const retryIn = socket.retryInMs !== null ? `, next try in ${formatMs(socket.retryInMs)}` : "";
  const unusable =
    backends !== null &&
    backends.length > 0 &&
    backends.every((b) => b.readiness.state === "unavailable");

  let connection: { tone: string; text: string; action: boolean } | null = null;
  if (authRequired) {
    // The token prompt says what is wrong; "not reachable" would send the user the wrong way.
  } else if (server === "unreachable" || (socket.state === "reconnecting" && socket.attempt >= 3)) {
    connection = {
      tone: "error",
      text: `The Thinkscope server is not reachable${retryIn}. Start it with "npm start" (it listens on http://127.0.0.1:8787 by default), or check the network.`,
      action: true,
    };
  } else if (socket.state === "reconnecting") {
    connection = {
      tone: "warn",
      text: `Connection lost. Reconnecting (attempt ${socket.attempt})${retryIn}…`,
      action: true,
    };
  } else if (backends !== null && backends.length === 0) {
    connection = {
      tone: "error",
      text: "The server has no backend configured. Set THINKSCOPE_BACKEND and restart it.",
      action: false,
    };
  } else if (unusable) {
    const reasons = backends.map(
      (b) => `${b.id}: ${b.readiness.state === "unavailable" ? b.readiness.message : ""}`,
    );
    connection = {
      tone: "error",
      text: `No backend is reachable (${reasons.join("; ")}). Check that the inference server is running and THINKSCOPE_BACKEND points at it.`,
      action: true,
    };
  } else if (backendsError && server === "ok") {
    connection = {
      tone: "error",
      text: `Could not read the backends: ${backendsError}`,
      action: true,
    };
  }

  return (
    <div aria-live="polite">
      {connection && (
        <div className="banner" data-tone={connection.tone} data-testid="connection-banner">
          <p>{connection.text}</p>
          {connection.action && (
            <button type="button" className="small" onClick={retry}>
              Retry now
            </button>
          )}
        </div>
      )}
      {notice && (
        <div className="banner" data-tone={notice.tone === "error" ? "error" : "info"} role="alert">
          <p>{notice.text}</p>
          <button
            type="button"
            className="small"
            onClick={() => setNotice(null)}
            aria-label="Dismiss message"
          >
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
