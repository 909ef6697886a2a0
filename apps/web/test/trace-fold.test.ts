import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BudgetForcingRun, RunTranscript } from "@thinkscope/core";
import type { EngineEvent } from "@thinkscope/protocol";
import { ScriptedBackend } from "@thinkscope/core/testing";
import {
  BLOCK_CHARS,
  MAX_BLOCK_CHARS,
  EMPTY_TRACE,
  answerText,
  foldAll,
  foldEvents,
  segmentText,
  entropyLevel,
  shadeLevel,
  shadeSpans,
  traceText,
  type TraceState,
} from "../src/lib/trace-fold.ts";
import { EventScript, twoWaitRun } from "./fixtures.ts";

/** What the page shows, independent of how it is stored: for comparing folds. */
function visible(trace: TraceState) {
  return {
    segments: trace.segments.map((s) => ({ type: s.type, text: segmentText(s), tokens: s.tokens })),
    injections: trace.injections,
    points: trace.points,
    counts: [
      trace.thinkingGenerated,
      trace.thinkingInjected,
      trace.closeTokens,
      trace.answerTokens,
      trace.waits,
    ],
    phase: trace.phase,
    firstTokenMs: trace.firstTokenMs,
    closedAtMs: trace.closedAtMs,
    finish: trace.finish,
  };
}

function foldInBatches(events: EngineEvent[], cuts: number[]): TraceState {
  let trace = EMPTY_TRACE;
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    trace = foldEvents(trace, events.slice(from, cut));
    from = cut;
  }
  return foldEvents(trace, events.slice(from));
}

