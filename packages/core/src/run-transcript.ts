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
      case "probe":
        break;
    }
  }

  /** The whole continuation exactly as the model saw it. */
  get text(): string {
    return this.parts.join("");
  }

  /** Only the thinking, as `reasoning_content` in chat responses (injections before the close included, the close not). */
  get thinkingText(): string {
    return this.segments
      .filter(
        (s) =>
          s.type === "thinking" ||
          s.type === "wait" ||
          s.type === "elimination" ||
          s.type === "budget_message",
      )
      .map((s) => s.text)
      .join("");
  }

  get answerText(): string {
    return this.segments
      .filter((s) => s.type === "answer")
      .map((s) => s.text)
      .join("");
  }

  summary(): BudgetForcingSummary {
    const sum = (type: SegmentType) =>
      this.segments.filter((s) => s.type === type).reduce((n, s) => n + s.tokens, 0);
    // Eliminations are injected thinking, as waits are.
    const waitTokens = sum("wait") + sum("elimination");
    // The budget message belongs to the forced close it announces, so it is no thinking token.
    const closeTokens = sum("end") + sum("forced_end") + sum("budget_message");
    return {
      thinking_tokens: sum("thinking") + waitTokens,
      injected_tokens: waitTokens + closeTokens,
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
