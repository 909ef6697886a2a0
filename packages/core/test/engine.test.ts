import { describe, expect, it } from "vitest";
import {
  BudgetForcingRun,
  InvalidRequestError,
  BackendError,
  countCloseTokens,
} from "../src/index.ts";
import { ScriptedBackend, scriptedTokenize } from "../src/testing/index.ts";
import { PROMPT, injections, runScripted } from "./run-helpers.ts";

const ids = (text: string) => scriptedTokenize(text);

describe("budget forcing engine (ids mode, like vLLM)", () => {
  it("accepts the model's own close and answers: the plain run", async () => {
    const { transcript, backend, events } = await runScripted({
      replies: ["abc</think>", "\n\n42<|im_end|>"],
    });
    expect(transcript.segments).toEqual([
      { type: "thinking", text: "abc", tokens: 3 },
      { type: "end", text: "</think>", tokens: 1 },
      { type: "answer", text: "\n\n42", tokens: 4 },
    ]);
    expect(transcript.text).toBe("abc</think>\n\n42");
    expect(transcript.summary()).toMatchObject({
      thinking_tokens: 3,
      injected_tokens: 1,
      answer_tokens: 4,
      waits: 0,
      forced_end: false,
      token_counts_exact: true,
      upstream_requests: 2,
      finish_reason: "stop",
    });
    // The end delimiter is a stop id, and the continuation re-sends exact ids.
    expect(backend.requests[0]!.stopTokenIds).toEqual(ids("</think>"));
    expect(backend.requests[1]!.prompt.tokens).toEqual(ids(PROMPT + "abc</think>"));
    expect(events.map((e) => e.type)).toEqual([
      "run.started",
      "delta",
      "delta",
      "delta",
      "injection",
      "phase",
      "delta",
      "delta",
      "delta",
      "delta",
      "run.finished",
    ]);
  });

  it("ignores the end num_waits times, appending Wait each time", async () => {
    const { transcript, backend, events } = await runScripted(
      { replies: ["abc</think>", "de</think>", "f</think>", "42"] },
      { budgetForcing: { num_waits: 2 } },
    );
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "abc"],
      ["wait", "Wait"],
      ["thinking", "de"],
      ["wait", "Wait"],
      ["thinking", "f"],
      ["end", "</think>"],
      ["answer", "42"],
    ]);
    expect(
      injections(events).map((e) => [e.kind, e.reason, e.waitNumber, e.thinkingTokenIndex]),
    ).toEqual([
      ["wait", "num_waits", 1, 3],
      ["wait", "num_waits", 2, 9],
      ["end", "model_end", undefined, 14],
    ]);
    // Wait tokens count as thinking: 3 + 4 + 2 + 4 + 1.
    expect(transcript.summary().thinking_tokens).toBe(14);
    expect(transcript.summary().injected_tokens).toBe(9);
    // The extension continues from token ids: prompt + generated + the wait's tokens.
    expect(backend.requests[1]!.prompt.tokens).toEqual(ids(PROMPT + "abcWait"));
    expect(backend.requests[2]!.prompt.tokens).toEqual(ids(PROMPT + "abcWaitdeWait"));
  });

  it("tokenizes a repeated wait string once per run", async () => {
    const backend = new ScriptedBackend({ replies: ["a</think>"] });
    const session = await backend.openSession();
    const calls: string[] = [];
    const tokenize = session.tokenize!;
    session.tokenize = (text, options) => {
      calls.push(text);
      return tokenize(text, options);
    };
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt: PROMPT,
      budgetForcing: { num_waits: 4 },
    });
    for await (const _event of run.events());
    expect(calls.filter((text) => text === "Wait")).toHaveLength(1);
  });

  it("rotates a list of wait strings", async () => {
    const { transcript } = await runScripted(
      { replies: ["a</think>"] },
      { budgetForcing: { num_waits: 3, wait_string: ["Wait", "Hmm"] } },
    );
    expect(transcript.segments.filter((s) => s.type === "wait").map((s) => s.text)).toEqual([
      "Wait",
      "Hmm",
      "Wait",
    ]);
  });

  it("extends below min_thinking_tokens, then accepts the end", async () => {
    const { transcript, events } = await runScripted(
      { replies: ["abc</think>", "abc</think>", "abc</think>", "ok"] },
      { budgetForcing: { min_thinking_tokens: 10 } },
    );
    // 3 -> wait -> 7 -> 3 more = 10 -> wait? no: 10 is not below 10, so the end is accepted.
    expect(injections(events).map((e) => [e.kind, e.reason])).toEqual([
      ["wait", "min_thinking_tokens"],
      ["end", "model_end"],
    ]);
    expect(transcript.summary().thinking_tokens).toBe(10);
  });

  it("forces the close at exactly max_thinking_tokens, with the answer lead-in", async () => {
    const { transcript, backend, events } = await runScripted(
      { replies: ["abcdefghij</think>", " 7"] },
      { budgetForcing: { max_thinking_tokens: 5 } },
    );
    expect(backend.requests[0]!.maxTokens).toBe(5);
    expect(transcript.segments).toEqual([
      { type: "thinking", text: "abcde", tokens: 5 },
      {
        type: "forced_end",
        text: "\n</think>\n\nFinal Answer:",
        tokens: ids("\n</think>\n\nFinal Answer:").length,
      },
      { type: "answer", text: " 7", tokens: 2 },
    ]);
    expect(injections(events)[0]).toMatchObject({
      kind: "forced_end",
      reason: "max_thinking_tokens",
      thinkingTokenIndex: 5,
    });
    expect(transcript.summary()).toMatchObject({ thinking_tokens: 5, forced_end: true });
  });

  it("counts injected wait tokens against the budget", async () => {
    const { transcript, backend } = await runScripted(
      { replies: ["abc</think>", "defghijk</think>", "!"] },
      { budgetForcing: { max_thinking_tokens: 8, num_waits: 1 } },
    );
    // 3 generated + 4 for "Wait" leaves exactly one token.
    expect(backend.requests[1]!.maxTokens).toBe(1);
    expect(transcript.segments.map((s) => s.type)).toEqual([
      "thinking",
      "wait",
      "thinking",
      "forced_end",
      "answer",
    ]);
    expect(transcript.summary().thinking_tokens).toBe(8);
  });

  it("drops the leading newline of the forced close when the thinking ends in one", async () => {
    const { transcript } = await runScripted(
      { replies: ["ab\ncd", "x"] },
      { budgetForcing: { max_thinking_tokens: 3 } },
    );
    expect(transcript.segments[1]).toMatchObject({
      type: "forced_end",
      text: "</think>\n\nFinal Answer:",
    });
  });

  it("accepts the end when a wait would not fit in the budget", async () => {
    const { transcript } = await runScripted(
      { replies: ["abcdef</think>", "x"] },
      { budgetForcing: { max_thinking_tokens: 8, num_waits: 1 } },
    );
    expect(transcript.segments.map((s) => s.type)).toEqual(["thinking", "end", "answer"]);
  });

  it("caps extensions so a model that always ends at once cannot loop", async () => {
    const { transcript } = await runScripted(
      { replies: ["a</think>"] },
      {
        budgetForcing: { min_thinking_tokens: 1000, max_thinking_tokens: 2000, max_extensions: 3 },
      },
    );
    expect(transcript.summary().waits).toBe(3);
    expect(transcript.segments.at(-2)?.type).toBe("end");
  });

  it("cuts a chunk of several tokens at the end delimiter when a server streams past it", async () => {
    const { transcript, backend } = await runScripted(
      { replies: ["abcde</think>xyz", "ok"], tokensPerChunk: 4, ignoreStops: true },
      {},
    );
    expect(transcript.segments.slice(0, 2)).toEqual([
      { type: "thinking", text: "abcde", tokens: 5 },
      { type: "end", text: "</think>", tokens: 1 },
    ]);
    // Leaving the stream early cancels that upstream request.
    expect(backend.cancelled).toBe(1);
  });

  it("continues from text when a chunk came without its ids", async () => {
    const { transcript, backend } = await runScripted(
      { replies: ["abc</think>", "d</think>", "42"], omitIdsInRequest: 0 },
      { budgetForcing: { num_waits: 1 } },
    );
    expect(backend.requests[1]!.prompt).toEqual({ text: PROMPT + "abcWait" });
    expect(transcript.summary()).toMatchObject({ thinking_tokens: 8, token_counts_exact: true });
  });

  it("streams several tokens per chunk with exact counts", async () => {
    const { events, transcript } = await runScripted({
      replies: ["abcdefg</think>", "42"],
      tokensPerChunk: 3,
    });
    const deltas = events.filter((e) => e.type === "delta" && e.phase === "thinking");
    expect(deltas.map((d) => (d.type === "delta" ? d.tokens : 0))).toEqual([3, 3, 1]);
    expect(transcript.summary().thinking_tokens).toBe(7);
  });

  it("handles the s1 format: stop on <|im_start|> or <|im_end|>, append <|im_start|>answer", async () => {
    const s1Prompt = "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<|im_start|>think";
    const backend = new ScriptedBackend({
      replies: ["\nabc<|im_start|>", "\nd<|im_end|>", "\n42"],
    });
    const session = await backend.openSession();
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt: s1Prompt,
      budgetForcing: { format: "s1", num_waits: 1 },
    });
    const segments: string[][] = [];
    const { RunTranscript } = await import("../src/index.ts");
    const transcript = new RunTranscript();
    for await (const event of run.events()) transcript.apply(event);
    for (const s of transcript.segments) segments.push([s.type, s.text]);
    expect(backend.requests[0]!.stopTokenIds).toEqual([
      ...ids("<|im_start|>"),
      ...ids("<|im_end|>"),
    ]);
    expect(segments).toEqual([
      ["thinking", "\nabc"],
      ["wait", "Wait"],
      ["thinking", "\nd"],
      ["end", "<|im_start|>answer"],
      ["answer", "\n42"],
    ]);
  });

  it("forces the s1 close with a newline only when needed", async () => {
    const s1Prompt = "<|im_start|>assistant\n<|im_start|>think";
    const backend = new ScriptedBackend({ replies: ["\nabcdef", " 1"] });
    const run = await BudgetForcingRun.prepare(await backend.openSession(), backend.capabilities, {
      prompt: s1Prompt,
      budgetForcing: { format: "s1", max_thinking_tokens: 4 },
    });
    const kinds: string[] = [];
    for await (const event of run.events()) if (event.type === "injection") kinds.push(event.text);
    expect(kinds).toEqual(["\n<|im_start|>answer\nFinal Answer:"]);
  });

  it("lets a model open its thinking itself (Qwen3), counting its <think> as thinking", async () => {
    const { transcript } = await runScripted(
      { replies: ["<think>\nabc</think>", "de</think>", "\n\n42"] },
      {
        prompt: "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n",
        budgetForcing: { num_waits: 1 },
      },
    );
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "<think>\nabc"],
      ["wait", "Wait"],
      ["thinking", "de"],
      ["end", "</think>"],
      ["answer", "\n\n42"],
    ]);
  });

  it("treats output that never opens a thinking segment as the answer", async () => {
    const { transcript, events } = await runScripted(
      { replies: ["Hello there"] },
      {
        prompt: "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n",
        budgetForcing: { num_waits: 2 },
      },
    );
    expect(transcript.segments).toEqual([{ type: "answer", text: "Hello there", tokens: 11 }]);
    expect(events.filter((e) => e.type === "phase")).toHaveLength(1);
    expect(transcript.finishReason).toBe("stop");
  });

  it("reports the probability of closing at each step where the backend gives it", async () => {
    const { events } = await runScripted({
      replies: ["ab</think>", "x"],
      probeProbability: (position) => position / 10,
    });
    const thinking = events.filter((e) => e.type === "delta" && e.phase === "thinking");
    expect(thinking.map((e) => (e.type === "delta" ? e.endProbabilities : null))).toEqual([
      [0],
      [0.1],
    ]);
    // The step where the model closed is never emitted as a token: its pressure rides on the injection.
    expect(injections(events)[0]).toMatchObject({ kind: "end", endProbability: 0.2 });
  });

  it("reports each token's entropy, on the stored grid, only when the run asks for it", async () => {
    const backend = {
      replies: ["ab</think>", "xy"],
      tokenEntropy: (position: number) => 0.5 + position / 3,
    };
    const asked = await runScripted(backend, { tokenEntropy: true });
    const deltas = asked.events.flatMap((e) => (e.type === "delta" ? [e] : []));
    // Thinking and answer alike: 0.5, 0.8333 -> 0.83 bits, then the answer's own positions.
    expect(deltas.map((e) => [e.phase, e.entropies])).toEqual([
      ["thinking", [0.5]],
      ["thinking", [0.83]],
      ["answer", [0.5]],
      ["answer", [0.83]],
    ]);
    expect(asked.backend.requests.every((r) => r.tokenEntropy === true)).toBe(true);

    const unasked = await runScripted(backend);
    expect(unasked.events.some((e) => e.type === "delta" && e.entropies !== undefined)).toBe(false);
    expect(unasked.backend.requests.some((r) => r.tokenEntropy)).toBe(false);
  });

  it("refuses to report entropy on a backend that cannot, before generating anything", async () => {
    const backend = new ScriptedBackend({ replies: ["ab</think>"] });
    const session = await backend.openSession();
    await expect(
      BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt: PROMPT,
        tokenEntropy: true,
      }),
    ).rejects.toMatchObject({ code: "unsupported_by_backend" });
    expect(backend.requests).toHaveLength(0);
  });

  it("stops on abort, cancels the upstream request and keeps the partial output", async () => {
    const controller = new AbortController();
    let deltas = 0;
    const { transcript, backend } = await runScripted(
      { replies: ["abcdefghijklmnop</think>", "x"], chunkDelayMs: 5 },
      {},
      {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === "delta" && ++deltas === 3) controller.abort();
        },
      },
    );
    expect(transcript.finishReason).toBe("aborted");
    expect(transcript.text).toBe("abc");
    expect(backend.cancelled).toBe(1);
  });

  it("turns a backend failure into run.error then run.finished, keeping what was generated", async () => {
    const { events, transcript } = await runScripted({
      replies: ["abcdef</think>"],
      failAt: {
        request: 0,
        afterTokens: 2,
        error: new BackendError("scripted", "upstream_disconnected", "gone"),
      },
    });
    expect(events.slice(-2).map((e) => e.type)).toEqual(["run.error", "run.finished"]);
    expect(transcript.error).toMatchObject({
      code: "upstream_disconnected",
      status: 502,
      retryable: true,
    });
    expect(transcript.finishReason).toBe("error");
    expect(transcript.text).toBe("ab");
  });
});

