/**
 * DeepConf's lowest group confidence (Fu et al., "Deep Think with
 * Confidence", 2025): a trace is only as trustworthy as its least sure
 * stretch. Here a stretch is `window` consecutive generated tokens, and its
 * confidence the mean log-probability of the tokens the model chose.
 */
export class GroupConfidence {
  private readonly recent: number[] = [];
  private sum = 0;
  private lowest: number | null = null;
  private total = 0;
  private count = 0;

  constructor(private readonly window: number) {}

  push(logprobs: readonly number[]): void {
    for (const logprob of logprobs) {
      this.recent.push(logprob);
      this.sum += logprob;
      this.total += logprob;
      this.count += 1;
      if (this.recent.length > this.window) this.sum -= this.recent.shift()!;
      if (this.recent.length === this.window) {
        const mean = this.sum / this.window;
        this.lowest = this.lowest === null ? mean : Math.min(this.lowest, mean);
      }
    }
  }

  /** The lowest window mean; a trace shorter than one window is one group. Null without tokens. */
  value(): number | null {
    if (this.lowest !== null) return Math.min(0, this.lowest);
    return this.count === 0 ? null : Math.min(0, this.total / this.count);
  }
}
