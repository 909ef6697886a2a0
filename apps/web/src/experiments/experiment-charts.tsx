/**
 * The experiment's three figures, drawn with recharts in the playground's
 * visual language: the same grid, axes, tooltip and setting colours (none of
 * them amber, red or green, which mean injections). Nothing animates: the
 * results refresh while the experiment runs.
 */
import { memo, useMemo } from "react";
import {
  CartesianGrid,
  Cell,
  LabelList,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { runColor } from "../components/chart/chart-colors.ts";
import { formatCount } from "../lib/format.ts";
import { PARALLEL_COLOR, SEQUENTIAL_COLOR } from "./experiment-colors.ts";
import {
  log2Ticks,
  logAxisFits,
  lonePoints,
  passAtKKey,
  type PassAtKCrossover,
  type PassAtKRow,
  type ScalingPoint,
  type SeqParallelPoint,
  type SweepLine,
} from "./experiment-chart-data.ts";

/** Each sweep line in its own dash, so lines are told apart without a hue (hues mean settings). */
export const LINE_DASHES = ["", "7 4", "2 3", "10 3 2 3"] as const;
export const lineDash = (index: number) => LINE_DASHES[index % LINE_DASHES.length]!;

const axisTick = { fontSize: 12 };
const tooltipStyle = {
  background: "var(--surface)",
  border: "1px solid var(--border)",
  borderRadius: 6,
};
/** Point labels crowd the plot beyond this many settings; the legend names them then. */
const MAX_POINT_LABELS = 10;

const percentTick = (value: number) => `${Math.round(value)}%`;

/** A thinking-token x-axis: log2 as in the s1 figures when every value is above 0, linear otherwise. */
function tokenAxis(tokens: readonly number[]) {
  const log = logAxisFits(tokens);
  const ticks = log ? log2Ticks(Math.min(...tokens), Math.max(...tokens)) : undefined;
  return {
    log,
    props: {
      type: "number" as const,
      dataKey: "tokens",
      name: "thinking tokens",
      tick: axisTick,
      tickFormatter: (value: number) => formatCount(value),
      ...(log && ticks && ticks.length > 0
        ? {
            scale: "log" as const,
            domain: [ticks[0]!, ticks.at(-1)!],
            ticks,
            allowDataOverflow: true,
          }
        : { domain: [0, "auto"] as [number, "auto"] }),
    },
  };
}

function accuracyAxis() {
  return (
    <YAxis
      type="number"
      dataKey="accuracy"
      name="accuracy"
      domain={[0, 100]}
      ticks={[0, 25, 50, 75, 100]}
      tickFormatter={percentTick}
      tick={axisTick}
      width={44}
    />
  );
}

function pointTooltip() {
  return (
    <Tooltip
      isAnimationActive={false}
      contentStyle={tooltipStyle}
      formatter={(value, name) =>
        name === "accuracy" ? `${Number(value).toFixed(1)}%` : formatCount(Number(value))
      }
    />
  );
}

/**
 * Accuracy against average thinking tokens (s1, Fig. 1 and 4a): one
 * connected line per sweep (waits at one cap, caps at one number of waits),
 * each point in its setting's colour and marked with the value the line
 * runs along, the first line's marks above the points and the second's
 * below, so two lines crossing at a point do not write over each other.
 */
export const ScalingChart = memo(function ScalingChart({
  points,
  lines,
}: {
  points: ScalingPoint[];
  lines: SweepLine[];
}) {
  const axis = useMemo(() => tokenAxis(points.map((p) => p.tokens)), [points]);
  const alone = useMemo(() => lonePoints(points, lines), [points, lines]);
  const labelled = points.length <= MAX_POINT_LABELS * 2;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ScatterChart margin={{ top: 20, right: 28, bottom: 20, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          {...axis.props}
          label={{
            value: `average thinking tokens${axis.log ? " (log scale)" : ""}`,
            position: "insideBottom",
            offset: -12,
            fontSize: 12,
          }}
        />
        {accuracyAxis()}
        {pointTooltip()}
        {lines.map((line, index) => (
          <Scatter
            key={line.key}
            name={line.label}
            data={line.points.map((p) => ({ ...p, mark: String(p.varied[line.field]) }))}
            line={{
              stroke: "var(--sequential-line)",
              strokeWidth: 2,
              strokeDasharray: lineDash(index),
            }}
            lineJointType="linear"
            fill="var(--sequential-line)"
            isAnimationActive={false}
          >
            {line.points.map((p) => (
              <Cell key={p.setting} fill={runColor(p.setting)} />
            ))}
            {labelled && (
              <LabelList
                dataKey="mark"
                position={index % 2 === 0 ? "top" : "bottom"}
                offset={8}
                fontSize={11}
                fill="var(--text-muted)"
              />
            )}
          </Scatter>
        ))}
        {alone.map((point) => (
          <Scatter
            key={point.setting}
            name={point.label}
            data={[point]}
            fill={runColor(point.setting)}
            isAnimationActive={false}
          >
            {labelled && (
              <LabelList dataKey="label" position="right" fontSize={11} fill="var(--text-muted)" />
            )}
          </Scatter>
        ))}
      </ScatterChart>
    </ResponsiveContainer>
  );
});

/**
 * Sequential scaling (budget forcing: each setting, one sample) against
 * parallel scaling (majority vote over n samples of one setting) at equal
 * thinking-token cost per problem (s1, Fig. 4b).
 */
export const SequentialParallelChart = memo(function SequentialParallelChart({
  sequential,
  parallel,
}: {
  sequential: SeqParallelPoint[];
  parallel: SeqParallelPoint[];
}) {
  const axis = useMemo(
    () => tokenAxis([...sequential, ...parallel].map((p) => p.tokens)),
    [sequential, parallel],
  );
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ScatterChart margin={{ top: 16, right: 24, bottom: 20, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          {...axis.props}
          label={{
            value: `thinking tokens per problem${axis.log ? " (log scale)" : ""}`,
            position: "insideBottom",
            offset: -12,
            fontSize: 12,
          }}
        />
        {accuracyAxis()}
        {pointTooltip()}
        <Scatter
          name="budget forcing (sequential)"
          data={sequential}
          fill={SEQUENTIAL_COLOR}
          line={{ stroke: SEQUENTIAL_COLOR, strokeWidth: 2 }}
          lineType="joint"
          isAnimationActive={false}
        />
        <Scatter
          name="majority vote (parallel)"
          data={parallel}
          fill={PARALLEL_COLOR}
          line={{ stroke: PARALLEL_COLOR, strokeWidth: 2, strokeDasharray: "6 4" }}
          lineType="joint"
          shape="diamond"
          isAnimationActive={false}
        />
      </ScatterChart>
    </ResponsiveContainer>
  );
});

/** pass@k for k = 1..n, one line per setting (unbiased estimator, Yue et al. 2025). */
export const PassAtKChart = memo(function PassAtKChart({
  rows,
  series,
  crossover,
}: {
  rows: PassAtKRow[];
  series: { setting: number; label: string }[];
  /** Marked with a vertical line where the curve behind at pass@1 takes the lead. */
  crossover: PassAtKCrossover | null;
}) {
  const maxK = rows.length;
  const ticks = useMemo(
    () =>
      maxK <= 16
        ? rows.map((r) => r.k)
        : rows
            .map((r) => r.k)
            .filter((k) => k === 1 || k === maxK || k % Math.ceil(maxK / 8) === 0),
    [rows, maxK],
  );
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={{ top: 16, right: 24, bottom: 20, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="k"
          type="number"
          domain={[1, Math.max(1, maxK)]}
          ticks={ticks}
          allowDecimals={false}
          tick={axisTick}
          label={{ value: "k (samples)", position: "insideBottom", offset: -12, fontSize: 12 }}
        />
        <YAxis
          domain={[0, 100]}
          ticks={[0, 25, 50, 75, 100]}
          tickFormatter={percentTick}
          tick={axisTick}
          width={44}
        />
        <Tooltip
          isAnimationActive={false}
          contentStyle={tooltipStyle}
          labelFormatter={(k) => `pass@${k}`}
          formatter={(value) => `${Number(value).toFixed(1)}%`}
        />
        {crossover && (
          <ReferenceLine
            x={crossover.k}
            stroke="var(--text-muted)"
            strokeDasharray="4 3"
            label={{
              value: `crossover k = ${crossover.k}`,
              position: "insideBottomRight",
              fontSize: 12,
              fill: "var(--text-muted)",
            }}
          />
        )}
        {series.map((s) => (
          <Line
            key={s.setting}
            dataKey={passAtKKey(s.setting)}
            name={s.label}
            stroke={runColor(s.setting)}
            strokeWidth={2}
            dot={{ r: 3, fill: runColor(s.setting), strokeWidth: 0 }}
            isAnimationActive={false}
            type="linear"
            connectNulls
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
});
