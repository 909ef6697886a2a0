import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { passAtK, passAtKCurve } from "../../src/eval/index.ts";

/** Exact 1 - C(n-c, k) / C(n, k) with BigInt binomials: an independent reference. */
function exactPassAtK(n: number, c: number, k: number): number {
  const choose = (a: number, b: number): bigint => {
    if (b < 0 || b > a) return 0n;
    let result = 1n;
    for (let i = 0; i < b; i++) result = (result * BigInt(a - i)) / BigInt(i + 1);
    return result;
  };
  const scale = 10n ** 30n;
  return 1 - Number((choose(n - c, k) * scale) / choose(n, k)) / Number(scale);
}

describe("passAtK", () => {
  it.each([
    [5, 2, 1, 0.4],
    [5, 2, 2, 1 - 3 / 10],
    [5, 2, 3, 1 - 1 / 10],
    [10, 3, 5, 1 - 21 / 252],
    [256, 1, 128, 0.5],
    [100, 50, 1, 0.5],
  ])("n=%i c=%i k=%i is %f (by hand)", (n, c, k, expected) => {
    expect(passAtK(n, c, k)).toBeCloseTo(expected, 12);
  });

  it("is 0 with no correct sample and 1 with all correct", () => {
    expect(passAtK(10, 0, 1)).toBe(0);
    expect(passAtK(10, 0, 10)).toBe(0);
    expect(passAtK(10, 10, 1)).toBe(1);
    expect(passAtK(1, 1, 1)).toBe(1);
  });

  it("is 1 at k = n with any correct sample, and whenever k > n - c", () => {
    expect(passAtK(8, 1, 8)).toBe(1);
    expect(passAtK(8, 3, 6)).toBe(1);
    expect(passAtK(8, 3, 5)).toBeLessThan(1);
  });

  it("stays exact for large n where binomials overflow doubles", () => {
    expect(passAtK(2000, 10, 500)).toBeCloseTo(exactPassAtK(2000, 10, 500), 12);
    expect(passAtK(1024, 1, 1)).toBeCloseTo(1 / 1024, 15);
  });

  it("matches the exact binomial formula", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 80 })
          .chain((n) => fc.tuple(fc.constant(n), fc.nat(n), fc.integer({ min: 1, max: n }))),
        ([n, c, k]) => {
          expect(passAtK(n, c, k)).toBeCloseTo(exactPassAtK(n, c, k), 12);
        },
      ),
    );
  });

  it("pass@1 is c/n", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n))),
        ([n, c]) => {
          expect(passAtK(n, c, 1)).toBeCloseTo(c / n, 12);
        },
      ),
    );
  });

  it("never decreases in k or in c", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n))),
        ([n, c]) => {
          const curve = passAtKCurve(n, c);
          for (let k = 1; k < n; k++)
            expect(curve[k]).toBeGreaterThanOrEqual(curve[k - 1] as number);
          if (c < n) {
            const more = passAtKCurve(n, c + 1);
            curve.forEach((value, i) => expect(more[i]).toBeGreaterThanOrEqual(value));
          }
          for (const value of curve) expect(value >= 0 && value <= 1).toBe(true);
        },
      ),
    );
  });

  it("gives the whole curve, index 0 = pass@1", () => {
    const curve = passAtKCurve(4, 2);
    expect(curve).toHaveLength(4);
    [0.5, 1 - 1 / 6, 1, 1].forEach((expected, i) => expect(curve[i]).toBeCloseTo(expected, 12));
  });

  it("refuses impossible counts", () => {
    expect(() => passAtK(0, 0, 1)).toThrow(/n \(samples\)/);
    expect(() => passAtK(5, 6, 1)).toThrow(/c \(correct samples\)/);
    expect(() => passAtK(5, -1, 1)).toThrow(/c \(correct samples\)/);
    expect(() => passAtK(5, 2, 0)).toThrow(/k must be/);
    expect(() => passAtK(5, 2, 6)).toThrow(/k must be/);
    expect(() => passAtK(5, 2.5, 1)).toThrow(/whole number/);
  });
});
