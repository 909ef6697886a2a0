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
/** Segments that are thinking text: generated, or injected before the close (waits, eliminations, the budget message). */
const THINKING_SEGMENTS: ReadonlySet<string> = new Set([
  "thinking",
  "wait",
  "elimination",
  "budget_message",
]);

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
      case "probe":
        break;
    }
  }

  /** The whole continuation exactly as the model saw it. */
  get text(): string {
    return this.parts.join("");
  }

  /** Only the thinking, as `reasoning_content` in chat responses (injections before the close and inserts included, the close not). */
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
      const thinking = THINKING_SEGMENTS.has(segment.type);
      if (segment.type !== "insert" && !thinking) answering = true;
      const inAnswer = segment.type === "answer" || (segment.type === "insert" && answering);
      const inThinking = thinking || (segment.type === "insert" && !answering);
      if (phase === "answer" ? inAnswer : inThinking) out.push(segment);
    }
    return out;
  }

  summary(): BudgetForcingSummary {
    const sum = (type: SegmentType) =>
      this.segments.filter((s) => s.type === type).reduce((n, s) => n + s.tokens, 0);
    // Eliminations are injected thinking, as waits are.
    const waitTokens = sum("wait") + sum("elimination");
    // The budget message belongs to the forced close it announces, so it is no thinking token.
    const closeTokens = sum("end") + sum("forced_end") + sum("budget_message");
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
      ...(this.stats?.graceTokensUsed ? { grace_tokens_used: this.stats.graceTokensUsed } : {}),
      ...(this.stats?.probeTokens ? { probe_tokens: this.stats.probeTokens } : {}),
      ...(this.stats?.eliminatedAnswers
        ? { eliminated_answers: [...this.stats.eliminatedAnswers] }
        : {}),
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
