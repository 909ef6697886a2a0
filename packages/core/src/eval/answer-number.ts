import { addRational, divideRational, parseDecimal, rational, type Rational } from "./rational.ts";

export interface ParsedNumber {
  value: Rational;
  /** Written with a decimal point somewhere, so it may be a rounded value. */
  decimal: boolean;
}

/**
 * Reads a normalised answer (see `normalizeAnswer`) as an exact number when it
 * is one: an integer, a decimal, `a/b`, `\frac{a}{b}` (with decimal parts or a
 * sign inside or before), a mixed number `1\frac{4}{5}` (MATH writes these),
 * or `a\times10^{b}`. Anything else (`\sqrt{2}`, `\pi`, `x+1`) is null and is
 * compared as text.
 */
export function parseNumber(normalized: string): ParsedNumber | null {
  const s = normalized;
  const decimal = s.includes(".");
  const plain = parseDecimal(s);
  if (plain) return { value: plain, decimal };

  const slash = /^([^/]+)\/([^/]+)$/.exec(s);
  if (slash) return quotient(slash[1] as string, slash[2] as string, "", decimal);

  const frac = /^([+-]?)\\frac\{([^{}]+)\}\{([^{}]+)\}$/.exec(s);
  if (frac) return quotient(frac[2] as string, frac[3] as string, frac[1] as string, decimal);

  const mixed = /^([+-]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/.exec(s);
  if (mixed) {
    const whole = rational(BigInt(mixed[2] as string));
    const part = rational(BigInt(mixed[3] as string), BigInt(mixed[4] as string));
    if (!whole || !part) return null;
    const value = addRational(whole, part);
    return { value: mixed[1] === "-" ? { n: -value.n, d: value.d } : value, decimal: false };
  }

  const scientific = /^([+-]?\d+(?:\.\d+)?)(?:\\times|\\cdot)10\^\{?([+-]?\d+)\}?$/.exec(s);
  if (scientific) {
    const mantissa = parseDecimal(scientific[1] as string);
    const exponent = Number(scientific[2]);
    if (!mantissa || Math.abs(exponent) > 1000) return null;
    const power = 10n ** BigInt(Math.abs(exponent));
    const value =
      exponent >= 0
        ? rational(mantissa.n * power, mantissa.d)
        : rational(mantissa.n, mantissa.d * power);
    return value ? { value, decimal } : null;
  }
  return null;
}

function quotient(
  top: string,
  bottom: string,
  sign: string,
  decimal: boolean,
): ParsedNumber | null {
  const a = parseDecimal(top);
  const b = parseDecimal(bottom);
  if (!a || !b) return null;
  const value = divideRational(a, b);
  if (!value) return null;
  return { value: sign === "-" ? { n: -value.n, d: value.d } : value, decimal };
}
