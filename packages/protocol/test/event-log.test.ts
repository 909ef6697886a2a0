import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeDeltaChunk,
  encodeDeltaChunk,
  ENTROPY_STEPS,
  isChunkable,
  PROBABILITY_STEPS,
  quantizeEntropy,
  quantizeProbability,
  type DeltaEvent,
} from "../src/index.ts";

const count = fc.integer({ min: 0, max: 2 ** 40 });
const probability = fc
  .integer({ min: 0, max: PROBABILITY_STEPS })
  .map((k) => k / PROBABILITY_STEPS);
/** Up to 18 bits: a 262,144-token vocabulary spread evenly. */
const entropy = fc.integer({ min: 0, max: 18 * ENTROPY_STEPS }).map((k) => k / ENTROPY_STEPS);

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
    withEntropies: fc.boolean(),
    ids: fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 6, maxLength: 6 }),
    probabilities: fc.array(probability, { minLength: 6, maxLength: 6 }),
    entropies: fc.array(entropy, { minLength: 6, maxLength: 6 }),
  })
  .map(({ withIds, withProbabilities, withEntropies, ids, probabilities, entropies, ...rest }) => {
    const event: DeltaEvent = { type: "delta", ...rest };
    if (withIds) event.tokenIds = ids.slice(0, rest.tokens);
    if (withProbabilities) event.endProbabilities = probabilities.slice(0, rest.tokens);
    if (withEntropies) event.entropies = entropies.slice(0, rest.tokens);
    return event;
  });

/** A thinking token as a streamed run stores it, with its entropy when `bits` is given. */
function streamed(i: number, bits?: number): DeltaEvent {
  const event: DeltaEvent = {
    type: "delta",
    phase: "thinking",
    text: " so",
    tokenIds: [1000 + (i % 50)],
    tokens: 1,
    phaseTokens: 100 + i,
    time: 500 + i * 3,
    endProbabilities: [quantizeProbability(0.0001 * (i % 7))],
  };
  if (bits !== undefined) event.entropies = [bits];
  return event;
}

/** Two deltas as the build before entropies wrote them (version 1), byte for byte. */
const VERSION_1_CHUNK = "0102060101010602f0011e03029208a8c30120736f3432";
const VERSION_1_DELTAS: DeltaEvent[] = [
  {
    type: "delta",
    phase: "thinking",
    text: " so",
    tokenIds: [1042],
    tokens: 1,
    phaseTokens: 3,
    time: 120,
    endProbabilities: [0.25],
  },
  { type: "delta", phase: "answer", text: "42", tokens: 1, phaseTokens: 1, time: 135 },
];

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
    const deltas = Array.from({ length: 256 }, (_, i) => streamed(i));
    // Per token: 3 bytes of text, a 2-byte id, a 1-byte probability; the store compresses the rest.
    expect(encodeDeltaChunk(deltas).length / deltas.length - 6).toBeLessThanOrEqual(5.1);
  });

  it("add one byte a token for an entropy under 1.28 bits, two above", () => {
    const plain = encodeDeltaChunk(Array.from({ length: 256 }, (_, i) => streamed(i))).length;
    const low = Array.from({ length: 256 }, (_, i) => streamed(i, quantizeEntropy((i % 9) / 8)));
    const high = Array.from({ length: 256 }, (_, i) => streamed(i, 1.28 + (i % 9)));
    expect((encodeDeltaChunk(low).length - plain) / 256).toBeCloseTo(1, 1);
    expect((encodeDeltaChunk(high).length - plain) / 256).toBeCloseTo(2, 1);
  });

  it("read a chunk an earlier build wrote, and write one without entropies as it did", () => {
    const bytes = Uint8Array.from(VERSION_1_CHUNK.match(/../g)!, (pair) => parseInt(pair, 16));
    expect(decodeDeltaChunk(bytes)).toEqual(VERSION_1_DELTAS);
    const written = Array.from(encodeDeltaChunk(VERSION_1_DELTAS), (byte) =>
      byte.toString(16).padStart(2, "0"),
    );
    expect(written.join("")).toBe(VERSION_1_CHUNK);
  });

  it("mark a chunk with entropies as the version that has them", () => {
    const bytes = encodeDeltaChunk([streamed(0, 2.5)]);
    expect(bytes[0]).toBe(2);
    // An entropy flag in a version-1 chunk is corruption, not a column to guess at.
    expect(() => decodeDeltaChunk(Uint8Array.of(1, ...bytes.subarray(1)))).toThrow(
      /version 1 cannot hold entropies/,
    );
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
    expect(isChunkable({ ...base, entropies: [1.25] })).toBe(true);
    expect(isChunkable({ ...base, entropies: [1.234] })).toBe(false);
    expect(isChunkable({ ...base, entropies: [1.25, 2] })).toBe(false);
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
