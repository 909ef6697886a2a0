/**
 * A probe (`early_exit`, `eliminate`) on a server backend is a side request
 * that re-sends the run's exact ids so far plus the close and the answer
 * lead-in, so the server's prefix cache serves everything but the lead-in.
 * Checked against a stand-in replaying vLLM's wire format with a family's
 * real tokenizer (vllm-stand-in.ts), standing in for a GPU server.
 */
import { BudgetForcingRun, FAMILY_PROFILES, RunTranscript } from "@thinkscope/core";
import { afterEach, describe, expect, it } from "vitest";
import { createVllmBackend } from "../src/vllm/vllm-backend.ts";
import { FAMILY_IDS, familyModelName, familyScript } from "../src/testing/index.ts";
import { startReplayServer, type ReplayServer } from "./__fixtures__/replay-server.ts";
import { vllmStandIn } from "./__fixtures__/vllm-stand-in.ts";

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("a probe through the vLLM adapter (vLLM wire-format stand-in)", () => {
  const family = FAMILY_IDS[0]!;
  it(`re-sends the run's ids as the probe's prefix, then the close and lead-in (${family} tokenizer)`, async () => {
    const script = familyScript(family);
    const { tokenizer, format } = script;
    const model = familyModelName(family);
    server = await startReplayServer(vllmStandIn(tokenizer, script.transitions, model));
    const backend = createVllmBackend({ url: `${server.url}/v1`, model });
    const session = await backend.openSession({});
    const transcript = new RunTranscript();
    try {
      const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
        prompt: script.prompt,
        budgetForcing: {
          format: FAMILY_PROFILES[family].format,
          eliminate: { attempts: 1 },
          max_thinking_tokens: script.maxThinkingTokens,
          max_answer_tokens: 16,
        },
      });
      for await (const event of run.events()) transcript.apply(event);
    } finally {
      await session.close();
    }
    const completions = server.requests
      .filter((request) => request.path === "/v1/completions")
      .map((request) => request.body as Record<string, unknown>);
    const [thinking, probe] = completions;
    expect(probe).toMatchObject({ stop: ["}"], temperature: 0, max_tokens: 16 });
    expect(probe).not.toHaveProperty("bad_words");
    const probePrompt = probe!.prompt as number[];
    // The probe's prompt is the thinking request's prompt plus the ids the model wrote: a cached prefix.
    expect(probePrompt.slice(0, script.promptIds.length)).toEqual(thinking!.prompt);
    expect(
      probePrompt.slice(script.promptIds.length, script.promptIds.length + script.firstIds.length),
    ).toEqual(script.firstIds);
    const leadIn = tokenizer.decode(
      probePrompt.slice(script.promptIds.length + script.firstIds.length),
    );
    expect(leadIn).toContain(format.endMarkers[0]!);
    expect(leadIn.endsWith("The answer is \\boxed{")).toBe(true);
    // The probe never enters the trace.
    expect(transcript.text).not.toContain("\\boxed{");
  });
});
