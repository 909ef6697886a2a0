import type {
  ExperimentDetail,
  ExperimentPresetInfo,
  ExperimentProgressMessage,
  ExperimentSummary,
} from "@thinkscope/protocol";
import {
  buildCreateRequest,
  DEFAULT_DRAFT,
  DEFAULT_PRESET_ID,
  validateDraft,
  type ExperimentDraft,
} from "../lib/experiment-draft.ts";
import { createExperimentsApi, type ExperimentsApi } from "../lib/experiments-api.ts";
import type { ConnectionState, LoadState, SliceCreator } from "./slice.ts";

/** The experiment the page shows in detail (`#/experiments/<id>`). */
export interface OpenedExperiment {
  id: string;
  state: LoadState;
  /** With its results, computed by the server over the items done when it was fetched. */
  detail: ExperimentDetail | null;
  error: string | null;
  /** When the shown progress arrived (`deps.now()`), so elapsed time and time left count on between messages. */
  receivedAt: number;
}

export type ExperimentAction = "create" | "cancel" | "resume" | "delete";

export interface ExperimentsSlice {
  /** null until `GET /api/experiments/presets` answered. */
  experimentPresets: ExperimentPresetInfo[] | null;
  experimentDraft: ExperimentDraft;
  experimentList: ExperimentSummary[];
  experimentTotal: number;
  experimentListState: LoadState;
  experimentListError: string | null;
  experiment: OpenedExperiment | null;
  /** An action on its way to the server; its buttons wait for it. */
  experimentBusy: { action: ExperimentAction; id: string | null } | null;
  /** Why the last action failed (create refused, cancel too late...). */
  experimentError: string | null;
  setExperimentDraft(patch: Partial<ExperimentDraft>): void;
  loadExperimentPresets(): Promise<void>;
  loadExperiments(): Promise<void>;
  /** Validates the draft and starts it; the new experiment's id, or null (the error says why). */
  createExperiment(): Promise<string | null>;
  openExperiment(id: string): Promise<void>;
  closeExperiment(): void;
  /** Fetches the opened experiment again (progress, results). */
  refreshExperiment(): Promise<void>;
  cancelExperiment(id: string): Promise<boolean>;
  resumeExperiment(id: string): Promise<boolean>;
  deleteExperiment(id: string): Promise<boolean>;
  /** A `experiment.progress` message from the WebSocket. */
  applyExperimentProgress(message: ExperimentProgressMessage): void;
}

/**
 * Results are recomputed by the server over every stored item, so while an
 * experiment runs they are fetched again at most this often (progress
 * itself arrives live over the WebSocket).
 */
export const RESULTS_REFRESH_MS = 2_000;
export const EXPERIMENT_LIST_LIMIT = 100;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Progress only moves forward within a session: keep whichever of two snapshots is further along. */
function further(a: ExperimentSummary, b: ExperimentSummary): boolean {
  const reached = (s: ExperimentSummary) => s.progress.done + s.progress.failed;
  return reached(a) > reached(b);
}

type Creator = SliceCreator<ExperimentsSlice, ConnectionState>;

