import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type {
  BackendInfo,
  ClientMessage,
  EngineEvent,
  RunDetail,
  ServerMessage,
} from "@thinkscope/protocol";
import { ApiError, type ApiClient } from "../src/lib/api-client.ts";
import { segmentText } from "../src/lib/trace-fold.ts";
import { createAppStore, type AppStore } from "../src/store/app-store.ts";
import { runBlocker } from "../src/store/selectors.ts";
import { TINY_REASONER_PROMPT } from "../src/lib/bundled-model.ts";
import { DEFAULT_SETTINGS, toRunSpec } from "../src/lib/run-settings.ts";
import { EventScript, twoWaitRun } from "./fixtures.ts";

const backend: BackendInfo = {
  id: "local",
  kind: "embedded",
  models: ["tiny-reasoner"],
  default: true,
  capabilities: {
    exactTokenIds: true,
    tokenIdPrompts: true,
    stopTokenIds: true,
    logprobs: true,
    tokenizer: true,
    persistentSequence: true,
    contextLength: 4096,
  },
  readiness: { state: "ready" },
};

function fakeApi(overrides: Partial<ApiClient> = {}): ApiClient {
  return {
    health: async () => ({ status: "ok" }),
    backends: async () => [backend],
    preview: async () => {
      throw new ApiError("not_found", "This server has no previews.", 404);
    },
    listRuns: async () => ({ runs: [], total: 0 }),
    getRun: async () => {
      throw new ApiError("not_found", "No such run.", 404);
    },
    deleteRun: async () => {},
    exportUrl: () => "/api/runs/export",
    importRuns: async () => ({ imported: 0 }),
    ...overrides,
  };
}

interface Harness {
  store: AppStore;
  sent: ClientMessage[];
  connected: { value: boolean };
  now: { value: number };
}

function harness(api: ApiClient = fakeApi()): Harness {
  const sent: ClientMessage[] = [];
  const connected = { value: true };
  const now = { value: 0 };
  const store = createAppStore({
    api,
    send: (message) => {
      if (!connected.value) return false;
      sent.push(message);
      return true;
    },
    reconnect: () => {},
    now: () => now.value,
  });
  store.setState({
    socket: { state: "open", attempt: 0, retryInMs: null },
    backends: [backend],
    server: "ok",
  });
  return { store, sent, connected, now };
}

function eventsMessage(key: string, events: EngineEvent[], runId = "run-1"): ServerMessage {
  return { type: "events", items: events.map((event) => ({ key, runId, event })) };
}

