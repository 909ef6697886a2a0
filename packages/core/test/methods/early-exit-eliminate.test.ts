import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@thinkscope/protocol";
import { PROMPT, injections, runScripted } from "../run-helpers.ts";

const probes = (events: EngineEvent[]) => events.flatMap((e) => (e.type === "probe" ? [e] : []));
const LEAD_IN = "\n</think>\n\nThe answer is \\boxed{";

describe("early_exit", () => {
  it("probes every probe_every tokens and forces the close once stable probes agree", async () => {
    // One reply per request, probes included: thinking, probe, thinking, probe...
    const { transcript, events, backend } = await runScripted(
      {
        replies: ["aaaaa-cut", "41}", "bbbbb-cut", "42}", "ccccc-cut", "42}", " 42"],
      },
      { budgetForcing: { max_thinking_tokens: 100, early_exit: { probe_every: 5, stable: 2 } } },
    );
    expect(
      probes(events).map((p) => [p.trigger, p.answer, p.thinkingTokenIndex, p.tokens]),
    ).toEqual([
      ["periodic", "41", 5, 2],
      ["periodic", "42", 10, 2],
      ["periodic", "42", 15, 2],
    ]);
    expect(injections(events).map((e) => [e.kind, e.reason, e.thinkingTokenIndex])).toEqual([
      ["forced_end", "stable_answer", 15],
    ]);
    // The probe asked from the thinking so far, and never entered the trace.
    expect(backend.requests[1]!.promptText).toBe(PROMPT + "aaaaa" + LEAD_IN);
    expect(backend.requests[1]!.stopStrings).toEqual(["}"]);
    expect(transcript.thinkingText).toBe("aaaaabbbbbccccc");
    expect(backend.requests[2]!.promptText).toBe(PROMPT + "aaaaa");
    expect(transcript.summary()).toMatchObject({ thinking_tokens: 15, probe_tokens: 6 });
  });

  it("at an end attempt, a stable answer replaces the wait s1 would append", async () => {
    const { events } = await runScripted(
      { replies: ["abc</think>", "7}", "def</think>", "7}", " 7"] },
      {
        budgetForcing: {
          num_waits: 3,
          early_exit: { probe_every: 1000, stable: 2 },
        },
      },
    );
    expect(probes(events).map((p) => [p.trigger, p.answer])).toEqual([
      ["end_attempt", "7"],
      ["end_attempt", "7"],
    ]);
    expect(injections(events).map((e) => [e.kind, e.reason])).toEqual([
      ["wait", "num_waits"],
      ["forced_end", "stable_answer"],
    ]);
  });

  it("a probe that finds no answer breaks the streak", async () => {
    const { events } = await runScripted(
      {
        replies: [
          ["aaaaa-cut", "4}"],
          ["bbbbb-cut", "44"],
          ["ccccc-cut", "4}"],
          ["ddddd-cut", "4}"],
          [" 4"],
        ].flat(),
      },
      {
        budgetForcing: {
          max_thinking_tokens: 100,
          early_exit: { probe_every: 5, stable: 2, probe_tokens: 2 },
        },
      },
    );
    // "44" has no closing brace within 2 tokens: no answer.
    expect(probes(events).map((p) => p.answer)).toEqual(["4", null, "4", "4"]);
    expect(injections(events).map((e) => [e.reason, e.thinkingTokenIndex])).toEqual([
      ["stable_answer", 20],
    ]);
  });
});

describe("eliminate", () => {
  it('with verifier "none" rejects every answer, up to attempts, and lists them', async () => {
    const { transcript, events } = await runScripted(
      { replies: ["abc\n</think>", "5}", "def\n</think>", "6}", "ghi</think>", " 7"] },
      { budgetForcing: { eliminate: { attempts: 2 } } },
    );
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "abc\n"],
      ["elimination", "Wait, the answer is not 5."],
      ["thinking", "def\n"],
      ["elimination", "Wait, the answer is not 6."],
      ["thinking", "ghi"],
      ["end", "</think>"],
      ["answer", " 7"],
    ]);
    expect(injections(events).map((e) => e.reason)).toEqual([
      "eliminated",
      "eliminated",
      "model_end",
    ]);
    const summary = transcript.summary();
    expect(summary.eliminated_answers).toEqual(["5", "6"]);
    // Eliminations are thinking the model reads, counted as a wait is.
    expect(summary.thinking_tokens).toBe(4 + 26 + 4 + 26 + 3);
  });

  it('with verifier "reference" accepts a right answer at once', async () => {
    const { events, transcript } = await runScripted(
      { replies: ["abc</think>", "5}", "def</think>", "6}", " 6"] },
      {
        budgetForcing: { eliminate: { attempts: 3, verifier: "reference" }, num_waits: 2 },
        reference: "6",
      },
    );
    expect(injections(events).map((e) => [e.kind, e.reason])).toEqual([
      ["elimination", "eliminated"],
      ["end", "model_end"],
    ]);
    expect(transcript.summary().eliminated_answers).toEqual(["5"]);
  });

  it('refuses verifier "reference" without a reference, and text without {answer}', async () => {
    await expect(
      runScripted({ replies: ["a"] }, { budgetForcing: { eliminate: { verifier: "reference" } } }),
    ).rejects.toMatchObject({ code: "reference_required", status: 400 });
    await expect(
      runScripted({ replies: ["a"] }, { budgetForcing: { eliminate: { text: "No." } } }),
    ).rejects.toThrow(/eliminate\.text/);
  });
});
