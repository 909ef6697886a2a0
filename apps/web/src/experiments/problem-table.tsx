import { memo, useId, useMemo, useState } from "react";
import type { ProblemRow, ProblemSettingCell, SettingResult } from "@thinkscope/protocol";
import { runColor } from "../components/chart/chart-colors.ts";
import { routeHref } from "../lib/hash-route.ts";
import { filterProblems, shortLabel, type ProblemFilter } from "./experiment-chart-data.ts";

/** Rows per page: a 200-problem preset with 8 settings and 4 samples is 6,400 answer links. */
export const PROBLEMS_PER_PAGE = 25;
const PROBLEM_PREVIEW_CHARS = 140;

const FILTERS: { value: ProblemFilter; label: string }[] = [
  { value: "all", label: "All problems" },
  { value: "differs", label: "Where the settings differ" },
  { value: "unsolved", label: "Never solved" },
  { value: "solved", label: "Always solved" },
];

function rate(cell: ProblemSettingCell): "all" | "some" | "none" | "pending" {
  if (cell.samples === 0) return "pending";
  if (cell.correct === cell.samples) return "all";
  return cell.correct === 0 ? "none" : "some";
}

const Cell = memo(function Cell({
  cell,
  settingLabel,
  problemIndex,
}: {
  cell: ProblemSettingCell;
  settingLabel: string;
  problemIndex: number;
}) {
  if (cell.samples === 0) {
    return (
      <td className="exp-cell" data-rate="pending">
        <span className="hint">not run yet</span>
      </td>
    );
  }
  return (
    <td className="exp-cell" data-rate={rate(cell)}>
      <span
        className="exp-score"
        aria-label={`${settingLabel}: ${cell.correct} of ${cell.samples} samples correct`}
      >
        {cell.correct}/{cell.samples}
      </span>
      <span className="exp-answers">
        {cell.answers.map((answer, sample) => {
          const runId = cell.run_ids[sample] ?? null;
          const text = answer ?? "∅";
          const title = `Problem ${problemIndex + 1}, ${settingLabel}, sample ${sample + 1}: ${
            answer === null ? "no answer found" : `answered ${answer}`
          }${runId ? " (open the trace)" : ""}`;
          return runId ? (
            <a key={sample} href={routeHref({ tab: "library", runId })} title={title}>
              {text}
            </a>
          ) : (
            <span key={sample} title={title} className="hint">
              {answer === null ? "–" : text}
            </span>
          );
        })}
      </span>
      {cell.majority_answer !== null && cell.samples > 1 && (
        <span className="exp-majority" data-correct={cell.majority_correct === true}>
          vote: {cell.majority_answer} {cell.majority_correct ? "✓" : "✗"}
        </span>
      )}
    </td>
  );
});

/**
 * Which settings got each problem right (correct samples of those graded),
 * the answers extracted from each sample, each a link to its stored trace.
 */
export const ProblemTable = memo(function ProblemTable({
  problems,
  settings,
}: {
  problems: ProblemRow[];
  settings: SettingResult[];
}) {
  const id = useId();
  const [filter, setFilter] = useState<ProblemFilter>("all");
  const [page, setPage] = useState(0);
  const filtered = useMemo(() => filterProblems(problems, filter), [problems, filter]);
  const pages = Math.max(1, Math.ceil(filtered.length / PROBLEMS_PER_PAGE));
  const current = Math.min(page, pages - 1);
  const shown = filtered.slice(current * PROBLEMS_PER_PAGE, (current + 1) * PROBLEMS_PER_PAGE);
  const labels = useMemo(() => settings.map((s) => shortLabel(s.setting)), [settings]);
  const indexOf = useMemo(() => new Map(problems.map((p, i) => [p, i])), [problems]);

  return (
    <section className="panel exp-problems" aria-labelledby={`${id}-title`}>
      <div className="exp-figure-head">
        <h3 id={`${id}-title`}>Per problem</h3>
        <div className="inline">
          <label htmlFor={`${id}-filter`} className="hint">
            Show
          </label>
          <select
            id={`${id}-filter`}
            value={filter}
            onChange={(event) => {
              setFilter(event.target.value as ProblemFilter);
              setPage(0);
            }}
          >
            {FILTERS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="exp-figure-note">
        Correct samples out of those graded for each setting, the answer extracted from each sample
        (a link to its trace; ∅ means no answer was found) and, with several samples, the majority
        vote.
      </p>
      <div className="exp-table-scroll">
        <table className="run-table exp-problem-table">
          <caption className="visually-hidden">Results per problem and setting</caption>
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              <th scope="col">Problem</th>
              <th scope="col">Reference</th>
              {labels.map((label, index) => (
                <th scope="col" key={index}>
                  <span
                    className="swatch"
                    style={{ background: runColor(settings[index]?.setting.index ?? index) }}
                    aria-hidden="true"
                  />
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => {
              const index = indexOf.get(row) ?? 0;
              return (
                <tr key={row.problem_id}>
                  <td className="num">{index + 1}</td>
                  <td className="exp-problem-text" title={row.problem}>
                    {row.problem.length > PROBLEM_PREVIEW_CHARS
                      ? `${row.problem.slice(0, PROBLEM_PREVIEW_CHARS)}…`
                      : row.problem}
                  </td>
                  <td className="exp-reference">{row.reference}</td>
                  {row.settings.map((cell, s) => (
                    <Cell
                      key={s}
                      cell={cell}
                      settingLabel={labels[s] ?? `setting ${s + 1}`}
                      problemIndex={index}
                    />
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
        {filtered.length === 0 && <p className="hint exp-empty-row">No problem matches.</p>}
      </div>
      {pages > 1 && (
        <nav className="pager" aria-label="Problem pages">
          <button
            type="button"
            className="small"
            disabled={current === 0}
            onClick={() => setPage(current - 1)}
          >
            ← Previous
          </button>
          <span aria-live="polite">
            Problems {current * PROBLEMS_PER_PAGE + 1}–
            {Math.min((current + 1) * PROBLEMS_PER_PAGE, filtered.length)} of {filtered.length}
          </span>
          <button
            type="button"
            className="small"
            disabled={current >= pages - 1}
            onClick={() => setPage(current + 1)}
          >
            Next →
          </button>
        </nav>
      )}
    </section>
  );
});
