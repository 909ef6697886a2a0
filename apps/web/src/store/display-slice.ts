import type { PlaybackOptions } from "../lib/playback.ts";
import type { SliceCreator } from "./slice.ts";

export type ThemeChoice = "system" | "light" | "dark";

export interface DisplaySlice {
  theme: ThemeChoice;
  /** Larger type and a single column, for the back of a room. */
  projector: boolean;
  /** How runs play in the view (live and replayed): speed and holding at each intervention. */
  playback: PlaybackOptions;
  /** Shade the thinking by the model's probability of closing it, where the backend reports it. */
  shading: boolean;
  setTheme(theme: ThemeChoice): void;
  setProjector(on: boolean): void;
  setPlayback(patch: Partial<PlaybackOptions>): void;
  setShading(on: boolean): void;
}

export const createDisplaySlice: SliceCreator<DisplaySlice> = () => (set) => ({
  theme: "system",
  projector: false,
  playback: { speed: 1, pauseAtInterventions: false },
  shading: false,
  setTheme: (theme) => set({ theme }),
  setProjector: (projector) => set({ projector }),
  setPlayback: (patch) => set((state) => ({ playback: { ...state.playback, ...patch } })),
  setShading: (shading) => set({ shading }),
});
