import type { InjectionKind } from "@thinkscope/protocol";

/** The same CSS variables as the marks in the text (styles/app.css), so a glance links the two. */
export const INJECTION_COLOR: Record<InjectionKind, string> = {
  wait: "var(--wait-line)",
  forced_end: "var(--forced-line)",
  end: "var(--end-line)",
  budget_message: "var(--method-line)",
  elimination: "var(--method-line)",
};

export const INJECTION_SHORT: Record<InjectionKind, string> = {
  wait: "W",
  forced_end: "cut",
  end: "end",
  budget_message: "msg",
  elimination: "not",
};

/** Run colours for comparisons: none of them amber, red or green, which mean injections. */
export const RUN_PALETTE = [
  "#3b6fe0",
  "#9b4ddb",
  "#0891b2",
  "#db2777",
  "#6366f1",
  "#78869c",
  "#c026d3",
  "#0e7490",
];

export function runColor(index: number): string {
  return RUN_PALETTE[index % RUN_PALETTE.length]!;
}
