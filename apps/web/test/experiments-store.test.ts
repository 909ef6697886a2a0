import { afterEach, describe, expect, it, vi } from "vitest";
import type {
  ClientMessage,
  ExperimentCreate,
  ExperimentDetail,
  ExperimentPresetInfo,
  ExperimentProgressMessage,
} from "@thinkscope/protocol";
import { ApiError, type ApiClient } from "../src/lib/api-client.ts";
import type { ExperimentsApi } from "../src/lib/experiments-api.ts";
import { createAppStore, type AppStore } from "../src/store/app-store.ts";
import { RESULTS_REFRESH_MS } from "../src/store/experiments-slice.ts";
import { experimentDetail, progress } from "./experiment-fixtures.ts";

const TINY: ExperimentPresetInfo = {
  id: "tiny-reasoner",
  title: "Tiny reasoner",
  description: "The bundled model on its held-out problems.",
};

interface Harness {
  store: AppStore;
  sent: ClientMessage[];
  api: ExperimentsApi & { calls: string[]; created: ExperimentCreate[] };
  now: { value: number };
}

/** A store with a fake experiments API that serves `details` by id and records every call. */
function harness(
  details: Record<string, ExperimentDetail> = {},
  overrides: Partial<ExperimentsApi> = {},
): Harness {
  const sent: ClientMessage[] = [];
  const now = { value: 0 };
  const calls: string[] = [];
  const created: ExperimentCreate[] = [];
  const api = {
    calls,
    created,
    presets: async () => [TINY],
    list: async () => {
      calls.push("list");
      return { experiments: Object.values(details), total: Object.keys(details).length };
    },
    get: async (id: string) => {
      calls.push(`get ${id}`);
      const detail = details[id];
      if (!detail)
        throw new ApiError("experiment_not_found", `No experiment with id "${id}".`, 404);
      return detail;
    },
    create: async (request: ExperimentCreate) => {
      created.push(request);
      const detail = experimentDetail("new-1");
      details["new-1"] = detail;
      return detail;
    },
    cancel: async (id: string) => {
      calls.push(`cancel ${id}`);
      return { ...details[id]!, status: "cancelled" as const };
    },
    resume: async (id: string) => {
      calls.push(`resume ${id}`);
      return { ...details[id]!, status: "running" as const };
    },
    delete: async (id: string) => {
      calls.push(`delete ${id}`);
      delete details[id];
    },
    ...overrides,
  };
  const store = createAppStore({
    api: {} as ApiClient,
    experiments: api,
    send: (message) => {
      sent.push(message);
      return true;
    },
    reconnect: () => {},
    now: () => now.value,
  });
  store.setState({ socket: { state: "open", attempt: 0, retryInMs: null }, server: "ok" });
  return { store, sent, api, now };
}

