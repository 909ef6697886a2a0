import type { LiveRun } from "../../store/live-run.ts";

function statusText(run: LiveRun): string {
  switch (run.status) {
    case "sending":
      return "Sending…";
    case "running":
      if (run.stopping) return "Stopping…";
      return run.trace.phase === "answer" ? "Answering…" : "Thinking…";
    case "completed":
      return run.trace.finish?.reason === "length"
        ? "Finished: the answer reached max_answer_tokens."
        : "Finished.";
    case "aborted":
      return "Stopped. What was generated is kept.";
    case "error":
      return `Error: ${run.error?.message ?? "the run failed."}${run.error ? ` (${run.error.code})` : ""}`;
    case "interrupted":
      return `Interrupted: ${run.error?.message ?? "the connection dropped."}`;
  }
}

/** The run's state in words, announced to screen readers when it changes (not on every token). */
export function RunStatusLine({ run, idleText }: { run: LiveRun | null; idleText: string }) {
  return (
    <div className="run-status" data-status={run?.status ?? "idle"}>
      <span className="state" role="status" aria-live="polite">
        {run ? statusText(run) : idleText}
      </span>
      {run?.runId && (
        <a href={`#/library/${encodeURIComponent(run.runId)}`} className="hint">
          stored as {run.runId}
        </a>
      )}
      {run?.status === "error" && run.trace.error?.retryable && (
        <span className="hint">Trying again may help.</span>
      )}
    </div>
  );
}
