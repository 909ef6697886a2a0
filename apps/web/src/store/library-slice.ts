import type { EngineEvent, RunDetail, RunStatus, RunSummary } from "@thinkscope/protocol";
import { EMPTY_TRACE, foldAll, foldEvents, type TraceState } from "../lib/trace-fold.ts";
import type { LoadState, Notices, SliceCreator } from "./slice.ts";

export interface LibraryQuery {
  q: string;
  model: string;
  status: RunStatus | "";
  limit: number;
  offset: number;
}

export interface OpenedRun {
  id: string;
  state: LoadState;
  detail: RunDetail | null;
  /** The stored events folded: all of them, or as far as an animated replay has got. */
  trace: TraceState;
  error: string | null;
  replay: { playing: boolean; speed: number; position: number };
}

export interface LibrarySlice {
  libraryQuery: LibraryQuery;
  libraryRuns: RunSummary[];
  libraryTotal: number;
  libraryState: LoadState;
  libraryError: string | null;
  /** The outcome of the last import, for the status line. */
  importMessage: string | null;
  opened: OpenedRun | null;
  setLibraryQuery(patch: Partial<LibraryQuery>): void;
  loadRuns(): Promise<void>;
  openStoredRun(id: string): Promise<void>;
  closeStoredRun(): void;
  deleteStoredRun(id: string): Promise<boolean>;
  importRuns(jsonl: string): Promise<void>;
  /** Replay the opened run's events at `speed` times the recorded pace. */
  playReplay(speed: number): void;
  /** Stop an animated replay and show the whole run. */
  finishReplay(): void;
}

export const PAGE_SIZE = 20;
/** Replays apply events on the same cadence as the server's live batches. */
export const REPLAY_TICK_MS = 50;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const createLibrarySlice: SliceCreator<LibrarySlice, Notices> = (deps) => (set, get) => {
  let replayTimer: ReturnType<typeof setTimeout> | null = null;
  let loadSeq = 0;

  const stopTimer = () => {
    if (replayTimer !== null) clearTimeout(replayTimer);
    replayTimer = null;
  };

  return {
    libraryQuery: { q: "", model: "", status: "", limit: PAGE_SIZE, offset: 0 },
    libraryRuns: [],
    libraryTotal: 0,
    libraryState: "idle",
    libraryError: null,
    importMessage: null,
    opened: null,

    setLibraryQuery(patch) {
      // Any change of filter goes back to the first page.
      const offset = patch.offset ?? 0;
      set((state) => ({ libraryQuery: { ...state.libraryQuery, ...patch, offset } }));
      void get().loadRuns();
    },

    async loadRuns() {
      const seq = ++loadSeq;
      set({ libraryState: "loading", libraryError: null });
      try {
        const list = await deps.api.listRuns(get().libraryQuery);
        if (seq !== loadSeq) return; // a newer query is on its way
        set({ libraryRuns: list.runs, libraryTotal: list.total, libraryState: "ready" });
      } catch (error) {
        if (seq !== loadSeq) return;
        set({ libraryState: "error", libraryError: message(error) });
      }
    },

    async openStoredRun(id) {
      stopTimer();
      set({
        opened: {
          id,
          state: "loading",
          detail: null,
          trace: EMPTY_TRACE,
          error: null,
          replay: { playing: false, speed: 1, position: 0 },
        },
      });
      try {
        const detail = await deps.api.getRun(id);
        if (get().opened?.id !== id) return;
        set({
          opened: {
            id,
            state: "ready",
            detail,
            trace: foldAll(detail.events),
            error: null,
            replay: { playing: false, speed: 1, position: detail.events.length },
          },
        });
      } catch (error) {
        if (get().opened?.id !== id) return;
        set((state) =>
          state.opened
            ? { opened: { ...state.opened, state: "error", error: message(error) } }
            : state,
        );
      }
    },

    closeStoredRun() {
      stopTimer();
      set({ opened: null });
    },

    async deleteStoredRun(id) {
      try {
        await deps.api.deleteRun(id);
      } catch (error) {
        get().setNotice({ tone: "error", text: `The run could not be deleted: ${message(error)}` });
        return false;
      }
      if (get().opened?.id === id) get().closeStoredRun();
      set((state) => ({
        libraryRuns: state.libraryRuns.filter((run) => run.id !== id),
        libraryTotal: Math.max(0, state.libraryTotal - 1),
      }));
      return true;
    },

    async importRuns(jsonl) {
      set({ importMessage: "Importing…" });
      try {
        const result = await deps.api.importRuns(jsonl);
        const count = typeof result.imported === "number" ? result.imported : null;
        set({
          importMessage:
            count === null ? "Imported." : `Imported ${count} run${count === 1 ? "" : "s"}.`,
        });
        await get().loadRuns();
      } catch (error) {
        set({ importMessage: `Import failed: ${message(error)}` });
      }
    },

    playReplay(speed) {
      const opened = get().opened;
      const events = opened?.detail?.events;
      if (!opened || !events) return;
      stopTimer();
      const startedAt = deps.now();
      let position = 0;
      let trace: TraceState = EMPTY_TRACE;
      const tick = () => {
        const current = get().opened;
        if (!current || current.id !== opened.id) return;
        const elapsed = (deps.now() - startedAt) * speed;
        const batch: EngineEvent[] = [];
        while (position < events.length && (events[position]?.time ?? 0) <= elapsed) {
          batch.push(events[position]!);
          position += 1;
        }
        trace = foldEvents(trace, batch);
        const playing = position < events.length;
        set({ opened: { ...current, trace, replay: { playing, speed, position } } });
        replayTimer = playing ? setTimeout(tick, REPLAY_TICK_MS) : null;
      };
      tick();
    },

    finishReplay() {
      stopTimer();
      set((state) => {
        const opened = state.opened;
        if (!opened?.detail) return state;
        const events = opened.detail.events;
        return {
          opened: {
            ...opened,
            trace: foldAll(events),
            replay: { ...opened.replay, playing: false, position: events.length },
          },
        };
      });
    },
  };
};
