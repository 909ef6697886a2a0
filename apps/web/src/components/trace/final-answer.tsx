import { memo, Suspense } from "react";
import { MarkdownBlock } from "./lazy-markdown.tsx";
import { finalAnswer, lastBoxed } from "../../lib/answer-check.ts";

/**
 * An answer's final value in a list or a comparison: the last boxed value
 * (drawn by KaTeX, as the trace draws it), else the last number, else the
 * start of the text.
 */
export const FinalAnswer = memo(function FinalAnswer({ text }: { text: string }) {
  const boxed = lastBoxed(text);
  const value = boxed ?? finalAnswer(text);
  if (value === null) {
    const start = text.trim().slice(0, 80);
    return <div className="final-answer hint">{start || "—"}</div>;
  }
  const source = boxed !== null ? `$${boxed}$` : value;
  return (
    <div className="final-answer" data-testid="final-answer">
      <Suspense fallback={<>{value}</>}>
        <MarkdownBlock text={source} />
      </Suspense>
    </div>
  );
});
