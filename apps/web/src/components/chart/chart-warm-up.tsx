import { createRoot } from "react-dom/client";
import { EMPTY_TRACE, type TokenPoint, type TraceState } from "../../lib/trace-fold.ts";
import { TokenChart } from "./token-chart.tsx";

/** A made-up run of `count` points, with stop pressure, entropy and an answer, so every curve is drawn. */
function sampleTrace(count: number): TraceState {
  const points: TokenPoint[] = Array.from({ length: count }, (_, i) => ({
    time: i * 50,
    thinking: i * 40,
    answer: i > count * 0.8 ? i - Math.floor(count * 0.8) : null,
    generated: i * 40,
    endP: (i % 7) / 10,
    entropy: (i % 5) / 2,
    entropyTokens: 40,
  }));
  return { ...EMPTY_TRACE, points, lastTime: count * 50, thinkingGenerated: count * 40 };
}

/** Waits for the next frame to be drawn (or 100 ms where frames are paused). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => {
    requestAnimationFrame(() => setTimeout(resolve, 0));
    setTimeout(resolve, 100);
  });
}

/**
 * Draws a throwaway token chart out of sight, redraws it once, and removes
 * it. recharts does most of its work in code that runs cold on a page's
 * first chart; run once while the page is idle, the first live run's chart
 * mounts in about half the time, at the moment its first tokens stream in.
 */
export async function warmUpCharts(): Promise<void> {
  const host = document.createElement("div");
  host.setAttribute("aria-hidden", "true");
  host.inert = true;
  Object.assign(host.style, {
    position: "fixed",
    left: "-10000px",
    top: "0",
    width: "640px",
    visibility: "hidden",
    pointerEvents: "none",
  });
  document.body.append(host);
  const root = createRoot(host);
  try {
    for (const count of [60, 120]) {
      root.render(<TokenChart trace={sampleTrace(count)} budget={count * 50} />);
      // The chart draws once its container has been measured: a frame or two.
      for (let i = 0; i < 3; i += 1) await nextFrame();
    }
  } finally {
    root.unmount();
    host.remove();
  }
}
