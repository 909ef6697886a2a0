import { memo, useMemo } from "react";
import { thinkingSteps } from "../../lib/thinking-steps.ts";
import { useStickToBottom } from "../../lib/use-stick-to-bottom.ts";
import { ThinkingMinimap } from "./thinking-minimap.tsx";
import { segmentText, type ShadeBy, type TraceState } from "../../lib/trace-fold.ts";
import { AnswerView } from "./answer-view.tsx";
import { ThinkingSegment } from "./trace-segment.tsx";
import { VerdictBadge } from "./verdict-badge.tsx";

interface TraceViewProps {
  trace: TraceState;
  /** Still streaming: show a cursor and keep the newest text in view. */
  live: boolean;
  /** Shown when nothing has arrived yet. */
  emptyText?: string;
  /** Accessible name of the region ("Trace", "Trace of cap 512"). */
  label?: string;
  /** False where the answer is shown elsewhere (compare columns). */
  showAnswer?: boolean;
  /** The known right answer, for a right/wrong badge; null or absent when unknown. */
  reference?: string | null;
  /** Shade the thinking by stop pressure or by token entropy; null: not shaded. */
  shading?: ShadeBy | null;
  /** Show the steps of the thinking beside it (off in narrow compare columns). */
  minimap?: boolean;
}

/**
 * The thinking as plain pre-wrapped text with injection marks, then the
 * answer as Markdown. Segments render through memoized components keyed by
 * index; the store keeps finished segments' identity, so per batch only the
 * last segment (and in it, only its last text block) renders again.
 */
export const TraceView = memo(function TraceView({
  trace,
  live,
  emptyText,
  label = "Trace",
  showAnswer = true,
  reference,
  shading = null,
  minimap = true,
}: TraceViewProps) {
  const { scroller, grows, onScroll } = useStickToBottom<HTMLDivElement>(live);
  const { segments, start } = trace;
  const firstAnswer = segments.findIndex((s) => s.type === "answer");
  const thinking = firstAnswer < 0 ? segments : segments.slice(0, firstAnswer);
  const answers = firstAnswer < 0 ? [] : segments.slice(firstAnswer);
  const answerText = answers.map(segmentText).join("");
  const steps = useMemo(() => (minimap ? thinkingSteps(segments) : []), [segments, minimap]);
  const thinkingChars = steps.reduce((sum, step) => sum + step.chars, 0);

  if (segments.length === 0) {
    return (
      <div className="trace">
        <p className="trace-empty">
          {emptyText ?? (live ? "Waiting for the first token…" : "Nothing was generated.")}
        </p>
      </div>
    );
  }

  return (
    <div
      className="trace trace-scroll"
      ref={scroller}
      role="region"
      aria-label={label}
      tabIndex={0}
      onScroll={onScroll}
    >
      {thinking.length > 0 && (
        <>
          <h3 className="trace-heading">Thinking</h3>
          <div className="trace-body">
            <div className="trace-thinking" data-shade={shading ?? undefined} ref={grows}>
              {thinking.map((segment, index) => (
                <ThinkingSegment key={index} segment={segment} start={start} shading={shading} />
              ))}
              {live && answers.length === 0 && <span className="cursor" aria-hidden="true" />}
            </div>
            <ThinkingMinimap steps={steps} total={thinkingChars} scroller={scroller} />
          </div>
        </>
      )}
      {showAnswer && answers.length > 0 && (
        <div className="trace-answer" ref={grows}>
          <h3 className="trace-heading">
            Answer{" "}
            <VerdictBadge
              answer={answerText}
              reference={reference}
              pending={live || !trace.finish}
            />
          </h3>
          <div data-segment="answer">
            <AnswerView text={answerText} />
          </div>
          {live && <span className="cursor" aria-hidden="true" />}
        </div>
      )}
    </div>
  );
});
