import type { InjectionMark, RunStart } from "./trace-fold.ts";
import { formatCount, formatMs } from "./format.ts";

export interface InjectionDescription {
  /** The chip's small label ("wait 2", "forced close", "model closed"). */
  label: string;
  /** Why it happened, in one sentence. */
  why: string;
  /** The tooltip: where, when and why, one fact per line. */
  tip: string;
}

const quote = (text: string) => JSON.stringify(text);

/** Words for an injection mark, from the event's `reason` and the run's settings. */
export function describeInjection(
  mark: InjectionMark,
  start: RunStart | null,
): InjectionDescription {
  const label =
    mark.kind === "wait"
      ? `wait ${mark.waitNumber ?? ""}`.trim()
      : mark.kind === "forced_end"
        ? "forced close"
        : mark.kind === "budget_message"
          ? "budget message"
          : mark.kind === "elimination"
            ? "eliminated"
            : "model closed";
  let why: string;
  switch (mark.reason) {
    case "min_thinking_tokens":
      why =
        `The model tried to stop at ${formatCount(mark.thinkingTokenIndex)} thinking tokens, below the minimum` +
        `${start ? ` of ${formatCount(start.minThinkingTokens)}` : ""}: its end was dropped and ${quote(mark.text)} appended.`;
      break;
    case "num_waits":
      why =
        `The model tried to stop; this is wait ${mark.waitNumber ?? "?"}` +
        `${start ? ` of num_waits = ${start.numWaits}` : ""}: its end was dropped and ${quote(mark.text)} appended.`;
      break;
    case "max_thinking_tokens":
      why = `The thinking reached the budget${start ? ` of ${formatCount(start.maxThinkingTokens)} tokens` : ""}: the close was forced, with the answer lead-in.`;
      break;
    case "model_end":
      why = "The model closed its thinking itself, and the close was accepted.";
      break;
    case "backend_stop":
      why =
        "The backend stopped the thinking (end of sequence, or no room for another wait), so it was closed.";
      break;
    case "loop":
      why =
        "The thinking went round in a loop (loop_guard): the same span repeated, so the close was forced.";
      break;
    case "stable_answer":
      why =
        "Early exit: the last probes of the thinking gave the same answer, so the close was forced.";
      break;
    case "eliminated":
      why = `The model tried to stop with an answer; eliminate rejected it (${quote(mark.text)}) and the thinking went on.`;
      break;
    case "grace":
      why = `The thinking went past the budget under grace_tokens${start?.graceTokens ? ` (${formatCount(start.graceTokens)})` : ""} to finish its sentence or line; then the close was forced.`;
      break;
  }
  const kindText =
    mark.kind === "end" ? "Close re-appended by Thinkscope" : "Injected by Thinkscope";
  const tip = [
    `${kindText}: ${quote(mark.text)} (${formatCount(mark.tokens)} token${mark.tokens === 1 ? "" : "s"})`,
    `At thinking token ${formatCount(mark.thinkingTokenIndex)}, ${formatMs(mark.time)} into the run`,
    `Why: ${why}`,
    ...(mark.endProbability !== undefined
      ? [`The model's probability of closing there: ${(mark.endProbability * 100).toFixed(1)}%`]
      : []),
  ].join("\n");
  return { label, why, tip };
}
