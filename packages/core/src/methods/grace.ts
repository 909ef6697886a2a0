/**
 * Grace past the thinking budget (`grace_tokens`, as proposed for llama.cpp's
 * reasoning budget): a close forced mid-sentence loses the thought the model
 * was writing, so it may go on until its sentence or line ends, up to a cap.
 */

/**
 * Watches the text generated during the grace for the end of a sentence or a
 * line. A full stop only counts once the next character is whitespace, so
 * "3.5" or "e.g" streamed as "3." + "5" does not end the grace early.
 */
export class SentenceEndWatch {
  private last = "";

  /** Feed the next generated text; true once a sentence or line has ended. */
  push(text: string): boolean {
    const seen = this.last + text;
    if (seen === "") return false;
    this.last = seen.slice(-2);
    return /\n|[.!?]["')\]]?\s/.test(seen);
  }
}
