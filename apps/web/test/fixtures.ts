import type { EngineEvent, InjectionEvent, RunStats } from "@thinkscope/protocol";

/**
 * Hand-built engine events in the shapes packages/core/src/engine.ts emits,
 * for tests that need exact control of text, counts and times.
 */
export class EventScript {
  readonly events: EngineEvent[] = [];
  private time = 0;
  private thinking = 0;
  private injected = 0;
  private answer = 0;
  private waits = 0;

  constructor(
    settings: { maxThinkingTokens?: number; minThinkingTokens?: number; numWaits?: number } = {},
  ) {
    this.events.push({
      type: "run.started",
      runId: "run-1",
      settings: {
        format: {
          name: "think-tags",
          start: "<think>",
          endMarkers: ["</think>"],
          naturalClose: "</think>",
          forcedClose: "\n</think>\n\n",
          answerStopMarkers: [],
        },
        maxThinkingTokens: settings.maxThinkingTokens ?? 2048,
        minThinkingTokens: settings.minThinkingTokens ?? 0,
        numWaits: settings.numWaits ?? 0,
        waitStrings: ["Wait"],
        finalAnswerPrefix: "Final Answer:",
        maxAnswerTokens: 1024,
        maxExtensions: 64,
        sampling: { temperature: 0 },
      },
      promptTokens: 12,
      capabilities: {
        exactTokenIds: true,
        tokenIdPrompts: true,
        stopTokenIds: true,
        logprobs: false,
        tokenizer: true,
        persistentSequence: false,
      },
      tokenCountsExact: true,
      time: 0,
    });
  }

  think(
    text: string,
    tokens = text.length,
    dt = 10,
    endProbabilities?: number[],
    entropies?: number[],
  ): this {
    this.time += dt;
    this.thinking += tokens;
    this.events.push({
      type: "delta",
      phase: "thinking",
      text,
      tokens,
      phaseTokens: this.thinking + this.injected,
      ...(endProbabilities ? { endProbabilities } : {}),
      ...(entropies ? { entropies } : {}),
      time: this.time,
    });
    return this;
  }

  wait(text = "Wait", reason: InjectionEvent["reason"] = "num_waits", dt = 1): this {
    this.time += dt;
    this.waits += 1;
    this.events.push({
      type: "injection",
      kind: "wait",
      text,
      tokens: 1,
      thinkingTokenIndex: this.thinking + this.injected,
      reason,
      waitNumber: this.waits,
      time: this.time,
    });
    this.injected += 1;
    return this;
  }

  close(
    kind: "end" | "forced_end",
    text = kind === "end" ? "</think>" : "\n</think>\n\nFinal Answer:",
    dt = 1,
  ): this {
    this.time += dt;
    this.events.push({
      type: "injection",
      kind,
      text,
      tokens: kind === "end" ? 1 : 6,
      thinkingTokenIndex: this.thinking + this.injected,
      reason: kind === "end" ? "model_end" : "max_thinking_tokens",
      time: this.time,
    });
    this.events.push({ type: "phase", phase: "answer", time: this.time });
    return this;
  }

  say(text: string, tokens = text.length, dt = 10): this {
    this.time += dt;
    this.answer += tokens;
    this.events.push({
      type: "delta",
      phase: "answer",
      text,
      tokens,
      phaseTokens: this.answer,
      time: this.time,
    });
    return this;
  }

  finish(reason: "stop" | "length" | "aborted" | "error" = "stop", dt = 1): this {
    this.time += dt;
    const stats: RunStats = {
      thinkingTokensGenerated: this.thinking,
      thinkingTokensInjected: this.injected,
      closeTokens: 1,
      answerTokens: this.answer,
      waits: this.waits,
      forcedEnd: false,
      firstTokenMs: 10,
      thinkingMs: this.time,
      answerMs: 0,
      totalMs: this.time,
      tokensPerSecond: 123.4,
      upstreamRequests: this.waits + 2,
      reprefilledTokens: 40,
      cachedPromptTokens: 30,
      tokenCountsExact: true,
    };
    this.events.push({ type: "run.finished", finishReason: reason, stats, time: this.time });
    return this;
  }
}

/** The canonical example: two waits, the model's own close, a short answer. */
export function twoWaitRun(): EngineEvent[] {
  return new EventScript({ numWaits: 2 })
    .think("Count the r's: ")
    .think("r-a-s-p-b-e-r-r-y has 2.")
    .wait()
    .think(" Let me check again: 3.")
    .wait()
    .think(" Yes, 3.")
    .close("end")
    .say("There are **3** r's.")
    .finish().events;
}
