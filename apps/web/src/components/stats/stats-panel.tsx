import { memo } from "react";
import { tokensPerSecond } from "../../lib/chart-data.ts";
import { formatCount, formatMs, formatRate } from "../../lib/format.ts";
import type { TraceState } from "../../lib/trace-fold.ts";

/**
 * Everything the engine reports about a run. Live values are the page's
 * running counts; once `run.finished` arrives they are the engine's stats.
 */
export const StatsPanel = memo(function StatsPanel({ trace }: { trace: TraceState }) {
  const stats = trace.finish?.stats;
  const thinkingMs =
    stats?.thinkingMs ?? trace.closedAtMs ?? (trace.eventCount > 0 ? trace.lastTime : null);
  const rows: [string, string][] = [
    ["Thinking tokens generated", formatCount(trace.thinkingGenerated)],
    ["Injected in thinking (waits)", formatCount(trace.thinkingInjected)],
    ["Close and lead-in", formatCount(trace.closeTokens)],
    ["Answer tokens", formatCount(trace.answerTokens)],
    ["Tokens / s", formatRate(tokensPerSecond(trace))],
    ["Time to first token", formatMs(trace.firstTokenMs)],
    ["Thinking time", formatMs(thinkingMs)],
    [
      "Answer time",
      formatMs(
        stats?.answerMs ?? (trace.closedAtMs !== null ? trace.lastTime - trace.closedAtMs : null),
      ),
    ],
    ["Waits", String(trace.waits)],
    ["Forced close", trace.forcedEnd ? "yes" : "no"],
    ["Upstream requests", formatCount(stats?.upstreamRequests)],
    ["Re-prefilled prompt tokens", formatCount(stats?.reprefilledTokens)],
    ["Cached prompt tokens", formatCount(stats?.cachedPromptTokens)],
    ["Prompt tokens", formatCount(trace.start?.promptTokens)],
  ];
  return (
    <section className="panel stats" aria-labelledby="stats-title">
      <div className="inline" style={{ justifyContent: "space-between" }}>
        <h2 className="panel-title" id="stats-title" style={{ padding: 0 }}>
          Stats
        </h2>
        {trace.eventCount > 0 && <ExactBadge exact={trace.tokenCountsExact} />}
      </div>
      <dl>
        {rows.map(([term, value]) => (
          <div key={term} style={{ display: "contents" }}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
});

export function ExactBadge({ exact }: { exact: boolean }) {
  return exact ? (
    <span
      className="badge"
      data-on="true"
      title="Counted from the exact token ids the backend returned."
    >
      exact counts
    </span>
  ) : (
    <span
      className="badge"
      data-tone="warn"
      title="This backend gives no token ids: counts come from its usage figures or an estimate."
    >
      approximate counts
    </span>
  );
}
