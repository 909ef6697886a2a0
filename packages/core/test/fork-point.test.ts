import type { EngineEvent } from "@thinkscope/protocol";
import { describe, expect, it } from "vitest";
import { continuationTokens, cutAtToken } from "../src/fork-point.ts";

const delta = (text: string, ids: number[], phase: "thinking" | "answer", phaseTokens: number) =>
  ({
    type: "delta",
    phase,
    text,
    tokenIds: ids,
    tokens: ids.length,
    phaseTokens,
    time: 1,
  }) as const;

const EVENTS: EngineEvent[] = [
  delta("abc", [1, 2, 3], "thinking", 3),
  {
    type: "injection",
    kind: "wait",
    text: "Wait",
    tokenIds: [7, 8],
    tokens: 2,
    thinkingTokenIndex: 3,
    reason: "num_waits",
    waitNumber: 1,
    time: 2,
  },
  delta("d", [4], "thinking", 6),
  {
    type: "injection",
    kind: "end",
    text: "</think>",
    tokenIds: [9],
    tokens: 1,
    thinkingTokenIndex: 6,
    reason: "model_end",
    time: 3,
  },
  { type: "phase", phase: "answer", time: 3 },
  delta(" 42", [5, 6], "answer", 2),
];

const detokenize = async (ids: number[]) => ids.map((id) => "abcdefghi"[id - 1]).join("");

describe("cutting a parent's events where a fork branches", () => {
  it("counts generated and injected tokens alike", () => {
    expect(continuationTokens(EVENTS)).toBe(9);
  });

  it("keeps whole events up to the point, with the answer phase right after its close", async () => {
    expect(await cutAtToken(EVENTS, 0)).toEqual([]);
    expect((await cutAtToken(EVENTS, 6)).map((e) => e.type)).toEqual([
      "delta",
      "injection",
      "delta",
    ]);
    expect((await cutAtToken(EVENTS, 7)).map((e) => e.type)).toEqual([
      "delta",
      "injection",
      "delta",
      "injection",
      "phase",
    ]);
    expect(await cutAtToken(EVENTS, 9)).toHaveLength(EVENTS.length);
  });

  it("cuts a chunk of several tokens by its ids, its counts following", async () => {
    const cut = await cutAtToken(EVENTS, 2, detokenize);
    expect(cut).toEqual([
      { ...EVENTS[0], text: "ab", tokenIds: [1, 2], tokens: 2, phaseTokens: 2 },
    ]);
  });

  it("refuses a point inside a chunk it cannot cut, or inside an injection, naming the nearest points", async () => {
    await expect(cutAtToken(EVENTS, 2)).rejects.toMatchObject({
      code: "invalid_fork",
      status: 400,
      message: expect.stringContaining("the nearest points are 0 and 3"),
    });
    await expect(cutAtToken(EVENTS, 4, detokenize)).rejects.toMatchObject({
      code: "invalid_fork",
      message: expect.stringMatching(/inside the injected "Wait"; the nearest points are 3 and 5/),
    });
  });

  it("refuses a point past the parent's end", async () => {
    await expect(cutAtToken(EVENTS, 10)).rejects.toMatchObject({
      code: "invalid_fork",
      message: expect.stringContaining("from 0 to 9"),
    });
  });
});
