import { Fragment, memo } from "react";
import { describeInjection } from "../../lib/injection-text.ts";
import { useMarkHighlight } from "../../lib/mark-highlight.ts";
import type { InjectionMark as Mark, RunStart } from "../../lib/trace-fold.ts";

/**
 * The injected text with each newline drawn as a small "↵" (CSS generated
 * content, so it is never copied): a forced close is mostly newlines, and
 * they are part of what the model saw.
 */
function InjectedText({ text }: { text: string }) {
  const lines = text.split("\n");
  return (
    <>
      {lines.map((line, index) => (
        <Fragment key={index}>
          {index > 0 && <span className="newline">{"\n"}</span>}
          {line}
        </Fragment>
      ))}
    </>
  );
}

/**
 * One injected string, as a chip in the text. The chip's label comes from
 * CSS generated content (`data-label`), so selecting and copying the trace
 * copies exactly the injected text and nothing else. The tooltip
 * (`data-tip`, drawn by CSS) shows on hover, on keyboard focus and on a tap;
 * pointing at the chip also lights its marker on the chart.
 */
export const InjectionMark = memo(function InjectionMark({
  mark,
  start,
}: {
  mark: Mark;
  start: RunStart | null;
}) {
  const { label, tip } = describeInjection(mark, start);
  const highlighted = useMarkHighlight((state) => state.mark === mark);
  const highlight = useMarkHighlight((state) => state.highlight);
  const on = () => highlight(mark);
  const off = () => {
    if (useMarkHighlight.getState().mark === mark) highlight(null);
  };
  return (
    <mark
      className="injection"
      data-highlighted={highlighted ? "true" : undefined}
      onPointerEnter={on}
      onPointerLeave={off}
      onFocus={on}
      onBlur={off}
      data-injection={mark.kind}
      data-reason={mark.reason}
      data-thinking-token={mark.thinkingTokenIndex}
      data-label={label}
      data-tip={tip}
      aria-label={`${label}: ${mark.text.trim() || "(whitespace)"}. ${tip.split("\n").slice(1).join(". ")}`}
      tabIndex={0}
    >
      <InjectedText text={mark.text} />
    </mark>
  );
});
