import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../src/events.ts";
import { sentencePoints, splitTrace } from "../src/steps.ts";

/** Thinking written one token per word piece, as a model streams it. */
function thinking(...pieces: string[]): EngineEvent[] {
  let n = 0;
  return pieces.map((text) => ({
    type: "delta",
    phase: "thinking",
    text,
    tokens: 1,
    phaseTokens: ++n,
    time: 0,
  }));
}

const inject = (kind: "wait" | "insert" | "end", text: string, tokens = 1): EngineEvent => ({
  type: "injection",
  kind,
  text,
  tokens,
  thinkingTokenIndex: 0,
  reason: kind === "insert" ? "fork_insert" : kind === "end" ? "model_end" : "num_waits",
  time: 0,
});

describe("splitting the thinking into sentences, paragraphs and steps", () => {
  it("ends sentences at terminal punctuation followed by space, never inside a number", () => {
    const { sentences, thinkingEnd } = splitTrace(
      thinking("It", " is", " 3", ".", "5", ".", " Then", " more", "!"),
    );
    expect(sentences.map((s) => [s.text, s.at, s.end])).toEqual([
      ["It is 3.5.", 0, 6],
      [" Then more!", 6, 9],
    ]);
    expect(thinkingEnd).toBe(9);
  });

  it("ends sentences at line breaks; a blank line starts a paragraph and a step", () => {
    const { sentences } = splitTrace(thinking("a", "\n", "b", "\n", "\n", "c", "\n"));
    expect(sentences.map((s) => [s.text, s.at, s.paragraph, s.step, s.stepStart])).toEqual([
      ["a\n", 0, 0, 0, "start"],
      ["b\n", 2, 0, 0, undefined],
      ["c\n", 5, 1, 1, "paragraph"],
    ]);
  });

  it("starts a step at reflection words and at injections, where the injected text opens the sentence", () => {
    const events = [
      ...thinking("4821 + 397 = 5208", "\n"),
      inject("wait", "Wait"),
      ...thinking(
        ", let me check",
        "\n",
        "So 5218",
        "\n",
        "Hmm",
        ", fine",
        ".",
        " But",
        " sure",
        ".",
      ),
      inject("end", "</think>"),
      { type: "phase", phase: "answer", time: 0 } as const,
      {
        type: "delta",
        phase: "answer",
        text: " 5218",
        tokens: 1,
        phaseTokens: 1,
        time: 0,
      } as const,
    ];
    const split = splitTrace(events);
    expect(split.sentences.map((s) => [s.text, s.step, s.stepStart, s.injection])).toEqual([
      ["4821 + 397 = 5208\n", 0, "start", undefined],
      ["Wait, let me check\n", 1, "injection", "wait"],
      ["So 5218\n", 1, undefined, undefined],
      ["Hmm, fine.", 2, "reflection", undefined],
      [" But sure.", 3, "reflection", undefined],
    ]);
    // The thinking ends before the close; the answer is not split.
    expect(split.thinkingEnd).toBe(13);
    expect(sentencePoints(split)).toEqual([0, 2, 5, 7, 10, 13]);
  });
});
