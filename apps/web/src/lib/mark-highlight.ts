import { create } from "zustand";
import type { InjectionMark } from "./trace-fold.ts";

/** Where the pointer (or focus) is that lights a mark: its chip in the text, or its marker on the chart. */
export type HighlightSource = "text" | "chart";

/**
 * The injection the pointer (or keyboard focus) is on, shared by its chip in
 * the text and its marker on the chart so each lights the other. One pointer
 * per page, so one page-wide value; marks are compared by identity, so only
 * the chart of the same trace answers. `from` says which side the pointer is
 * on: a marker pointed at on the chart also scrolls its chip into view.
 */
export const useMarkHighlight = create<{
  mark: InjectionMark | null;
  from: HighlightSource | null;
  highlight(mark: InjectionMark | null, from?: HighlightSource): void;
}>()((set) => ({
  mark: null,
  from: null,
  highlight: (mark, from = "text") => set({ mark, from: mark ? from : null }),
}));
