import type { DeltaEvent, EngineEvent, RunStats } from "@thinkscope/protocol";
import { describe, expect, it } from "vitest";
import { stopAnswerAt } from "../src/services/answer-stop.ts";

function delta(phase: "thinking" | "answer", text: string): DeltaEvent {
  return { type: "delta", phase, text, tokens: text.length, phaseTokens: 0, time: 0 };
}

const finished = (reason: "stop" | "aborted"): EngineEvent => ({
  type: "run.finished",
  finishReason: reason,
  stats: { answerTokens: 999 } as RunStats,
  time: 0,
});

async function run(events: EngineEvent[], stops: string[]) {
  let stopped = 0;
  async function* source() {
    for (const event of events) {
      // Once stopped, the engine only reports its end.
      if (stopped > 0 && event.type !== "run.finished") continue;
      yield event;
    }
  }
  const out: EngineEvent[] = [];
  for await (const event of stopAnswerAt(source(), stops, () => (stopped += 1))) out.push(event);
  return { out, stopped };
}

describe("stopAnswerAt", () => {
  it("cuts the answer before a stop string split across chunks, and never touches the thinking", async () => {
    const { out, stopped } = await run(
      [
        delta("thinking", "END? no"),
        delta("answer", "The answer is 4"),
        delta("answer", "2 E"),
        delta("answer", "ND and more"),
        finished("aborted"),
      ],
      ["END"],
    );
    expect(stopped).toBe(1);
    const answer = out.filter((e): e is DeltaEvent => e.type === "delta" && e.phase === "answer");
    expect(answer.map((e) => e.text).join("")).toBe("The answer is 42 ");
    expect(out[0]).toEqual(delta("thinking", "END? no"));
    // Every token generated up to the stop is counted, the stop's own included.
    expect(answer.reduce((n, e) => n + e.tokens, 0)).toBe(15 + 3 + 11);
    expect(out.at(-1)).toMatchObject({
      type: "run.finished",
      finishReason: "stop",
      stats: { answerTokens: 29 },
    });
  });

  it("releases held-back text when the stop string never completes", async () => {
    const { out, stopped } = await run(
      [delta("answer", "4"), delta("answer", "2 EN"), finished("stop")],
      ["END"],
    );
    expect(stopped).toBe(0);
    expect(
      out
        .filter((e) => e.type === "delta")
        .map((e) => (e as DeltaEvent).text)
        .join(""),
    ).toBe("42 EN");
    expect(out.at(-1)).toMatchObject({ finishReason: "stop" });
  });

  it("passes everything through when there are no stop strings", async () => {
    const events = [delta("answer", "a"), finished("stop")];
    expect((await run(events, [])).out).toEqual(events);
  });
});
