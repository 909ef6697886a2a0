import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LoopWatch } from "../../src/methods/loop-guard.ts";
import { injections, runScripted } from "../run-helpers.ts";

/** The definition, checked the slow way: the last window × repeats units repeat a span of at most window. */
function loopsAt(units: number[], window: number, repeats: number): boolean {
  const span = window * repeats;
  if (units.length < span) return false;
  const tail = units.slice(-span);
  for (let period = 1; period <= window; period++) {
    if (tail.every((unit, i) => i < period || unit === tail[i - period])) return true;
  }
  return false;
}

describe("LoopWatch", () => {
  it("says the thinking loops exactly when its tail repeats a span of at most the window", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 4 }),
        (units, window, repeats) => {
          const watch = new LoopWatch(window, repeats);
          units.forEach((unit, i) => {
            expect(watch.push([unit])).toBe(loopsAt(units.slice(0, i + 1), window, repeats));
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("loop_guard", () => {
  const loop = "so the sum is 12. ";
  const looping = "First, 5 + 7. " + loop.repeat(40);

  it("forces the close with reason loop within repeats windows of the loop starting", async () => {
    const { transcript, events } = await runScripted(
      { replies: [looping, "12"] },
      {
        budgetForcing: {
          max_thinking_tokens: 600,
          loop_guard: { window: 20, repeats: 3 },
          budget_message: "I am going round in circles; I answer now.",
        },
      },
    );
    const marks = injections(events);
    expect(marks.map((e) => [e.kind, e.reason])).toEqual([
      ["budget_message", "loop"],
      ["forced_end", "loop"],
    ]);
    const loopStart = "First, 5 + 7. ".length;
    const closedAt = marks[0]!.thinkingTokenIndex;
    expect(closedAt - loopStart).toBeLessThanOrEqual(3 * 20);
    expect(transcript.thinkingText.startsWith(looping.slice(0, closedAt))).toBe(true);
    expect(transcript.answerText).toBe("12");
  });

  it("leaves thinking that does not loop alone, and off by default", async () => {
    const varied = "one two three four five six seven eight nine ten</think>";
    const guarded = await runScripted(
      { replies: [varied, "10"] },
      { budgetForcing: { loop_guard: { window: 4, repeats: 2 } } },
    );
    expect(injections(guarded.events).map((e) => e.reason)).toEqual(["model_end"]);
    const off = await runScripted(
      { replies: [looping, "12"] },
      { budgetForcing: { max_thinking_tokens: 300 } },
    );
    expect(injections(off.events).map((e) => e.reason)).toEqual(["max_thinking_tokens"]);
  });

  it("watches characters on a text-only backend (its window counted as about four a token)", async () => {
    const { events } = await runScripted(
      { replies: [looping, "12"], mode: "text" },
      { budgetForcing: { max_thinking_tokens: 600, loop_guard: { window: 5, repeats: 3 } } },
    );
    expect(injections(events).map((e) => [e.kind, e.reason])).toEqual([["forced_end", "loop"]]);
  });

  it("refuses a guard that cannot work, naming its field", async () => {
    await expect(
      runScripted({ replies: ["a"] }, { budgetForcing: { loop_guard: { window: 0 } } }),
    ).rejects.toThrow(/loop_guard\.window/);
    await expect(
      runScripted({ replies: ["a"] }, { budgetForcing: { loop_guard: { repeats: 1 } } }),
    ).rejects.toThrow(/loop_guard\.repeats/);
  });
});
