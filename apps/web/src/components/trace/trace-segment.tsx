import { memo } from "react";
import type { RunStart, TraceSegment } from "../../lib/trace-fold.ts";
import { InjectionMark } from "./injection-mark.tsx";

/**
 * One block of a segment's text; equal props skip rendering, so only the
 * growing block updates. A closed block that holds whole lines is a block
 * box (`line`): the browser lays it out once and reuses that layout while
 * the tail grows. It keeps its trailing newline, so copying stays exact.
 */
const TextBlock = memo(function TextBlock({ text, line }: { text: string; line: boolean }) {
  return line ? <span className="line-block">{text}</span> : <>{text}</>;
});

/**
 * A thinking segment or an injection. Finished segments keep their object
 * identity in the store, so `memo` skips them: only the tail re-renders.
 */
export const ThinkingSegment = memo(function ThinkingSegment({
  segment,
  start,
}: {
  segment: TraceSegment;
  start: RunStart | null;
}) {
  if (segment.injection) return <InjectionMark mark={segment.injection} start={start} />;
  const { blocks } = segment;
  return (
    <span data-segment="thinking">
      {blocks.map((block, index) => {
        const startsLine =
          index === 0 ? segment.startsLine : (blocks[index - 1]?.endsWith("\n") ?? false);
        const line = startsLine && index < blocks.length - 1 && block.endsWith("\n");
        return <TextBlock key={index} text={block} line={line} />;
      })}
    </span>
  );
});
