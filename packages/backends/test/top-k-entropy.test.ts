import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { topKEntropyBits } from "../src/http/top-k-entropy.ts";

const entropy = (ps: number[]) => ps.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0);

/** A random distribution over `n` tokens, most likely first. */
const distribution = fc
  .array(fc.double({ min: 0.001, max: 1, noNaN: true }), { minLength: 1, maxLength: 60 })
  .map((weights) => {
    const sum = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => w / sum).sort((a, b) => b - a);
  });

describe("entropy from a server's top candidates", () => {
  it("is exact when the candidates hold all the probability", () => {
    expect(topKEntropyBits([0.5, 0.5])).toBeCloseTo(1, 9);
    expect(topKEntropyBits([1])).toBe(0);
    expect(topKEntropyBits([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(2, 9);
  });

  it("never overstates the entropy, and comes closer the more candidates are listed", () => {
    fc.assert(
      fc.property(distribution, fc.integer({ min: 1, max: 20 }), (ps, k) => {
        const truth = entropy(ps);
        const fromTop = topKEntropyBits(ps.slice(0, k));
        const fromMore = topKEntropyBits(ps.slice(0, k + 1));
        expect(fromTop).toBeLessThanOrEqual(truth + 1e-9);
        expect(fromTop).toBeLessThanOrEqual(fromMore + 1e-9);
        expect(fromTop).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it("stays a lower bound when tokens asked for by id come on top of the top candidates", () => {
    fc.assert(
      fc.property(distribution, fc.integer({ min: 1, max: 20 }), fc.nat(), (ps, k, pick) => {
        fc.pre(ps.length > k + 1);
        // The top k, plus one token from far below them (an end delimiter the model shuns).
        const extra = ps[k + 1 + (pick % (ps.length - k - 1))]!;
        const estimate = topKEntropyBits([...ps.slice(0, k), extra], k);
        expect(estimate).toBeLessThanOrEqual(entropy(ps) + 1e-9);
      }),
      { numRuns: 500 },
    );
  });

  it("tells a sure step from an unsure one with only a few candidates listed", () => {
    // 99% on one token vs. four tokens near 20% each, listed to the top 2.
    expect(topKEntropyBits([0.99, 0.004])).toBeLessThan(0.15);
    expect(topKEntropyBits([0.22, 0.21])).toBeGreaterThan(2);
  });
});
