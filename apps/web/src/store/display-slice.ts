import type { PlaybackOptions } from "../lib/playback.ts";
import type { ShadeBy } from "../lib/trace-fold.ts";
import type { SliceCreator } from "./slice.ts";

export type ThemeChoice = "system" | "light" | "dark";

export interface DisplaySlice {
  theme: ThemeChoice;
  /** Larger type and a single column, for the back of a room. */
  projector: boolean;
  /** How runs play in the view (live and replayed): speed and holding at each intervention. */
  playback: PlaybackOptions;
  /** Shade the thinking (by `shadeBy`), where the run's backend reports it. */
  shading: boolean;
  /** What the shading shows: the stop pressure or each token's entropy. */
  shadeBy: ShadeBy;
  setTheme(theme: ThemeChoice): void;
  setProjector(on: boolean): void;
  setPlayback(patch: Partial<PlaybackOptions>): void;
  setShading(on: boolean): void;
  setShadeBy(by: ShadeBy): void;
}

export const createDisplaySlice: SliceCreator<DisplaySlice> = () => (set) => ({
  theme: "system",
  projector: false,
  playback: { speed: 1, pauseAtInterventions: false },
  shading: false,
  shadeBy: "pressure",
  setTheme: (theme) => set({ theme }),
  setProjector: (projector) => set({ projector }),
  setPlayback: (patch) => set((state) => ({ playback: { ...state.playback, ...patch } })),
  setShading: (shading) => set({ shading }),
  setShadeBy: (shadeBy) => set({ shadeBy }),
});
