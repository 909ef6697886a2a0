/**
 * Thinking formats: how a model opens and closes its thinking, and what the
 * engine appends on a natural or a forced close (docs/engine.md, "Formats").
 */
import type { FormatInput, ThinkingFormat } from "@thinkscope/protocol";

export const THINK_TAGS: ThinkingFormat = {
  name: "think-tags",
  start: "<think>",
  endMarkers: ["</think>"],
  naturalClose: "</think>",
  forcedClose: "\n</think>\n\n",
  answerStopMarkers: [],
};

/**
 * s1 / s1.1: the thinking starts at `<|im_start|>think` and the model ends it
 * by starting a new ChatML block, so the engine stops on `<|im_start|>` or
 * `<|im_end|>` (the reference code's stop ids) and appends `<|im_start|>answer`.
 */
export const S1: ThinkingFormat = {
  name: "s1",
  start: "<|im_start|>think",
  endMarkers: ["<|im_start|>", "<|im_end|>"],
  naturalClose: "<|im_start|>answer",
  forcedClose: "\n<|im_start|>answer\n",
  answerStopMarkers: ["<|im_end|>"],
};

/**
 * gpt-oss's harmony: the thinking is the `analysis` channel's message, which
 * the model ends with `<|end|>`; the close starts the `final` channel, whose
 * message is the answer and ends with `<|return|>` (or `<|end|>`).
 */
export const HARMONY: ThinkingFormat = {
  name: "harmony",
  start: "<|channel|>analysis<|message|>",
  endMarkers: ["<|end|>"],
  naturalClose: "<|end|><|start|>assistant<|channel|>final<|message|>",
  forcedClose: "<|end|><|start|>assistant<|channel|>final<|message|>",
  answerStopMarkers: ["<|return|>", "<|end|>"],
};

export function resolveFormat(input: FormatInput): ThinkingFormat {
  if (input === "think-tags") return THINK_TAGS;
  if (input === "s1") return S1;
  if (input === "harmony") return HARMONY;
  const endMarkers = (Array.isArray(input.end) ? input.end : [input.end]).filter((m) => m !== "");
  const primaryEnd = endMarkers[0] ?? "";
  return {
    name: "custom",
    start: input.start,
    endMarkers,
    endTokenIds: input.end_token_ids,
    naturalClose: primaryEnd,
    forcedClose: input.forced_end ?? `\n${primaryEnd}\n\n`,
    answerStopMarkers: [],
  };
}

/**
 * The text appended on a forced close. A leading newline in the close is
 * dropped when the thinking already ends in one (the s1 reference does this).
 */
export function forcedCloseText(
  format: ThinkingFormat,
  thinkingSoFar: string,
  answerPrefix: string,
): string {
  let close = format.forcedClose;
  if (close.startsWith("\n") && (thinkingSoFar.endsWith("\n") || thinkingSoFar === "")) {
    close = close.slice(1);
  }
  return close + answerPrefix;
}

/**
 * The closes a run may inject, each in its longest form (thinking that does
 * not end in a newline keeps the forced close's leading newline): what the
 * context must keep room for.
 */
export function closeTexts(format: ThinkingFormat, answerPrefix: string): string[] {
  return [forcedCloseText(format, "-", answerPrefix), format.naturalClose];
}

/**
 * Where generation starts for a prompt: inside the thinking when the prompt
 * holds an unclosed start delimiter, otherwise before it (the model opens
 * its thinking itself, as Qwen3 does).
 */
export function promptOpensThinking(format: ThinkingFormat, prompt: string): boolean {
  const start = prompt.lastIndexOf(format.start);
  if (start < 0) return false;
  const after = prompt.slice(start + format.start.length);
  return !format.endMarkers.some((marker) => after.includes(marker));
}

/** The prompt with the format's thinking start appended when it does not open the thinking yet. */
export function withThinkingStart(format: ThinkingFormat, prompt: string): string {
  if (promptOpensThinking(format, prompt)) return prompt;
  return prompt + (format.name === "think-tags" ? `${format.start}\n` : format.start);
}
