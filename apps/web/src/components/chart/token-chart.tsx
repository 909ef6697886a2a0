import { memo, useMemo } from "react";
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { chartRows, MAX_CHART_POINTS, tokenAxisTop } from "../../lib/chart-data.ts";
import { formatCount } from "../../lib/format.ts";
import { useMarkHighlight } from "../../lib/mark-highlight.ts";
import type { TraceState } from "../../lib/trace-fold.ts";
import { INJECTION_COLOR, INJECTION_SHORT } from "./chart-colors.ts";

const axisTick = { fontSize: 12 };

/** Seconds on the time axis; milliseconds for runs shorter than two seconds (a tiny model is that fast). */
function timeTick(maxSeconds: number): (t: number) => string {
  return maxSeconds < 2 ? (t) => `${Math.round(t * 1000)}ms` : (t) => `${Number(t.toFixed(1))}s`;
}

/**
 * Thinking tokens over time, answer tokens after the close, a vertical
 * marker at each injection (coloured like its mark in the text), the budget
 * as a horizontal line, the stop pressure when the backend reports it, and
 * each stretch's mean token entropy when the run has it (its own axis, in bits).
 * No animation: a live series that animates on every batch is an animation storm.
 */
export const TokenChart = memo(function TokenChart({
  trace,
  budget,
  maxPoints = MAX_CHART_POINTS,
}: {
  trace: TraceState;
  budget?: number;
  maxPoints?: number;
}) {
  const rows = useMemo(() => chartRows(trace.points, maxPoints), [trace.points, maxPoints]);
  const highlighted = useMarkHighlight((state) => state.mark);
  const maxTokens = rows.reduce((m, r) => Math.max(m, r.thinking, r.answer ?? 0), 0);
  const cap = budget ?? trace.start?.maxThinkingTokens;
  const minimum = trace.start?.minThinkingTokens ?? 0;
  // The axis grows with the data and meets the budget line when the data nears it.
  const axisTop = tokenAxisTop(maxTokens, cap);
  const showBudget = cap !== undefined && cap <= axisTop;
  const hasPressure = rows.some((r) => r.endP !== null);
  const hasEntropy = rows.some((r) => r.entropy !== null);
  // Rounded up to whole bits, at least one, so the axis does not jump with every spike.
  const entropyTop = Math.max(1, Math.ceil(rows.reduce((m, r) => Math.max(m, r.entropy ?? 0), 0)));
  const thinkingTokens = trace.thinkingGenerated + trace.thinkingInjected;
  const summary =
    `Thinking tokens over time: ${formatCount(thinkingTokens)} thinking tokens in ${(trace.lastTime / 1000).toFixed(1)} s, ` +
    `${trace.waits} wait${trace.waits === 1 ? "" : "s"}${trace.forcedEnd ? ", forced close" : ""}` +
    `${cap !== undefined ? `, budget ${formatCount(cap)}` : ""}, ${formatCount(trace.answerTokens)} answer tokens.`;

  return (
    <figure className="chart-box" role="img" aria-label={summary} style={{ margin: 0 }}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart
          data={rows}
          margin={{ top: 16, right: hasPressure || hasEntropy ? 8 : 16, bottom: 4, left: 0 }}
        >
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            domain={[0, "dataMax"]}
            tick={axisTick}
            tickFormatter={timeTick(rows.at(-1)?.t ?? 0)}
          />
          <YAxis
            yAxisId="tokens"
            tick={axisTick}
            width={48}
            allowDecimals={false}
            domain={[0, axisTop]}
          />
          {hasPressure && (
            <YAxis
              yAxisId="p"
              orientation="right"
              domain={[0, 1]}
              tick={axisTick}
              // Room for "100%" and, beside it, the axis title.
              width={54}
              tickFormatter={(p: number) => `${Math.round(p * 100)}%`}
              label={axisTitle("stop pressure", "var(--pressure-line)")}
            />
          )}
          {hasEntropy && (
            <YAxis
              yAxisId="bits"
              orientation="right"
              domain={[0, entropyTop]}
              allowDecimals={false}
              tick={axisTick}
              width={42}
              tickFormatter={(bits: number) => `${bits}`}
              label={axisTitle("entropy (bits)", "var(--entropy-line)")}
            />
          )}
          <Tooltip
            isAnimationActive={false}
            labelFormatter={(t) => `${Number(t).toFixed(2)} s`}
            formatter={(value, name) =>
              name === "stop pressure"
                ? `${(Number(value) * 100).toFixed(1)}%`
                : name === "token entropy"
                  ? `${Number(value).toFixed(2)} bits`
                  : formatCount(Number(value))
            }
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 6,
            }}
          />
          {showBudget && (
            <ReferenceLine
              yAxisId="tokens"
              y={cap}
              stroke="var(--budget-line)"
              strokeDasharray="6 4"
              label={{
                value: `budget ${formatCount(cap)}`,
                position: "insideTopLeft",
                fontSize: 12,
                fill: "var(--budget-line)",
              }}
            />
          )}
          {minimum > 0 && (
            <ReferenceLine
              yAxisId="tokens"
              y={minimum}
              stroke="var(--wait-line)"
              strokeDasharray="2 4"
              label={{
                value: `minimum ${formatCount(minimum)}`,
                position: "insideBottomLeft",
                fontSize: 12,
                fill: "var(--wait)",
              }}
            />
          )}
          {trace.injections.map((mark, index) => (
            <ReferenceLine
              key={index}
              yAxisId="tokens"
              x={mark.time / 1000}
              stroke={INJECTION_COLOR[mark.kind]}
              // The chip the pointer is on, in the text, lights its marker here.
              strokeWidth={mark === highlighted ? 5 : 2}
              label={{
                value:
                  mark.kind === "wait"
                    ? `${INJECTION_SHORT.wait}${mark.waitNumber ?? ""}`
                    : INJECTION_SHORT[mark.kind],
                // A budget message comes right before its close: its label goes beside, not on top.
                position: mark.kind === "budget_message" ? "insideTopRight" : "top",
                fontSize: 11,
                fill: INJECTION_COLOR[mark.kind],
              }}
            />
          ))}
          {/* Probes ask for the answer without touching the text: a dashed line with what they read. */}
          {trace.probes.map((probe, index) => (
            <ReferenceLine
              key={`probe-${index}`}
              yAxisId="tokens"
              x={probe.time / 1000}
              stroke="var(--method-line)"
              strokeDasharray="3 3"
              label={{
                value: `= ${probe.answer ?? "?"}`,
                position: "insideBottom",
                fontSize: 11,
                fill: "var(--method)",
              }}
            />
          ))}
          <Line
            yAxisId="tokens"
            name="thinking tokens"
            dataKey="thinking"
            stroke="var(--thinking-line)"
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
            type="linear"
          />
          <Line
            yAxisId="tokens"
            name="answer tokens"
            dataKey="answer"
            stroke="var(--answer-line)"
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
            type="linear"
          />
          {hasPressure && (
            <Line
              yAxisId="p"
              name="stop pressure"
              dataKey="endP"
              stroke="var(--pressure-line)"
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
              type="stepAfter"
              connectNulls
            />
          )}
          {hasEntropy && (
            <Line
              yAxisId="bits"
              name="token entropy"
              dataKey="entropy"
              stroke="var(--entropy-line)"
              strokeWidth={1.5}
              dot={false}
              isAnimationActive={false}
              type="stepAfter"
              connectNulls
            />
          )}
        </LineChart>
      </ResponsiveContainer>
      {((cap !== undefined && !showBudget) || hasPressure || hasEntropy) && (
        <figcaption className="note legend">
          {hasPressure && (
            <span className="l-pressure">
              stop pressure: the model&apos;s probability of ending its thinking (right axis)
            </span>
          )}
          {hasEntropy && (
            <span className="l-entropy">
              token entropy: how unsure the model was of its next token, in bits (right axis)
            </span>
          )}
          {cap !== undefined && !showBudget && (
            <span>Budget {formatCount(cap)} tokens is above the chart.</span>
          )}
        </figcaption>
      )}
    </figure>
  );
});

