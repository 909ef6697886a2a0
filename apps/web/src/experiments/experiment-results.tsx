import { lazy, memo, useId, useMemo, useState } from "react";
import type { ExperimentDetail, ExperimentResults } from "@thinkscope/protocol";
import { runColor } from "../components/chart/chart-colors.ts";
import { formatCount } from "../lib/format.ts";
import { ChartFigure } from "./chart-figure.tsx";
import {
  metricsView,
  passAtKCrossover,
  passAtKKey,
  passAtKRows,
  passAtKSeries,
  scalingPoints,
  sequentialParallelSeries,
  sweepLines,
  shortLabel,
} from "./experiment-chart-data.ts";
import { PARALLEL_COLOR, SEQUENTIAL_COLOR } from "./experiment-colors.ts";
import { resultsUrl } from "../lib/experiments-api.ts";
import { ProblemTable } from "./problem-table.tsx";

// recharts loads with the first figure, not with the experiments tab.
const loadCharts = () => import("./experiment-charts.tsx");
const ScalingChart = lazy(() => loadCharts().then((m) => ({ default: m.ScalingChart })));
const SequentialParallelChart = lazy(() =>
  loadCharts().then((m) => ({ default: m.SequentialParallelChart })),
);
const PassAtKChart = lazy(() => loadCharts().then((m) => ({ default: m.PassAtKChart })));

const percent = (fraction: number | null, digits = 1) =>
  fraction === null ? "–" : `${(fraction * 100).toFixed(digits)}%`;

function Metrics({ results }: { results: ExperimentResults }) {
  const graded = results.settings.map((s) => s.samples).filter((n) => n > 0);
  const metrics = metricsView(results.s1_metrics, graded.length > 0 ? Math.min(...graded) : null);
  return (
    <aside className="panel exp-metrics" aria-label="The s1 paper's metrics">
      <h3>s1 metrics</h3>
      <dl>
        {metrics.map((m) => (
          <div key={m.name} className="exp-metric" data-metric={m.name.toLowerCase()}>
            <dt>{m.name}</dt>
            <dd className="value">{m.value}</dd>
            <dd className="definition">{m.definition}</dd>
            {m.caveat && (
              <dd className="definition caveat" data-testid={`caveat-${m.name.toLowerCase()}`}>
                {m.caveat}
              </dd>
            )}
          </div>
        ))}
      </dl>
      <p className="hint">
        As defined in the s1 paper (Muennighoff et al. 2025, section 3.2). Budget forcing there:
        Control 100%, Scaling 15, Performance 56.7 on AIME24.
      </p>
    </aside>
  );
}

