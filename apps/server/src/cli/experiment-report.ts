/**
 * What `thinkscope experiment` shows: a progress bar on stderr while the
 * experiment runs (only on a terminal), and a readable table of the results.
 */
import cliProgress from "cli-progress";
import pc from "picocolors";
import type {
  ExperimentProgressMessage,
  ExperimentResultsDocument,
  SettingResult,
} from "@thinkscope/protocol";

export interface ProgressView {
  update(message: ExperimentProgressMessage): void;
  stop(): void;
}

/** A bar on stderr: runs done of total, failures, requests in flight, tokens, ETA. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        "{bar} {value}/{total} runs | {failed} failed | {inFlight}/{concurrency} in flight | " +
        "{tokens} tokens | {elapsedText} elapsed, {etaText} left",
      hideCursor: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(message) {
      const { progress } = message;
      const payload = {
        failed: progress.failed,
        inFlight: progress.inFlight,
        concurrency: progress.concurrency,
        tokens: progress.tokens,
        elapsedText: duration(progress.elapsedMs),
        etaText:
          message.status !== "running"
            ? "0s"
            : progress.etaMs === null
              ? "?"
              : duration(progress.etaMs),
      };
      if (!started) {
        bar.start(progress.total, progress.done, payload);
        started = true;
      } else bar.update(progress.done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** The results as a table, then the s1 metrics and the throughput, for people. */
export function resultsTable(doc: ExperimentResultsDocument): string {
  const maxK = Math.max(1, ...doc.settings.map((s) => s.pass_at_k.length));
  const header = [
    "setting",
    "accuracy",
    "think tokens",
    "majority",
    "pass@1",
    ...(maxK > 1 ? [`pass@${maxK}`] : []),
    "waits",
    "forced",
  ];
  const rows = doc.settings.map((s: SettingResult) => [
    s.setting.label,
    percent(s.accuracy),
    s.mean_thinking_tokens === null ? "-" : s.mean_thinking_tokens.toFixed(1),
    percent(s.majority_vote_accuracy),
    percent(s.pass_at_k[0] ?? null),
    ...(maxK > 1 ? [percent(s.pass_at_k[maxK - 1] ?? null)] : []),
    s.mean_waits === null ? "-" : s.mean_waits.toFixed(2),
    percent(s.forced_end_rate),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ");
  const { control, scaling, performance } = doc.s1_metrics;
  const { progress, throughput } = doc;
  const lines = [
    pc.bold(line(header)),
    ...rows.map(line),
    "",
    `s1 metrics: Control ${percent(control)} · Scaling ${scaling === null ? "-" : scaling.toFixed(1)} points per doubling of thinking tokens · Performance ${percent(performance)}`,
    `${doc.dataset.problems} problems x ${doc.settings.length} settings x ${doc.samples} samples: ` +
      `${progress.done}/${progress.total} runs done${progress.failed ? `, ${progress.failed} failed` : ""}, ` +
      `${progress.tokens} tokens in ${duration(progress.elapsedMs)}` +
      (throughput
        ? ` · ${throughput.meanInFlight.toFixed(1)} requests in flight on average (bound ${throughput.concurrency})`
        : ""),
  ];
  return lines.join("\n") + "\n";
}

function percent(value: number | null): string {
  return value === null ? "-" : `${(100 * value).toFixed(1)}%`;
}
