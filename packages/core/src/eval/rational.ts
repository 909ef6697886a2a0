/**
 * Exact rationals over BigInt, so `\frac{1}{3}` equals `2/6` with no float
 * rounding and answers of any size (GSM8K, big AIME-style products) compare
 * exactly.
 */
export interface Rational {
  /** Numerator, carrying the sign. */
  n: bigint;
  /** Denominator, always positive; the fraction is in lowest terms. */
  d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** `n / d` in lowest terms, or null for a zero denominator. */
export function rational(n: bigint, d: bigint = 1n): Rational | null {
  if (d === 0n) return null;
  const sign = d < 0n ? -1n : 1n;
  const g = gcd(n, d) || 1n;
  return { n: (sign * n) / g, d: (sign * d) / g };
}

export function rationalEquals(a: Rational, b: Rational): boolean {
  return a.n === b.n && a.d === b.d;
}

export function addRational(a: Rational, b: Rational): Rational {
  return rational(a.n * b.d + b.n * a.d, a.d * b.d) as Rational;
}

export function divideRational(a: Rational, b: Rational): Rational | null {
  return rational(a.n * b.d, a.d * b.n);
}

/** True when the value has a finite decimal expansion (denominator 2^i 5^j). */
export function isTerminating(r: Rational): boolean {
  let d = r.d;
  while (d % 2n === 0n) d /= 2n;
  while (d % 5n === 0n) d /= 5n;
  return d === 1n;
}

export function rationalToNumber(r: Rational): number {
  return Number(r.n) / Number(r.d);
}

export function formatRational(r: Rational): string {
  return r.d === 1n ? r.n.toString() : `${r.n}/${r.d}`;
}

/** Parses `12`, `-0.50`, `.5`, `3.` exactly; null for anything else. */
export function parseDecimal(text: string): Rational | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return null;
  const [, sign = "", whole = "", fraction = ""] = match;
  if (whole === "" && fraction === "") return null;
  const digits = BigInt((whole || "0") + fraction);
  const value = rational(digits, 10n ** BigInt(fraction.length));
  if (!value) return null;
  return sign === "-" ? { n: -value.n, d: value.d } : value;
}
