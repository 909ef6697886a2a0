import type { EngineEvent, RunSpec } from "@thinkscope/protocol";
import type { TraceState } from "../lib/trace-fold.ts";

export type LiveRunStatus =
  "sending" | "running" | "completed" | "aborted" | "error" | "interrupted";

export type RunGroup = "playground" | "compare" | "lab";

/** A run this page started and is following over the WebSocket. */
export interface LiveRun {
  /** Chosen by the page; matches the server's replies to this run. */
  key: string;
  /** The server's id, once it accepted the run. */
  runId: string | null;
  spec: RunSpec;
  group: RunGroup;
  /** Shown above the run in comparisons ("2 waits"). */
  label: string;
  status: LiveRunStatus;
  /** The user pressed Stop and the server has not confirmed yet. */
  stopping: boolean;
  trace: TraceState;
  /** Every event so far, in order: what a slowed-down view plays from while the run streams on. */
  events: readonly EngineEvent[];
  /** Why the run ended badly (server refusal, engine error, lost connection). */
  error: { code: string; message: string } | null;
}

export const TERMINAL: ReadonlySet<LiveRunStatus> = new Set([
  "completed",
  "aborted",
  "error",
  "interrupted",
]);

export function isActive(run: LiveRun | undefined): boolean {
  return run !== undefined && !TERMINAL.has(run.status);
}
