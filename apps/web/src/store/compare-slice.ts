import { DEFAULT_LADDER, ladderRungs, rungLabel, type LadderSettings } from "../lib/ladder.ts";
import { toRunSpec, validateSettings } from "../lib/run-settings.ts";
import { isActive } from "./live-run.ts";
import type { Notices, RunControl, SettingsState, SliceCreator } from "./slice.ts";

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

type Creator = SliceCreator<CompareSlice, SettingsState & RunControl & Notices>;

export const createCompareSlice: Creator = () => (set, get) => ({
  ladder: { ...DEFAULT_LADDER, values: [...DEFAULT_LADDER.values] },
  comparison: null,
  setLadder: (ladder) => set({ ladder }),

  runLadder() {
    const state = get();
    const { ladder } = state;
    const rungs = ladderRungs(state.settings, ladder);
    for (const [index, rung] of rungs.entries()) {
      const problems = Object.values(validateSettings(rung));
      if (problems.length > 0) {
        const label = rungLabel(ladder.param, ladder.values[index] ?? 0);
        state.setNotice({ tone: "error", text: `Rung "${label}": ${problems.join(" ")}` });
        return;
      }
    }
    if (rungs.length === 0) return;
    if (state.comparison) state.forgetRuns(state.comparison.keys);
    const keys: string[] = [];
    for (const [index, rung] of rungs.entries()) {
      const label = rungLabel(ladder.param, ladder.values[index] ?? 0);
      const key = get().startRun(toRunSpec(rung), { group: "compare", label });
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
