import { create } from "zustand";
import type { InjectionMark } from "./trace-fold.ts";

/**
 * The injection the pointer (or keyboard focus) is on, shared by its chip in
 * the text and its marker on the chart so each lights the other. One pointer
 * per page, so one page-wide value; marks are compared by identity, so only
 * the chart of the same trace answers.
 */
export const useMarkHighlight = create<{
  mark: InjectionMark | null;
  highlight(mark: InjectionMark | null): void;
}>()((set) => ({
  mark: null,
  highlight: (mark) => set({ mark }),
}));