function SettingsTable({ results }: { results: ExperimentResults }) {
  const maxK = Math.max(0, ...results.settings.map((s) => s.pass_at_k.length));
  return (
    <section className="panel" aria-label="Results per setting">
      <div className="exp-table-scroll">
        <table className="run-table">
          <caption className="visually-hidden">Results per setting</caption>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col" className="num">
                Accuracy
              </th>
              <th scope="col" className="num">
                Thinking tokens
              </th>
              <th scope="col" className="num">
                Majority vote
              </th>
              {maxK > 1 && (
                <th scope="col" className="num">
                  pass@{maxK}
                </th>
              )}
              <th scope="col" className="num">
                Waits
              </th>
              <th scope="col" className="num">
                Cut short
              </th>
              <th scope="col" className="num">
                Within budget
              </th>
              <th scope="col" className="num">
                Samples
              </th>
            </tr>
          </thead>
          <tbody>
            {results.settings.map((s, index) => (
              <tr key={index}>
                <th scope="row" title={s.setting.label}>
                  <span
                    className="swatch"
                    style={{ background: runColor(s.setting.index ?? index) }}
                    aria-hidden="true"
                  />
                  {shortLabel(s.setting)}
                </th>
                <td className="num">{percent(s.accuracy)}</td>
                <td className="num">{formatCount(s.mean_thinking_tokens)}</td>
                <td className="num">{percent(s.majority_vote_accuracy)}</td>
                {maxK > 1 && <td className="num">{percent(s.pass_at_k[maxK - 1] ?? null)}</td>}
                <td className="num">{s.mean_waits === null ? "–" : s.mean_waits.toFixed(2)}</td>
                <td className="num">{percent(s.forced_end_rate, 0)}</td>
                <td className="num">{percent(s.within_budget, 0)}</td>
                <td className="num">{formatCount(s.samples)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** How each sweep line is drawn (the chart's dashes, in order), for the legend. */
const LINE_STYLE_NAMES = ["solid", "dashed", "dotted", "dash-dot"] as const;

function ScalingFigure({ id, results }: { id: string; results: ExperimentResults }) {
  const points = useMemo(() => scalingPoints(results), [results]);
  const lines = useMemo(() => sweepLines(points), [points]);
  const legend = useMemo(
    () => [
      ...lines.map((line, index) => ({
        label: `${LINE_STYLE_NAMES[index % LINE_STYLE_NAMES.length]} line: ${line.label}`,
        color: "var(--sequential-line)",
      })),
      ...points.map((p) => ({ label: p.label, color: runColor(p.setting) })),
    ],
    [points, lines],
  );
  return (
    <ChartFigure
      title="Accuracy against thinking tokens"
      testId="chart-scaling"
      fileName={`${id}-accuracy-vs-thinking-tokens`}
      description="Each setting's accuracy over all its samples against the thinking tokens it spent on average, as in the s1 paper's scaling figures."
      legend={legend}
      summary={`Accuracy against average thinking tokens: ${points
        .map((p) => `${p.label} ${p.accuracy.toFixed(1)}% at ${Math.round(p.tokens)} tokens`)
        .join("; ")}.`}
    >
      <ScalingChart points={points} lines={lines} />
    </ChartFigure>
  );
}

function SequentialParallelFigure({ id, results }: { id: string; results: ExperimentResults }) {
  const selectId = useId();
  const [chosen, setChosen] = useState<number | null>(null);
  const series = useMemo(() => sequentialParallelSeries(results, chosen), [results, chosen]);
  const votingLabel = series.choices.find((c) => c.setting === series.parallelSetting)?.label;
  const legend = [
    {
      label: `budget forcing (sequential): one sample per setting${
        series.sequentialLabel ? `, ${series.sequentialLabel}` : ""
      }`,
      color: SEQUENTIAL_COLOR,
    },
    {
      label: `majority vote (parallel) over n samples${votingLabel ? ` of ${votingLabel}` : ""}`,
      color: PARALLEL_COLOR,
    },
  ];
  return (
    <ChartFigure
      title="Sequential against parallel scaling"
      testId="chart-sequential-parallel"
      fileName={`${id}-sequential-vs-parallel`}
      description="At equal thinking-token cost per problem: budget forcing spends its tokens in one longer trace, majority vote spends them on n shorter samples (cost = n x the setting's mean)."
      legend={legend}
      summary={`Budget forcing: ${series.sequential
        .map((p) => `${p.accuracy.toFixed(1)}% at ${Math.round(p.tokens)} tokens`)
        .join(", ")}. Majority vote: ${series.parallel
        .map((p) => `${p.label} ${p.accuracy.toFixed(1)}% at ${Math.round(p.tokens)} tokens`)
        .join(", ")}.`}
      controls={
        series.choices.length > 1 && (
          <>
            <label htmlFor={selectId} className="hint">
              Vote over
            </label>
            <select
              id={selectId}
              value={series.parallelSetting ?? ""}
              onChange={(event) => setChosen(Number(event.target.value))}
            >
              {series.choices.map((c) => (
                <option key={c.setting} value={c.setting}>
                  {c.label}
                </option>
              ))}
            </select>
          </>
        )
      }
    >
      <SequentialParallelChart sequential={series.sequential} parallel={series.parallel} />
    </ChartFigure>
  );
}

function PassAtKFigure({
  id,
  results,
  samples,
}: {
  id: string;
  results: ExperimentResults;
  samples: number;
}) {
  const rows = useMemo(() => passAtKRows(results), [results]);
  const series = useMemo(() => passAtKSeries(results), [results]);
  const crossover = useMemo(() => passAtKCrossover(rows, series), [rows, series]);
  const legend = useMemo(
    () => series.map((s) => ({ label: s.label, color: runColor(s.setting) })),
    [series],
  );
  return (
    <ChartFigure
      title="pass@k"
      testId="chart-pass-at-k"
      fileName={`${id}-pass-at-k`}
      description={
        <>
          The chance that at least one of k samples is right, for k = 1 to n, with the unbiased
          estimator 1 − C(n−c, k) / C(n, k) averaged over problems (Yue et al. 2025).
          {samples <= 1 && " One sample per problem gives pass@1 only: run several samples."}
        </>
      }
      legend={legend}
      summary={`pass@k for k = 1 to ${rows.length}: ${series
        .map((s) => {
          const last = rows.at(-1)?.[passAtKKey(s.setting)];
          return `${s.label} pass@${rows.length} ${last === undefined ? "–" : `${last.toFixed(1)}%`}`;
        })
        .join("; ")}.${
        crossover
          ? ` The curves cross at k = ${crossover.k}: ${crossover.overtaker.label} overtakes ${crossover.overtaken.label}.`
          : ""
      }`}
    >
      <PassAtKChart rows={rows} series={series} crossover={crossover} />
    </ChartFigure>
  );
}

/** The results: three figures, the s1 metrics, a table per setting and per problem, and exports. */
export const ExperimentResultsView = memo(function ExperimentResultsView({
  detail,
}: {
  detail: ExperimentDetail;
}) {
  const { results, progress } = detail;
  const graded = results.settings.reduce((sum, s) => sum + s.samples, 0);
  if (graded === 0) {
    return (
      <section className="panel empty-state" aria-label="Results">
        <h2>No results yet</h2>
        <p>The charts appear as soon as the first items are graded.</p>
      </section>
    );
  }
  return (
    <section className="exp-results" aria-label="Results">
      <div className="exp-results-head">
        <h2>Results</h2>
        <span className="hint" role="status">
          {results.complete
            ? `All ${formatCount(progress.total)} items graded.`
            : `Partial: ${formatCount(graded)} of ${formatCount(progress.total)} items graded; the charts follow as items finish.`}
        </span>
        <nav className="inline exp-exports" aria-label="Export results">
          <a className="button small" href={resultsUrl(detail.id, "csv-settings")} download>
            CSV per setting
          </a>
          <a className="button small" href={resultsUrl(detail.id, "csv-items")} download>
            CSV per run
          </a>
          <a className="button small" href={resultsUrl(detail.id, "json")} download>
            JSON
          </a>
        </nav>
      </div>
      <div className="exp-figure-row">
        <ScalingFigure id={detail.id} results={results} />
        <Metrics results={results} />
      </div>
      <div className="exp-chart-grid">
        <SequentialParallelFigure id={detail.id} results={results} />
        <PassAtKFigure id={detail.id} results={results} samples={detail.samples} />
      </div>
      <SettingsTable results={results} />
      <ProblemTable problems={results.problems} settings={results.settings} />
    </section>
  );
});