describe("the runs slice", () => {
  it("sends the panel's settings as a run and follows it to the end", () => {
    const { store, sent } = harness();
    store.getState().setSettings({
      prompt: "2+2?",
      numWaits: 2,
      maxThinkingTokens: 512,
      waitStrings: ["Wait", "Hmm"],
    });
    store.getState().runPlayground();

    expect(sent).toHaveLength(1);
    const message = sent[0]!;
    if (message.type !== "run") throw new Error("expected a run message");
    expect(message.spec).toMatchObject({
      prompt: "2+2?",
      mode: "chat",
      budget_forcing: {
        num_waits: 2,
        max_thinking_tokens: 512,
        wait_string: ["Wait", "Hmm"],
        format: "think-tags",
      },
      sampling: { temperature: 0 },
    });
    const key = message.key;
    expect(store.getState().playgroundKey).toBe(key);
    expect(store.getState().runs[key]?.status).toBe("sending");

    store.getState().receive({ type: "run.accepted", key, runId: "run-1" });
    expect(store.getState().runs[key]).toMatchObject({ status: "running", runId: "run-1" });

    store.getState().receive(eventsMessage(key, twoWaitRun()));
    const run = store.getState().runs[key]!;
    expect(run.status).toBe("completed");
    expect(run.trace.waits).toBe(2);
    expect(run.trace.segments.map((s) => s.type)).toEqual([
      "thinking",
      "wait",
      "thinking",
      "wait",
      "thinking",
      "end",
      "answer",
    ]);
  });

  it("applies a whole batch of events as one store update", () => {
    const { store, sent } = harness();
    store.getState().runPlayground();
    const key = (sent[0] as { key: string }).key;
    const events = twoWaitRun();
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.getState().receive(eventsMessage(key, events.slice(0, 5)));
    store.getState().receive(eventsMessage(key, events.slice(5)));
    unsubscribe();
    expect(events.length).toBeGreaterThan(5);
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it("routes interleaved events of several runs to each run", () => {
    const { store, sent } = harness();
    store.getState().setLadder({ param: "num_waits", values: [0, 2] });
    store.getState().runLadder();
    const [a, b] = sent.map((m) => (m as { key: string }).key);
    const first = new EventScript().think("first run").events;
    const second = new EventScript().think("second run").events;
    store.getState().receive({
      type: "events",
      items: [
        { key: a!, runId: "A", event: first[0]! },
        { key: b!, runId: "B", event: second[0]! },
        { key: b!, runId: "B", event: second[1]! },
        { key: a!, runId: "A", event: first[1]! },
        { key: "someone-else", runId: "C", event: first[1]! },
      ],
    });
    const runs = store.getState().runs;
    expect(segmentText(runs[a!]!.trace.segments[0]!)).toBe("first run");
    expect(segmentText(runs[b!]!.trace.segments[0]!)).toBe("second run");
    expect(runs[a!]!.runId).toBe("A");
    expect(Object.keys(runs)).toHaveLength(2);
  });

  it("refuses to run invalid settings and says why", () => {
    const { store, sent } = harness();
    store.getState().setSettings({ minThinkingTokens: 900, maxThinkingTokens: 512 });
    store.getState().runPlayground();
    expect(sent).toHaveLength(0);
    // The protocol's own words for the rule (budgetProblems), as the server would refuse it.
    expect(store.getState().notice?.text).toMatch(
      /min_thinking_tokens \(900\) is above max_thinking_tokens \(512\)/,
    );
  });

  it("tells the user when the run could not be sent, and keeps no ghost run", () => {
    const { store, connected } = harness();
    connected.value = false;
    store.getState().runPlayground();
    expect(store.getState().runs).toEqual({});
    expect(store.getState().notice?.text).toMatch(/not connected/i);
  });

  it("shows a server refusal on the run it concerns", () => {
    const { store, sent } = harness();
    store.getState().runPlayground();
    const key = (sent[0] as { key: string }).key;
    store.getState().receive({
      type: "error",
      key,
      code: "budget_exceeds_context",
      message: "Lower the budgets.",
    });
    expect(store.getState().runs[key]).toMatchObject({
      status: "error",
      error: { code: "budget_exceeds_context", message: "Lower the budgets." },
    });
    store.getState().receive({ type: "error", code: "bad_json", message: "Not JSON." });
    expect(store.getState().notice).toEqual({ tone: "error", text: "Not JSON. (bad_json)" });
  });

  it("stops a run: sends abort, shows stopping, then the aborted state", () => {
    const { store, sent } = harness();
    store.getState().runPlayground();
    const key = (sent[0] as { key: string }).key;
    store.getState().receive(eventsMessage(key, new EventScript().think("partial").events));
    store.getState().stopRun(key);
    expect(sent[1]).toEqual({ type: "abort", key });
    expect(store.getState().runs[key]?.stopping).toBe(true);
    store
      .getState()
      .receive(eventsMessage(key, new EventScript().finish("aborted").events.slice(1)));
    expect(store.getState().runs[key]).toMatchObject({ status: "aborted", stopping: false });
    expect(segmentText(store.getState().runs[key]!.trace.segments[0]!)).toBe("partial");
  });

  it("marks streaming runs interrupted when the connection drops, keeping their output", () => {
    const { store, sent } = harness();
    store.getState().runPlayground();
    const key = (sent[0] as { key: string }).key;
    store.getState().receive(eventsMessage(key, new EventScript().think("so far").events));
    store.getState().connectionLost();
    const run = store.getState().runs[key]!;
    expect(run.status).toBe("interrupted");
    expect(run.error?.code).toBe("disconnected");
    expect(segmentText(run.trace.segments[0]!)).toBe("so far");
  });

  it("updates a backend's readiness from backend.status", () => {
    const { store } = harness();
    store.getState().receive({
      type: "backend.status",
      backendId: "local",
      readiness: { state: "loading", message: "Downloading model", progress: 0.4 },
    });
    expect(store.getState().backends?.[0]?.readiness).toEqual({
      state: "loading",
      message: "Downloading model",
      progress: 0.4,
    });
    expect(runBlocker(store.getState())).toMatch(/getting ready: Downloading model/);
  });
});

describe("the compare slice", () => {
  it("runs one prompt per rung with the ladder's setting varied", () => {
    const { store, sent } = harness();
    store.getState().setSettings({ prompt: "Q", minThinkingTokens: 200 });
    store.getState().setLadder({ param: "max_thinking_tokens", values: [256, 512, 1024] });
    store.getState().runLadder();
    const specs = sent.map((m) => (m.type === "run" ? m.spec.budget_forcing : null));
    expect(specs.map((bf) => [bf?.max_thinking_tokens, bf?.min_thinking_tokens])).toEqual([
      [256, 200],
      [512, 200],
      [1024, 200],
    ]);
    const comparison = store.getState().comparison!;
    expect(comparison.keys).toHaveLength(3);
    expect(comparison.keys.map((k) => store.getState().runs[k]?.label)).toEqual([
      "cap 256",
      "cap 512",
      "cap 1024",
    ]);
  });

  it("refuses a ladder a value makes invalid, says which rung and why, and sends nothing", () => {
    const { store, sent } = harness();
    store.getState().setSettings({ prompt: "Q", minThinkingTokens: 300 });
    store.getState().setLadder({ param: "max_thinking_tokens", values: [256, 512] });
    store.getState().runLadder();
    expect(sent).toEqual([]);
    expect(store.getState().comparison).toBeNull();
    expect(store.getState().notice?.text).toBe(
      'Rung "cap 256": min_thinking_tokens (300) is above max_thinking_tokens (256).',
    );
  });

  it("replaces the previous comparison and stops its runs", () => {
    const { store, sent } = harness();
    store.getState().setLadder({ param: "num_waits", values: [0, 1] });
    store.getState().runLadder();
    const old = store.getState().comparison!.keys;
    store.getState().runLadder();
    expect(sent.filter((m) => m.type === "abort").map((m) => m.key)).toEqual(old);
    for (const key of old) expect(store.getState().runs[key]).toBeUndefined();
  });
});

describe("the library slice", () => {
  const detail: RunDetail = {
    id: "run-7",
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-01T00:00:01Z",
    status: "completed",
    source: "page",
    backend: "local",
    model: "tiny-reasoner",
    prompt: "How many r's?",
    mode: "chat",
    budgetForcing: { num_waits: 2 },
    sampling: { temperature: 0 },
    summary: null,
    answer: "3",
    error: null,
    experimentId: null,
    renderedPrompt: "<think>\n",
    text: "",
    events: twoWaitRun(),
  };

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens a stored run folded from its events", async () => {
    const { store } = harness(fakeApi({ getRun: async () => detail }));
    await store.getState().openStoredRun("run-7");
    const opened = store.getState().opened!;
    expect(opened.state).toBe("ready");
    expect(opened.trace.waits).toBe(2);
    expect(opened.trace.injections.map((m) => m.kind)).toEqual(["wait", "wait", "end"]);
  });

  it("loads a page of runs and drops a deleted one", async () => {
    const summary = { ...detail, events: undefined };
    const listRuns = vi.fn(async () => ({
      runs: [summary, { ...summary, id: "run-8" }],
      total: 2,
    }));
    const deleteRun = vi.fn(async () => {});
    const { store } = harness(fakeApi({ listRuns, deleteRun }));
    store.getState().setLibraryQuery({ q: "raspberry", status: "completed" });
    await vi.waitFor(() => expect(store.getState().libraryState).toBe("ready"));
    expect(listRuns).toHaveBeenLastCalledWith({
      q: "raspberry",
      model: "",
      status: "completed",
      exclude_source: "experiment",
      limit: 20,
      offset: 0,
    });
    expect(await store.getState().deleteStoredRun("run-7")).toBe(true);
    expect(deleteRun).toHaveBeenCalledWith("run-7");
    expect(store.getState().libraryRuns.map((r) => r.id)).toEqual(["run-8"]);
    expect(store.getState().libraryTotal).toBe(1);
  });

  it("says when the server cannot be reached", async () => {
    const { store } = harness(
      fakeApi({
        backends: async () => {
          throw new ApiError("unreachable", "The Thinkscope server did not answer.", 0);
        },
      }),
    );
    await store.getState().loadBackends();
    expect(store.getState().server).toBe("unreachable");
  });

  it("opens a fresh page on the bundled model's task with the s1 preset, and leaves chosen settings alone", async () => {
    const fresh = harness();
    await fresh.store.getState().loadBackends();
    const settings = fresh.store.getState().settings;
    expect(settings).toMatchObject({ prompt: TINY_REASONER_PROMPT, numWaits: 2, temperature: 0 });
    // Budgets stay at their defaults: the server fits them to the model's small context.
    expect(toRunSpec(settings).budget_forcing?.max_thinking_tokens).toBeUndefined();

    const chosen = harness();
    chosen.store.getState().setSettings({ prompt: "How many r's?" });
    await chosen.store.getState().loadBackends();
    expect(chosen.store.getState().settings.prompt).toBe("How many r's?");

    const other = harness(fakeApi({ backends: async () => [{ ...backend, models: ["qwen3"] }] }));
    await other.store.getState().loadBackends();
    expect(other.store.getState().settings).toEqual(DEFAULT_SETTINGS);
  });
});
