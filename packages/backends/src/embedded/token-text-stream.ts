/**
 * Turns generated token ids into text one token at a time without cutting a
 * UTF-8 character in half: byte tokens (`<0xE2>`, or BPE pieces holding part
 * of a character) are held back until the character is complete.
 */
export type Detokenize = (tokens: readonly number[], lastTokens: readonly number[]) => string;

const REPLACEMENT = "\uFFFD";
// A UTF-8 character has at most 4 bytes, so it spans at most 4 tokens; a
// replacement character still there after that is really in the text.
const MAX_HELD_TOKENS = 4;
// Enough context for detokenizers that look back (SPM leading spaces).
const RECENT_TOKENS = 16;

export class TokenTextStream {
  private pending: number[] = [];
  private recent: number[];

  /** `previous`: the tokens just before the first generated one (the prompt's tail). */
  constructor(
    private readonly detokenize: Detokenize,
    previous: readonly number[] = [],
  ) {
    this.recent = previous.slice(-RECENT_TOKENS);
  }

  /** Text that became complete with this token ("" while a character is still incomplete). */
  push(token: number): string {
    this.pending.push(token);
    const text = this.detokenize(this.pending, this.recent);
    if (text.endsWith(REPLACEMENT) && this.pending.length < MAX_HELD_TOKENS) return "";
    return this.release(text);
  }

  /** Whatever is held back, as it reads now (an incomplete character becomes U+FFFD). */
  flush(): string {
    if (this.pending.length === 0) return "";
    return this.release(this.detokenize(this.pending, this.recent));
  }

  private release(text: string): string {
    this.recent.push(...this.pending);
    if (this.recent.length > RECENT_TOKENS)
      this.recent.splice(0, this.recent.length - RECENT_TOKENS);
    this.pending = [];
    return text;
  }
}
