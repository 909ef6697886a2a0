/**
 * Evaluates a normalised answer that is a closed-form constant, such as
 * `3\sqrt{13}`, `\frac{3\sqrt{3}}{4}`, `18+2\pi` or `\frac{20000}{\pi}`, to a
 * float, so equal values written differently (`\sqrt{117}`, `\frac{1}{\sqrt{3}}`
 * against `\frac{\sqrt{3}}{3}`) can be recognised. Anything with a variable or
 * an unknown command (`x+1`, `\cot x`, `i`) gives null: those stay text.
 *
 * Grammar (spaces are already gone): sums and differences of products;
 * products by `\cdot`, `\times`, `*`, `/` or juxtaposition; unary signs;
 * powers `^{...}` or `^d`; numbers, `\pi`, `\sqrt{...}`, `\sqrt[n]{...}`,
 * `\frac{..}{..}`, `(...)`, `{...}`. An integer directly before
 * `\frac{a}{b}` with integer a and b is a mixed number, as MATH writes them.
 */
export function evaluateConstant(text: string): number | null {
  const parser = new Parser(text);
  const value = parser.expression();
  if (value === null || !parser.done() || !Number.isFinite(value)) return null;
  return value;
}

class Parser {
  private at = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at === this.text.length;
  }

  expression(): number | null {
    let value = this.term();
    while (value !== null && (this.peek("+") || this.peek("-"))) {
      const sign = this.text[this.at++];
      const right = this.term();
      if (right === null) return null;
      value = sign === "+" ? value + right : value - right;
    }
    return value;
  }

  private term(): number | null {
    let value = this.signed();
    while (value !== null) {
      if (this.eat("\\cdot") || this.eat("\\times") || this.eat("*")) {
        const right = this.signed();
        value = right === null ? null : value * right;
      } else if (this.eat("/")) {
        const right = this.signed();
        value = right === null ? null : value / right;
      } else if (this.startsPrimary()) {
        const right = this.power();
        value = right === null ? null : value * right;
      } else {
        break;
      }
    }
    return value;
  }

  private signed(): number | null {
    if (this.eat("-")) {
      const value = this.signed();
      return value === null ? null : -value;
    }
    if (this.eat("+")) return this.signed();
    return this.power();
  }

  private power(): number | null {
    const base = this.primary();
    if (base === null || !this.eat("^")) return base;
    const exponent = this.peek("{") ? this.group() : this.digit();
    if (exponent === null || Math.abs(exponent) > 64) return null;
    return base ** exponent;
  }

  private primary(): number | null {
    const number = /^\d+(?:\.\d+)?/.exec(this.text.slice(this.at));
    if (number) {
      this.at += number[0].length;
      const mixed = /^\\frac\{(\d+)\}\{(\d+)\}/.exec(this.text.slice(this.at));
      if (mixed && !number[0].includes(".")) {
        this.at += mixed[0].length;
        return Number(number[0]) + Number(mixed[1]) / Number(mixed[2]);
      }
      return Number(number[0]);
    }
    if (this.eat("\\pi")) return Math.PI;
    if (this.eat("\\frac")) {
      const top = this.group();
      const bottom = top === null ? null : this.group();
      return top === null || bottom === null ? null : top / bottom;
    }
    if (this.eat("\\sqrt")) {
      let index = 2;
      if (this.eat("[")) {
        const n = this.expression();
        if (n === null || !this.eat("]")) return null;
        index = n;
      }
      const radicand = this.group();
      if (radicand === null || (radicand < 0 && index % 2 === 0)) return null;
      return index === 3
        ? Math.cbrt(radicand)
        : Math.sign(radicand) * Math.abs(radicand) ** (1 / index);
    }
    if (this.peek("(")) return this.enclosed("(", ")");
    if (this.peek("{")) return this.group();
    return null;
  }

  private group(): number | null {
    return this.enclosed("{", "}");
  }

  private enclosed(open: string, close: string): number | null {
    if (!this.eat(open)) return null;
    const value = this.expression();
    return value !== null && this.eat(close) ? value : null;
  }

  private digit(): number | null {
    const ch = this.text[this.at];
    if (ch === undefined || !/\d/.test(ch)) return null;
    this.at++;
    return Number(ch);
  }

  /** Juxtaposition: `2\pi`, `3\sqrt{2}`, `(1+2)(3)`. */
  private startsPrimary(): boolean {
    return /^(?:\d|\\pi(?![a-zA-Z])|\\sqrt|\\frac|\(|\{)/.test(this.text.slice(this.at));
  }

  private peek(token: string): boolean {
    if (!this.text.startsWith(token, this.at)) return false;
    // `\pi` must not match the start of `\pm`-like longer commands.
    return (
      !/^\\[a-zA-Z]+$/.test(token) || !/[a-zA-Z]/.test(this.text[this.at + token.length] ?? "")
    );
  }

  private eat(token: string): boolean {
    if (!this.peek(token)) return false;
    this.at += token.length;
    return true;
  }
}
