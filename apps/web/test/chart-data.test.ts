import { describe, expect, it } from "vitest";
import {
  chartRows,
  downsamplePoints,
  tokenAxisTop,
  tokensPerSecond,
} from "../src/lib/chart-data.ts";
import { foldAll, type TokenPoint } from "../src/lib/trace-fold.ts";
import { EventScript } from "./fixtures.ts";

describe("chart data", () => {
  const points: TokenPoint[] = Array.from({ length: 5000 }, (_, i) => ({
    time: i * 30,
    thinking: i,
    answer: null,
    generated: i,
    ...(i === 1234 ? { endP: 0.9 } : i % 7 === 0 ? { endP: 0.01 } : {}),
    ...(i === 2500 || i === 2501 ? { injection: "wait" as const } : {}),
  }));

  it("downsamples long series to a bounded size, keeping the end, the injections and the peaks", () => {
    const out = downsamplePoints(points, 300);
    expect(out.length).toBeLessThanOrEqual(310);
    expect(out[0]).toBe(points[0]);
    expect(out.at(-1)?.thinking).toBe(4999);
    expect(out.filter((p) => p.injection === "wait").map((p) => p.thinking)).toEqual([2500, 2501]);
    expect(Math.max(...out.map((p) => p.endP ?? 0))).toBe(0.9);
    const times = out.map((p) => p.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("gives each drawn point the mean entropy of the tokens it stands for", () => {
    // One token a point, unsure (4 bits) in the first quarter only.
    const unsure: TokenPoint[] = Array.from({ length: 1000 }, (_, i) => ({
      time: i * 30,
      thinking: i,
      answer: null,
      generated: i,
      entropy: i < 250 ? 4 : 0,
      entropyTokens: 1,
    }));
    const rows = chartRows(unsure, 100);
    expect(rows.length).toBeLessThanOrEqual(102);
    const at = (seconds: number) => rows.find((row) => row.t >= seconds)!.entropy;
    expect(at(3)).toBe(4);
    expect(at(20)).toBe(0);
    // The area under the line is kept: the mean over the drawn points is the tokens' mean.
    const drawn = rows.slice(1).map((row) => row.entropy!);
    expect(drawn.reduce((a, b) => a + b, 0) / drawn.length).toBeCloseTo(1, 1);
  });

  it("leaves short series as they are and starts the chart at zero", () => {
    expect(downsamplePoints(points.slice(0, 10), 300)).toEqual(points.slice(0, 10));
    const rows = chartRows(points.slice(1, 3));
    expect(rows[0]).toEqual({
      t: 0,
      thinking: 0,
      answer: null,
      endP: null,
      entropy: null,
      injection: null,
    });
    expect(rows[1]?.t).toBe(0.03);
  });

  it("reports the recent pace while streaming and the engine's figure when done", () => {
    const script = new EventScript();
    for (let i = 0; i < 100; i += 1) script.think("x", 5, 50); // 100 tokens/s
    const live = foldAll(script.events);
    expect(tokensPerSecond(live)).toBeCloseTo(100, 5);
    expect(tokensPerSecond(foldAll(script.finish().events))).toBe(123.4);
    expect(tokensPerSecond(foldAll(new EventScript().events))).toBeNull();
  });
});

describe("the token axis of a live chart", () => {
  it("grows in small round steps with the data, never jumping to the budget", () => {
    const tops = Array.from({ length: 400 }, (_, tokens) => tokenAxisTop(tokens, 512));
    for (let i = 1; i < tops.length; i++) {
      expect(tops[i]).toBeGreaterThanOrEqual(tops[i - 1]!);
      // Each step at most 1.5x the last until the budget: 60 never turns into 512 at once.
      if (tops[i]! < 512) expect(tops[i]! / tops[i - 1]!).toBeLessThanOrEqual(1.5);
    }
    expect(tokenAxisTop(48)).toBe(60);
    expect(tokenAxisTop(0)).toBe(8);
  });

  it("is the budget once the data comes within reach of it, and the data's height past it", () => {
    expect(tokenAxisTop(100, 512)).toBe(150);
    expect(tokenAxisTop(380, 512)).toBe(500);
    expect(tokenAxisTop(400, 512)).toBe(500);
    expect(tokenAxisTop(410, 512)).toBe(512);
    expect(tokenAxisTop(530, 512)).toBe(530);
  });
});
