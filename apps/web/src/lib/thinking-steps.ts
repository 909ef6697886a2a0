/**
 * The structure of a trace's thinking: its steps, split where the engine
 * stepped in (each injection) and where the model turned back on itself (a
 * line or sentence that opens with a reflection word such as "Wait",
 * "Hmm" or "Let me check"). The minimap draws them, so a long trace can be
 * read by its shape before its text.
 */
import type { InjectionKind } from "@thinkscope/protocol";
import { segmentText, type TraceSegment } from "./trace-fold.ts";

/** How the minimap names a step that starts with a method's or a fork's injection. */
const INJECTION_STEP_LABELS: Record<string, string> = {
  insert: "inserted",
  budget_message: "budget message",
  elimination: "answer eliminated",
};

/** Openings that mark the model reconsidering (the s1 paper's and reasoning models' own). */
export const REFLECTION_WORDS = [
  "Wait",
  "Hmm",
  "Alternatively",
  "Actually",
  "Let me check",
  "Let me verify",
  "Let me double-check",
  "Double-check",
  "Hold on",
  "But wait",
  "On second thought",
] as const;

const REFLECTION = new RegExp(`(^|\\n|[.!?]\\s+)(${REFLECTION_WORDS.join("|")})(?![\\p{L}])`, "gu");

export interface ThinkingStep {
  kind: "start" | "reflection" | InjectionKind;
  /** A few words to name it: the injected text, or the step's opening. */
  label: string;
  /** Offset of the step's first character in the thinking (injections included). */
  start: number;
  /** Characters in the step. */
  chars: number;
}

interface Opening {
  offset: number;
  word: string;
}

/**
 * Reflection openings by block text. A closed block keeps its string while
 * the trace grows, so a streaming trace scans only its growing block per
 * batch, not the whole thinking. Bounded: cleared when it grows past a few
 * thousand blocks (a new run's blocks fill it again).
 */
const blockCache = new Map<string, Opening[]>();
const BLOCK_CACHE_LIMIT = 4096;

function scanBlock(block: string): Opening[] {
  const found: Opening[] = [];
  for (const match of block.matchAll(REFLECTION)) {
    const lead = match[1] ?? "";
    found.push({ offset: (match.index ?? 0) + lead.length, word: match[2] ?? "" });
  }
  return found;
}

function openingsOfBlock(block: string): Opening[] {
  const cached = blockCache.get(block);
  if (cached) return cached;
  const found = scanBlock(block);
  if (blockCache.size >= BLOCK_CACHE_LIMIT) blockCache.clear();
  blockCache.set(block, found);
  return found;
}

/** Reflection openings in one segment, offsets from the segment's start. */
function openingsOf(segment: TraceSegment): Opening[] {
  const found: Opening[] = [];
  let offset = 0;
  const last = segment.blocks.length - 1;
  for (const [index, block] of segment.blocks.entries()) {
    // The last block may still grow: each of its versions is a new string, not worth keeping.
    const openings = index === last ? scanBlock(block) : openingsOfBlock(block);
    for (const opening of openings) {
      found.push({ offset: offset + opening.offset, word: opening.word });
    }
    offset += block.length;
  }
  return found;
}

function snippet(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 28 ? `${line.slice(0, 27)}…` : line;
}

/** The steps of the thinking segments (everything before the answer). */
export function thinkingSteps(segments: readonly TraceSegment[]): ThinkingStep[] {
  const steps: ThinkingStep[] = [];
  let offset = 0;
  const open = (step: ThinkingStep) => {
    const last = steps.at(-1);
    if (last) last.chars = step.start - last.start;
    steps.push(step);
  };
  for (const segment of segments) {
    if (segment.type === "answer") break;
    if (segment.injection) {
      const { kind, waitNumber } = segment.injection;
      const label =
        kind === "wait"
          ? `${segment.injection.text.trim() || "Wait"}${waitNumber ? ` ${waitNumber}` : ""}`
          : kind === "forced_end"
            ? "forced close"
            : kind === "end"
              ? "model closed"
              : (INJECTION_STEP_LABELS[kind] ?? kind);
      open({ kind, label, start: offset, chars: 0 });
    } else {
      if (steps.length === 0) {
        open({ kind: "start", label: snippet(segmentText(segment)), start: offset, chars: 0 });
      }
      for (const { offset: at, word } of openingsOf(segment)) {
        // A segment that opens the first step with a reflection word is that one step.
        const previous = steps.at(-1);
        if (at === 0 && previous && previous.start === offset) continue;
        open({ kind: "reflection", label: word, start: offset + at, chars: 0 });
      }
    }
    offset += segment.chars;
  }
  const last = steps.at(-1);
  if (last) last.chars = offset - last.start;
  return steps;
}
