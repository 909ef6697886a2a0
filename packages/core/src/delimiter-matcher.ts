/**
 * Finds delimiters in a text stream whose chunks may split them anywhere
 * (`</thi` + `nk>`). Text that might be the start of a delimiter is held back
 * until the next chunk decides; everything else is released at once.
 */
export class DelimiterMatcher {
  private held = "";

  constructor(private readonly markers: readonly string[]) {}

  /** Feed a chunk. `text` is safe to emit; `match` is set when a delimiter completed. */
  push(chunk: string): { text: string; match?: { marker: string; after: string } } {
    const buffer = this.held + chunk;
    this.held = "";
    let best: { index: number; marker: string } | undefined;
    for (const marker of this.markers) {
      const index = buffer.indexOf(marker);
      if (index >= 0 && (best === undefined || index < best.index)) best = { index, marker };
    }
    if (best) {
      return {
        text: buffer.slice(0, best.index),
        match: { marker: best.marker, after: buffer.slice(best.index + best.marker.length) },
      };
    }
    const keep = this.partialSuffixLength(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep) };
  }

  /** Release whatever is held (the stream ended without completing a delimiter). */
  flush(): string {
    const rest = this.held;
    this.held = "";
    return rest;
  }

  /** Length of the longest suffix of `buffer` that is a proper prefix of some marker. */
  private partialSuffixLength(buffer: string): number {
    let longest = 0;
    for (const marker of this.markers) {
      for (let length = Math.min(marker.length - 1, buffer.length); length > longest; length--) {
        if (buffer.endsWith(marker.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
