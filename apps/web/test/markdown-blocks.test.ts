import { describe, expect, it } from "vitest";
import { normalizeMathDelimiters, splitMarkdownBlocks } from "../src/lib/markdown-blocks.ts";

describe("answer blocks", () => {
  it("split at blank lines, but not inside code fences or display math", () => {
    const text = [
      "First.",
      "",
      "```",
      "a",
      "",
      "b",
      "```",
      "",
      "$$",
      "x",
      "",
      "y",
      "$$",
      "",
      "Last",
    ].join("\n");
    expect(splitMarkdownBlocks(text)).toEqual([
      "First.",
      "```\na\n\nb\n```",
      "$$\nx\n\ny\n$$",
      "Last",
    ]);
  });

  it("keep an unfinished last block growing in place", () => {
    expect(splitMarkdownBlocks("One.\n\nTwo, still wri")).toEqual(["One.", "Two, still wri"]);
  });

  it("turn \\( \\) and \\[ \\] into the dollar delimiters remark-math reads", () => {
    expect(normalizeMathDelimiters("so \\(x=2\\) and \\[ \\boxed{3} \\]")).toBe(
      "so $x=2$ and \n$$\n\\boxed{3}\n$$\n",
    );
    expect(normalizeMathDelimiters("Thus\n$$x = 1$$")).toBe("Thus\n$$\nx = 1\n$$");
    expect(normalizeMathDelimiters("costs $5 and $$")).toBe("costs $5 and $$");
    expect(normalizeMathDelimiters("```\n\\(x\\)\n```")).toBe("```\n\\(x\\)\n```");
  });

  it("wrap bare LaTeX (\\boxed, \\frac) outside math and code in $...$, leave unclosed braces alone", () => {
    expect(normalizeMathDelimiters("The answer is \\boxed{5355}.")).toBe(
      "The answer is $\\boxed{5355}$.",
    );
    expect(normalizeMathDelimiters("half is \\frac{1}{2} and $\\boxed{x}$")).toBe(
      "half is $\\frac{1}{2}$ and $\\boxed{x}$",
    );
    expect(normalizeMathDelimiters("still \\boxed{53")).toBe("still \\boxed{53");
    expect(normalizeMathDelimiters("code `\\boxed{1}` here")).toBe("code `\\boxed{1}` here");
    expect(normalizeMathDelimiters("$$\n\\boxed{2}\n$$")).toBe("$$\n\\boxed{2}\n$$");
  });
});
