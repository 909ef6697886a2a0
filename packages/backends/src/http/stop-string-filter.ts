import type { OutputPiece } from "./output-piece.ts";

/**
 * Finds stop strings in generated output on the client side, across chunk
 * boundaries (`</thi` + `nk>`). Output that might be the start of a stop
 * string is held back until the next piece decides; the stop string itself
 * and anything after it are never released.
 *
 * Two granularities:
 * - `text`: release exact text, splitting pieces where needed (the count of
 *   a split piece goes with its first part). For servers without token ids.
 * - `tokens`: release whole pieces only, so released text and token ids
 *   always agree. A token that straddles the start of a stop string is
 *   dropped with it: continuing from the ids then equals continuing from
 *   the text.
 */
export class StopStringFilter {
  private held: OutputPiece[] = [];
  private heldText = "";

  constructor(
    private readonly stops: readonly string[],
    private readonly granularity: "text" | "tokens",
  ) {
    this.stops = stops.filter((stop) => stop !== "");
  }

  /** Feed one piece. `ready` is safe to emit now; `stop` is set when a stop string completed. */
  push(piece: OutputPiece): { ready: OutputPiece[]; stop?: string } {
    if (this.stops.length === 0) return { ready: [piece] };
    this.held.push({ ...piece });
    this.heldText += piece.text;

    let match: { index: number; stop: string } | undefined;
    for (const stop of this.stops) {
      const index = this.heldText.indexOf(stop);
      if (index >= 0 && (match === undefined || index < match.index)) match = { index, stop };
    }
    if (match) {
      const ready = this.take(match.index);
      this.held = [];
      this.heldText = "";
      return { ready, stop: match.stop };
    }
    return { ready: this.take(this.heldText.length - this.partialSuffixLength()) };
  }

  /** The output ended without completing a stop string: release everything held. */
  flush(): OutputPiece[] {
    const rest = this.held;
    this.held = [];
    this.heldText = "";
    return rest;
  }

  /** Release the first `length` characters of held output (whole pieces in `tokens` mode). */
  private take(length: number): OutputPiece[] {
    const ready: OutputPiece[] = [];
    let remaining = length;
    while (this.held.length > 0) {
      const first = this.held[0] as OutputPiece;
      if (first.text.length <= remaining) {
        ready.push(first);
        this.held.shift();
        this.heldText = this.heldText.slice(first.text.length);
        remaining -= first.text.length;
        continue;
      }
      if (this.granularity === "text" && remaining > 0) {
        ready.push({ ...first, text: first.text.slice(0, remaining) });
        this.held[0] = { text: first.text.slice(remaining), tokenCount: 0 };
        this.heldText = this.heldText.slice(remaining);
      }
      break;
    }
    return ready;
  }

  /** Length of the longest end of the held text that begins some stop string. */
  private partialSuffixLength(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (
        let length = Math.min(stop.length - 1, this.heldText.length);
        length > longest;
        length--
      ) {
        if (this.heldText.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
