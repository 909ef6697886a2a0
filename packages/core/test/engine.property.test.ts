import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROMPT, runScripted } from "./run-helpers.ts";

const reply = fc
  .array(fc.constantFrom("a", "b", "c", " ", "\n", "é", "</think>"), { maxLength: 14 })
  .map((parts) => parts.join(""));

const scenario = fc.record({
  replies: fc.array(reply, { minLength: 1, maxLength: 6 }),
  mode: fc.constantFrom("ids" as const, "text" as const),
  tokensPerChunk: fc.integer({ min: 1, max: 4 }),
  ignoreStops: fc.boolean(),
  max: fc.integer({ min: 1, max: 40 }),
  minShare: fc.double({ min: 0, max: 1, noNaN: true }),
  numWaits: fc.integer({ min: 0, max: 5 }),
  waitStrings: fc.array(fc.constantFrom("Wait", "Hmm", "x"), { minLength: 1, maxLength: 3 }),
  maxExtensions: fc.integer({ min: 5, max: 8 }),
  grace: fc.integer({ min: 0, max: 6 }),
  budgetMessage: fc.constantFrom("", "Time is up."),
  earlyExit: fc.option(
    fc.record({
      probe_every: fc.integer({ min: 1, max: 12 }),
      stable: fc.integer({ min: 1, max: 3 }),
    }),
    { nil: undefined },
  ),
  eliminate: fc.option(fc.record({ attempts: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
});

describe("engine invariants (property-based)", () => {
  it("never exceeds the budget, never over-extends, and the segments are the exact continuation", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const min = Math.floor(s.max * s.minShare);
        const { transcript, backend } = await runScripted(
          {
            replies: s.replies,
            mode: s.mode,
            tokensPerChunk: s.tokensPerChunk,
            ignoreStops: s.ignoreStops,
          },
          {
            budgetForcing: {
              max_thinking_tokens: s.max,
              min_thinking_tokens: min,
              num_waits: s.numWaits,
              wait_string: s.waitStrings,
              max_extensions: s.maxExtensions,
              max_answer_tokens: 20,
              grace_tokens: s.grace,
              budget_message: s.budgetMessage,
              ...(s.earlyExit ? { early_exit: s.earlyExit } : {}),
              ...(s.eliminate ? { eliminate: s.eliminate } : {}),
            },
          },
        );
        const summary = transcript.summary();
        expect(transcript.finishReason === "stop" || transcript.finishReason === "length").toBe(
          true,
        );
        // Every request asks for at least one token (a server refuses max_tokens 0 or less).
        for (const request of backend.requests) expect(request.maxTokens).toBeGreaterThan(0);
        // The grace is the only way past the budget, and it is reported.
        expect(summary.thinking_tokens).toBeLessThanOrEqual(s.max + s.grace);
        expect(summary.grace_tokens_used ?? 0).toBe(Math.max(0, summary.thinking_tokens - s.max));
        expect(summary.waits).toBeLessThanOrEqual(s.maxExtensions);
        if (min === 0) expect(summary.waits).toBeLessThanOrEqual(s.numWaits);
        expect(summary.eliminated_answers?.length ?? 0).toBeLessThanOrEqual(
          s.eliminate?.attempts ?? 0,
        );
        // Exactly one close, and the answer comes after it.
        const types = transcript.segments.map((seg) => seg.type);
        expect(types.filter((t) => t === "end" || t === "forced_end")).toHaveLength(1);
        // A budget message only ever comes right before the forced close.
        const message = types.indexOf("budget_message");
        if (message >= 0) expect(types[message + 1]).toBe("forced_end");
        expect(types.lastIndexOf("thinking")).toBeLessThan(
          types.findIndex((t) => t === "end" || t === "forced_end"),
        );
        // The segments concatenate to the continuation, and the last request
        // (the answer) was sent exactly the prompt plus everything before it.
        expect(transcript.segments.map((seg) => seg.text).join("")).toBe(transcript.text);
        const beforeAnswer = transcript.text.slice(
          0,
          transcript.text.length - transcript.answerText.length,
        );
        // Probes go out as side requests; the last request that is not one is the answer's.
        const answerRequest = backend.requests.filter((r) => !r.stopStrings.includes("}")).at(-1)!;
        expect(answerRequest.promptText).toBe(PROMPT + beforeAnswer);
        // No delimiter leaks into the thinking.
        expect(transcript.thinkingText).not.toContain("</think>");
      }),
      { numRuns: 300 },
    );
  });
});
