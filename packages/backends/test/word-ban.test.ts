import { describe, expect, it } from "vitest";
import { WordBan } from "../src/embedded/word-ban.ts";

// One token a character, as the bundled tiny reasoner's vocabulary.
const chars = (text: string) => [...text].map((c) => c.charCodeAt(0));

describe("WordBan (vLLM's bad_words rule on token ids)", () => {
  it("bans a multi-token word's last token only right after the tokens before it", () => {
    const ban = WordBan.of(["Wait"], chars);
    expect(ban.banned(chars("so. Wai"))).toEqual(chars("t"));
    expect(ban.banned(chars("so. Wa"))).toEqual([]);
    expect(ban.banned(chars("What"))).toEqual([]);
  });

  it("bans a one-token word always, and covers the spaced form", () => {
    const words = new Map([
      ["Hmm", [7]],
      [" Hmm", [8]],
    ]);
    const ban = WordBan.of(["Hmm"], (text) => words.get(text) ?? []);
    expect(ban.banned([1, 2, 3]).sort()).toEqual([7, 8]);
  });
});