/** A right axis's title, along the axis, in its line's colour. */
function axisTitle(value: string, fill: string) {
  return { value, angle: 90, position: "insideRight" as const, fontSize: 11, fill };
}

export interface CompareSeries {
  key: string;
  label: string;
  color: string;
  trace: TraceState;
}

/** Several runs' thinking curves overlaid; each run's injections are dots in the injection colours. */
export const CompareChart = memo(function CompareChart({ series }: { series: CompareSeries[] }) {
  const data = useMemo(
    () => series.map((s) => ({ ...s, rows: chartRows(s.trace.points, 400) })),
    [series],
  );
  return (
    <figure
      className="chart-box"
      role="img"
      aria-label={`Thinking tokens over time for ${series.length} runs: ${series
        .map(
          (s) => `${s.label} ${formatCount(s.trace.thinkingGenerated + s.trace.thinkingInjected)}`,
        )
        .join(", ")}.`}
      style={{ margin: 0 }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart margin={{ top: 12, right: 16, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            domain={[0, "dataMax"]}
            tick={axisTick}
            tickFormatter={timeTick(Math.max(0, ...data.map((d) => d.rows.at(-1)?.t ?? 0)))}
            allowDuplicatedCategory={false}
          />
          <YAxis tick={axisTick} width={48} allowDecimals={false} />
          <Tooltip
            isAnimationActive={false}
            labelFormatter={(t) => `${Number(t).toFixed(2)} s`}
            formatter={(value) => formatCount(Number(value))}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 6,
            }}
          />
          {data.map((s) => (
            <Line
              key={s.key}
              data={s.rows}
              name={s.label}
              dataKey="thinking"
              stroke={s.color}
              strokeWidth={2}
              isAnimationActive={false}
              type="linear"
              dot={(props: {
                cx?: number;
                cy?: number;
                payload?: { injection: keyof typeof INJECTION_COLOR | null };
                index?: number;
              }) =>
                props.payload?.injection && props.cx !== undefined && props.cy !== undefined ? (
                  <circle
                    key={props.index}
                    cx={props.cx}
                    cy={props.cy}
                    r={4}
                    fill={INJECTION_COLOR[props.payload.injection]}
                    stroke="var(--surface)"
                  />
                ) : (
                  <g key={props.index} />
                )
              }
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});
