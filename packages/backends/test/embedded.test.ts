/**
 * The embedded backend on the real llama.cpp path, with generated models
 * whose greedy output is known token by token (src/testing/test-model.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerateRequest, GenerationEvent, GenerationSession } from "@thinkscope/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend, type EmbeddedSession } from "../src/index.ts";
import {
  COUNTING_TRANSITIONS,
  getTestModel,
  type TestModelOptions,
  type TestModelVocabulary,
} from "../src/testing/index.ts";

const CHAT_PROMPT = "<|im_start|>user\nWhat is 6*7?<|im_end|>\n<|im_start|>assistant\n<think>\n";
const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

let dataDir: string;
const backends: EmbeddedBackend[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-embedded-"));
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await rm(dataDir, { recursive: true, force: true });
});

async function backendFor(
  model: TestModelOptions = {},
  options: { sequences?: number; contextSize?: number; logprobs?: boolean } = {},
): Promise<{ backend: EmbeddedBackend; vocab: TestModelVocabulary }> {
  const { path, vocabulary } = await getTestModel(model);
  const backend = createEmbeddedBackend({ model: path, dataDir, ...options });
  backends.push(backend);
  return { backend, vocab: vocabulary };
}

function request(
  prompt: GenerateRequest["prompt"],
  overrides: Partial<GenerateRequest> = {},
): GenerateRequest {
  return {
    prompt,
    maxTokens: 100,
    stopTokenIds: [],
    stopStrings: [],
    sampling: { temperature: 0 },
    signal: new AbortController().signal,
    ...overrides,
  };
}

interface Collected {
  chunks: Extract<GenerationEvent, { type: "tokens" }>[];
  text: string;
  ids: number[];
  finish: Extract<GenerationEvent, { type: "finish" }>;
}

async function collect(session: GenerationSession, req: GenerateRequest): Promise<Collected> {
  const chunks: Collected["chunks"] = [];
  let finish: Collected["finish"] | undefined;
  for await (const event of session.generate(req)) {
    if (event.type === "tokens") chunks.push(event);
    else finish = event;
  }
  if (!finish) throw new Error("no finish event");
  return {
    chunks,
    text: chunks.map((c) => c.text).join(""),
    ids: chunks.flatMap((c) => c.tokenIds ?? []),
    finish,
  };
}

describe("embedded backend: generation", () => {
  let backend: EmbeddedBackend;
  let v: TestModelVocabulary;
  beforeAll(async () => {
    ({ backend, vocab: v } = await backendFor());
  });

  it("streams the exact trace and stops on the end delimiter by id without emitting it", async () => {
    const session = await backend.openSession({});
    try {
      const prompt = await session.tokenize(CHAT_PROMPT, { special: true });
      const out = await collect(
        session,
        request({ tokens: prompt }, { stopTokenIds: [v.id("</think>")] }),
      );
      expect(out.text).toBe(ALPHABET);
      expect(out.ids).toEqual(v.idsOf([...ALPHABET]));
      expect(out.chunks.every((c) => c.tokenCount === 1 && c.tokenIds?.length === 1)).toBe(true);
      expect(out.finish).toEqual({
        type: "finish",
        reason: "stop",
        stoppedBy: { tokenId: v.id("</think>") },
        usage: {
          promptTokensEvaluated: prompt.length,
          promptTokensCached: 0,
          completionTokens: 26,
        },
      });
    } finally {
      await session.close();
    }
  });

  it("continues after an injected Wait by evaluating only the injected token", async () => {
    const session = await backend.openSession({});
    try {
      const prompt = await session.tokenize(CHAT_PROMPT, { special: true });
      const stop = { stopTokenIds: [v.id("</think>")] };
      const first = await collect(session, request({ tokens: prompt }, stop));
      // The end delimiter was sampled but never evaluated: the cache holds the prompt and the 26 letters.
      expect(session.sequencePosition).toBe(prompt.length + 26);

      const wait = await session.tokenize("Wait", { special: true });
      expect(wait).toEqual([v.id("Wait")]);
      const extended = [...prompt, ...first.ids, ...wait];
      const second = await collect(session, request({ tokens: extended }, stop));
      expect(second.text).toBe("tuvwxyz");
      expect(second.finish.usage).toEqual({
        promptTokensEvaluated: 1,
        promptTokensCached: extended.length - 1,
        completionTokens: 7,
      });
      expect(session.sequencePosition).toBe(extended.length + 7);

      const closed = [...extended, ...second.ids, v.id("</think>")];
      const answer = await collect(session, request({ tokens: closed }, stop));
      expect(answer.text).toBe(" 42");
      expect(answer.finish).toMatchObject({ reason: "stop", endOfSequence: true });
      expect(answer.finish.stoppedBy).toBeUndefined();
      expect(answer.finish.usage?.promptTokensEvaluated).toBe(1);
    } finally {
      await session.close();
    }
  });

  it("cuts at maxTokens; the forced close then evaluates the cut token and the injected text", async () => {
    const session = await backend.openSession({});
    try {
      const prompt = await session.tokenize(CHAT_PROMPT, { special: true });
      const thinking = await collect(
        session,
        request({ tokens: prompt }, { maxTokens: 10, stopTokenIds: [v.id("</think>")] }),
      );
      expect(thinking.text).toBe("abcdefghij");
      expect(thinking.finish).toMatchObject({ reason: "length", usage: { completionTokens: 10 } });

      const forced = await session.tokenize("\n</think>\n\nFinal Answer:", { special: true });
      const answer = await collect(
        session,
        request({ tokens: [...prompt, ...thinking.ids, ...forced] }),
      );
      expect(answer.text).toBe(" 42");
      expect(answer.finish).toMatchObject({ reason: "stop", endOfSequence: true });
      // The last generated token was never written to the cache, so it is evaluated with the injection.
      expect(answer.finish.usage?.promptTokensEvaluated).toBe(1 + forced.length);
    } finally {
      await session.close();
    }
  });

  it("reuses the common prefix of a repeated or divergent prompt and erases the rest", async () => {
    const session = await backend.openSession({});
    try {
      const prompt = await session.tokenize(CHAT_PROMPT, { special: true });
      const first = await collect(session, request({ tokens: prompt }, { maxTokens: 5 }));
      const again = await collect(session, request({ tokens: prompt }, { maxTokens: 5 }));
      expect(again.text).toBe(first.text);
      // Identical prompt: the last prompt token is evaluated again to get the next-token logits.
      expect(again.finish.usage).toMatchObject({
        promptTokensEvaluated: 1,
        promptTokensCached: prompt.length - 1,
      });

      const divergent = await session.tokenize(
        "<|im_start|>user\nWhat is 6+7?<|im_end|>\n<think>\n",
        {
          special: true,
        },
      );
      const shared = prompt.findIndex((id, i) => id !== divergent[i]);
      const third = await collect(session, request({ tokens: divergent }, { maxTokens: 3 }));
      expect(third.text).toBe("abc");
      expect(third.finish.usage).toMatchObject({
        promptTokensEvaluated: divergent.length - shared,
        promptTokensCached: shared,
      });
      expect(session.sequencePosition).toBe(divergent.length + 2);
    } finally {
      await session.close();
    }
  });

  it("accepts a text prompt with control tokens, and maxTokens 0", async () => {
    const session = await backend.openSession({});
    try {
      const out = await collect(
        session,
        request({ text: CHAT_PROMPT }, { stopTokenIds: [v.id("</think>")] }),
      );
      expect(out.text).toBe(ALPHABET);
      const none = await collect(session, request({ text: CHAT_PROMPT }, { maxTokens: 0 }));
      expect(none.chunks).toEqual([]);
      expect(none.finish.reason).toBe("length");
    } finally {
      await session.close();
    }
  });

  it("refuses bad requests with clear errors", async () => {
    const session = await backend.openSession({});
    try {
      await expect(collect(session, request({ tokens: [1, 99_999] }))).rejects.toMatchObject({
        code: "invalid_prompt",
        status: 400,
      });
      await expect(collect(session, request({ tokens: [] }))).rejects.toMatchObject({
        code: "empty_prompt",
      });
      await expect(
        collect(session, request({ tokens: [4] }, { maxTokens: -1 })),
      ).rejects.toMatchObject({
        code: "invalid_max_tokens",
      });
      const tooLong = new Array<number>(backend.info!.contextSize).fill(v.id("a"));
      await expect(collect(session, request({ tokens: tooLong }))).rejects.toMatchObject({
        code: "context_overflow",
        message: expect.stringContaining(`holds ${backend.info!.contextSize}`),
      });

      const running = session.generate(request({ tokens: [v.id("<think>")] }));
      await running.next();
      await expect(collect(session, request({ tokens: [4] }))).rejects.toMatchObject({
        code: "session_busy",
      });
      await running.return(undefined);
    } finally {
      await session.close();
    }
    await expect(collect(session, request({ tokens: [4] }))).rejects.toMatchObject({
      code: "session_closed",
    });
    await expect(backend.openSession({ model: "other-model" })).rejects.toMatchObject({
      code: "model_not_found",
      status: 404,
    });
  });

  it("describes itself: capabilities, models, readiness, end-of-sequence ids, chat template", async () => {
    expect(await backend.readiness()).toEqual({ state: "ready" });
    expect(backend.capabilities).toMatchObject({
      exactTokenIds: true,
      tokenIdPrompts: true,
      stopTokenIds: true,
      logprobs: true,
      tokenizer: true,
      persistentSequence: true,
      contextLength: 4096,
    });
    expect(await backend.listModels()).toEqual([{ id: backend.modelId, contextLength: 4096 }]);
    expect(backend.info).toMatchObject({ threads: 1, sequences: 2, vocabularySize: v.size });
    const session = await backend.openSession({ model: backend.modelId });
    expect(session.eosTokenIds).toEqual([v.eos]);
    await session.close();

    const rendered = await backend.applyChatTemplate([
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 6*7?" },
    ]);
    expect(rendered).toBe(`<|im_start|>system\nBe brief.<|im_end|>\n${CHAT_PROMPT}`);
  });
});

describe("embedded backend: chat templates", () => {
  it("renders bos_token and fails clearly when the model has no template", async () => {
    const withBos = (
      await backendFor({ chatTemplate: "{{ bos_token }}{{ messages[0].content }}|" })
    ).backend;
    expect(await withBos.applyChatTemplate([{ role: "user", content: "Q" }])).toBe("<s>Q|");

    const none = (await backendFor({ chatTemplate: null })).backend;
    await expect(none.applyChatTemplate([{ role: "user", content: "Q" }])).rejects.toMatchObject({
      code: "chat_template_unavailable",
    });
  });
});

describe("embedded backend: text and probabilities", () => {
  it("never splits a multi-byte character across chunks", async () => {
    const { backend, vocab: v } = await backendFor({
      // "→" is E2 86 92 and "é" is C3 A9: byte tokens, one byte each.
      transitions: {
        "<think>": "<0xE2>",
        "<0xE2>": "<0x86>",
        "<0x86>": "<0x92>",
        "<0x92>": "<0xC3>",
        "<0xC3>": "<0xA9>",
      },
    });
    const session = await backend.openSession({});
    try {
      const full = await collect(session, request({ tokens: [v.id("<think>")] }));
      expect(full.chunks.map((c) => c.text)).toEqual(["", "", "→", "", "é"]);
      expect(full.ids).toEqual(v.idsOf(["<0xE2>", "<0x86>", "<0x92>", "<0xC3>", "<0xA9>"]));
      expect(full.finish.endOfSequence).toBe(true);

      // Cut inside a character: the held bytes are flushed as they read, so no token's text is lost.
      const cut = await collect(session, request({ tokens: [v.id("<think>")] }, { maxTokens: 2 }));
      expect(cut.text).toBe("\uFFFD");
      expect(cut.chunks.reduce((n, c) => n + c.tokenCount, 0)).toBe(2);
    } finally {
      await session.close();
    }
  });

  it("reports the probability of the probe ids at each step", async () => {
    const model = { transitions: { ...COUNTING_TRANSITIONS, c: { d: 0.7, "</think>": 0.3 } } };
    const { backend, vocab: v } = await backendFor(model);
    const session = await backend.openSession({});
    const end = v.id("</think>");
    try {
      const out = await collect(
        session,
        request(
          { tokens: v.idsOf(["<think>", "\n"]) },
          { stopTokenIds: [end], probeTokenIds: [end] },
        ),
      );
      expect(out.text).toBe(ALPHABET);
      const probes = out.chunks.map((c) => c.probeProbabilities?.[0] ?? -1);
      expect(probes[3]).toBeCloseTo(0.3, 5); // "d" was sampled where </think> had 30%
      expect(probes.filter((_, i) => i !== 3).every((p) => p >= 0 && p < 1e-6)).toBe(true);
    } finally {
      await session.close();
    }

    const { backend: off } = await backendFor(model, { logprobs: false });
    const quiet = await off.openSession({});
    try {
      const out = await collect(
        quiet,
        request({ tokens: [v.id("<think>")] }, { probeTokenIds: [end], maxTokens: 3 }),
      );
      expect(off.capabilities.logprobs).toBe(false);
      expect(out.chunks.some((c) => c.probeProbabilities !== undefined)).toBe(false);
    } finally {
      await quiet.close();
    }
  });
});

describe("embedded backend: token entropy", () => {
  it("is the entropy of each step's distribution, reported only when asked and enabled", async () => {
    const model = { transitions: { ...COUNTING_TRANSITIONS, c: { d: 0.7, "</think>": 0.3 } } };
    const { backend, vocab: v } = await backendFor(model);
    const prompt = { tokens: v.idsOf(["<think>", "\n"]) };
    const stop = { stopTokenIds: [v.id("</think>")] };
    const session = await backend.openSession({});
    try {
      expect(backend.capabilities.tokenEntropy).toBe(true);
      const out = await collect(session, request(prompt, { ...stop, tokenEntropy: true }));
      expect(out.text).toBe(ALPHABET);
      const bits = out.chunks.map((c) => c.entropies?.[0] ?? -1);
      // "d" was drawn where the model gave 70% to it and 30% to closing.
      const mixed = -(0.7 * Math.log2(0.7) + 0.3 * Math.log2(0.3));
      expect(bits[3]).toBeCloseTo(mixed, 4);
      expect(bits.filter((_, i) => i !== 3).every((b) => b >= 0 && b < 1e-3)).toBe(true);

      const unasked = await collect(session, request(prompt, { maxTokens: 5 }));
      expect(unasked.chunks.some((c) => c.entropies !== undefined)).toBe(false);
    } finally {
      await session.close();
    }

    const { backend: off } = await backendFor(model, { logprobs: false });
    const quiet = await off.openSession({});
    try {
      expect(off.capabilities.tokenEntropy).toBe(false);
      const out = await collect(quiet, request(prompt, { tokenEntropy: true, maxTokens: 5 }));
      expect(out.chunks.some((c) => c.entropies !== undefined)).toBe(false);
    } finally {
      await quiet.close();
    }
  });
});

describe("embedded backend: abort and sequences", () => {
  // A model that never ends: z -> a.
  const loop = { transitions: { ...COUNTING_TRANSITIONS, z: "a" } };

  it("stops promptly on abort and frees the sequence for the next session", async () => {
    const { backend, vocab: v } = await backendFor(loop, { sequences: 1 });
    const session = await backend.openSession({});
    const controller = new AbortController();
    let tokens = 0;
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 100);
    const run = (async () => {
      for await (const event of session.generate(
        request(
          { tokens: [v.id("<think>")] },
          { maxTokens: 10_000_000, signal: controller.signal },
        ),
      )) {
        if (event.type === "tokens") tokens += 1;
      }
    })();
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(tokens).toBeGreaterThan(0);

    // The session still works after an abort, from a consistent cache.
    const after = await collect(
      session,
      request({ tokens: v.idsOf(["<think>", "\n"]) }, { maxTokens: 3 }),
    );
    expect(after.text).toBe("abc");

    // With one sequence, a second session waits until the first closes; an abort leaves the line.
    const leaving = new AbortController();
    const gaveUp = backend.openSession({ signal: leaving.signal });
    const waiting = backend.openSession({});
    let opened = false;
    void waiting.then(() => (opened = true));
    leaving.abort();
    await expect(gaveUp).rejects.toMatchObject({ name: "AbortError" });
    await new Promise((r) => setTimeout(r, 50));
    expect(opened).toBe(false);
    await session.close();
    const next: EmbeddedSession = await waiting;
    // The released sequence kept its cache: the same prompt costs one token.
    const reused = await collect(
      next,
      request({ tokens: v.idsOf(["<think>", "\n"]) }, { maxTokens: 3 }),
    );
    expect(reused.finish.usage).toMatchObject({ promptTokensEvaluated: 1, promptTokensCached: 1 });
    await next.close();
  });

  it("closing a session mid-generation ends its stream and hands the sequence on", async () => {
    const { backend, vocab: v } = await backendFor(loop, { sequences: 1 });
    const endless = request({ tokens: [v.id("<think>")] }, { maxTokens: 10_000_000 });
    const start = v.idsOf(["<think>", "\n"]);

    // Closed while the consumer is between tokens.
    const first = await backend.openSession({});
    const paused = first.generate(endless);
    await paused.next();
    const second = backend.openSession({});
    await first.close();
    await expect(paused.next()).rejects.toMatchObject({ code: "session_closed" });
    const taker = await second;
    // The closed stream evaluated nothing more on the sequence it gave away: only <think> is cached.
    await new Promise((r) => setTimeout(r, 20));
    expect(taker.sequencePosition).toBe(1);
    expect((await collect(taker, request({ tokens: start }, { maxTokens: 3 }))).text).toBe("abc");

    // Closed while an evaluation step is running.
    const running = (async () => {
      for await (const _ of taker.generate(endless));
    })();
    const third = backend.openSession({});
    await new Promise((r) => setTimeout(r, 50));
    const ended = expect(running).rejects.toMatchObject({ code: "session_closed" });
    await taker.close();
    await ended;
    const last = await third;
    expect((await collect(last, request({ tokens: start }, { maxTokens: 3 }))).text).toBe("abc");
    await last.close();
  });

  it("closing the backend refuses new sessions and waiting callers", async () => {
    const { backend } = await backendFor(loop, { sequences: 1 });
    const held = await backend.openSession({});
    const waiting = expect(backend.openSession({})).rejects.toMatchObject({
      code: "backend_closed",
    });
    await backend.close();
    await waiting;
    await expect(backend.openSession({})).rejects.toMatchObject({ code: "backend_closed" });
    expect(await backend.readiness()).toMatchObject({ state: "unavailable" });
    await held.close();
  });
});
