import type { EngineEvent } from "@thinkscope/protocol";
import { describe, expect, it } from "vitest";
import { divergence, piecesFrom, snapPoint, tokenPieces } from "../src/lib/trace-tokens.ts";

const delta = (text: string, ids: number[], phase: "thinking" | "answer" = "thinking") =>
  ({
    type: "delta",
    phase,
    text,
    tokenIds: ids,
    tokens: ids.length,
    phaseTokens: 0,
    time: 0,
  }) as const;
const wait: EngineEvent = {
  type: "injection",
  kind: "wait",
  text: "Wait",
  tokenIds: [9],
  tokens: 1,
  thinkingTokenIndex: 2,
  reason: "num_waits",
  time: 0,
};

describe("a trace's token pieces", () => {
  it("numbers each piece by the continuation tokens before it", () => {
    const pieces = tokenPieces([delta("ab", [1, 2]), wait, delta("c", [3])]);
    expect(pieces.map((p) => [p.at, p.text, p.injection])).toEqual([
      [0, "ab", undefined],
      [2, "Wait", "wait"],
      [3, "c", undefined],
    ]);
    expect(piecesFrom(pieces, 2).map((p) => p.text)).toEqual(["Wait", "c"]);
  });

  it("finds where two branches part, by ids, and an injection against text parts them too", () => {
    const parent = tokenPieces([delta("a", [1]), delta("b", [2]), delta("c", [3])]);
    const fork = tokenPieces([delta("a", [1]), delta("b", [2]), { ...wait, tokenIds: [3] }]);
    expect(divergence(parent, fork)).toEqual({ tokens: 2, text: "ab" });
    expect(divergence(parent, parent)).toEqual({ tokens: 3, text: "abc" });
    expect(divergence(parent, tokenPieces([delta("x", [7])]))).toEqual({ tokens: 0, text: "" });
  });

  it("snaps a picked point to a sentence start within reach, and leaves it elsewhere", () => {
    expect(snapPoint(11, [0, 10, 30])).toBe(10);
    expect(snapPoint(20, [0, 10, 30])).toBe(20);
  });
});
