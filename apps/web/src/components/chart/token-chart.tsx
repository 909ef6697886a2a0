import { memo, useMemo } from "react";
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { chartRows, MAX_CHART_POINTS, tokenAxisTop } from "../../lib/chart-data.ts";
import { formatCount } from "../../lib/format.ts";
import { useMarkHighlight } from "../../lib/mark-highlight.ts";
import type { TraceState } from "../../lib/trace-fold.ts";
import { INJECTION_COLOR } from "./chart-colors.ts";
import { BudgetLine, InjectionMarker, MinimumLine, ProbeMarker } from "./chart-markers.tsx";

/** What recharts hands a custom tick: where it goes, how it is anchored, and its value. */
interface AxisTickProps {
  x?: number | string;
  y?: number | string;
  fill?: string;
  textAnchor?: "start" | "middle" | "end" | "inherit";
  verticalAnchor?: "start" | "middle" | "end";
  payload?: { value: number | string };
  index?: number;
  tickFormatter?: (value: never, index: number) => string;
}

/**
 * A vertical axis draws every tick it computes: its few labels are a line
 * high and tens of pixels apart, so none can crowd another, and recharts no
 * longer measures each new label in the DOM (a forced layout of the page)
 * to find out. The time axis keeps recharts' own choice: its last label can
 * come close to the one before on a narrow screen.
 */
const EVERY_TICK = 0;

/** recharts' default label offsets: the cap height below the tick, half of it beside. */
const TICK_DY = { start: "0.71em", middle: "0.355em", end: "0em" } as const;

/**
 * A tick label as recharts draws it, without its word wrapping: recharts'
 * own label measures each new word in the DOM to wrap it (a forced layout of
 * the page per new label, on a live chart whose labels change as it grows),
 * and a tick label is one short word.
 */
function axisTick({
  x,
  y,
  fill,
  textAnchor,
  verticalAnchor = "end",
  payload,
  index = 0,
  tickFormatter,
}: AxisTickProps) {
  const value = payload?.value ?? "";
  const text = tickFormatter ? tickFormatter(value as never, index) : String(value);
  return (
    <text
      x={x}
      y={y}
      fill={fill}
      style={fill ? { fill } : undefined}
      fontSize={12}
      textAnchor={textAnchor}
      className="recharts-text recharts-cartesian-axis-tick-value"
    >
      <tspan x={x} dy={TICK_DY[verticalAnchor]}>
        {text}
      </tspan>
    </text>
  );
}

/*
 * Formatters and styles are module constants: recharts compares an axis's
 * props to decide whether to register it with the chart again, and a new
 * function or object on every live redraw made it recompute every axis.
 */
const millisecondsTick = (t: number) => `${Math.round(t * 1000)}ms`;
const secondsTick = (t: number) => `${Number(t.toFixed(1))}s`;
const percentTick = (p: number) => `${Math.round(p * 100)}%`;
const bitsTick = (bits: number) => `${bits}`;
const secondsLabel = (t: unknown) => `${Number(t).toFixed(2)} s`;
const tooltipStyle = {
  background: "var(--surface)",
  border: "1px solid var(--border)",
  borderRadius: 6,
};
const tokenValue = (value: unknown) => formatCount(Number(value));
const tokenPressureOrEntropyValue = (value: unknown, name: unknown) =>
  name === "stop pressure"
    ? `${(Number(value) * 100).toFixed(1)}%`
    : name === "token entropy"
      ? `${Number(value).toFixed(2)} bits`
      : formatCount(Number(value));
const MARGIN = { top: 16, right: 16, bottom: 4, left: 0 };
/** With an axis on the right (stop pressure, entropy), its labels are the margin. */
const MARGIN_WITH_RIGHT_AXIS = { ...MARGIN, right: 8 };
/** The time axis's ticks carry their unit; the token axis says what it counts. */
const TOKENS_TITLE = {
  value: "tokens",
  angle: -90,
  position: "insideLeft" as const,
  fontSize: 11,
  fill: "var(--text-muted)",
};
const COMPARE_MARGIN = { top: 12, right: 16, bottom: 4, left: 0 };

/** Seconds on the time axis; milliseconds for runs shorter than two seconds (a tiny model is that fast). */
function timeTick(maxSeconds: number): (t: number) => string {
  return maxSeconds < 2 ? millisecondsTick : secondsTick;
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
        <LineChart data={rows} margin={hasPressure || hasEntropy ? MARGIN_WITH_RIGHT_AXIS : MARGIN}>
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
            interval={EVERY_TICK}
            // Room for "1,000" and, beside it, the axis title.
            width={60}
            label={TOKENS_TITLE}
            allowDecimals={false}
            domain={[0, axisTop]}
          />
          {hasPressure && (
            <YAxis
              yAxisId="p"
              orientation="right"
              domain={[0, 1]}
              tick={axisTick}
              interval={EVERY_TICK}
              // Room for "100%" and, beside it, the axis title.
              width={54}
              tickFormatter={percentTick}
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
              interval={EVERY_TICK}
              width={42}
              tickFormatter={bitsTick}
              label={axisTitle("entropy (bits)", "var(--entropy-line)")}
            />
          )}
          <Tooltip
            isAnimationActive={false}
            labelFormatter={secondsLabel}
            formatter={tokenPressureOrEntropyValue}
            contentStyle={tooltipStyle}
          />
          {showBudget && <BudgetLine cap={cap} />}
          {minimum > 0 && <MinimumLine minimum={minimum} />}
          {trace.injections.map((mark, index) => (
            // The chip the pointer is on, in the text, lights its marker here (and the reverse).
            <InjectionMarker key={index} mark={mark} highlighted={mark === highlighted} />
          ))}
          {trace.probes.map((probe, index) => (
            <ProbeMarker key={`probe-${index}`} probe={probe} />
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
        <LineChart margin={COMPARE_MARGIN}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            domain={[0, "dataMax"]}
            tick={axisTick}
            tickFormatter={timeTick(Math.max(0, ...data.map((d) => d.rows.at(-1)?.t ?? 0)))}
            allowDuplicatedCategory={false}
          />
          <YAxis tick={axisTick} interval={EVERY_TICK} width={48} allowDecimals={false} />
          <Tooltip
            isAnimationActive={false}
            labelFormatter={secondsLabel}
            formatter={tokenValue}
            contentStyle={tooltipStyle}
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
