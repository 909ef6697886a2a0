import { memo } from "react";
import type { ResampleSpan } from "@thinkscope/protocol";
import type { TokenPiece } from "../../lib/trace-tokens.ts";

/**
 * The run's continuation, one span per piece its events numbered. A click
 * picks the point after that piece (the caller snaps it to a sentence
 * start); the chosen point shows as a caret, and, once a resample analysis
 * has run, each piece is shaded by the importance of its sentence.
 */
export const PointPicker = memo(function PointPicker({
  pieces,
  point,
  spans,
  onPick,
}: {
  pieces: readonly TokenPiece[];
  point: number | null;
  spans: readonly ResampleSpan[];
  onPick(at: number): void;
}) {
  const importanceAt = (at: number) =>
    spans.find((span) => at >= span.from && at < span.to)?.importance;
  return (
    <div className="point-picker" role="group" aria-label="Pick a point in the trace">
      {point === 0 && <Caret at={0} />}
      {pieces.map((piece) => {
        const importance = importanceAt(piece.at);
        const end = piece.at + piece.tokens;
        return (
          <span key={piece.at + ":" + piece.tokens + piece.text}>
            <span
              className="token"
              data-at={piece.at}
              data-phase={piece.phase}
              data-kind={piece.injection}
              style={
                importance
                  ? { backgroundColor: `rgb(124 58 237 / ${Math.round(10 + importance * 50)}%)` }
                  : undefined
              }
              onClick={() => onPick(end)}
            >
              {piece.text}
            </span>
            {point === end && piece.tokens > 0 && <Caret at={end} />}
          </span>
        );
      })}
    </div>
  );
});

function Caret({ at }: { at: number }) {
  return (
    <span
      className="fork-caret"
      data-testid="fork-caret"
      data-at={at}
      aria-label={`Fork point: token ${at}`}
    />
  );
}
