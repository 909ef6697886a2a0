/**
 * Budget forcing token-exact on each reasoning-model family through the vLLM
 * adapter, against a stand-in that replays vLLM's wire format with the
 * family's real tokenizer and chat template (vllm-stand-in.ts): the ids the
 * adapter sends and receives are those a real vLLM would.
 */
import {
  BudgetForcingRun,
  FAMILY_PROFILES,
  RunTranscript,
  withThinkingStart,
} from "@thinkscope/core";
import type { EngineEvent } from "@thinkscope/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createVllmBackend } from "../src/vllm/vllm-backend.ts";
import {
  ANSWER,
  FAMILY_IDS,
  FAMILY_QUESTION,
  FINAL_ANSWER_PREFIX,
  FIRST_THOUGHT,
  SECOND_THOUGHT_BEFORE_CUT,
  familyModelName,
  familyScript,
} from "../src/testing/index.ts";
import { startReplayServer, type ReplayServer } from "./__fixtures__/replay-server.ts";
import { vllmStandIn } from "./__fixtures__/vllm-stand-in.ts";

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.each(FAMILY_IDS)("%s through the vLLM adapter", (family) => {
  it(`a stand-in replaying vLLM's wire format with the real ${family} tokenizer: exact ids in stop_token_ids, prompts and return_token_ids`, async () => {
    const script = familyScript(family);
    const { tokenizer, format } = script;
    const model = familyModelName(family);
    server = await startReplayServer(vllmStandIn(tokenizer, script.transitions, model));
    const backend = createVllmBackend({ url: `${server.url}/v1`, model });

    // The chat prompt as the server's template renders it, plus the start a run adds.
    const rendered = (await backend.applyChatTemplate?.([...FAMILY_QUESTION], {})) ?? "";
    expect(rendered).toBe(tokenizer.render(FAMILY_QUESTION));
    const prompt = script.opening === "" ? withThinkingStart(format, rendered) : rendered;
    expect(prompt).toBe(script.prompt);

    const session = await backend.openSession({});
    const events: EngineEvent[] = [];
    const transcript = new RunTranscript();
    try {
      const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt,
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
      await session.close();
    }

    const completions = server.requests
      .filter((request) => request.path === "/v1/completions")
      .map((request) => request.body as Record<string, unknown>);
    const thinkingStops = format.endMarkers.map((marker) => tokenizer.id(marker));
    const answerStops = format.answerStopMarkers.map((marker) => tokenizer.id(marker));
    expect(thinkingStops).toContain(script.endId);
    expect(completions.map((body) => body.stop_token_ids)).toEqual([
      thinkingStops,
      thinkingStops,
      answerStops.length > 0 ? answerStops : undefined,
    ]);
    for (const body of completions) {
      expect(body).toMatchObject({ return_token_ids: true, skip_special_tokens: false });
    }
    const [first, second, third] = completions.map((body) => body.prompt as number[]);
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
    expect(transcript.summary()).toMatchObject({
      thinking_tokens: script.maxThinkingTokens,
      waits: 1,
      forced_end: true,
      answer_tokens: script.answerIds.length,
      token_counts_exact: true,
      finish_reason: "stop",
    });
    // vLLM never shows the text of the half character the cut left: its bytes are only in the ids.
    expect(transcript.text).toBe(
      script.opening +
        (format.name === "s1" ? "\n" : "") +
        FIRST_THOUGHT +
        script.waitString +
        SECOND_THOUGHT_BEFORE_CUT +
        script.forcedClose +
        ANSWER,
    );
  });
});
