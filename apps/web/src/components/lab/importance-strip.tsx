import { useState } from "react";
import type { ResampleAnalysis } from "@thinkscope/protocol";
import { routeHref } from "../../lib/hash-route.ts";

/**
 * Each sentence of the thinking shaded by how much keeping it moved the
 * answer (its counterfactual importance); a click shows the answers of the
 * samples resampled from its start, with a link to each sample.
 */
export function ImportanceStrip({ analysis }: { analysis: ResampleAnalysis }) {
  const [open, setOpen] = useState<number | null>(null);
  const { spans, points } = analysis;
  if (spans.length === 0) return null;
  const top = Math.max(...spans.map((s) => s.importance));
  const chosen = open === null ? null : spans[open];
  const point = chosen ? points.find((p) => p.at === chosen.from) : undefined;
  return (
    <div className="importance" aria-label="Sentence importance">
      <ol className="importance-strip">
        {spans.map((span, i) => (
          <li key={span.from}>
            <button
              type="button"
              className="importance-row"
              data-importance={span.importance.toFixed(3)}
              data-top={(span.importance === top && top > 0) || undefined}
              aria-pressed={open === i}
              onClick={() => setOpen(open === i ? null : i)}
            >
              <span
                className="importance-bar"
                style={{ width: `${Math.round(span.importance * 100)}%` }}
                aria-hidden="true"
              />
              <span className="importance-value">{span.importance.toFixed(2)}</span>
              <span className="importance-text">{span.text.trim() || "(blank)"}</span>
            </button>
          </li>
        ))}
      </ol>
      {chosen && point && (
        <div className="importance-detail">
          <p className="hint">
            Resampled from the start of this sentence ({point.samples.length} samples)
            {point.accuracy !== null ? `: ${Math.round(point.accuracy * 100)}% right` : ""}
          </p>
          <ul className="answer-bars">
            {point.answers.map((entry) => (
              <li key={String(entry.answer)}>
                <span className="answer-label">{entry.answer ?? "no answer"}</span>
                <span
                  className="answer-bar"
                  style={{ width: `${(entry.count / point.samples.length) * 100}%` }}
                />
                <span className="answer-count">{entry.count}</span>
              </li>
            ))}
          </ul>
          <p className="sample-links">
            {point.samples.map((sample, i) => (
              <a key={sample.runId} href={routeHref({ tab: "library", runId: sample.runId })}>
                sample {i + 1}
              </a>
            ))}
          </p>
        </div>
      )}
    </div>
  );
}
