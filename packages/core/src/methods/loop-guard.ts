/**
 * The loop breaker (`loop_guard`): small models, and large ones under greedy
 * decoding, can fall into a loop, one phrase said again and again until the
 * budget runs out. The thinking has looped when its last `window × repeats`
 * tokens repeat one span of at most `window` tokens.
 */
export class LoopWatch {
  /** The last `window` units. */
  private readonly recent: number[] = [];
  /**
   * Per period p (index p - 1): how many units in a row, up to now, equal
   * the unit p before them. The tail of length L repeats with period p
   * when that count reaches L - p.
   */
  private readonly matching: number[];
  private readonly span: number;

  constructor(
    private readonly window: number,
    repeats: number,
  ) {
    this.matching = new Array<number>(window).fill(0);
    this.span = window * repeats;
  }

  /** Feed the next generated units (token ids, or characters); true once the thinking loops. */
  push(units: readonly number[]): boolean {
    let looped = false;
    for (const unit of units) {
      const seen = this.recent.length;
      for (let period = 1; period <= this.window; period++) {
        const match = period <= seen && this.recent[seen - period] === unit;
        const count = match ? this.matching[period - 1]! + 1 : 0;
        this.matching[period - 1] = count;
        if (count >= this.span - period) looped = true;
      }
      this.recent.push(unit);
      if (this.recent.length > this.window) this.recent.shift();
    }
    return looped;
  }

  /** After an injection the text before it no longer runs on: start counting afresh. */
  reset(): void {
    this.recent.length = 0;
    this.matching.fill(0);
  }
}

/** A text-only backend gives no ids: watch characters, about four to a token. */
export const CHARACTERS_PER_TOKEN = 4;

export function characterUnits(text: string): number[] {
  return Array.from(text, (c) => c.codePointAt(0)!);
}
