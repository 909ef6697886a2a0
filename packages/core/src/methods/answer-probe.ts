/**
 * A probe: the answer the model would give from its thinking so far, asked
 * in a side request (the close, then a lead-in such as `The answer is
 * \boxed{`) that never enters the trace. An embedded session reuses the
 * shared prefix of its sequence, a server its prefix cache, so a probe costs
 * about its own few tokens.
 */
import type { GenerationSession, PromptInput } from "../backend.ts";
import type { SamplingSettings } from "@thinkscope/protocol";

export interface ProbeResult {
  /** The answer up to the closing brace; null when none came within the probe's tokens. */
  answer: string | null;
  tokens: number;
  promptTokensEvaluated?: number;
  promptTokensCached?: number;
}

/** Greedy, whatever the run samples with: a probe reads the model's best answer, not a draw. */
const PROBE_SAMPLING: SamplingSettings = { temperature: 0 };

export async function probeAnswer(
  session: GenerationSession,
  prompt: PromptInput,
  options: { maxTokens: number; stopIds: number[]; signal: AbortSignal; exactCounts: boolean },
): Promise<ProbeResult> {
  let text = "";
  let tokens = 0;
  const result: ProbeResult = { answer: null, tokens: 0 };
  for await (const event of session.generate({
    prompt,
    maxTokens: options.maxTokens,
    stopTokenIds: options.stopIds,
    stopStrings: ["}"],
    sampling: PROBE_SAMPLING,
    signal: options.signal,
  })) {
    if (event.type === "tokens") {
      text += event.text;
      tokens += event.tokenCount;
      if (text.includes("}")) break;
    } else {
      if (!options.exactCounts && event.usage?.completionTokens !== undefined)
        tokens = Math.max(tokens, event.usage.completionTokens);
      result.promptTokensEvaluated = event.usage?.promptTokensEvaluated;
      result.promptTokensCached = event.usage?.promptTokensCached;
      // A stop on the brace: the server left it out of the text, and the answer is whole.
      if (event.reason === "stop" && event.stoppedBy?.text === "}") text += "}";
    }
  }
  const close = text.indexOf("}");
  result.tokens = tokens;
  if (close >= 0) {
    const answer = text.slice(0, close).trim();
    result.answer = answer === "" ? null : answer;
  }
  return result;
}

/** Early exit's rule: the last `stable` probes gave one answer. */
export class StableAnswer {
  private last: string | null = null;
  private streak = 0;

  constructor(private readonly stable: number) {}

  /** Record a probe's answer; true when the last `stable` answers agree. */
  push(answer: string | null): boolean {
    if (answer === null) {
      this.last = null;
      this.streak = 0;
      return false;
    }
    this.streak = answer === this.last ? this.streak + 1 : 1;
    this.last = answer;
    return this.streak >= this.stable;
  }
}
