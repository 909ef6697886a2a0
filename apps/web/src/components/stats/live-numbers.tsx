import { memo } from "react";
import { tokensPerSecond } from "../../lib/chart-data.ts";
import { formatCount, formatRate } from "../../lib/format.ts";
import type { TraceState } from "../../lib/trace-fold.ts";

/** The numbers a teacher points at, large and live: thinking tokens, waits, tokens/s. */
export const LiveNumbers = memo(function LiveNumbers({ trace }: { trace: TraceState }) {
  const thinking = trace.thinkingGenerated + trace.thinkingInjected;
  const budget = trace.start?.maxThinkingTokens;
  const numWaits = trace.start?.numWaits;
  const rate = tokensPerSecond(trace);
  return (
    <div className="live-numbers" role="group" aria-label="Live numbers">
      <div className="panel live-number" data-kind="thinking">
        <div className="label">Thinking tokens</div>
        <div className="value" data-testid="thinking-tokens">
          {formatCount(thinking)}
        </div>
        <div className="sub">
          {budget !== undefined ? `of ${formatCount(budget)} budget` : "\u00a0"}
        </div>
      </div>
      <div className="panel live-number" data-kind="waits">
        <div className="label">Waits</div>
        <div className="value" data-testid="waits">
          {trace.waits}
        </div>
        <div className="sub">
          {numWaits !== undefined ? `num_waits ${numWaits}` : "\u00a0"}
          {trace.forcedEnd ? " · forced close" : ""}
        </div>
      </div>
      <div className="panel live-number" data-kind="rate">
        <div className="label">Tokens / s</div>
        <div className="value" data-testid="tokens-per-second">
          {formatRate(rate)}
        </div>
        <div className="sub">{trace.finish ? "whole run" : "last 2 s"}</div>
      </div>
      <div className="panel live-number" data-kind="answer">
        <div className="label">Answer tokens</div>
        <div className="value">{formatCount(trace.answerTokens)}</div>
        <div className="sub">{trace.closedAtMs !== null ? "after the close" : "not yet"}</div>
      </div>
    </div>
  );
});
