import { memo, useEffect, useState } from "react";
import type {
  ExperimentStatus,
  ExperimentSummary,
  ExperimentThroughput,
} from "@thinkscope/protocol";
import { formatCount, formatMs } from "../lib/format.ts";
import { useApp } from "../store/app-store.ts";

/** What the status means for the user, and what Resume would do. */
export function statusMessage(summary: Pick<ExperimentSummary, "status" | "error" | "progress">): {
  tone: "info" | "warn" | "error" | "ok";
  text: string;
} {
  const { status, error, progress } = summary;
  const left = progress.pending + progress.failed + progress.running;
  switch (status) {
    case "running":
      return { tone: "info", text: "Running." };
    case "completed":
      return { tone: "ok", text: "Completed: every item is done." };
    case "interrupted":
      return {
        tone: "warn",
        text: `Interrupted: the server stopped or restarted while this experiment ran. Resume continues where it stopped: the ${formatCount(progress.done)} finished items are kept and only the ${formatCount(left)} left run.`,
      };
    case "cancelled":
      return {
        tone: "warn",
        text: `Cancelled. Resume continues where it stopped: ${formatCount(left)} items are left.`,
      };
    case "failed":
      return {
        tone: "error",
        text: `Stopped with failed items${error ? `: ${error.message} (${error.code}).` : "."} Resume retries the ${formatCount(progress.failed)} failed and ${formatCount(progress.pending)} pending items.`,
      };
  }
}

export const RESUMABLE: ReadonlySet<ExperimentStatus> = new Set([
  "failed",
  "cancelled",
  "interrupted",
]);

/** Seconds tick on screen between progress messages (the server sends them as items change). */
function useTicking(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function Big({
  label,
  value,
  sub,
  testId,
}: {
  label: string;
  value: string;
  sub?: string;
  testId: string;
}) {
  return (
    <div className="live-number exp-number">
      <div className="label">{label}</div>
      <div className="value" data-testid={testId}>
        {value}
      </div>
      <div className="sub">{sub ?? "\u00a0"}</div>
    </div>
  );
}

/**
 * An experiment's progress, live from `experiment.progress` messages: items
 * done, running, failed and pending, tokens, time spent and left, with
 * cancel and resume.
 */
export const ExperimentProgressPanel = memo(function ExperimentProgressPanel({
  summary,
  receivedAt,
  throughput = null,
}: {
  summary: ExperimentSummary;
  /** When this progress arrived (performance.now() time). */
  receivedAt: number;
  /** The last session's requests in flight, to show the backend was kept busy. */
  throughput?: ExperimentThroughput | null;
}) {
  const { progress, status, id } = summary;
  const busy = useApp((s) => (s.experimentBusy?.id === id ? s.experimentBusy.action : null));
  const cancel = useApp((s) => s.cancelExperiment);
  const resume = useApp((s) => s.resumeExperiment);
  const running = status === "running";

  // The elapsed time and the time left count on between messages, from when the last one came.
  const now = useTicking(running);
  const since = running ? Math.max(0, now - receivedAt) : 0;
  const elapsed = progress.elapsedMs + since;
  const eta = progress.etaMs === null ? null : Math.max(0, progress.etaMs - since);

  const finished = progress.done + progress.failed;
  const fraction = progress.total === 0 ? 0 : finished / progress.total;
  const message = statusMessage(summary);

  return (
    <section className="panel exp-progress" aria-label="Progress" data-status={status}>
      <div className="exp-progress-head">
        <span className="status-tag" data-status={status} data-testid="experiment-status">
          {status}
        </span>
        <span className="exp-progress-text" role="status" aria-live="polite">
          {message.text}
        </span>
        <div className="inline exp-progress-actions">
          {running && (
            <button
              type="button"
              className="danger"
              disabled={busy !== null}
              onClick={() => void cancel(id)}
            >
              {busy === "cancel" ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {RESUMABLE.has(status) && (
            <button
              type="button"
              className="primary"
              disabled={busy !== null}
              onClick={() => void resume(id)}
            >
              {busy === "resume" ? "Resuming…" : "Resume"}
            </button>
          )}
        </div>
      </div>
      <div className="exp-bar">
        <progress
          max={Math.max(1, progress.total)}
          value={finished}
          aria-label={`Items finished: ${formatCount(finished)} of ${formatCount(progress.total)}`}
          data-testid="experiment-progress-bar"
        />
        <span className="hint">{Math.floor(fraction * 100)}%</span>
      </div>
      <div className="exp-numbers">
        <Big
          label="Done"
          value={formatCount(progress.done)}
          sub={`of ${formatCount(progress.total)} items`}
          testId="experiment-done"
        />
        <Big
          label="Running"
          value={formatCount(progress.running)}
          sub={
            running || !throughput
              ? `${progress.inFlight} of ${progress.concurrency} requests in flight`
              : `${throughput.meanInFlight.toFixed(1)} of ${throughput.concurrency} in flight on average`
          }
          testId="experiment-running"
        />
        <Big
          label="Failed"
          value={formatCount(progress.failed)}
          {...(progress.failed > 0 && summary.error ? { sub: summary.error.code } : {})}
          testId="experiment-failed"
        />
        <Big label="Pending" value={formatCount(progress.pending)} testId="experiment-pending" />
        <Big
          label="Tokens used"
          value={formatCount(progress.tokens)}
          sub={`${formatCount(progress.thinkingTokens)} thinking`}
          testId="experiment-tokens"
        />
        <Big label="Elapsed" value={formatMs(elapsed)} testId="experiment-elapsed" />
        <Big
          label="Time left"
          value={running ? (eta === null ? "estimating…" : formatMs(eta)) : "–"}
          testId="experiment-eta"
        />
      </div>
    </section>
  );
});
