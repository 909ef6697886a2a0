/**
 * Budget forcing token-exact on each reasoning-model family, through real
 * llama.cpp: test models carrying the family's real byte-level BPE
 * vocabulary and chat template with scripted weights (family-script.ts), so
 * every id is known from the family's own tokenizer, independently of
 * llama.cpp. One run per family: the model's first close becomes a wait,
 * then the budget forces the close in the middle of a multi-byte character.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BudgetForcingRun, FAMILY_PROFILES, RunTranscript } from "@thinkscope/core";
import type { EngineEvent } from "@thinkscope/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbeddedBackend, type EmbeddedBackend } from "../src/index.ts";
import {
  ANSWER,
  FAMILY_IDS,
  FAMILY_QUESTION,
  FINAL_ANSWER_PREFIX,
  FIRST_THOUGHT,
  SECOND_THOUGHT_BEFORE_CUT,
  familyModelName,
  familyScript,
  getFamilyTestModel,
} from "../src/testing/index.ts";
import type { GenerateRequest, GenerationSession } from "@thinkscope/core";

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-families-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Records the prompt ids and stop ids of every request the engine sends. */
function recording(session: GenerationSession) {
  const requests: GenerateRequest[] = [];
  const recorder: GenerationSession = {
    generate: (request) => {
      requests.push(request);
      return session.generate(request);
    },
    tokenize: session.tokenize?.bind(session),
    eosTokenIds: session.eosTokenIds,
    close: () => session.close(),
  };
  return { recorder, requests };
}

describe.each(FAMILY_IDS)("%s on embedded llama.cpp with its real vocabulary", (family) => {
  let backend: EmbeddedBackend;
  const script = familyScript(family);

  beforeAll(async () => {
    const { path } = await getFamilyTestModel({
      family,
      transitions: script.transitions,
      name: familyModelName(family),
    });
    backend = createEmbeddedBackend({ model: path, dataDir, threads: 1, sequences: 1 });
    await backend.prepare();
  }, 120_000);
  afterAll(() => backend?.close());

  it("renders the real template, stops on the real end id, injects the wait's real ids and cuts mid-character", async () => {
    const { tokenizer, format } = script;
    const rendered = await backend.applyChatTemplate([...FAMILY_QUESTION]);
    expect(rendered).toBe(tokenizer.render(FAMILY_QUESTION));
    expect(script.prompt.startsWith(rendered)).toBe(true);
    expect(await backend.tokenize(script.prompt, { special: true })).toEqual(script.promptIds);

    const session = await backend.openSession({});
    const { recorder, requests } = recording(session);
    const events: EngineEvent[] = [];
    const transcript = new RunTranscript();
    try {
      const run = await BudgetForcingRun.prepare(recorder, backend.capabilities, {
        prompt: script.prompt,
        budgetForcing: {
          format: FAMILY_PROFILES[family].format,
          num_waits: 1,
          wait_string: script.waitString,
          max_thinking_tokens: script.maxThinkingTokens,
          max_answer_tokens: 16,
          final_answer_prefix: FINAL_ANSWER_PREFIX,
        },
      });
      for await (const event of run.events()) {
        events.push(event);
        transcript.apply(event);
      }
    } finally {
      await recorder.close();
    }

    // Three requests: think until the end id, continue after the wait, answer after the close.
    const thinkingStops = format.endMarkers.map((marker) => tokenizer.id(marker));
    const answerStops = format.answerStopMarkers.map((marker) => tokenizer.id(marker));
    expect(thinkingStops).toContain(script.endId);
    expect(requests.map((r) => r.stopTokenIds)).toEqual([
      thinkingStops,
      thinkingStops,
      answerStops,
    ]);
    const [first, second, third] = requests.map((r) => r.prompt.tokens);
    expect(first).toEqual(script.promptIds);
    expect(second).toEqual([...script.promptIds, ...script.firstIds, ...script.waitIds]);
    expect(third).toEqual([...second!, ...script.beforeCutIds, ...script.forcedCloseIds]);

    const injections = events.filter((e) => e.type === "injection");
    expect(injections.map((e) => [e.kind, e.tokenIds])).toEqual([
      ["wait", script.waitIds],
      ["forced_end", script.forcedCloseIds],
    ]);
    const generated = events.flatMap((e) => (e.type === "delta" ? (e.tokenIds ?? []) : []));
    expect(generated).toEqual([...script.firstIds, ...script.beforeCutIds, ...script.answerIds]);

    const summary = transcript.summary();
    expect(summary).toMatchObject({
      thinking_tokens: script.maxThinkingTokens,
      waits: 1,
      forced_end: true,
      answer_tokens: script.answerIds.length,
      token_counts_exact: true,
      finish_reason: "stop",
    });
    // The cut half character reads as the replacement character, as the tokenizer decodes it.
    const halfCharacter = tokenizer.decode(script.beforeCutIds.slice(-1));
    expect(halfCharacter).toContain("\uFFFD");
    expect(transcript.text).toBe(
      script.opening +
        (format.name === "s1" ? "\n" : "") +
        FIRST_THOUGHT +
        script.waitString +
        SECOND_THOUGHT_BEFORE_CUT +
        halfCharacter +
        script.forcedClose +
        ANSWER,
    );
  });
});
