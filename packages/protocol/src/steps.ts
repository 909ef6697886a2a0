/**
 * The thinking of a run split into sentences, paragraphs and steps, each
 * with the token positions a fork would start from. One split serves the
 * resample analysis (its points), the page's importance strip and anything
 * else that reasons about a trace step by step.
 *
 * A sentence ends at `.`, `!` or `?` followed by white space, or at a line
 * break; an injected `Wait` (or a fork's insertion) begins a new one. A
 * blank line begins a paragraph. A step begins with each paragraph, each
 * injection, and each sentence that opens with a reflection word.
 */
import type { EngineEvent, InjectionKind } from "./events.ts";

/** Words with which a model turns back on its own reasoning. */
export const REFLECTION_WORDS = ["Wait", "Hmm", "Alternatively", "But", "Let me check"] as const;

/** Why a step begins at a sentence. */
export type StepStart = "start" | "paragraph" | "injection" | "reflection";

export interface TraceSentence {
  /** Continuation tokens before it: a fork at `at` resamples this sentence onwards. */
  at: number;
  /** Continuation tokens through its end. */
  end: number;
  text: string;
  /** Paragraph and step it belongs to, counted from 0. */
  paragraph: number;
  step: number;
  /** Set on the first sentence of a step. */
  stepStart?: StepStart;
  /** The injection that opened it, if one did. */
  injection?: InjectionKind;
}

export interface TraceSplit {
  sentences: TraceSentence[];
  /** Continuation tokens where the thinking ends (before the close, when it closed). */
  thinkingEnd: number;
}

interface Open {
  at: number;
  text: string;
  injection?: InjectionKind;
  paragraphBreak: boolean;
}

const ENDS_SENTENCE = /[.!?]["')\]]*$/;
const REFLECTION = new RegExp(`^(${REFLECTION_WORDS.join("|")})\\b`);

/** The thinking's sentences, from a run's events (stored, streamed, or a fork's). */
export function splitTrace(events: readonly EngineEvent[]): TraceSplit {
  const sentences: TraceSentence[] = [];
  let count = 0;
  let open: Open | null = null;
  let paragraph = 0;
  let step = -1;
  // A sentence that ended on `.` waits for the next piece: white space confirms the end (`3.5` does not).
  let pendingEnd = false;
  let blankLineBefore = false;

  const close = () => {
    if (!open || open.text === "") return;
    const first = sentences.length === 0;
    if (open.paragraphBreak && !first) paragraph += 1;
    let start: StepStart | undefined;
    if (first) start = "start";
    else if (open.paragraphBreak) start = "paragraph";
    else if (open.injection) start = "injection";
    else if (REFLECTION.test(open.text.trimStart())) start = "reflection";
    if (start) step += 1;
    const sentence: TraceSentence = {
      at: open.at,
      end: count,
      text: open.text,
      paragraph,
      step: Math.max(step, 0),
    };
    if (start) sentence.stepStart = start;
    if (open.injection) sentence.injection = open.injection;
    sentences.push(sentence);
    blankLineBefore = /\n\s*\n\s*$/.test(open.text);
    open = null;
  };
  const begin = (injection?: InjectionKind) => {
    open = { at: count, text: "", paragraphBreak: blankLineBefore };
    if (injection) open.injection = injection;
  };

  for (const event of events) {
    if (event.type === "phase") break;
    let text: string;
    let tokens: number;
    if (event.type === "delta") {
      if (event.phase !== "thinking") break;
      ({ text, tokens } = event);
      if (pendingEnd && /^\s/.test(text)) close();
      pendingEnd = false;
      if (!open) begin();
    } else if (event.type === "injection") {
      if (event.kind === "end" || event.kind === "forced_end") break;
      pendingEnd = false;
      close();
      begin(event.kind);
      ({ text, tokens } = event);
    } else {
      continue;
    }
    const current = open as Open | null;
    if (!current) continue;
    // White space between sentences is not a sentence of its own.
    if (current.text === "" && text.trim() === "" && !current.injection) {
      current.at = count + tokens;
      if (/\n\s*\n/.test(text) || (text.includes("\n") && sentences.at(-1)?.text.endsWith("\n")))
        current.paragraphBreak = true;
      count += tokens;
      continue;
    }
    current.text += text;
    count += tokens;
    if (text.includes("\n")) close();
    else if (ENDS_SENTENCE.test(current.text)) pendingEnd = true;
  }
  close();
  return { sentences, thinkingEnd: count };
}

/**
 * The points a resample analysis forks at for "sentences": the start of each
 * sentence and the end of the thinking, so each sentence lies between two
 * consecutive points.
 */
export function sentencePoints(split: TraceSplit): number[] {
  const points = split.sentences.map((s) => s.at);
  points.push(split.thinkingEnd);
  return [...new Set(points)].sort((a, b) => a - b);
}
