import type { RunDetail, RunSource, RunStatus, RunSummary } from "@thinkscope/protocol";
import type { RunQuery } from "../lib/api-client.ts";
import { EMPTY_TRACE, foldAll, type TraceState } from "../lib/trace-fold.ts";
import type { LoadState, Notices, SliceCreator } from "./slice.ts";

export interface LibraryQuery {
  q: string;
  model: string;
  status: RunStatus | "";
  /**
   * Where the runs came from: one source, every run (`any`), or every run but
   * an experiment's (`not-experiment`, the default: one experiment stores
   * hundreds of runs and would bury the rest).
   */
  source: RunSource | "any" | "not-experiment";
  /** One experiment's runs; "" for any. */
  experimentId: string;
  limit: number;
  offset: number;
}

/** The server's query for the library's filters. */
export function runQueryOf(query: LibraryQuery): RunQuery {
  const { source, experimentId, ...rest } = query;
  const wire: RunQuery = { ...rest };
  if (experimentId !== "") wire.experiment_id = experimentId;
  else if (source === "not-experiment") wire.exclude_source = "experiment";
  else if (source !== "any") wire.source = source;
  return wire;
}

export interface OpenedRun {
  id: string;
  state: LoadState;
  detail: RunDetail | null;
  /** The stored events folded (the playback replays them from `detail.events`). */
  trace: TraceState;
  error: string | null;
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
}

export const PAGE_SIZE = 20;

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export const createLibrarySlice: SliceCreator<LibrarySlice, Notices> = (deps) => (set, get) => {
  let loadSeq = 0;

  return {
    libraryQuery: {
      q: "",
      model: "",
      status: "",
      source: "not-experiment",
      experimentId: "",
      limit: PAGE_SIZE,
      offset: 0,
    },
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
        const list = await deps.api.listRuns(runQueryOf(get().libraryQuery));
        if (seq !== loadSeq) return; // a newer query is on its way
        set({ libraryRuns: list.runs, libraryTotal: list.total, libraryState: "ready" });
      } catch (error) {
        if (seq !== loadSeq) return;
        set({ libraryState: "error", libraryError: message(error) });
      }
    },

    async openStoredRun(id) {
      set({
        opened: {
          id,
          state: "loading",
          detail: null,
          trace: EMPTY_TRACE,
          error: null,
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
  };
};
