import { Suspense, useRef, useState, type ReactNode } from "react";
import {
  downloadBlob,
  fileSlug,
  standaloneSvg,
  svgToPng,
  type LegendEntry,
} from "./chart-export.ts";

/**
 * One figure of the results: a title, what it shows, the chart (loaded with
 * recharts on first use), an HTML legend, and its export as SVG or PNG.
 */
export function ChartFigure({
  title,
  description,
  legend,
  summary,
  fileName,
  testId,
  controls,
  children,
}: {
  title: string;
  description: ReactNode;
  legend: readonly LegendEntry[];
  /** The figure's data in words, for screen readers. */
  summary: string;
  /** Without extension; the experiment's id and the figure's name. */
  fileName: string;
  testId: string;
  controls?: ReactNode;
  children: ReactNode;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const exportAs = async (kind: "svg" | "png") => {
    setProblem(null);
    const svg = box.current?.querySelector<SVGSVGElement>("svg.recharts-surface");
    if (!svg) {
      setProblem("The chart is not drawn yet.");
      return;
    }
    try {
      const text = standaloneSvg(svg, { title, legend });
      const blob =
        kind === "svg"
          ? new Blob([text], { type: "image/svg+xml;charset=utf-8" })
          : await svgToPng(text);
      downloadBlob(blob, `${fileSlug(fileName)}.${kind}`);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <figure className="panel exp-figure" data-testid={testId}>
      <div className="exp-figure-head">
        <h3>{title}</h3>
        <div className="inline">
          {controls}
          <button type="button" className="small" onClick={() => void exportAs("svg")}>
            SVG<span className="visually-hidden"> of {title}</span>
          </button>
          <button type="button" className="small" onClick={() => void exportAs("png")}>
            PNG<span className="visually-hidden"> of {title}</span>
          </button>
        </div>
      </div>
      <p className="exp-figure-note">{description}</p>
      <div className="chart-box" ref={box} role="img" aria-label={summary}>
        <Suspense fallback={<div className="loading">Loading chart…</div>}>{children}</Suspense>
      </div>
      {legend.length > 0 && (
        <figcaption className="legend exp-legend">
          {legend.map((entry) => (
            <span key={entry.label}>
              <span className="swatch" style={{ background: entry.color }} aria-hidden="true" />
              {entry.label}
            </span>
          ))}
        </figcaption>
      )}
      {problem && (
        <p className="problem" role="alert">
          Export failed: {problem}
        </p>
      )}
    </figure>
  );
}
