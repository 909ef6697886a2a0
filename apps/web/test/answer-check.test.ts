import { describe, expect, it } from "vitest";
import {
  finalAnswer,
  judgeAnswer,
  lastBoxed,
  referenceFromPrompt,
} from "../src/lib/answer-check.ts";

describe("answer check", () => {
  it("works out the reference of a plain sum, difference or product asked in the prompt", () => {
    expect(referenceFromPrompt("What is 3891 + 1464?")).toBe("5355");
    expect(referenceFromPrompt("what is 12 - 30")).toBe("-18");
    expect(referenceFromPrompt("Compute 123456789 * 987654321.")).toBeNull();
    expect(referenceFromPrompt("Compute 12 × 11")).toBe("132");
    expect(
      referenceFromPrompt("What is 190 + 3719?\n\nPut your final answer within \\boxed{}."),
    ).toBe("3909");
    expect(referenceFromPrompt("How many r's are in raspberry?")).toBeNull();
  });

  it("reads the last boxed value, braces balanced, else the last number", () => {
    expect(lastBoxed("\\boxed{1} then \\boxed{\\frac{1}{2}}")).toBe("\\frac{1}{2}");
    expect(lastBoxed("\\boxed{12")).toBeNull();
    expect(finalAnswer("The answer is \\boxed{5355}.")).toBe("5355");
    expect(finalAnswer("So it is 1,234.")).toBe("1,234");
    expect(finalAnswer("no idea")).toBeNull();
  });

  it("judges right and wrong, and says nothing without a reference", () => {
    expect(judgeAnswer("The answer is \\boxed{5355}.", "5355")).toBe("right");
    expect(judgeAnswer("The answer is \\boxed{6115}.", "5355")).toBe("wrong");
    expect(judgeAnswer("It is $5,355$.", "5355")).toBe("right");
    expect(judgeAnswer("It is \\boxed{\\text{5355}}", "5355")).toBe("right");
    expect(judgeAnswer("I cannot tell.", "5355")).toBe("wrong");
    expect(judgeAnswer("The answer is 3", null)).toBeNull();
    expect(judgeAnswer("", "5355")).toBeNull();
  });
});