describe("budget forcing engine (text mode, like a plain OpenAI-compatible server)", () => {
  it("sends stop strings and re-sends text; counts are marked approximate", async () => {
    const { transcript, backend } = await runScripted(
      { replies: ["abc</think>", "de</think>", "42"], mode: "text" },
      { budgetForcing: { num_waits: 1 } },
    );
    expect(backend.requests[0]!.stopStrings).toEqual(["</think>"]);
    expect(backend.requests[1]!.prompt.text).toBe(PROMPT + "abcWait");
    expect(transcript.text).toBe("abcWaitde</think>42");
    expect(transcript.summary().token_counts_exact).toBe(false);
  });

  it("finds a delimiter split across chunks when the server does not stop on it", async () => {
    const { transcript, backend } = await runScripted(
      { replies: ["abcd</think>tail", "42"], mode: "text", tokensPerChunk: 3, ignoreStops: true },
      {},
    );
    // Chunks: "abc" "d</t" ... the matcher holds "</t" until "hin" "k>t" completes it.
    expect(transcript.segments.map((s) => [s.type, s.text])).toEqual([
      ["thinking", "abcd"],
      ["end", "</think>"],
      ["answer", "42"],
    ]);
    expect(backend.cancelled).toBe(1);
    expect(backend.requests[1]!.prompt.text).toBe(PROMPT + "abcd</think>");
  });
});