describe("the page's fold of engine events", () => {
  it("splits a run into thinking, wait, end and answer segments with their counts", () => {
    const trace = foldAll(twoWaitRun());
    expect(trace.segments.map((s) => [s.type, segmentText(s)])).toEqual([
      ["thinking", "Count the r's: r-a-s-p-b-e-r-r-y has 2."],
      ["wait", "Wait"],
      ["thinking", " Let me check again: 3."],
      ["wait", "Wait"],
      ["thinking", " Yes, 3."],
      ["end", "</think>"],
      ["answer", "There are **3** r's."],
    ]);
    expect(traceText(trace)).toBe(
      "Count the r's: r-a-s-p-b-e-r-r-y has 2.Wait Let me check again: 3.Wait Yes, 3.</think>There are **3** r's.",
    );
    expect(answerText(trace)).toBe("There are **3** r's.");
    expect(trace.waits).toBe(2);
    expect(trace.thinkingInjected).toBe(2);
    expect(trace.phase).toBe("answer");
    expect(trace.finish?.reason).toBe("stop");
    expect(trace.finish?.stats.upstreamRequests).toBe(4);
    expect(trace.start?.numWaits).toBe(2);
  });

  it("records each injection with its reason, wait number and thinking-token index", () => {
    const trace = foldAll(twoWaitRun());
    expect(
      trace.injections.map((m) => [m.kind, m.reason, m.waitNumber, m.thinkingTokenIndex]),
    ).toEqual([
      ["wait", "num_waits", 1, 39],
      ["wait", "num_waits", 2, 63],
      ["end", "model_end", undefined, 72],
    ]);
    // The segment carries the same mark the chart uses.
    expect(trace.segments[1]?.injection).toBe(trace.injections[0]);
  });

  it("gives the same result however the events are batched", () => {
    const events = twoWaitRun();
    const whole = visible(foldAll(events));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: events.length }), { maxLength: 8 }),
        (cuts) => {
          expect(visible(foldInBatches(events, cuts))).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
    // One event per batch, as a server that did not batch would send them.
    expect(
      visible(
        foldInBatches(
          events,
          events.map((_, i) => i),
        ),
      ),
    ).toEqual(whole);
  });

  it("keeps finished segments' identity, so memoized views skip them", () => {
    const events = twoWaitRun();
    const before = foldAll(events.slice(0, 6)); // up to the second thinking delta after a wait
    const after = foldEvents(before, events.slice(6, 8));
    expect(after.segments.length).toBeGreaterThan(2);
    for (let i = 0; i < before.segments.length - 1; i += 1) {
      expect(after.segments[i]).toBe(before.segments[i]);
    }
    // The old state is never changed by a later batch.
    expect(visible(before)).toEqual(visible(foldAll(events.slice(0, 6))));
  });

  it("returns the same object for an empty batch", () => {
    const trace = foldAll(twoWaitRun());
    expect(foldEvents(trace, [])).toBe(trace);
  });

  it("keeps a long thinking segment in blocks of whole lines, only the last of which grows", () => {
    const script = new EventScript();
    const chunk = "abcdefghi\nklmnopqrstuvwxyz, ".repeat(2); // 60 characters a delta, newlines inside
    for (let i = 0; i < 1000; i += 1) script.think(chunk, 10, 1);
    const events = script.events;
    const full = foldAll(events);
    const segment = full.segments[0]!;
    expect(full.segments).toHaveLength(1);
    expect(segmentText(segment)).toBe(chunk.repeat(1000));
    expect(segment.tokens).toBe(10_000);
    expect(segment.blocks.length).toBeGreaterThan(40);
    for (const block of segment.blocks.slice(0, -1)) {
      // Closed blocks end a line and hold about BLOCK_CHARS: the page draws them as block boxes.
      expect(block.endsWith("\n")).toBe(true);
      expect(block.length).toBeGreaterThan(BLOCK_CHARS - chunk.length);
      expect(block.length).toBeLessThan(BLOCK_CHARS + chunk.length);
    }

    const partial = foldAll(events.slice(0, 800));
    const next = foldEvents(partial, events.slice(800, 801));
    const a = partial.segments[0]!.blocks;
    const b = next.segments[0]!.blocks;
    // Every closed block is the same string, so its memoized node is not touched.
    expect(b.slice(0, a.length - 1)).toEqual(a.slice(0, a.length - 1));
    expect(b.length).toBeGreaterThanOrEqual(a.length);
  });

  it("closes a block mid-line only between deltas when a line never ends", () => {
    const script = new EventScript();
    for (let i = 0; i < 500; i += 1) script.think("x".repeat(99) + "\u{1F600}", 1, 1); // no newline; emoji at the end
    const segment = foldAll(script.events).segments[0]!;
    expect(segment.blocks.length).toBeGreaterThan(4);
    for (const block of segment.blocks) {
      expect(block.length).toBeLessThanOrEqual(MAX_BLOCK_CHARS + 101);
      expect(block.endsWith("\u{1F600}") || block.length === 0).toBe(true);
    }
    expect(segmentText(segment)).toBe(("x".repeat(99) + "\u{1F600}").repeat(500));
  });

  it("says whether each segment starts a line", () => {
    const trace = foldAll(
      new EventScript({ numWaits: 1 }).think("a\n").wait().think(" b").close("forced_end").say("c")
        .events,
    );
    expect(trace.segments.map((s) => [s.type, s.startsLine])).toEqual([
      ["thinking", true],
      ["wait", true],
      ["thinking", false],
      ["forced_end", false],
      ["answer", false],
    ]);
  });

  it("merges close points but keeps a corner at every injection, and the highest stop pressure", () => {
    const trace = foldAll(
      new EventScript({ numWaits: 1 })
        .think("a", 1, 5, [0.1])
        .think("b", 1, 5, [0.7])
        .think("c", 1, 5, [0.2])
        .wait()
        .think("d", 1, 100)
        .close("end")
        .say("x")
        .finish().events,
    );
    expect(trace.points.map((p) => [p.time, p.thinking, p.answer, p.endP, p.injection])).toEqual([
      [5, 3, null, 0.7, undefined],
      [16, 4, null, undefined, "wait"],
      [116, 5, null, undefined, undefined],
      [117, 5, 0, undefined, "end"],
      [127, 5, 1, undefined, undefined],
    ]);
  });

  it("keeps the engine's final stats over its running counts", () => {
    const events = new EventScript().think("abc", 3).finish().events;
    const finished = events.at(-1) as Extract<EngineEvent, { type: "run.finished" }>;
    finished.stats.thinkingTokensGenerated = 5; // a text-only backend's usage correction
    finished.stats.tokenCountsExact = false;
    const trace = foldAll(events);
    expect(trace.thinkingGenerated).toBe(5);
    expect(trace.tokenCountsExact).toBe(false);
  });

  it("keeps partial output and the error when a run fails", () => {
    const events: EngineEvent[] = [
      ...new EventScript().think("half a thought").events,
      {
        type: "run.error",
        code: "upstream_disconnected",
        message: "vllm: the stream ended",
        retryable: true,
        status: 502,
        time: 20,
      },
      ...new EventScript().finish("error").events.slice(1),
    ];
    const trace = foldAll(events);
    expect(segmentText(trace.segments[0]!)).toBe("half a thought");
    expect(trace.error).toEqual({
      code: "upstream_disconnected",
      message: "vllm: the stream ended",
      retryable: true,
    });
    expect(trace.finish?.reason).toBe("error");
  });

  it("agrees with the engine's own transcript on real engine output", async () => {
    const cases = [
      { replies: ["abc</think>", "de</think>", "fg</think>answer"], budget: { num_waits: 2 } },
      { replies: ["abcdefghijklmnop"], budget: { max_thinking_tokens: 6 } },
      {
        replies: ["ab</think>", "cdefgh</think>The answer."],
        budget: { min_thinking_tokens: 5 },
        tokensPerChunk: 3,
      },
    ];
    for (const { replies, budget, tokensPerChunk } of cases) {
      const backend = new ScriptedBackend({
        replies,
        tokensPerChunk: tokensPerChunk ?? 1,
        probeProbability: () => 0.25,
      });
      const session = await backend.openSession();
      const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt: "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n",
        budgetForcing: budget,
      });
      let tick = 0;
      const events: EngineEvent[] = [];
      const transcript = new RunTranscript();
      for await (const event of run.events({ clock: () => (tick += 7) })) {
        events.push(event);
        transcript.apply(event);
      }
      const trace = foldAll(events);
      const summary = transcript.summary();
      expect(
        trace.segments.map((s) => ({ type: s.type, text: segmentText(s), tokens: s.tokens })),
      ).toEqual(summary.segments);
      expect(trace.waits).toBe(summary.waits);
      expect(trace.forcedEnd).toBe(summary.forced_end);
      expect(trace.thinkingGenerated + trace.thinkingInjected).toBe(summary.thinking_tokens);
      expect(trace.answerTokens).toBe(summary.answer_tokens);
      expect(traceText(trace)).toBe(transcript.text);
    }
  });

  it("keeps where the model was unsure as its own spans, beside the stop pressure's, and a mean entropy per point", () => {
    const events = new EventScript()
      .think("sure ", 2, 10, [0.001], [0.01, 0.03])
      .think("7", 1, 10, [0.001], [1.3])
      .think("+", 1, 10, [0.5], [0.2])
      .think("8", 1, 10, [0.001], [3.5])
      .think("=15", 3, 100, undefined, [0.1, 2.2, 0])
      .finish().events;
    const trace = foldAll(events);
    const thinking = trace.segments[0]!;
    expect(segmentText(thinking)).toBe("sure 7+8=15");
    expect(trace.hasEntropy).toBe(true);
    // Each delta shades at its most unsure token: 1.3 bits is level 2, 3.5 level 4, 2.2 level 3.
    expect(thinking.unsure).toEqual([
      { start: 5, end: 6, level: 2 },
      { start: 7, end: 8, level: 4 },
      { start: 8, end: 11, level: 3 },
    ]);
    expect(thinking.hot).toEqual([{ start: 6, end: 7, level: 3 }]);
    expect(shadeSpans(thinking, "entropy")).toBe(thinking.unsure);
    expect(shadeSpans(thinking, "pressure")).toBe(thinking.hot);
    expect(shadeSpans(thinking, null)).toBeUndefined();
    expect([0.49, 0.5, 1, 2, 3, 9].map(entropyLevel)).toEqual([0, 1, 2, 3, 4, 4]);
    // Points within 25 ms of a point merge into it (the first three deltas); every token weighs alike.
    const [first, second, third] = trace.points;
    expect(first!.entropy).toBeCloseTo((0.01 + 0.03 + 1.3 + 0.2) / 4, 9);
    expect(first!.entropyTokens).toBe(4);
    expect(second!.entropy).toBe(3.5);
    expect(third!.entropy).toBeCloseTo(2.3 / 3, 9);
    expect(foldAll(new EventScript().think("x", 1).events).hasEntropy).toBe(false);
  });

  it("keeps where the model leaned towards closing as hot spans, merged by level, whatever the batching", () => {
    const events = new EventScript()
      .think("calm ", 5, 10, [0.001])
      .think("so ", 3, 10, [0.2])
      .think("it is ", 6, 10, [0.25])
      .think("done", 4, 10, [0.7])
      .think(". more", 6, 10, [0.0])
      .close("end")
      .finish().events;
    const whole = foldAll(events);
    const thinking = whole.segments[0]!;
    expect(segmentText(thinking)).toBe("calm so it is done. more");
    expect(thinking.chars).toBe(24);
    expect(thinking.hot).toEqual([
      { start: 5, end: 14, level: 2 },
      { start: 14, end: 18, level: 4 },
    ]);
    // One event per batch gives the same spans.
    let oneByOne = EMPTY_TRACE;
    for (const event of events) oneByOne = foldEvents(oneByOne, [event]);
    expect(oneByOne.segments[0]!.hot).toEqual(thinking.hot);
    // A batch never changes the spans of a state the view already drew.
    const half = foldEvents(EMPTY_TRACE, events.slice(0, 4));
    const spansBefore = JSON.stringify(half.segments[0]!.hot);
    foldEvents(half, events.slice(4));
    expect(JSON.stringify(half.segments[0]!.hot)).toBe(spansBefore);
    expect([undefined, 0.01, 0.02, 0.1, 0.3, 0.6, 1].map(shadeLevel)).toEqual([
      0, 0, 1, 2, 3, 4, 4,
    ]);
  });
});

