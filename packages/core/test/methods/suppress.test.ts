import { describe, expect, it } from "vitest";
import { runScripted } from "../run-helpers.ts";

describe("suppress", () => {
  it("asks the backend to ban the words while thinking, never in the answer", async () => {
    const { transcript, backend } = await runScripted(
      { replies: ["Let me see. Wait, no. Hmm.</think>", "Wait: 42"] },
      { budgetForcing: { suppress: ["Wait", "Hmm"] } },
    );
    expect(backend.requests[0]!.suppressWords).toEqual(["Wait", "Hmm"]);
    expect(backend.requests[1]!.suppressWords).toBeUndefined();
    // This backend's model honours the ban by writing the rest of its thought.
    expect(transcript.thinkingText).toBe("Let me see. , no. .");
    expect(transcript.answerText).toBe("Wait: 42");
  });

  it("keeps the ban on every thinking continuation after a wait", async () => {
    const { backend } = await runScripted(
      { replies: ["a</think>", "b</think>", "42"] },
      { budgetForcing: { suppress: ["Alternatively"], num_waits: 1 } },
    );
    expect(backend.requests.map((r) => r.suppressWords)).toEqual([
      ["Alternatively"],
      ["Alternatively"],
      undefined,
    ]);
  });

  it("is refused by a backend that cannot ban words, naming the field", async () => {
    await expect(
      runScripted({ replies: ["a"], mode: "text" }, { budgetForcing: { suppress: ["Wait"] } }),
    ).rejects.toMatchObject({ code: "unsupported_by_backend", status: 400 });
    await expect(
      runScripted({ replies: ["a"], mode: "text" }, { budgetForcing: { suppress: ["Wait"] } }),
    ).rejects.toThrow(/budget_forcing\.suppress/);
  });

  it("refuses an empty word", async () => {
    await expect(
      runScripted({ replies: ["a"] }, { budgetForcing: { suppress: ["Wait", " "] } }),
    ).rejects.toThrow(/suppress must be a list/);
  });
});
