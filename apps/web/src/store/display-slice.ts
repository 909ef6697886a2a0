import type { SliceCreator } from "./slice.ts";

export type ThemeChoice = "system" | "light" | "dark";

export interface DisplaySlice {
  theme: ThemeChoice;
  /** Larger type and a single column, for the back of a room. */
  projector: boolean;
  setTheme(theme: ThemeChoice): void;
  setProjector(on: boolean): void;
}

export const createDisplaySlice: SliceCreator<DisplaySlice> = () => (set) => ({
  theme: "system",
  projector: false,
  setTheme: (theme) => set({ theme }),
  setProjector: (projector) => set({ projector }),
});
