import { describe, expect, it } from "vitest";
import { injections, runScripted } from "../run-helpers.ts";

describe("budget_message", () => {
  it("is injected as its own mark just before a forced close, counted with the close", async () => {
    const message = "Considering the limited time, I have to answer now.";
    const { transcript, events } = await runScripted(
      { replies: ["abcdefghij</think>", "42"] },
      { budgetForcing: { max_thinking_tokens: 5, budget_message: message } },
    );
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "abcde"],
      ["budget_message", `\n${message}`],
      ["forced_end", "\n</think>\n\nFinal Answer:"],
      ["answer", "42"],
    ]);
    expect(injections(events).map((e) => [e.kind, e.reason, e.thinkingTokenIndex])).toEqual([
      ["budget_message", "max_thinking_tokens", 5],
      ["forced_end", "max_thinking_tokens", 5],
    ]);
    const summary = transcript.summary();
    // The message is part of the close: the thinking stays within its budget.
    expect(summary.thinking_tokens).toBe(5);
    // One token a character, `</think>` one token: the message with its newline, then the close.
    expect(summary.close_tokens).toBe(message.length + 1 + "\n\n\nFinal Answer:".length + 1);
    // It is the model's thinking as the model saw it, so reasoning_content shows it.
    expect(transcript.thinkingText).toBe(`abcde\n${message}`);
  });

  it("is not injected when the model closes by itself", async () => {
    const { transcript } = await runScripted(
      { replies: ["abc</think>", "42"] },
      { budgetForcing: { max_thinking_tokens: 50, budget_message: "Time is up." } },
    );
    expect(transcript.segments.map((s) => s.type)).toEqual(["thinking", "end", "answer"]);
  });
});

describe("grace_tokens", () => {
  it("lets the model finish its sentence past the budget, then forces the close", async () => {
    const { transcript, events, backend } = await runScripted(
      // One reply per request: the budget cuts the first, the grace continues with the second.
      { replies: ["one two. t-cut by the budget", "hree four five. six</think>", "42"] },
      { budgetForcing: { max_thinking_tokens: 10, grace_tokens: 20 } },
    );
    // 10 tokens reach "one two. t"; the grace runs to the end of "three four five." and its space.
    expect(transcript.segments[0]).toEqual({
      type: "thinking",
      text: "one two. three four five. ",
      tokens: 26,
    });
    expect(injections(events).map((e) => [e.kind, e.reason])).toEqual([["forced_end", "grace"]]);
    expect(transcript.summary()).toMatchObject({ thinking_tokens: 26, grace_tokens_used: 16 });
    // The grace is its own request, capped at the grace.
    expect(backend.requests.map((r) => r.maxTokens).slice(0, 2)).toEqual([10, 20]);
    // The cut request was cancelled, not read to its end.
    expect(backend.cancelled).toBe(1);
  });

  it("ends at a line end, and never runs past the grace", async () => {
    const line = await runScripted(
      { replies: ["abcd-cut by the budget", "efgh\nijklmnop</think>", "42"] },
      { budgetForcing: { max_thinking_tokens: 4, grace_tokens: 10 } },
    );
    expect(line.transcript.segments[0]!.text).toBe("abcdefgh\n");
    const capped = await runScripted(
      { replies: ["abcd-cut by the budget", "efghijklmnopqrstuvwxyz</think>", "42"] },
      { budgetForcing: { max_thinking_tokens: 4, grace_tokens: 3, budget_message: "Stop." } },
    );
    expect(capped.transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "abcdefg"],
      ["budget_message", "\nStop."],
      ["forced_end", "\n</think>\n\nFinal Answer:"],
      ["answer", "42"],
    ]);
    expect(capped.transcript.summary().grace_tokens_used).toBe(3);
  });

  it("accepts the model's own close during the grace, and refuses a negative grace", async () => {
    const { transcript, events } = await runScripted(
      { replies: ["abcd-cut by the budget", "ef</think>", "42"] },
      { budgetForcing: { max_thinking_tokens: 4, grace_tokens: 10 } },
    );
    expect(injections(events).map((e) => [e.kind, e.reason])).toEqual([["end", "model_end"]]);
    expect(transcript.summary().grace_tokens_used).toBe(2);
    await expect(
      runScripted({ replies: ["a"] }, { budgetForcing: { grace_tokens: -1 } }),
    ).rejects.toThrow(/grace_tokens must be a whole number/);
  });
});
