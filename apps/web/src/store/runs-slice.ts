import type { EngineEvent, ServerMessage } from "@thinkscope/protocol";
import { toRunSpec, validateSettings } from "../lib/run-settings.ts";
import { EMPTY_TRACE, foldEvents, type TraceState } from "../lib/trace-fold.ts";
import { isActive, TERMINAL, type LiveRun, type LiveRunStatus, type RunGroup } from "./live-run.ts";
import {
  errorNotice,
  type Notices,
  type PreviewState,
  type RunControl,
  type SettingsState,
  type SliceCreator,
} from "./slice.ts";

/** The server's messages about one run of this page. */
export type RunMessage = Extract<ServerMessage, { type: "events" | "run.accepted" | "error" }>;

export interface RunsSlice extends RunControl {
  playgroundKey: string | null;
  /** Run the panel's settings in the playground (Run button, Ctrl+Enter). */
  runPlayground(): void;
  /** Apply one message about a run: a whole batch of events is one state update. */
  receiveRunMessage(message: RunMessage): void;
  /** The WebSocket closed: runs still streaming are marked interrupted, their output kept. */
  connectionLost(): void;
}

let keyCounter = 0;
function newKey(group: RunGroup): string {
  keyCounter += 1;
  return `${group}-${Date.now().toString(36)}-${keyCounter}-${Math.random().toString(36).slice(2, 6)}`;
}

/** The status a run has after its trace changed. */
function statusOf(run: LiveRun, trace: TraceState): LiveRunStatus {
  if (trace.finish) {
    switch (trace.finish.reason) {
      case "stop":
      case "length":
        return "completed";
      case "aborted":
        return "aborted";
      case "error":
        return "error";
    }
  }
  if (TERMINAL.has(run.status)) return run.status;
  return "running";
}

type Creator = SliceCreator<RunsSlice, SettingsState & PreviewState & Notices>;

export const createRunsSlice: Creator = (deps) => (set, get) => ({
  runs: {},
  playgroundKey: null,

  startRun(spec, { group, label = "" }) {
    const key = newKey(group);
    const run: LiveRun = {
      key,
      runId: null,
      spec,
      group,
      label,
      status: "sending",
      stopping: false,
      trace: EMPTY_TRACE,
      events: [],
      error: null,
    };
    // Add before sending so no reply can arrive for a run the store does not know.
    set((state) => ({ runs: { ...state.runs, [key]: run } }));
    if (!deps.send({ type: "run", key, spec })) {
      set((state) => {
        const { [key]: _dropped, ...runs } = state.runs;
        return { runs };
      });
      get().setNotice({
        tone: "error",
        text: "Not connected to the Thinkscope server, so the run was not sent. Reconnecting; try again once the status says connected.",
      });
      return null;
    }
    return key;
  },

  runPlayground() {
    const state = get();
    const problems = Object.values(
      validateSettings(state.settings, state.contextRoom, state.refusal),
    );
    if (problems.length > 0) {
      state.setNotice({ tone: "error", text: `Fix the settings first: ${problems.join(" ")}` });
      return;
    }
    const previous = state.playgroundKey;
    if (previous && isActive(state.runs[previous])) state.stopRun(previous);
    const key = state.startRun(toRunSpec(state.settings), { group: "playground" });
    if (key === null) return;
    set((s) => {
      // Keep only the new playground run: a finished one is in the library.
      const runs = { ...s.runs };
      if (previous && previous !== key && !isActive(runs[previous])) delete runs[previous];
      return { runs, playgroundKey: key };
    });
    state.setNotice(null);
  },

  stopRun(key) {
    const run = get().runs[key];
    if (!isActive(run)) return;
    const sent = deps.send({ type: "abort", key });
    set((state) => {
      const current = state.runs[key];
      if (!current) return state;
      const next: LiveRun = sent
        ? { ...current, stopping: true }
        : {
            ...current,
            status: "interrupted",
            error: {
              code: "disconnected",
              message: "The connection was lost before the run could be stopped.",
            },
          };
      return { runs: { ...state.runs, [key]: next } };
    });
  },

  receiveRunMessage(message) {
    switch (message.type) {
      case "events": {
        const byKey = new Map<string, { runId: string; events: EngineEvent[] }>();
        for (const item of message.items) {
          const entry = byKey.get(item.key);
          if (entry) entry.events.push(item.event);
          else byKey.set(item.key, { runId: item.runId, events: [item.event] });
        }
        set((state) => {
          let runs: Record<string, LiveRun> | null = null;
          for (const [key, { runId, events }] of byKey) {
            const run = state.runs[key];
            if (!run) continue; // a run this page has since dropped
            const trace = foldEvents(run.trace, events);
            const status = statusOf(run, trace);
            runs ??= { ...state.runs };
            runs[key] = {
              ...run,
              runId: run.runId ?? runId,
              trace,
              events: run.events.concat(events),
              status,
              stopping: run.stopping && !TERMINAL.has(status),
              error: trace.error
                ? { code: trace.error.code, message: trace.error.message }
                : run.error,
            };
          }
          return runs ? { runs } : state;
        });
        break;
      }
      case "run.accepted":
        set((state) => {
          const run = state.runs[message.key];
          if (!run) return state;
          const status = run.status === "sending" ? "running" : run.status;
          return {
            runs: { ...state.runs, [message.key]: { ...run, runId: message.runId, status } },
          };
        });
        break;
      case "error": {
        const run = message.key === undefined ? undefined : get().runs[message.key];
        if (run) {
          set((state) => ({
            runs: {
              ...state.runs,
              [run.key]: {
                ...run,
                status: "error",
                stopping: false,
                error: { code: message.code, message: message.message },
              },
            },
          }));
        } else {
          get().setNotice(errorNotice(message)); // a run this page has since dropped
        }
        break;
      }
    }
  },

  connectionLost() {
    set((state) => {
      let runs: Record<string, LiveRun> | null = null;
      for (const run of Object.values(state.runs)) {
        if (!isActive(run)) continue;
        runs ??= { ...state.runs };
        runs[run.key] = {
          ...run,
          status: "interrupted",
          stopping: false,
          error: {
            code: "disconnected",
            message:
              "The connection to the server dropped while the run was streaming. What arrived is kept here; the server stores runs as they go, so the Library may hold more.",
          },
        };
      }
      return runs ? { runs } : state;
    });
  },

  forgetRuns(keys) {
    for (const key of keys) get().stopRun(key);
    set((state) => {
      const runs = { ...state.runs };
      for (const key of keys) delete runs[key];
      return {
        runs,
        playgroundKey: keys.includes(state.playgroundKey ?? "") ? null : state.playgroundKey,
      };
    });
  },
});
