import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeDeltaChunk,
  encodeDeltaChunk,
  isChunkable,
  PROBABILITY_STEPS,
  quantizeProbability,
  type DeltaEvent,
} from "../src/index.ts";

const count = fc.integer({ min: 0, max: 2 ** 40 });
const probability = fc
  .integer({ min: 0, max: PROBABILITY_STEPS })
  .map((k) => k / PROBABILITY_STEPS);

/** Deltas as an engine writes them: ids and probabilities one per token when present. */
const delta: fc.Arbitrary<DeltaEvent> = fc
  .record({
    phase: fc.constantFrom("thinking" as const, "answer" as const),
    text: fc.string({ unit: "grapheme", maxLength: 12 }),
    tokens: fc.integer({ min: 0, max: 6 }),
    phaseTokens: count,
    time: count,
    withIds: fc.boolean(),
    withProbabilities: fc.boolean(),
    ids: fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 6, maxLength: 6 }),
    probabilities: fc.array(probability, { minLength: 6, maxLength: 6 }),
  })
  .map(({ withIds, withProbabilities, ids, probabilities, ...rest }) => {
    const event: DeltaEvent = { type: "delta", ...rest };
    if (withIds) event.tokenIds = ids.slice(0, rest.tokens);
    if (withProbabilities) event.endProbabilities = probabilities.slice(0, rest.tokens);
    return event;
  });

describe("the event log's delta chunks", () => {
  it("give back exactly the deltas they were made of", () => {
    fc.assert(
      fc.property(fc.array(delta, { maxLength: 300 }), (deltas) => {
        expect(deltas.every(isChunkable)).toBe(true);
        expect(decodeDeltaChunk(encodeDeltaChunk(deltas))).toEqual(deltas);
      }),
      { numRuns: 300 },
    );
  });

  it("hold a token of a streamed run in its text, id and probability plus five bytes", () => {
    const deltas: DeltaEvent[] = Array.from({ length: 256 }, (_, i) => ({
      type: "delta",
      phase: "thinking",
      text: " so",
      tokenIds: [1000 + (i % 50)],
      tokens: 1,
      phaseTokens: 100 + i,
      time: 500 + i * 3,
      endProbabilities: [quantizeProbability(0.0001 * (i % 7))],
    }));
    // Per token: 3 bytes of text, a 2-byte id, a 1-byte probability; the store compresses the rest.
    expect(encodeDeltaChunk(deltas).length / deltas.length - 6).toBeLessThanOrEqual(5.1);
  });

  it("refuses what it could not give back exactly", () => {
    const base: DeltaEvent = {
      type: "delta",
      phase: "thinking",
      text: "a",
      tokens: 1,
      phaseTokens: 1,
      time: 1,
    };
    expect(isChunkable(base)).toBe(true);
    expect(isChunkable({ ...base, time: 1.5 })).toBe(false);
    expect(isChunkable({ ...base, tokenIds: [1, 2] })).toBe(false);
    expect(isChunkable({ ...base, endProbabilities: [0.123456789] })).toBe(false);
    expect(isChunkable({ ...base, text: "\uD800" })).toBe(false);
    expect(isChunkable({ ...base, extra: 1 } as DeltaEvent)).toBe(false);
  });

  it("says so when a chunk is cut short or from another version", () => {
    const bytes = encodeDeltaChunk([
      { type: "delta", phase: "answer", text: "42", tokens: 1, phaseTokens: 1, time: 9 },
    ]);
    expect(() => decodeDeltaChunk(bytes.subarray(0, bytes.length - 1))).toThrow(/ends early/);
    expect(() => decodeDeltaChunk(Uint8Array.of(9, 0))).toThrow(/version 9/);
  });
});
