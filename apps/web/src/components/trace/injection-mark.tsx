import { Fragment, memo, useEffect, useRef } from "react";
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
 * Scrolls `element` into view inside the trace's own scroller when it is out
 * of view there, and never the page: the chart the pointer is on stays put.
 */
function revealInTrace(element: HTMLElement): void {
  const scroller = element.closest<HTMLElement>(".trace-scroll");
  if (!scroller) return;
  const box = element.getBoundingClientRect();
  const view = scroller.getBoundingClientRect();
  if (box.top >= view.top && box.bottom <= view.bottom) return;
  const reduced = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
  scroller.scrollTo({
    top: scroller.scrollTop + box.top - view.top - (scroller.clientHeight - box.height) / 2,
    behavior: reduced ? "auto" : "smooth",
  });
}

/**
 * One injected string, as a chip in the text. The chip's label comes from
 * CSS generated content (`data-label`), so selecting and copying the trace
 * copies exactly the injected text and nothing else. The tooltip
 * (`data-tip`, drawn by CSS) shows on hover, on keyboard focus and on a tap;
 * pointing at the chip also lights its marker on the chart, and pointing at
 * the marker lights the chip and scrolls the trace to it.
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
  const fromChart = useMarkHighlight((state) => state.mark === mark && state.from === "chart");
  const highlight = useMarkHighlight((state) => state.highlight);
  const chip = useRef<HTMLElement>(null);
  useEffect(() => {
    if (fromChart && chip.current) revealInTrace(chip.current);
  }, [fromChart]);
  const on = () => highlight(mark);
  const off = () => {
    if (useMarkHighlight.getState().mark === mark) highlight(null);
  };
  return (
    <mark
      ref={chip}
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