export const createExperimentsSlice: Creator = (deps) => (set, get, api) => {
  const experiments: ExperimentsApi = deps.experiments ?? createExperimentsApi();
  /** Experiments the server sends this page progress for, on the current connection. */
  const subscribed = new Set<string>();
  let listSeq = 0;
  let detailSeq = 0;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let lastFetchAt = Number.NEGATIVE_INFINITY;
  /** done + failed of the detail last fetched: newer progress means its results are behind. */
  let fetchedReached = -1;

  const clearRefresh = () => {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = null;
  };

  /**
   * Follow the opened experiment (once it is known to exist: an unknown id
   * would only earn an error message) and every running one in the list.
   */
  const syncSubscriptions = () => {
    const state = get();
    const wanted = new Set<string>();
    if (state.experiment?.detail) wanted.add(state.experiment.id);
    for (const e of state.experimentList) if (e.status === "running") wanted.add(e.id);
    if (state.socket.state !== "open") return;
    for (const id of subscribed) {
      if (wanted.has(id)) continue;
      deps.send({ type: "experiment.unsubscribe", experimentId: id });
      subscribed.delete(id);
    }
    for (const id of wanted) {
      if (subscribed.has(id)) continue;
      if (deps.send({ type: "experiment.subscribe", experimentId: id })) subscribed.add(id);
    }
  };

  // A new connection knows nothing of this page's subscriptions (the server may have restarted).
  api.subscribe((state, previous) => {
    if (state.socket.state === previous.socket.state) return;
    if (state.socket.state !== "open") {
      subscribed.clear();
      return;
    }
    syncSubscriptions();
    // Progress could not arrive while disconnected; what the server holds now is the truth.
    if (state.experiment) void get().refreshExperiment();
  });

  const scheduleRefresh = () => {
    if (refreshTimer !== null) return;
    const wait = Math.max(0, lastFetchAt + RESULTS_REFRESH_MS - deps.now());
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void get().refreshExperiment();
    }, wait);
  };

  const replaceInList = (detail: ExperimentSummary) =>
    set((state) => ({
      experimentList: state.experimentList.map((e) => (e.id === detail.id ? summaryOf(detail) : e)),
    }));

  /** An action's answer: the experiment as the server now has it. */
  const applyDetail = (detail: ExperimentDetail) => {
    if (get().experiment?.id === detail.id) {
      fetchedReached = reachedOf(detail);
      lastFetchAt = deps.now();
      set({
        experiment: { id: detail.id, state: "ready", detail, error: null, receivedAt: deps.now() },
      });
    }
    replaceInList(detail);
  };

  const busy = (action: ExperimentAction, id: string | null) =>
    set({ experimentBusy: { action, id }, experimentError: null });

  return {
    experimentPresets: null,
    experimentDraft: DEFAULT_DRAFT,
    experimentList: [],
    experimentTotal: 0,
    experimentListState: "idle",
    experimentListError: null,
    experiment: null,
    experimentBusy: null,
    experimentError: null,

    setExperimentDraft(patch) {
      set((state) => ({
        experimentDraft: { ...state.experimentDraft, ...patch },
        experimentError: null,
      }));
    },

    async loadExperimentPresets() {
      let presets: ExperimentPresetInfo[];
      try {
        presets = await experiments.presets();
      } catch {
        // A server without presets still runs experiments: the form starts on the generator.
        presets = [];
      }
      set((state) => {
        const draft = state.experimentDraft;
        const preferred = presets.find((p) => p.id === DEFAULT_PRESET_ID) ?? presets[0];
        // The bundled model's preset is what a first visit should run, unless the user chose otherwise.
        if (draft.datasetTouched || !preferred) return { experimentPresets: presets };
        return {
          experimentPresets: presets,
          experimentDraft: { ...draft, datasetKind: "preset", presetId: preferred.id },
        };
      });
    },

    async loadExperiments() {
      const seq = ++listSeq;
      set({ experimentListState: "loading", experimentListError: null });
      try {
        const list = await experiments.list({ limit: EXPERIMENT_LIST_LIMIT });
        if (seq !== listSeq) return;
        set({
          experimentList: list.experiments,
          experimentTotal: list.total,
          experimentListState: "ready",
        });
        syncSubscriptions();
      } catch (error) {
        if (seq !== listSeq) return;
        set({ experimentListState: "error", experimentListError: message(error) });
      }
    },

    async createExperiment() {
      const state = get();
      const problems = Object.values(validateDraft(state.experimentDraft, state.experimentPresets));
      if (problems.length > 0) {
        set({ experimentError: `Fix the form first: ${problems.join(" ")}` });
        return null;
      }
      busy("create", null);
      try {
        const detail = await experiments.create(buildCreateRequest(state.experimentDraft));
        clearRefresh();
        fetchedReached = reachedOf(detail);
        lastFetchAt = deps.now();
        set((s) => ({
          experimentBusy: null,
          experiment: {
            id: detail.id,
            state: "ready",
            detail,
            error: null,
            receivedAt: deps.now(),
          },
          experimentList: [
            summaryOf(detail),
            ...s.experimentList.filter((e) => e.id !== detail.id),
          ],
          experimentTotal: s.experimentTotal + 1,
        }));
        syncSubscriptions();
        return detail.id;
      } catch (error) {
        set({ experimentBusy: null, experimentError: message(error) });
        return null;
      }
    },

    async openExperiment(id) {
      const current = get().experiment;
      if (current?.id !== id) {
        clearRefresh();
        fetchedReached = -1;
        set({
          experiment: { id, state: "loading", detail: null, error: null, receivedAt: deps.now() },
          experimentError: null,
        });
      }
      await get().refreshExperiment();
    },

    closeExperiment() {
      clearRefresh();
      detailSeq += 1;
      set({ experiment: null });
      syncSubscriptions();
    },

    async refreshExperiment() {
      const opened = get().experiment;
      if (!opened) return;
      const { id } = opened;
      const seq = ++detailSeq;
      clearRefresh();
      lastFetchAt = deps.now();
      try {
        const detail = await experiments.get(id);
        if (seq !== detailSeq || get().experiment?.id !== id) return;
        fetchedReached = reachedOf(detail);
        set((state) => {
          const shown = state.experiment?.detail;
          // A progress message newer than this answer may already be on screen: keep it.
          const keep =
            shown &&
            shown.status === "running" &&
            detail.status === "running" &&
            further(shown, detail);
          const next: ExperimentDetail = keep
            ? { ...detail, progress: shown.progress, status: shown.status, error: shown.error }
            : detail;
          const receivedAt = keep ? state.experiment!.receivedAt : deps.now();
          return { experiment: { id, state: "ready", detail: next, error: null, receivedAt } };
        });
        replaceInList(get().experiment!.detail!);
        syncSubscriptions();
      } catch (error) {
        if (seq !== detailSeq || get().experiment?.id !== id) return;
        set((state) => ({
          experiment: state.experiment
            ? // A failed refresh keeps what is shown; only a first load becomes an error.
              state.experiment.detail
              ? state.experiment
              : { ...state.experiment, state: "error", error: message(error) }
            : null,
        }));
      }
    },

    async cancelExperiment(id) {
      busy("cancel", id);
      try {
        const detail = await experiments.cancel(id);
        set({ experimentBusy: null });
        applyDetail(detail);
        return true;
      } catch (error) {
        set({ experimentBusy: null, experimentError: `Cancel failed: ${message(error)}` });
        return false;
      }
    },

    async resumeExperiment(id) {
      busy("resume", id);
      try {
        const detail = await experiments.resume(id);
        set({ experimentBusy: null });
        applyDetail(detail);
        syncSubscriptions();
        return true;
      } catch (error) {
        set({ experimentBusy: null, experimentError: `Resume failed: ${message(error)}` });
        return false;
      }
    },

    async deleteExperiment(id) {
      busy("delete", id);
      try {
        await experiments.delete(id);
      } catch (error) {
        set({ experimentBusy: null, experimentError: `Delete failed: ${message(error)}` });
        return false;
      }
      if (get().experiment?.id === id) get().closeExperiment();
      set((state) => ({
        experimentBusy: null,
        experimentList: state.experimentList.filter((e) => e.id !== id),
        experimentTotal: Math.max(0, state.experimentTotal - 1),
      }));
      syncSubscriptions();
      return true;
    },

    applyExperimentProgress(progress) {
      const { experimentId: id } = progress;
      const before = get().experiment;
      const previousStatus = before?.id === id ? before.detail?.status : undefined;
      set((state) => {
        const patch = {
          status: progress.status,
          progress: progress.progress,
          error: progress.error,
        };
        const listed = state.experimentList.some((e) => e.id === id);
        const opened = state.experiment?.id === id && state.experiment.detail;
        if (!listed && !opened) return state;
        return {
          experimentList: listed
            ? state.experimentList.map((e) => (e.id === id ? { ...e, ...patch } : e))
            : state.experimentList,
          experiment:
            opened && state.experiment?.detail
              ? {
                  ...state.experiment,
                  detail: { ...state.experiment.detail, ...patch },
                  receivedAt: deps.now(),
                }
              : state.experiment,
        };
      });
      if (progress.status !== "running") syncSubscriptions();
      if (before?.id !== id || !before.detail) return;
      const reached = progress.progress.done + progress.progress.failed;
      if (previousStatus === "running" && progress.status !== "running") {
        // The session ended: the final results, now.
        void get().refreshExperiment();
      } else if (reached !== fetchedReached) {
        scheduleRefresh();
      }
    },
  };
};

function reachedOf(detail: ExperimentSummary): number {
  return detail.progress.done + detail.progress.failed;
}

/** The list's record of an experiment (a detail carries more). */
function summaryOf(detail: ExperimentSummary): ExperimentSummary {
  const { id, name, createdAt, updatedAt, status, preset, dataset, backend, model } = detail;
  const { settings, samples, progress, error } = detail;
  return {
    id,
    name,
    createdAt,
    updatedAt,
    status,
    preset,
    dataset,
    backend,
    model,
    settings,
    samples,
    progress,
    error,
  };
}
