import { InvalidRequestError } from "../errors.ts";

/**
 * The unbiased pass@k estimator of Chen et al. (2021), as Yue et al. (2025)
 * use it: the chance that at least one of k samples drawn without replacement
 * from n samples, c of them correct, is correct:
 * `1 - C(n-c, k) / C(n, k)`.
 *
 * Computed as `1 - prod_{i=n-c+1}^{n} (1 - k/i)`, which equals the ratio of
 * binomials but never forms one, so n in the thousands stays exact to float
 * precision instead of overflowing.
 */
export function passAtK(n: number, c: number, k: number): number {
  checkCounts(n, c);
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new InvalidRequestError(
      "invalid_pass_at_k",
      `k must be a whole number from 1 to n = ${n} (got ${k}).`,
    );
  }
  // Fewer wrong samples than draws: every draw of k holds a correct one.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** pass@k for k = 1..n; index 0 is pass@1. */
export function passAtKCurve(n: number, c: number): number[] {
  checkCounts(n, c);
  return Array.from({ length: n }, (_, i) => passAtK(n, c, i + 1));
}

function checkCounts(n: number, c: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidRequestError(
      "invalid_pass_at_k",
      `n (samples) must be a whole number, 1 or more (got ${n}).`,
    );
  }
  if (!Number.isInteger(c) || c < 0 || c > n) {
    throw new InvalidRequestError(
      "invalid_pass_at_k",
      `c (correct samples) must be a whole number from 0 to n = ${n} (got ${c}).`,
    );
  }
}
