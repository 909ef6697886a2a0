import { memo } from "react";
import type { ShadeBy, TraceState } from "../lib/trace-fold.ts";
import { LiveTokenChart } from "./chart/lazy-charts.tsx";
import { LiveNumbers } from "./stats/live-numbers.tsx";
import { StatsPanel } from "./stats/stats-panel.tsx";
import { TraceView } from "./trace/trace-view.tsx";

/** A run's numbers, trace, chart and stats: the same view live, in a replay, and for a stored run. */
export const RunResult = memo(function RunResult({
  trace,
  live,
  reference,
  shading = null,
}: {
  trace: TraceState;
  live: boolean;
  /** The known right answer, for a right/wrong badge. */
  reference?: string | null;
  /** What the thinking is shaded by; null: not shaded. */
  shading?: ShadeBy | null;
}) {
  return (
    <>
      <LiveNumbers trace={trace} />
      <section className="panel" aria-label="Trace">
        <TraceView trace={trace} live={live} reference={reference ?? null} shading={shading} />
      </section>
      <div className="chart-and-stats">
        <section className="panel chart-panel" aria-labelledby="chart-title">
          <h2 className="panel-title" id="chart-title" style={{ padding: "0 0 0.4rem" }}>
            Tokens over time
          </h2>
          <LiveTokenChart trace={trace} live={live} />
        </section>
        <StatsPanel trace={trace} />
      </div>
    </>
  );
});
