import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DelimiterMatcher } from "../src/index.ts";

describe("DelimiterMatcher", () => {
  it("holds back a possible delimiter start until the next chunk decides", () => {
    const matcher = new DelimiterMatcher(["</think>"]);
    expect(matcher.push("abc</th")).toEqual({ text: "abc" });
    expect(matcher.push("ink>rest")).toEqual({
      text: "",
      match: { marker: "</think>", after: "rest" },
    });
  });

  it("releases held text that turns out not to be the delimiter", () => {
    const matcher = new DelimiterMatcher(["</think>"]);
    expect(matcher.push("a<")).toEqual({ text: "a" });
    expect(matcher.push("b")).toEqual({ text: "<b" });
    expect(matcher.push("</")).toEqual({ text: "" });
    expect(matcher.flush()).toBe("</");
  });

  it("finds the earliest of several markers", () => {
    const matcher = new DelimiterMatcher(["<|im_start|>", "<|im_end|>"]);
    expect(matcher.push("x<|im_end|>y<|im_start|>")).toMatchObject({
      text: "x",
      match: { marker: "<|im_end|>" },
    });
  });

  it("finds the delimiter however the stream is split", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (before, after, cuts) => {
          fc.pre(!before.includes("<") && !(before + "</think>").slice(0, -1).includes("</think>"));
          const text = before + "</think>" + after;
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let last = 0;
          for (const point of points) {
            chunks.push(text.slice(last, point));
            last = point;
          }
          chunks.push(text.slice(last));
          const matcher = new DelimiterMatcher(["</think>"]);
          let released = "";
          for (const chunk of chunks) {
            const result = matcher.push(chunk);
            released += result.text;
            if (result.match) {
              expect(released).toBe(before);
              return;
            }
          }
          throw new Error("delimiter not found");
        },
      ),
    );
  });
});
