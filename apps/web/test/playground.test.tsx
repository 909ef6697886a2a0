import { afterEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import type { BackendInfo, ClientMessage } from "@thinkscope/protocol";
import PlaygroundView from "../src/views/playground-view.tsx";
import { createAppStore, StoreProvider } from "../src/store/app-store.ts";
import { syncSettingsToUrl, URL_WRITE_DELAY_MS } from "../src/lib/page-sync.ts";
import { decodeSettings } from "../src/lib/settings-url.ts";
import type { ApiClient } from "../src/lib/api-client.ts";
import { twoWaitRun } from "./fixtures.ts";

const backend: BackendInfo = {
  id: "local",
  kind: "embedded",
  models: ["tiny-reasoner"],
  default: true,
  capabilities: {
    exactTokenIds: true,
    tokenIdPrompts: true,
    stopTokenIds: true,
    logprobs: false,
    tokenizer: true,
    persistentSequence: true,
    contextLength: 8192,
  },
  readiness: { state: "ready" },
};

function mount(options: { open?: boolean; backends?: BackendInfo[] } = {}) {
  const sent: ClientMessage[] = [];
  const store = createAppStore({
    api: { backends: async () => options.backends ?? [backend] } as unknown as ApiClient,
    send: (message) => {
      sent.push(message);
      return true;
    },
    reconnect: () => {},
    now: () => 0,
  });
  store.setState({
    socket: {
      state: options.open === false ? "reconnecting" : "open",
      attempt: 1,
      retryInMs: null,
    },
    backends: options.backends ?? [backend],
    server: "ok",
  });
  render(
    <StoreProvider store={store}>
      <PlaygroundView />
    </StoreProvider>,
  );
  return { store, sent };
}

describe("the playground", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs on Ctrl+Enter and shows the live run", () => {
    const { store, sent } = mount();
    fireEvent.keyDown(window, { key: "Enter", ctrlKey: true });
    expect(sent).toHaveLength(1);
    const key = (sent[0] as { key: string }).key;
    act(() => {
      store.getState().receive({ type: "run.accepted", key, runId: "run-9" });
      store.getState().receive({
        type: "events",
        items: twoWaitRun().map((event) => ({ key, runId: "run-9", event })),
      });
    });
    expect(screen.getByTestId("waits").textContent).toBe("2");
    expect(screen.getByTestId("thinking-tokens").textContent).toBe("72");
    expect(document.querySelectorAll("[data-injection=wait]")).toHaveLength(2);
    expect(screen.getAllByRole("status").map((s) => s.textContent)).toContain("Finished.");
  });

  it("sets the budget from a preset, and the number field and slider follow", () => {
    const { store } = mount();
    fireEvent.click(screen.getByRole("button", { name: "Cut at 512 tokens" }));
    expect(store.getState().settings.maxThinkingTokens).toBe(512);
    expect((screen.getByLabelText("Max thinking tokens") as HTMLInputElement).value).toBe("512");
    expect(
      screen.getByRole("button", { name: "Cut at 512 tokens" }).getAttribute("aria-pressed"),
    ).toBe("true");
    fireEvent.click(screen.getByRole("button", { name: "s1 paper: ignore the end twice" }));
    expect(store.getState().settings.numWaits).toBe(2);
    expect((screen.getByLabelText("Number of waits slider") as HTMLInputElement).value).toBe("2");
  });

  it("takes an exact number typed in the field, beyond the slider's range", () => {
    const { store } = mount();
    const field = screen.getByLabelText("Max thinking tokens");
    fireEvent.change(field, { target: { value: "" } });
    expect(store.getState().settings.maxThinkingTokens).toBe(2048); // clearing does not commit
    fireEvent.change(field, { target: { value: "20000" } });
    expect(store.getState().settings.maxThinkingTokens).toBe(20000);
  });

  it("disables Run and says why while the server is not connected", () => {
    mount({ open: false });
    const actions = screen
      .getByRole("button", { name: "Run" })
      .closest(".run-actions") as HTMLElement;
    expect(screen.getByRole("button", { name: "Run" })).toHaveProperty("disabled", true);
    expect(within(actions).getByText(/not connected/i)).toBeTruthy();
  });

  it("shows the model download's progress", () => {
    mount({
      backends: [
        {
          ...backend,
          readiness: { state: "loading", message: "Downloading tiny-reasoner", progress: 0.42 },
        },
      ],
    });
    const bar = screen.getByRole("progressbar", {
      name: "Downloading tiny-reasoner",
    }) as HTMLProgressElement;
    expect(bar.value).toBeCloseTo(0.42);
    expect(screen.getByText("Downloading tiny-reasoner (42%)")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Run" })).toHaveProperty("disabled", true);
  });

  it("shows each backend's capabilities", () => {
    mount();
    const badges = screen.getByLabelText("Backend capabilities");
    expect(within(badges).getByText(/exact counts/).textContent).toContain("✓");
    expect(within(badges).getByText(/logprobs/).textContent).toContain("✗");
  });

  it("keeps the URL in step with the settings, so a link reproduces the setup", () => {
    vi.useFakeTimers();
    window.history.replaceState(null, "", "/?#/");
    const { store } = mount();
    const stop = syncSettingsToUrl(store);
    fireEvent.click(screen.getByRole("button", { name: "Minimum 256 thinking tokens" }));
    fireEvent.change(screen.getByLabelText("Question"), { target: { value: "What is 7 x 8?" } });
    vi.advanceTimersByTime(URL_WRITE_DELAY_MS);
    stop();
    expect(window.location.hash).toBe("#/");
    const decoded = decodeSettings(new URLSearchParams(window.location.search));
    expect(decoded.settings).toEqual(store.getState().settings);
    expect(window.location.search).toContain("min_thinking_tokens=256");
  });

  it("leaves the settings out of other tabs' links, and writes them again on the playground", () => {
    vi.useFakeTimers();
    window.history.replaceState(null, "", "/?#/");
    const { store } = mount();
    const stop = syncSettingsToUrl(store);
    fireEvent.click(screen.getByRole("button", { name: "Minimum 256 thinking tokens" }));
    vi.advanceTimersByTime(URL_WRITE_DELAY_MS);
    expect(window.location.search).toContain("min_thinking_tokens=256");
    // Every spelling the router reads as another tab.
    const elsewhere = [
      "#/library/run_a77ac4e2000000aa",
      "#/experiments",
      "#/library",
      "#library",
      "#/experiments/",
      "#/lesson/2",
    ];
    for (const tab of elsewhere) {
      window.location.hash = tab;
      window.dispatchEvent(new HashChangeEvent("hashchange"));
      expect(window.location.search).toBe("");
      expect(window.location.hash).toBe(tab);
    }
    window.location.hash = "#/compare";
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(window.location.search).toContain("min_thinking_tokens=256");
    stop();
  });
});