function progressMessage(
  experimentId: string,
  values: Partial<ExperimentProgressMessage> & { done?: number } = {},
): ExperimentProgressMessage {
  const { done = 0, ...rest } = values;
  return {
    type: "experiment.progress",
    experimentId,
    status: "running",
    progress: progress({ done, pending: 12 - done }),
    error: null,
    ...rest,
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the experiments store", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("opens an experiment: loads it with its results and follows its progress on the socket", async () => {
    const { store, sent } = harness({ "exp-1": experimentDetail("exp-1") });
    await store.getState().openExperiment("exp-1");
    const opened = store.getState().experiment!;
    expect(opened.state).toBe("ready");
    expect(opened.detail?.results.settings).toHaveLength(2);
    expect(sent).toEqual([{ type: "experiment.subscribe", experimentId: "exp-1" }]);

    store.getState().closeExperiment();
    expect(store.getState().experiment).toBeNull();
    expect(sent.at(-1)).toEqual({ type: "experiment.unsubscribe", experimentId: "exp-1" });
  });

  it("says why an experiment cannot be opened", async () => {
    const { store, sent } = harness();
    await store.getState().openExperiment("nope");
    expect(store.getState().experiment).toMatchObject({
      state: "error",
      error: 'No experiment with id "nope".',
    });
    // Nothing to follow: the server would only answer with an error.
    expect(sent).toEqual([]);
  });

  it("applies progress from the WebSocket to the opened experiment and to the list", async () => {
    const { store } = harness({ "exp-1": experimentDetail("exp-1") });
    await store.getState().loadExperiments();
    await store.getState().openExperiment("exp-1");
    store.setState({ socket: { state: "open", attempt: 0, retryInMs: null } });

    store.getState().receive(progressMessage("exp-1", { done: 5 }));
    expect(store.getState().experiment?.detail?.progress.done).toBe(5);
    expect(store.getState().experimentList[0]?.progress.done).toBe(5);
    // Another experiment's progress changes nothing here.
    store.getState().receive(progressMessage("exp-other", { done: 9 }));
    expect(store.getState().experiment?.detail?.progress.done).toBe(5);
  });

  it("fetches the results again as items finish, at most every RESULTS_REFRESH_MS", async () => {
    vi.useFakeTimers();
    const details = { "exp-1": experimentDetail("exp-1") };
    const { store, api, now } = harness(details);
    await store.getState().openExperiment("exp-1");
    expect(api.calls).toEqual(["get exp-1"]);

    // Three items finish in quick succession: one refresh, after the interval.
    details["exp-1"] = experimentDetail("exp-1", { progress: progress({ done: 3, pending: 9 }) });
    for (const done of [1, 2, 3]) {
      store.getState().applyExperimentProgress(progressMessage("exp-1", { done }));
    }
    expect(api.calls).toEqual(["get exp-1"]);
    now.value = RESULTS_REFRESH_MS;
    await vi.advanceTimersByTimeAsync(RESULTS_REFRESH_MS);
    expect(api.calls).toEqual(["get exp-1", "get exp-1"]);

    // Progress that finished nothing new (only the running count changed) fetches nothing.
    store.getState().applyExperimentProgress({
      ...progressMessage("exp-1", { done: 3 }),
      progress: progress({ done: 3, running: 2, pending: 7 }),
    });
    await vi.advanceTimersByTimeAsync(RESULTS_REFRESH_MS * 2);
    expect(api.calls).toHaveLength(2);
  });

  it("fetches the final results at once when the experiment stops running", async () => {
    const details = { "exp-1": experimentDetail("exp-1") };
    const { store, api } = harness(details);
    await store.getState().openExperiment("exp-1");
    details["exp-1"] = experimentDetail("exp-1", {
      status: "completed",
      progress: progress({ done: 12, pending: 0 }),
    });
    store.getState().applyExperimentProgress(
      progressMessage("exp-1", {
        status: "completed",
        progress: progress({ done: 12, pending: 0 }),
      }),
    );
    expect(store.getState().experiment?.detail?.status).toBe("completed");
    await flush();
    expect(api.calls).toEqual(["get exp-1", "get exp-1"]);
    expect(store.getState().experiment?.detail?.progress.done).toBe(12);
  });

  it("keeps newer progress from the socket when a slower results fetch returns older progress", async () => {
    vi.useFakeTimers();
    let release: (() => void) | undefined;
    const first = experimentDetail("exp-1");
    const stale = experimentDetail("exp-1", { progress: progress({ done: 2, pending: 10 }) });
    let gets = 0;
    const { store } = harness(
      {},
      {
        get: async () => {
          gets += 1;
          if (gets === 1) return first;
          return new Promise<ExperimentDetail>((resolve) => (release = () => resolve(stale)));
        },
      },
    );
    await store.getState().openExperiment("exp-1");
    const refreshing = store.getState().refreshExperiment();
    store.getState().applyExperimentProgress(progressMessage("exp-1", { done: 7 }));
    release!();
    await refreshing;
    expect(store.getState().experiment?.detail?.progress.done).toBe(7);
    // The results it brought are shown all the same.
    expect(store.getState().experiment?.detail?.results).toBe(stale.results);
  });

  it("follows running experiments in the list, and subscribes again on a new connection", async () => {
    const { store, sent } = harness({
      running: experimentDetail("running"),
      done: experimentDetail("done", { status: "completed" }),
    });
    await store.getState().loadExperiments();
    expect(sent).toEqual([{ type: "experiment.subscribe", experimentId: "running" }]);

    // The server restarted: a new connection knows no subscriptions.
    store.getState().setSocketStatus({ state: "reconnecting", attempt: 1, retryInMs: 500 });
    store.getState().setSocketStatus({ state: "open", attempt: 0, retryInMs: null });
    expect(sent.filter((m) => m.type === "experiment.subscribe")).toHaveLength(2);

    // Once it stops running there is nothing more to follow.
    store.getState().applyExperimentProgress(progressMessage("running", { status: "interrupted" }));
    expect(sent.at(-1)).toEqual({ type: "experiment.unsubscribe", experimentId: "running" });
    expect(store.getState().experimentList.find((e) => e.id === "running")?.status).toBe(
      "interrupted",
    );
  });

  it("preselects the tiny-reasoner preset, unless the user chose a dataset", async () => {
    const first = harness();
    await first.store.getState().loadExperimentPresets();
    expect(first.store.getState().experimentDraft).toMatchObject({
      datasetKind: "preset",
      presetId: "tiny-reasoner",
    });

    const touched = harness();
    touched.store.getState().setExperimentDraft({ datasetKind: "upload", datasetTouched: true });
    await touched.store.getState().loadExperimentPresets();
    expect(touched.store.getState().experimentDraft.datasetKind).toBe("upload");

    const old = harness({}, { presets: async () => Promise.reject(new Error("404")) });
    await old.store.getState().loadExperimentPresets();
    expect(old.store.getState().experimentPresets).toEqual([]);
  });

  it("refuses to start an invalid form and says why, without calling the server", async () => {
    const { store, api } = harness();
    store.getState().setExperimentDraft({ datasetKind: "generator", numWaits: "0, x" });
    expect(await store.getState().createExperiment()).toBeNull();
    expect(store.getState().experimentError).toMatch(/"x" is not a whole number/);
    expect(api.created).toEqual([]);
  });

  it("starts an experiment: opens it, lists it first and follows it", async () => {
    const { store, api, sent } = harness();
    store.getState().setExperimentDraft({ datasetKind: "generator", numWaits: "0, 2" });
    expect(await store.getState().createExperiment()).toBe("new-1");
    expect(api.created[0]).toMatchObject({
      dataset: { generator: { count: 20, digits: 3, seed: 0 } },
      sweep: { num_waits: [0, 2] },
    });
    expect(store.getState().experiment).toMatchObject({ id: "new-1", state: "ready" });
    expect(store.getState().experimentList.map((e) => e.id)).toEqual(["new-1"]);
    expect(sent).toEqual([{ type: "experiment.subscribe", experimentId: "new-1" }]);
  });

  it("shows the server's refusal of a new experiment", async () => {
    const { store } = harness(
      {},
      {
        create: async () => {
          throw new ApiError(
            "dataset_path_not_allowed",
            "The server reads datasets only from /data; /etc/x is elsewhere.",
            400,
          );
        },
      },
    );
    store.getState().setExperimentDraft({ datasetKind: "path", path: "/etc/x" });
    expect(await store.getState().createExperiment()).toBeNull();
    expect(store.getState().experimentError).toBe(
      "The server reads datasets only from /data; /etc/x is elsewhere.",
    );
    expect(store.getState().experimentBusy).toBeNull();
  });

  it("cancels, resumes and deletes, keeping the list and the opened experiment in step", async () => {
    const { store, api } = harness({ "exp-1": experimentDetail("exp-1") });
    await store.getState().loadExperiments();
    await store.getState().openExperiment("exp-1");

    expect(await store.getState().cancelExperiment("exp-1")).toBe(true);
    expect(store.getState().experiment?.detail?.status).toBe("cancelled");
    expect(store.getState().experimentList[0]?.status).toBe("cancelled");

    expect(await store.getState().resumeExperiment("exp-1")).toBe(true);
    expect(store.getState().experiment?.detail?.status).toBe("running");

    expect(await store.getState().deleteExperiment("exp-1")).toBe(true);
    expect(store.getState().experiment).toBeNull();
    expect(store.getState().experimentList).toEqual([]);
    expect(api.calls).toContain("delete exp-1");
  });

  it("keeps the experiment when the server refuses an action, and says why", async () => {
    const { store } = harness(
      { "exp-1": experimentDetail("exp-1") },
      {
        delete: async () => {
          throw new ApiError(
            "experiment_running",
            "Experiment exp-1 is running; cancel it first.",
            409,
          );
        },
      },
    );
    await store.getState().loadExperiments();
    expect(await store.getState().deleteExperiment("exp-1")).toBe(false);
    expect(store.getState().experimentError).toBe(
      "Delete failed: Experiment exp-1 is running; cancel it first.",
    );
    expect(store.getState().experimentList).toHaveLength(1);
  });
});
