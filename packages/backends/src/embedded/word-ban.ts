/**
 * Banning words at the token level, with vLLM's `bad_words` rule: a word of
 * one token is never sampled; for a longer word only its last token is
 * banned, and only right after the tokens before it. Banning every token of
 * a word instead (llama.cpp's string `logit_bias`) would ban "W" to stop
 * "Wait" on a small vocabulary, and with it every word that starts with W.
 */
export class WordBan {
  private constructor(private readonly sequences: readonly (readonly number[])[]) {}

  /** Each word as written and with a leading space, as a model writes it mid-sentence. */
  static of(words: readonly string[], tokenize: (text: string) => number[]): WordBan {
    const seen = new Set<string>();
    const sequences: number[][] = [];
    for (const word of words) {
      for (const variant of [word, ` ${word.trimStart()}`]) {
        const ids = tokenize(variant);
        const key = ids.join(",");
        if (ids.length === 0 || seen.has(key)) continue;
        seen.add(key);
        sequences.push(ids);
      }
    }
    return new WordBan(sequences);
  }

  /** The ids that must not come next after `context` (prompt and tokens so far). */
  banned(context: readonly number[]): number[] {
    const banned = new Set<number>();
    for (const ids of this.sequences) {
      const before = ids.length - 1;
      if (before > context.length) continue;
      let follows = true;
      for (let i = 0; i < before && follows; i++) {
        follows = context[context.length - before + i] === ids[i];
      }
      if (follows) banned.add(ids[before]!);
    }
    return [...banned];
  }
}
