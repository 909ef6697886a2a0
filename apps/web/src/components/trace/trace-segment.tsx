import { memo, type ReactNode } from "react";
import {
  shadeSpans,
  type HotSpan,
  type RunStart,
  type ShadeBy,
  type TraceSegment,
} from "../../lib/trace-fold.ts";
import { InjectionMark } from "./injection-mark.tsx";

/**
 * How a block is drawn. `line`: a closed block that holds whole lines is a
 * block box: the browser lays it out once and reuses that layout while the
 * tail grows (it keeps its trailing newline, so copying stays exact).
 * `piece`: a closed piece of a line too long to wait for its end (a model
 * that writes no newlines) is an inline block, laid out on its own for the
 * same reason; the line wraps after it. `text`: the growing tail, plain text.
 */
type BlockKind = "line" | "piece" | "text";

function blockBox(kind: BlockKind, content: ReactNode): ReactNode {
  if (kind === "line") return <span className="line-block">{content}</span>;
  if (kind === "piece") return <span className="piece-block">{content}</span>;
  return <>{content}</>;
}

/** One block of a segment's text; equal props skip rendering, so only the growing block updates. */
const TextBlock = memo(function TextBlock({ text, kind }: { text: string; kind: BlockKind }) {
  return blockBox(kind, text);
});

function sameSpans(a: readonly HotSpan[], b: readonly HotSpan[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((span, i) => {
    const other = b[i]!;
    return span.start === other.start && span.end === other.end && span.level === other.level;
  });
}

/**
 * A block with its hot stretches shaded. Spans are given relative to the
 * block; a closed block's spans no longer change, so it is skipped like a
 * plain one.
 */
const ShadedBlock = memo(
  function ShadedBlock({
    text,
    kind,
    spans,
  }: {
    text: string;
    kind: BlockKind;
    spans: readonly HotSpan[];
  }) {
    const parts: ReactNode[] = [];
    let at = 0;
    for (const span of spans) {
      if (span.start > at) parts.push(text.slice(at, span.start));
      parts.push(
        <span key={span.start} className="hot" data-level={span.level}>
          {text.slice(span.start, span.end)}
        </span>,
      );
      at = span.end;
    }
    if (at < text.length) parts.push(text.slice(at));
    return blockBox(kind, parts);
  },
  (a, b) => a.text === b.text && a.kind === b.kind && sameSpans(a.spans, b.spans),
);

/** The hot spans falling in characters [from, to) of the segment, relative to `from`. */
function spansIn(hot: readonly HotSpan[], from: number, to: number): HotSpan[] {
  const result: HotSpan[] = [];
  for (const span of hot) {
    if (span.end <= from) continue;
    if (span.start >= to) break;
    result.push({
      start: Math.max(span.start, from) - from,
      end: Math.min(span.end, to) - from,
      level: span.level,
    });
  }
  return result;
}

/**
 * A thinking segment or an injection. Finished segments keep their object
 * identity in the store, so `memo` skips them: only the tail re-renders.
 * With `shading`, stretches where the model leaned towards closing its
 * thinking, or was unsure of its next token, are shaded by how strongly.
 */
export const ThinkingSegment = memo(function ThinkingSegment({
  segment,
  start,
  shading = null,
}: {
  segment: TraceSegment;
  start: RunStart | null;
  shading?: ShadeBy | null;
}) {
  if (segment.injection) return <InjectionMark mark={segment.injection} start={start} />;
  const { blocks } = segment;
  const hot = shadeSpans(segment, shading);
  let offset = 0;
  return (
    <span data-segment="thinking">
      {blocks.map((block, index) => {
        // After the first, every block starts a line: the one before ended one, or was a
        // piece as wide as the trace.
        const startsLine = index === 0 ? segment.startsLine : true;
        const closed = index < blocks.length - 1;
        const kind: BlockKind = !closed
          ? "text"
          : !block.endsWith("\n")
            ? "piece"
            : startsLine
              ? "line"
              : "text";
        const from = offset;
        offset += block.length;
        const spans = hot ? spansIn(hot, from, offset) : [];
        return spans.length > 0 ? (
          <ShadedBlock key={index} text={block} kind={kind} spans={spans} />
        ) : (
          <TextBlock key={index} text={block} kind={kind} />
        );
      })}
    </span>
  );
});
