import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { preloadCharts } from "./components/chart/lazy-charts.tsx";
import { preloadMarkdown } from "./components/trace/lazy-markdown.tsx";
import { createExperimentsApi } from "./lib/experiments-api.ts";
import { createApiClient, createJsonCall } from "./lib/api-client.ts";
import { createAuthClient } from "./lib/auth-client.ts";
import { readDisplayPrefs, syncDisplay, syncSettingsToUrl } from "./lib/page-sync.ts";
import { RunSocket, socketUrl } from "./lib/run-socket.ts";
import { decodeSettings } from "./lib/settings-url.ts";
import { createAppStore, StoreProvider } from "./store/app-store.ts";
import "./styles/app.css";
import "./styles/classroom.css";

const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
})();

const fromUrl = decodeSettings(new URLSearchParams(window.location.search));
// The socket needs the store for its callbacks and the store needs the socket to send: tie them late.
let socket: RunSocket | null = null;
const store = createAppStore(
  {
    // A 401 means the server wants its access token: the token prompt asks for it.
    api: createApiClient("", undefined, {
      onUnauthorized: () => store.getState().setAuthRequired(true),
    }),
    experiments: createExperimentsApi(
      createJsonCall("", undefined, {
        onUnauthorized: () => store.getState().setAuthRequired(true),
      }),
    ),
    send: (message) => socket?.send(message) ?? false,
    reconnect: () => socket?.retryNow(),
    now: () => performance.now(),
  },
  {
    settings: fromUrl.settings,
    ladder: fromUrl.ladder,
    urlProblems: fromUrl.problems,
    ...readDisplayPrefs(storage),
  },
);
socket = new RunSocket({
  url: socketUrl(window.location),
  onMessage: (message) => store.getState().receive(message),
  onStatus: (status) => {
    store.getState().setSocketStatus(status);
    // A refused WebSocket upgrade looks like a network error to the page: ask whether it was the token.
    if (status.state === "reconnecting" && status.retryInMs !== null) void checkAuth();
  },
  onDisconnect: () => store.getState().connectionLost(),
});
const auth = createAuthClient();
async function checkAuth(): Promise<void> {
  try {
    const { required, authenticated } = await auth.status();
    if (required && !authenticated) store.getState().setAuthRequired(true);
  } catch {
    // The server is down: the connection banner says so.
  }
}
socket.start();
void store.getState().loadBackends();
syncSettingsToUrl(store);
syncDisplay(store, document.documentElement, storage);
window.addEventListener("online", () => store.getState().retryConnection());

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element.");
createRoot(root).render(
  <StrictMode>
    <StoreProvider store={store}>
      <App />
    </StoreProvider>
  </StrictMode>,
);
preloadCharts();
preloadMarkdown();
