import { describe, expect, it } from "vitest";
import { extractAnswer } from "../../src/eval/index.ts";

describe("extractAnswer", () => {
  it.each([
    ["the last box wins", "First \\boxed{3}, then \\boxed{4}.", "4", "boxed"],
    ["nested braces", "So $\\boxed{\\frac{1}{\\sqrt{2}}}$.", "\\frac{1}{\\sqrt{2}}", "boxed"],
    ["escaped braces inside", "\\boxed{\\{1, 2\\}}", "\\{1, 2\\}", "boxed"],
    [
      "a box cut off by the token limit is skipped",
      "\\boxed{5} wait \\boxed{\\frac{1",
      "5",
      "boxed",
    ],
    ["an empty box is skipped", "\\boxed{7} and \\boxed{}", "7", "boxed"],
    ["fbox", "The result: \\fbox{12}", "12", "fbox"],
    ["box without braces", "\\boxed 9", "9", "boxed"],
    ["box beats a later phrase", "\\boxed{2}\nAnswer: 3", "2", "boxed"],
    [
      "Minerva / s1 style",
      "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.",
      "\\frac{3}{4}",
      "final_answer",
    ],
    ["Final Answer on its own line", "Final Answer:\n\n  42\n", "42", "final_answer"],
    ["markdown bold", "**Final Answer:** 17", "17", "final_answer"],
    ["the answer is", "Thus the answer is 3.5.", "3.5", "the_answer_is"],
    ["the answer is, then more text", "The answer is 12. That is all.", "12", "the_answer_is"],
    ["escaped dollars are not math", "The answer is \\$18.90.", "\\$18.90", "the_answer_is"],
    ["Answer line", "work\nAnswer: x = 5\n", "x = 5", "answer_line"],
    ["markdown Answer line", "work\n**Answer:** $(1, 2)$", "(1, 2)", "answer_line"],
    ["GSM8K ####", "16 - 3 - 4 = 9\n#### 1,234", "1,234", "hashes"],
    ["the latest phrase wins", "The answer is 4.\nWait, no.\nAnswer: 5", "5", "answer_line"],
    ["last number", "I get 3 apples, then 4.5, and finally -7", "-7", "last_number"],
    ["last number with thousands", "in total 12,345 people", "12,345", "last_number"],
    ["last number as a fraction", "it comes to 3/8", "3/8", "last_number"],
  ])("%s", (_name, output, answer, rule) => {
    expect(extractAnswer(output)).toEqual({ answer, rule });
  });

  it("returns null when there is nothing to extract", () => {
    expect(extractAnswer("I am not sure.")).toBeNull();
    expect(extractAnswer("")).toBeNull();
  });
});
