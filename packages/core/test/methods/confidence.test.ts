import { describe, expect, it } from "vitest";
import { confidenceVote } from "../../src/eval/index.ts";
import { GroupConfidence } from "../../src/methods/group-confidence.ts";
import { runScripted } from "../run-helpers.ts";

describe("GroupConfidence", () => {
  it("is the lowest mean over any window of consecutive tokens", () => {
    const group = new GroupConfidence(2);
    group.push([-0.1, -0.1, -2, -0.1, -0.1]);
    expect(group.value()).toBeCloseTo(-1.05);
    const short = new GroupConfidence(10);
    short.push([-1, -3]);
    expect(short.value()).toBe(-2);
    expect(new GroupConfidence(3).value()).toBeNull();
  });
});

describe("confidenceVote", () => {
  it("lets two confident samples outvote three unsure ones", () => {
    const samples = [
      { answer: "5", confidence: -3 },
      { answer: "5", confidence: -3.2 },
      { answer: "12", confidence: -0.05 },
      { answer: "5", confidence: -2.9 },
      { answer: "12", confidence: -0.1 },
    ];
    expect(confidenceVote(samples).answer).toBe("12");
    // Keeping only the most confident fifth: the single best sample decides.
    expect(confidenceVote(samples, 0.2)).toEqual({ answer: "12", index: 2 });
  });

  it("falls back to the majority without any confidence", () => {
    expect(
      confidenceVote([
        { answer: "1", confidence: null },
        { answer: "2", confidence: null },
        { answer: "2", confidence: null },
      ]).answer,
    ).toBe("2");
  });
});

describe("the engine's confidence report", () => {
  it("reports the lowest group log-probability of the generated tokens when asked", async () => {
    const { transcript, backend } = await runScripted(
      {
        replies: ["abcdef</think>", "42"],
        tokenLogprob: (position) => (position === 3 ? -4 : -0.5),
      },
      { confidenceWindow: 2 },
    );
    expect(transcript.stats?.lowestGroupLogprob).toBeCloseTo(-2.25);
    expect(backend.requests.length).toBe(2);
  });

  it("is refused by a backend without token log-probabilities", async () => {
    await expect(runScripted({ replies: ["a"] }, { confidenceWindow: 8 })).rejects.toMatchObject({
      code: "unsupported_by_backend",
      status: 400,
    });
  });
});
