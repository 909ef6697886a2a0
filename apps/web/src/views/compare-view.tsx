import { memo, useId, useMemo, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { useApp, useAppStore } from "../store/app-store.ts";
import { runBlocker } from "../store/selectors.ts";
import { isActive } from "../store/live-run.ts";
import {
  defaultLadderValues,
  LADDER_PARAMS,
  ladderProblem,
  ladderRungs,
  parseLadderValues,
  type LadderParam,
} from "../lib/ladder.ts";
import { toRunSpec } from "../lib/run-settings.ts";
import { formatCount, formatMs } from "../lib/format.ts";
import { answerText } from "../lib/trace-fold.ts";
import { useCtrlEnter } from "../lib/use-ctrl-enter.ts";
import { RunPanel } from "../components/run-panel/run-panel.tsx";
import { useSettings } from "../components/run-panel/use-settings.ts";
import { LiveCompareChart } from "../components/chart/lazy-charts.tsx";
import { runColor } from "../components/chart/chart-colors.ts";
import { RunStatusLine } from "../components/status/run-status-line.tsx";
import { AnswerView } from "../components/trace/answer-view.tsx";
import { TraceLegend } from "../components/trace/trace-legend.tsx";
import { TraceView } from "../components/trace/trace-view.tsx";
import { VerdictBadge } from "../components/trace/verdict-badge.tsx";
import { referenceFromPrompt } from "../lib/answer-check.ts";
import { ExactBadge } from "../components/stats/stats-panel.tsx";

/** Why the ladder cannot run (a rung the server would refuse), said before Run is pressed. */
function useLadderProblem(): string | null {
  const settings = useApp((s) => s.settings);
  const ladder = useApp((s) => s.ladder);
  const room = useApp((s) => s.contextRoom);
  return useMemo(
    () => ladderProblem(ladderRungs(toRunSpec(settings), ladder), room),
    [settings, ladder, room],
  );
}

/** Which setting the ladder varies, and its values (editable as "0, 1, 2, 4"). */
function LadderFields() {
  const ladder = useApp((s) => s.ladder);
  const setLadder = useApp((s) => s.setLadder);
  const { room, shown } = useSettings();
  const id = useId();
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? ladder.values.join(", ");
  const parsed = parseLadderValues(text);
  const rungProblem = useLadderProblem();
  const problem = "error" in parsed ? parsed.error : rungProblem;
  return (
    <fieldset>
      <legend>Ladder</legend>
      <div className="field">
        <label htmlFor={`${id}-param`}>Vary</label>
        <select
          id={`${id}-param`}
          value={ladder.param}
          onChange={(event) => {
            const param = event.target.value as LadderParam;
            setDraft(null);
            setLadder({ param, values: defaultLadderValues(param, room, shown.maxAnswerTokens) });
          }}
        >
          {LADDER_PARAMS.map((p) => (
            <option key={p.param} value={p.param}>
              {p.label} ({p.param})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-values`}>Values</label>
        <input
          id={`${id}-values`}
          type="text"
          inputMode="numeric"
          value={text}
          aria-invalid={problem ? true : undefined}
          aria-describedby={`${id}-note`}
          onChange={(event) => {
            const next = event.target.value;
            setDraft(next);
            const result = parseLadderValues(next);
            if ("values" in result) setLadder({ param: ladder.param, values: result.values });
          }}
          onBlur={() => setDraft(null)}
        />
        <span id={`${id}-note`} className={problem ? "problem" : "hint"}>
          {problem ?? "One run per value, all with the prompt and settings below."}
        </span>
      </div>
    </fieldset>
  );
}

function CompareActions() {
  const keys = useApp((s) => s.comparison?.keys);
  const anyActive = useApp((s) => (s.comparison?.keys ?? []).some((key) => isActive(s.runs[key])));
  const blocker = useApp(runBlocker);
  const runLadder = useApp((s) => s.runLadder);
  const stopLadder = useApp((s) => s.stopLadder);
  const count = useApp((s) => s.ladder.values.length);
  const problem = useLadderProblem();
  const reason = blocker ?? problem;
  return (
    <>
      <button
        type="button"
        className="primary"
        onClick={runLadder}
        disabled={reason !== null}
        aria-describedby="ladder-hint"
      >
        Run {count} {count === 1 ? "run" : "runs"}
      </button>
      <button type="button" className="danger" onClick={stopLadder} disabled={!anyActive || !keys}>
        Stop all
      </button>
      <span className="hint" id="ladder-hint">
        {reason ?? (
          <>
            <kbd>Ctrl</kbd>+<kbd>Enter</kbd> runs the ladder
          </>
        )}
      </span>
    </>
  );
}

/** One rung: its numbers, its trace and its final answer. Re-renders only when its own run changes. */
const CompareColumn = memo(function CompareColumn({
  runKey,
  index,
}: {
  runKey: string;
  index: number;
}) {
  const run = useApp((s) => s.runs[runKey]);
  const shading = useApp((s) => (s.shading ? s.shadeBy : null));
  if (!run) return null;
  const trace = run.trace;
  const live = isActive(run);
  const answer = answerText(trace);
  return (
    <article className="panel compare-run" aria-label={`Run ${run.label}`} data-run-key={runKey}>
      <header>
        <h3>
          <span className="swatch" style={{ background: runColor(index) }} aria-hidden="true" />
          {run.label}
        </h3>
        <RunStatusLine run={run} idleText="" />
      </header>
      <div className="compare-numbers">
        <span>
          <strong>{formatCount(trace.thinkingGenerated + trace.thinkingInjected)}</strong> thinking
        </span>
        <span>
          <strong>{trace.waits}</strong> waits
        </span>
        <span>
          <strong>{formatCount(trace.answerTokens)}</strong> answer
        </span>
        <span>{formatMs(trace.closedAtMs ?? (trace.eventCount > 0 ? trace.lastTime : null))}</span>
        {trace.eventCount > 0 && !trace.tokenCountsExact && <ExactBadge exact={false} />}
      </div>
      <TraceView
        trace={trace}
        live={live}
        label={`Trace of ${run.label}`}
        showAnswer={false}
        shading={shading}
        minimap={false}
      />
      <div className="compare-answer">
        <h4 className="trace-heading">
          Final answer{" "}
          <VerdictBadge
            answer={answer}
            reference={referenceFromPrompt(run.spec.prompt ?? "")}
            pending={live || !trace.finish}
          />
        </h4>
        {answer ? (
          <div data-segment="answer">
            <AnswerView text={answer} />
          </div>
        ) : (
          <p className="trace-empty">{live ? "Not yet." : "No answer."}</p>
        )}
      </div>
    </article>
  );
});

function CompareResults() {
  const comparison = useApp((s) => s.comparison);
  const traces = useApp(
    useShallow((s) => (s.comparison?.keys ?? []).map((key) => s.runs[key]?.trace)),
  );
  const labels = useApp(
    useShallow((s) => (s.comparison?.keys ?? []).map((key) => s.runs[key]?.label ?? "")),
  );
  const live = useApp((s) => (s.comparison?.keys ?? []).some((key) => isActive(s.runs[key])));
  const series = useMemo(
    () =>
      (comparison?.keys ?? []).flatMap((key, index) => {
        const trace = traces[index];
        return trace ? [{ key, label: labels[index] ?? key, color: runColor(index), trace }] : [];
      }),
    [comparison, traces, labels],
  );

  if (!comparison) {
    return (
      <div className="panel empty-state">
        <h2>Compare budgets side by side</h2>
        <p>
          Choose what to vary (number of waits, thinking cap or minimum) and its values, then run
          the ladder. Each rung is a separate run of the same prompt; their thinking curves are
          overlaid and their answers shown side by side.
        </p>
      </div>
    );
  }
  return (
    <>
      <section className="panel chart-panel" aria-labelledby="compare-chart-title">
        <div className="inline" style={{ justifyContent: "space-between" }}>
          <h2 className="panel-title" id="compare-chart-title" style={{ padding: 0 }}>
            Thinking tokens over time
          </h2>
          <div className="legend">
            {series.map((s) => (
              <span key={s.key}>
                <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
                {s.label}
              </span>
            ))}
          </div>
        </div>
        <LiveCompareChart series={series} live={live} />
      </section>
      <div className="compare-grid">
        {comparison.keys.map((key, index) => (
          <CompareColumn key={key} runKey={key} index={index} />
        ))}
      </div>
    </>
  );
}

/** Compare: one prompt at several budgets at once. */
export default function CompareView() {
  const store = useAppStore();
  useCtrlEnter(() => {
    const state = store.getState();
    if (runBlocker(state) === null) state.runLadder();
  });
  return (
    <div className="playground">
      <RunPanel actions={<CompareActions />} extra={<LadderFields />} />
      <section className="results" aria-label="Comparison">
        <TraceLegend />
        <CompareResults />
      </section>
    </div>
  );
}
