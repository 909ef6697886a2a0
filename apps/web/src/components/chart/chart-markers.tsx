import { memo, useMemo, type PointerEvent } from "react";
import { ReferenceLine } from "recharts";
import { formatCount } from "../../lib/format.ts";
import { useMarkHighlight } from "../../lib/mark-highlight.ts";
import type { InjectionMark, ProbeMark } from "../../lib/trace-fold.ts";
import { INJECTION_COLOR, INJECTION_SHORT } from "./chart-colors.ts";

/*
 * The chart's reference lines, each a memoized component: recharts' own
 * ReferenceLine registers itself with the chart's store again on every
 * render, and every registration makes the whole chart recompute. Drawn from
 * here they render (and register) only when their own values change, not on
 * each live redraw of the curve.
 */

/** Half the width of the band around a marker that answers the pointer (a 2 px line is too thin to find). */
const HIT_HALF_WIDTH = 8;

export const BudgetLine = memo(function BudgetLine({ cap }: { cap: number }) {
  const label = useMemo(
    () => ({
      value: `budget ${formatCount(cap)}`,
      position: "insideTopLeft" as const,
      fontSize: 12,
      fill: "var(--budget-line)",
    }),
    [cap],
  );
  return (
    <ReferenceLine
      yAxisId="tokens"
      y={cap}
      stroke="var(--budget-line)"
      strokeDasharray="6 4"
      label={label}
    />
  );
});

export const MinimumLine = memo(function MinimumLine({ minimum }: { minimum: number }) {
  const label = useMemo(
    () => ({
      value: `minimum ${formatCount(minimum)}`,
      position: "insideBottomLeft" as const,
      fontSize: 12,
      fill: "var(--wait)",
    }),
    [minimum],
  );
  return (
    <ReferenceLine
      yAxisId="tokens"
      y={minimum}
      stroke="var(--wait-line)"
      strokeDasharray="2 4"
      label={label}
    />
  );
});

/** Probes ask for the answer without touching the text: a dashed line with what they read. */
export const ProbeMarker = memo(function ProbeMarker({ probe }: { probe: ProbeMark }) {
  const label = useMemo(
    () => ({
      value: `= ${probe.answer ?? "?"}`,
      position: "insideBottom" as const,
      fontSize: 11,
      fill: "var(--method)",
    }),
    [probe],
  );
  return (
    <ReferenceLine
      yAxisId="tokens"
      x={probe.time / 1000}
      stroke="var(--method-line)"
      strokeDasharray="3 3"
      label={label}
    />
  );
});

/** What recharts hands a reference line's shape: the line's ends and its SVG attributes. */
interface LineShapeProps {
  x1?: number;
  y1?: number;
  x2?: number;
  y2?: number;
  stroke?: string;
  strokeWidth?: number | string;
  clipPath?: string;
}

/**
 * Releases a highlight a touch left behind at the next touch anywhere: a
 * finger has no "leave" to end it.
 */
function releaseOnNextTouch(mark: InjectionMark): void {
  const release = () => {
    if (useMarkHighlight.getState().mark === mark) useMarkHighlight.getState().highlight(null);
  };
  // Registered after this touch's own events, so only the next one releases.
  setTimeout(() => document.addEventListener("pointerdown", release, { once: true }), 0);
}

/**
 * A vertical marker at an injection, coloured like its chip in the text.
 * Pointing at it (or tapping it) lights it and its chip, and the trace
 * scrolls the chip into view; the chip pointed at does the same here.
 */
export const InjectionMarker = memo(function InjectionMarker({
  mark,
  highlighted,
}: {
  mark: InjectionMark;
  highlighted: boolean;
}) {
  const label = useMemo(
    () => ({
      value:
        mark.kind === "wait"
          ? `${INJECTION_SHORT.wait}${mark.waitNumber ?? ""}`
          : INJECTION_SHORT[mark.kind],
      // A budget message comes right before its close: its label goes beside, not on top.
      position: mark.kind === "budget_message" ? ("insideTopRight" as const) : ("top" as const),
      fontSize: 11,
      fill: INJECTION_COLOR[mark.kind],
    }),
    [mark],
  );
  const shape = useMemo(() => {
    const enter = (event: PointerEvent) => {
      useMarkHighlight.getState().highlight(mark, "chart");
      if (event.pointerType === "touch") releaseOnNextTouch(mark);
    };
    const leave = (event: PointerEvent) => {
      if (event.pointerType === "touch") return;
      if (useMarkHighlight.getState().mark === mark) useMarkHighlight.getState().highlight(null);
    };
    return function MarkerShape({ x1, y1, x2, y2, stroke, strokeWidth, clipPath }: LineShapeProps) {
      if (x1 === undefined || y1 === undefined || x2 === undefined || y2 === undefined)
        return <g />;
      return (
        <g onPointerEnter={enter} onPointerLeave={leave}>
          <line
            className="recharts-reference-line-line"
            x1={x1}
            y1={y1}
            x2={x2}
            y2={y2}
            stroke={stroke}
            strokeWidth={strokeWidth}
            clipPath={clipPath}
          />
          <rect
            className="marker-hit"
            data-marker={mark.kind}
            x={Math.min(x1, x2) - HIT_HALF_WIDTH}
            y={Math.min(y1, y2)}
            width={Math.abs(x2 - x1) + 2 * HIT_HALF_WIDTH}
            height={Math.abs(y2 - y1)}
            fill="transparent"
          />
        </g>
      );
    };
  }, [mark]);
  return (
    <ReferenceLine
      yAxisId="tokens"
      x={mark.time / 1000}
      stroke={INJECTION_COLOR[mark.kind]}
      strokeWidth={highlighted ? 5 : 2}
      label={label}
      shape={shape}
    />
  );
});
