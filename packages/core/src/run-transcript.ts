import type {
  BudgetForcingSummary,
  EngineEvent,
  FinishReason,
  RunStats,
  Segment,
  SegmentType,
} from "@thinkscope/protocol";

/**
 * Folds an engine event stream into the run as a whole: the exact
 * continuation text, its segments, and the final stats. Segments concatenate
 * to `text` exactly; consecutive deltas of one phase share a segment.
 */
export class RunTranscript {
  readonly segments: Segment[] = [];
  stats: RunStats | null = null;
  finishReason: FinishReason | null = null;
  error: { code: string; message: string; retryable: boolean; status: number } | null = null;
  tokenCountsExact = true;
  private parts: string[] = [];

  apply(event: EngineEvent): void {
    switch (event.type) {
      case "run.started":
        this.tokenCountsExact = event.tokenCountsExact;
        break;
      case "delta":
        this.append(event.phase, event.text, event.tokens, true);
        break;
      case "injection":
        this.append(event.kind, event.text, event.tokens, false);
        break;
      case "run.finished":
        this.stats = event.stats;
        this.finishReason = event.finishReason;
        break;
      case "run.error":
        this.error = {
          code: event.code,
          message: event.message,
          retryable: event.retryable,
          status: event.status,
        };
        break;
      case "phase":
        break;
    }
  }

  /** The whole continuation exactly as the model saw it. */
  get text(): string {
    return this.parts.join("");
  }

  /** Only the thinking, as `reasoning_content` in chat responses (waits and inserts included, the close not). */
  get thinkingText(): string {
    return this.inPhase("thinking")
      .map((s) => s.text)
      .join("");
  }

  get answerText(): string {
    return this.inPhase("answer")
      .map((s) => s.text)
      .join("");
  }

  /**
   * The segments of one phase. A fork's insert belongs to the thinking
   * before the answer has begun (a close or answer text), to the answer after.
   */
  private inPhase(phase: "thinking" | "answer"): Segment[] {
    const out: Segment[] = [];
    let answering = false;
    for (const segment of this.segments) {
      if (segment.type !== "insert" && segment.type !== "thinking" && segment.type !== "wait")
        answering = true;
      const inAnswer = segment.type === "answer" || (segment.type === "insert" && answering);
      const inThinking =
        segment.type === "thinking" ||
        segment.type === "wait" ||
        (segment.type === "insert" && !answering);
      if (phase === "answer" ? inAnswer : inThinking) out.push(segment);
    }
    return out;
  }

  summary(): BudgetForcingSummary {
    const sum = (type: SegmentType) =>
      this.segments.filter((s) => s.type === type).reduce((n, s) => n + s.tokens, 0);
    const waitTokens = sum("wait");
    const closeTokens = sum("end") + sum("forced_end");
    const thinkingInserts = this.inPhase("thinking")
      .filter((s) => s.type === "insert")
      .reduce((n, s) => n + s.tokens, 0);
    return {
      thinking_tokens: sum("thinking") + waitTokens + thinkingInserts,
      injected_tokens: waitTokens + closeTokens + sum("insert"),
      answer_tokens: sum("answer"),
      waits: this.segments.filter((s) => s.type === "wait").length,
      forced_end: this.segments.some((s) => s.type === "forced_end"),
      token_counts_exact: this.stats?.tokenCountsExact ?? this.tokenCountsExact,
      upstream_requests: this.stats?.upstreamRequests ?? 0,
      segments: this.segments.map((s) => ({ ...s })),
      close_tokens: closeTokens,
      finish_reason: this.finishReason,
      reprefilled_tokens: this.stats?.reprefilledTokens ?? 0,
      cached_prompt_tokens: this.stats?.cachedPromptTokens ?? 0,
    };
  }

  private append(type: SegmentType, text: string, tokens: number, mergeable: boolean): void {
    this.parts.push(text);
    const last = this.segments.at(-1);
    if (mergeable && last?.type === type) {
      last.text += text;
      last.tokens += tokens;
    } else {
      this.segments.push({ type, text, tokens });
    }
  }
}
