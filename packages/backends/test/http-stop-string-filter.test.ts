import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { OutputPiece } from "../src/http/output-piece.ts";
import { StopStringFilter } from "../src/http/stop-string-filter.ts";

const piece = (text: string, id?: number): OutputPiece =>
  id === undefined ? { text, tokenCount: 1 } : { text, tokenCount: 1, tokenIds: [id] };

function run(filter: StopStringFilter, pieces: OutputPiece[]) {
  const released: OutputPiece[] = [];
  for (const next of pieces) {
    const result = filter.push(next);
    released.push(...result.ready);
    if (result.stop !== undefined) return { released, stop: result.stop };
  }
  released.push(...filter.flush());
  return { released, stop: undefined };
}

const text = (pieces: OutputPiece[]) => pieces.map((p) => p.text).join("");

describe("StopStringFilter", () => {
  it("holds back a possible start of a stop string until the next piece decides", () => {
    const filter = new StopStringFilter(["</think>"], "text");
    expect(text(filter.push(piece("so 4.</th")).ready)).toBe("so 4.");
    expect(filter.push(piece("ink>\n\nAnswer"))).toEqual({ ready: [], stop: "</think>" });
  });

  it("releases held text once it can no longer become a stop string", () => {
    const filter = new StopStringFilter(["</think>"], "text");
    expect(text(filter.push(piece("a </")).ready)).toBe("a ");
    expect(text(filter.push(piece("b>")).ready)).toBe("</b>");
  });

  it("in text mode splits a piece at the stop string and keeps its count with the released part", () => {
    const { released, stop } = run(new StopStringFilter(["</think>"], "text"), [
      piece("Okay"),
      piece(" 4</think>"),
      piece("x"),
    ]);
    expect(stop).toBe("</think>");
    expect(released).toEqual([piece("Okay"), { text: " 4", tokenCount: 1 }]);
  });

  it("in tokens mode releases whole pieces only and drops a token that straddles the stop string", () => {
    const filter = new StopStringFilter(["</think>"], "tokens");
    const { released, stop } = run(filter, [
      piece("Done", 1),
      piece(".", 2),
      piece("x</", 3),
      piece("think", 4),
      piece(">", 5),
    ]);
    expect(stop).toBe("</think>");
    expect(released.flatMap((p) => p.tokenIds ?? [])).toEqual([1, 2]);
    expect(text(released)).toBe("Done.");
  });

  it("finds the earliest of several stop strings", () => {
    const { stop, released } = run(new StopStringFilter(["<|im_end|>", "<|im_start|>"], "text"), [
      piece("a<|im_st"),
      piece("art|>b<|im_end|>"),
    ]);
    expect(stop).toBe("<|im_start|>");
    expect(text(released)).toBe("a");
  });

  it("passes everything through when there is no stop string", () => {
    const filter = new StopStringFilter([""], "tokens");
    expect(filter.push(piece("</", 1))).toEqual({ ready: [piece("</", 1)] });
  });

  it("never loses or invents text: released text is the input up to the first stop string", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a</tk>]{0,4}$/), { maxLength: 12 }), (chunks) => {
        const stops = ["</tk>", "<a"];
        const { released, stop } = run(
          new StopStringFilter(stops, "text"),
          chunks.map((chunk) => piece(chunk)),
        );
        const whole = chunks.join("");
        const firsts = stops.map((s) => whole.indexOf(s)).filter((i) => i >= 0);
        const cut = firsts.length === 0 ? whole.length : Math.min(...firsts);
        expect(text(released)).toBe(whole.slice(0, cut));
        expect(stop !== undefined).toBe(firsts.length > 0);
      }),
    );
  });
});
