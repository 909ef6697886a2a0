import { DEFAULT_LADDER, ladderProblem, ladderRungs, type LadderSettings } from "../lib/ladder.ts";
import { toRunSpec } from "../lib/run-settings.ts";
import { isActive } from "./live-run.ts";
import type { Notices, PreviewState, RunControl, SettingsState, SliceCreator } from "./slice.ts";

export interface Comparison {
  ladder: LadderSettings;
  /** Run keys in ladder order; a rung that could not be sent is left out. */
  keys: string[];
}

export interface CompareSlice {
  /** The ladder being edited (mirrored in the URL as `ladder=num_waits:0,1,2,4`). */
  ladder: LadderSettings;
  /** The comparison last started. */
  comparison: Comparison | null;
  setLadder(ladder: LadderSettings): void;
  /** Run the panel's prompt once per rung, all at once. */
  runLadder(): void;
  stopLadder(): void;
}

type Creator = SliceCreator<CompareSlice, SettingsState & PreviewState & RunControl & Notices>;

export const createCompareSlice: Creator = () => (set, get) => ({
  ladder: { ...DEFAULT_LADDER, values: [...DEFAULT_LADDER.values] },
  comparison: null,
  setLadder: (ladder) => set({ ladder }),

  runLadder() {
    const state = get();
    const { ladder } = state;
    const rungs = ladderRungs(toRunSpec(state.settings), ladder);
    const problem = ladderProblem(rungs, state.contextRoom);
    if (problem) {
      state.setNotice({ tone: "error", text: problem });
      return;
    }
    if (rungs.length === 0) return;
    if (state.comparison) state.forgetRuns(state.comparison.keys);
    const keys: string[] = [];
    for (const { label, spec } of rungs) {
      const key = get().startRun(spec, { group: "compare", label });
      if (key === null) break; // not connected: a notice already says so
      keys.push(key);
    }
    set({ comparison: keys.length > 0 ? { ladder: { ...ladder }, keys } : null });
    if (keys.length > 0) get().setNotice(null);
  },

  stopLadder() {
    const state = get();
    for (const key of state.comparison?.keys ?? []) {
      if (isActive(state.runs[key])) state.stopRun(key);
    }
  },
});
