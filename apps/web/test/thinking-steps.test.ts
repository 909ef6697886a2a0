import { describe, expect, it } from "vitest";
import { foldAll } from "../src/lib/trace-fold.ts";
import { thinkingSteps } from "../src/lib/thinking-steps.ts";
import { EventScript } from "./fixtures.ts";

describe("thinking steps", () => {
  it("split at each injection and at reflection words, and cover the thinking without gaps", () => {
    const events = new EventScript({ numWaits: 1 })
      .think("3891 + 1464 = 6115\n")
      .wait()
      .think(", let me check digit by digit:\n1+4=5\n")
      .think("Hmm, so 5355.\nSo it is 5355. Actually fine.\n")
      .close("end")
      .say("5355")
      .finish().events;
    const trace = foldAll(events);
    const steps = thinkingSteps(trace.segments);
    expect(steps.map((s) => [s.kind, s.label])).toEqual([
      ["start", "3891 + 1464 = 6115"],
      ["wait", "Wait 1"],
      ["reflection", "Hmm"],
      ["reflection", "Actually"],
      ["end", "model closed"],
    ]);
    const thinkingChars = trace.segments
      .filter((s) => s.type !== "answer")
      .reduce((sum, s) => sum + s.chars, 0);
    expect(steps.reduce((sum, s) => sum + s.chars, 0)).toBe(thinkingChars);
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i]!.start).toBe(steps[i - 1]!.start + steps[i - 1]!.chars);
    }
  });

  it("does not split inside a word or at a word that only starts like one", () => {
    const steps = thinkingSteps(
      foldAll(new EventScript().think("Waiting is fine. The Hmmm. await it\n").events).segments,
    );
    expect(steps.map((s) => s.kind)).toEqual(["start"]);
  });
});
