import { useEffect, useMemo, useState } from "react";
import type { RunDetail } from "@thinkscope/protocol";
import { LiveCompareChart } from "../chart/lazy-charts.tsx";
import { runColor } from "../chart/chart-colors.ts";
import { foldAll } from "../../lib/trace-fold.ts";
import { divergence, piecesFrom, tokenPieces } from "../../lib/trace-tokens.ts";
import type { LabApi } from "../../lib/lab-api.ts";

/** Characters of the shared prefix shown before the divergence. */
const CONTEXT_CHARS = 160;

/**
 * Two branches aligned at their common prefix: what they share is folded
 * away but its end, the divergence point is marked, and only what differs
 * is shown side by side, with their token charts overlaid.
 */
export function BranchCompare({ api, ids }: { api: LabApi; ids: readonly [string, string] }) {
  const [runs, setRuns] = useState<[RunDetail, RunDetail] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    Promise.all([api.run(ids[0]), api.run(ids[1])])
      .then(([a, b]) => live && setRuns([a, b]))
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [api, ids]);

  const view = useMemo(() => {
    if (!runs) return null;
    const [a, b] = runs.map((run) => tokenPieces(run.events)) as [
      ReturnType<typeof tokenPieces>,
      ReturnType<typeof tokenPieces>,
    ];
    const shared = divergence(a, b);
    const series = runs.map((run, i) => ({
      key: run.id,
      label: run.parentRunId ? `fork @${run.forkAt}` : "root",
      color: runColor(i),
      trace: foldAll(run.events),
    }));
    return {
      shared,
      rest: [piecesFrom(a, shared.tokens), piecesFrom(b, shared.tokens)] as const,
      series,
    };
  }, [runs]);

  if (error)
    return (
      <p className="banner" data-tone="error">
        {error}
      </p>
    );
  if (!runs || !view) return <p className="loading">Loading the two branches…</p>;
  const tail = view.shared.text.slice(-CONTEXT_CHARS);
  return (
    <section className="branch-compare" aria-label="Compare branches">
      <p className="shared-prefix">
        <span className="hint">
          Shared: {view.shared.tokens} tokens
          {tail.length < view.shared.text.length ? " (ending …)" : ""}
        </span>
        <span className="shared-text">{tail}</span>
      </p>
      <div className="divergence" data-testid="divergence" data-at={view.shared.tokens}>
        Diverges at token {view.shared.tokens}
      </div>
      <div className="compare-columns">
        {view.rest.map((pieces, i) => (
          <div key={runs[i]!.id} className="compare-branch" style={{ borderColor: runColor(i) }}>
            <h4>
              {view.series[i]!.label} · answer {runs[i]!.answer.trim() || "—"}
            </h4>
            <pre>
              {pieces.map((piece) =>
                piece.injection ? (
                  <mark key={piece.at} className="injection" data-injection={piece.injection}>
                    {piece.text}
                  </mark>
                ) : (
                  <span key={piece.at}>{piece.text}</span>
                ),
              )}
            </pre>
          </div>
        ))}
      </div>
      <LiveCompareChart series={view.series} live={false} />
    </section>
  );
}