describe("the page's fold of the methods beyond s1", () => {
  it("keeps probes and eliminations as marks, matching the engine's own transcript", async () => {
    const backend = new ScriptedBackend({
      replies: ["5 + 7 = 11\n</think>", "11}", "no: 12\n</think>", "12}", "The answer is 12."],
    });
    const session = await backend.openSession();
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt: "<think>\n",
      budgetForcing: {
        eliminate: { attempts: 1 },
        early_exit: { probe_every: 1000, stable: 2 },
        budget_message: "Time is up.",
      },
    });
    const events: EngineEvent[] = [];
    const transcript = new RunTranscript();
    for await (const event of run.events()) {
      events.push(event);
      transcript.apply(event);
    }
    const trace = foldAll(events);
    expect(trace.probes.map((p) => [p.trigger, p.answer])).toEqual([
      ["end_attempt", "11"],
      ["end_attempt", "12"],
    ]);
    expect(trace.injections.map((m) => [m.kind, m.reason])).toEqual([
      ["elimination", "eliminated"],
      ["end", "model_end"],
    ]);
    // A probe is no text: the page's text is the engine's, and eliminations count as thinking.
    expect(traceText(trace)).toBe(transcript.text);
    expect(trace.thinkingInjected).toBe(transcript.summary().injected_tokens - trace.closeTokens);
  });
});
