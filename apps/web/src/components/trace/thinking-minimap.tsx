import { memo, type RefObject } from "react";
import type { ThinkingStep } from "../../lib/thinking-steps.ts";

/** Below this many steps there is no structure worth a map. */
const MIN_STEPS = 2;

/**
 * The thinking's steps at a glance, beside the text: one bar per step, as
 * long as its share of the thinking, coloured as its marks are (a forced
 * Wait amber, a forced close red, the model's own close green, a reflection
 * in the stop-pressure colour). A click scrolls the trace to that step.
 */
export const ThinkingMinimap = memo(function ThinkingMinimap({
  steps,
  total,
  scroller,
}: {
  steps: readonly ThinkingStep[];
  total: number;
  scroller: RefObject<HTMLDivElement | null>;
}) {
  if (steps.length < MIN_STEPS || total === 0) return null;
  const goTo = (step: ThinkingStep) => {
    const element = scroller.current;
    const thinking = element?.querySelector(".trace-thinking");
    if (!element || !(thinking instanceof HTMLElement)) return;
    // Characters stand in for height: good enough to land on the step's neighbourhood.
    const fraction = step.start / total;
    element.scrollTo({
      top: thinking.offsetTop + fraction * thinking.offsetHeight - 8,
      behavior: "smooth",
    });
  };
  return (
    <nav className="minimap" aria-label="Steps of the thinking" data-testid="minimap">
      <ol>
        {steps.map((step) => (
          <li key={step.start} style={{ flexGrow: Math.max(1, step.chars) }}>
            <button
              type="button"
              className="minimap-step"
              data-kind={step.kind}
              title={`${step.label} (${step.chars} characters)`}
              onClick={() => goTo(step)}
            >
              <span className="minimap-label">{step.label}</span>
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
});
