import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { majorityVote } from "../../src/eval/index.ts";

describe("majorityVote", () => {
  it("groups equal answers written differently", () => {
    expect(majorityVote(["5", "\\frac{1}{2}", "0.5", "5", "1/2"])).toEqual({
      answer: "\\frac{1}{2}",
      index: 1,
      votes: 3,
      counted: 5,
    });
  });

  it("breaks a tie by the earliest first occurrence", () => {
    expect(majorityVote(["3", "4", "4", "3"])).toMatchObject({ answer: "3", index: 0, votes: 2 });
    expect(majorityVote(["7", "4", "3", "3", "4"])).toMatchObject({
      answer: "4",
      index: 1,
      votes: 2,
    });
  });

  it("ignores samples without an answer", () => {
    expect(majorityVote([null, "", "2", undefined, null])).toEqual({
      answer: "2",
      index: 2,
      votes: 1,
      counted: 1,
    });
    expect(majorityVote([null, null])).toEqual({ answer: null, index: -1, votes: 0, counted: 0 });
    expect(majorityVote([])).toEqual({ answer: null, index: -1, votes: 0, counted: 0 });
  });

  it("picks a most frequent answer, and among those the one seen first", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.constantFrom("1", "2", "3", "4"), { nil: null }), { maxLength: 30 }),
        (answers) => {
          const counts = new Map<string, number>();
          for (const a of answers) if (a !== null) counts.set(a, (counts.get(a) ?? 0) + 1);
          const result = majorityVote(answers);
          if (counts.size === 0) return result.answer === null;
          const max = Math.max(...counts.values());
          const firstWithMax = answers.findIndex((a) => a !== null && counts.get(a) === max);
          return (
            result.votes === max &&
            result.index === firstWithMax &&
            result.answer === answers[firstWithMax]
          );
        },
      ),
    );
  });
});