describe("settings are refused before anything is generated", () => {
  const cases: [string, object, string][] = [
    ["negative budget", { max_thinking_tokens: -1 }, "invalid_budget"],
    ["fractional waits", { num_waits: 1.5 }, "invalid_budget"],
    ["min above max", { min_thinking_tokens: 600, max_thinking_tokens: 500 }, "invalid_budget"],
    ["budget above the context", { max_thinking_tokens: 4000 }, "budget_exceeds_context"],
    ["empty wait string", { wait_string: "" }, "invalid_wait_string"],
    ["empty wait list", { wait_string: [] }, "invalid_wait_string"],
    ["unknown format", { format: "xml" }, "invalid_format"],
    ["custom format without end", { format: { start: "<r>" } }, "invalid_format"],
    ["waits above the extension cap", { num_waits: 10, max_extensions: 5 }, "invalid_budget"],
  ];
  it.each(cases)("%s", async (_name, budgetForcing, code) => {
    const backend = new ScriptedBackend({ replies: ["x"], contextLength: 2048 });
    const attempt = BudgetForcingRun.prepare(await backend.openSession(), backend.capabilities, {
      prompt: PROMPT,
      budgetForcing: budgetForcing as never,
      sampling: {},
    });
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(attempt).rejects.toMatchObject({ code, status: 400 });
    expect(backend.requests).toHaveLength(0);
  });

  it("fits budgets left out to a small context, and refuses given ones that do not fit", async () => {
    const backend = new ScriptedBackend({ replies: ["x"], contextLength: 1024 });
    const session = await backend.openSession();
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, { prompt: PROMPT });
    // The context keeps room for the longest close ("\n</think>\n\nFinal Answer:") besides the prompt.
    const close = await countCloseTokens(run.settings, session.tokenize!.bind(session));
    expect(close).toBeGreaterThan(0);
    const room = 1024 - run.promptTokens - close;
    expect(run.settings.maxAnswerTokens).toBe(Math.floor(room / 8));
    expect(run.settings.maxThinkingTokens).toBe(room - Math.floor(room / 8));
    const answerGiven = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt: PROMPT,
      budgetForcing: { max_answer_tokens: 64 },
    });
    expect(answerGiven.settings).toMatchObject({
      maxAnswerTokens: 64,
      maxThinkingTokens: room - 64,
    });
    await expect(
      BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt: PROMPT,
        budgetForcing: { max_answer_tokens: 1020 },
      }),
    ).rejects.toMatchObject({ code: "budget_exceeds_context" });
  });

  it("refuses a prompt longer than the context", async () => {
    const backend = new ScriptedBackend({ replies: ["x"], contextLength: 10 });
    await expect(
      BudgetForcingRun.prepare(await backend.openSession(), backend.capabilities, {
        prompt: PROMPT,
      }),
    ).rejects.toMatchObject({ code: "prompt_too_long" });
  });

  it("refuses bad sampling", async () => {
    const backend = new ScriptedBackend({ replies: ["x"] });
    await expect(
      BudgetForcingRun.prepare(await backend.openSession(), backend.capabilities, {
        prompt: PROMPT,
        sampling: { temperature: -1 },
      }),
    ).rejects.toMatchObject({ code: "invalid_sampling" });
  });
});
