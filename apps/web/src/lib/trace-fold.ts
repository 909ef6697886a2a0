import type {
  BackendCapabilities,
  EngineEvent,
  FinishReason,
  InjectionKind,
  InjectionReason,
  Phase,
  RunStats,
  SegmentType,
} from "@thinkscope/protocol";

/**
 * The page's fold of an engine event stream into what it draws: segments of
 * text, injection marks, a token curve and live counts. It mirrors core's
 * `RunTranscript` (same segment rules: consecutive deltas of one phase share a
 * segment, each injection is a segment of its own) but is built for React:
 *
 * - `foldEvents` is pure and returns a new state that shares every unchanged
 *   part with the old one. A finished segment keeps its object identity, so a
 *   `memo` component drawing it never re-renders; only the tail changes.
 * - A segment's text is a list of blocks; new text goes into the last block.
 *   A block closes at a line end once it holds `BLOCK_CHARS`, so closed
 *   blocks are whole lines and the page can draw them as block boxes: the
 *   browser then lays out only the growing block per batch, not the whole
 *   trace (measured in Chromium on 100 KB of text: 0.1 ms instead of 3 ms
 *   median, 27 ms worst, per batch).
 * - The result does not depend on how the events were batched.
 */

/** A block closes at the first line end after this many characters. */
export const BLOCK_CHARS = 1024;
/**
 * A line longer than this closes its block anyway (mid-line, after a space
 * when there is one), so no block grows without bound.
 */
export const MAX_BLOCK_CHARS = 8 * BLOCK_CHARS;
/** Points closer together than this merge, so a long run keeps a small curve. */
export const POINT_SPACING_MS = 25;

export interface InjectionMark {
  kind: InjectionKind;
  text: string;
  tokens: number;
  thinkingTokenIndex: number;
  reason: InjectionReason;
  waitNumber?: number;
  /** The model's probability of closing at the step this injection answered, when reported. */
  endProbability?: number;
  /** Milliseconds since the run started. */
  time: number;
}

/**
 * A stretch of thinking to shade: characters [start, end) of the segment,
 * with the level (1-4) of its strongest token, by stop pressure (the
 * probability of closing the thinking) or by entropy (how unsure the model
 * was). Stretches below the first level are not kept, so a calm trace costs
 * nothing.
 */
export interface HotSpan {
  start: number;
  end: number;
  level: number;
}

/** End probabilities at or above each threshold reach that level (1-4). */
export const SHADE_THRESHOLDS = [0.02, 0.1, 0.3, 0.6] as const;

/**
 * Entropies (bits) at or above each threshold reach that level (1-4): half
 * a bit is a clear second choice, 1 bit a coin toss between two tokens,
 * 2 bits among four, 3 among eight.
 */
export const ENTROPY_THRESHOLDS = [0.5, 1, 2, 3] as const;

/** What the shading shows: the stop pressure or each token's entropy. */
export type ShadeBy = "pressure" | "entropy";

export function shadeLevel(probability: number | undefined): number {
  return levelOf(probability, SHADE_THRESHOLDS);
}

export function entropyLevel(bits: number | undefined): number {
  return levelOf(bits, ENTROPY_THRESHOLDS);
}

function levelOf(value: number | undefined, thresholds: readonly number[]): number {
  if (value === undefined) return 0;
  let level = 0;
  for (const threshold of thresholds) if (value >= threshold) level += 1;
  return level;
}

export interface TraceSegment {
  type: SegmentType;
  /** The segment's text, in blocks; `segmentText` joins them. */
  blocks: readonly string[];
  /** Characters in the segment's text. */
  chars: number;
  /** Where the model leaned towards closing (thinking segments, when the backend reports it). */
  hot?: readonly HotSpan[];
  /** Where the model was unsure of its next token (thinking segments, when the run has entropies). */
  unsure?: readonly HotSpan[];
  /** The text before this segment ends a line (or there is none): its first block starts a line. */
  startsLine: boolean;
  tokens: number;
  /** Set on injection segments (`wait`, `forced_end`, `end`). */
  injection?: InjectionMark;
}

export interface TokenPoint {
  /** Milliseconds since the run started. */
  time: number;
  /** Thinking tokens so far, generated and injected (what the budget counts). */
  thinking: number;
  /** Answer tokens so far; null until the thinking closes. */
  answer: number | null;
  /** Tokens the model generated so far (thinking and answer, no injections), for tokens/s. */
  generated: number;
  /** Highest probability of closing the thinking among the tokens of this point. */
  endP?: number;
  /** Mean entropy (bits) of the tokens of this point that reported one... */
  entropy?: number;
  /** ...and how many they were, so merged points weigh each token alike. */
  entropyTokens?: number;
  /** Set on the point an injection made (the corner of a step in the curve). */
  injection?: InjectionKind;
}

/** A probe (early exit, elimination): the answer the model gave from its thinking so far, outside the text. */
export interface ProbeMark {
  time: number;
  thinkingTokenIndex: number;
  /** Null when the probe found no answer. */
  answer: string | null;
  trigger: "periodic" | "end_attempt";
  tokens: number;
}

export interface RunStart {
  runId: string;
  /** The engine's resolved settings (camelCase), e.g. `maxThinkingTokens` for the budget line. */
  maxThinkingTokens: number;
  minThinkingTokens: number;
  numWaits: number;
  /** 0 when the run has no grace past the budget (and for runs stored before it existed). */
  graceTokens: number;
  maxAnswerTokens: number;
  promptTokens: number;
  capabilities: BackendCapabilities;
}

export interface TraceState {
  segments: readonly TraceSegment[];
  injections: readonly InjectionMark[];
  probes: readonly ProbeMark[];
  points: readonly TokenPoint[];
  start: RunStart | null;
  phase: Phase;
  tokenCountsExact: boolean;
  /** Some delta carried token entropies. */
  hasEntropy: boolean;
  thinkingGenerated: number;
  thinkingInjected: number;
  closeTokens: number;
  answerTokens: number;
  waits: number;
  forcedEnd: boolean;
  firstTokenMs: number | null;
  closedAtMs: number | null;
  /** Time of the latest event. */
  lastTime: number;
  finish: { reason: FinishReason; stats: RunStats } | null;
  error: { code: string; message: string; retryable: boolean } | null;
  eventCount: number;
}

export const EMPTY_TRACE: TraceState = Object.freeze({
  segments: [],
  injections: [],
  probes: [],
  points: [],
  start: null,
  phase: "thinking",
  tokenCountsExact: true,
  hasEntropy: false,
  thinkingGenerated: 0,
  thinkingInjected: 0,
  closeTokens: 0,
  answerTokens: 0,
  waits: 0,
  forcedEnd: false,
  firstTokenMs: null,
  closedAtMs: null,
  lastTime: 0,
  finish: null,
  error: null,
  eventCount: 0,
}) as TraceState;

export function segmentText(segment: TraceSegment): string {
  return segment.blocks.length === 1 ? (segment.blocks[0] ?? "") : segment.blocks.join("");
}

/** The whole continuation exactly as the model saw it (thinking, injections, answer). */
export function traceText(trace: TraceState): string {
  return trace.segments.map(segmentText).join("");
}

export function answerText(trace: TraceState): string {
  return trace.segments
    .filter((s) => s.type === "answer")
    .map(segmentText)
    .join("");
}

export function thinkingTokens(trace: TraceState): number {
  return trace.thinkingGenerated + trace.thinkingInjected;
}

/** Apply one batch of events. Returns `trace` itself when there is nothing to apply. */
export function foldEvents(trace: TraceState, events: readonly EngineEvent[]): TraceState {
  if (events.length === 0) return trace;
  const next = new TraceDraft(trace);
  for (const event of events) next.apply(event);
  return next.done();
}

export function foldAll(events: readonly EngineEvent[]): TraceState {
  return foldEvents(EMPTY_TRACE, events);
}

/** Copy-on-write state for one batch: arrays are copied once per batch, not per event. */
class TraceDraft {
  private readonly state: TraceState;
  private segments: TraceSegment[] | null = null;
  private points: TokenPoint[] | null = null;
  private injections: InjectionMark[] | null = null;
  private probes: ProbeMark[] | null = null;
  /** The tail segment was created or copied in this batch, so it may be changed in place. */
  private tailOwned = false;
  /** The tail's blocks array was created in this batch. */
  private tailBlocksOwned = false;
  /** The tail's span arrays (by key) created in this batch. */
  private tailSpansOwned = { hot: false, unsure: false };

  constructor(trace: TraceState) {
    this.state = { ...trace };
  }

  apply(event: EngineEvent): void {
    const s = this.state;
    s.eventCount += 1;
    s.lastTime = Math.max(s.lastTime, event.time);
    switch (event.type) {
      case "run.started": {
        const r = event.settings;
        s.start = {
          runId: event.runId,
          maxThinkingTokens: r.maxThinkingTokens,
          minThinkingTokens: r.minThinkingTokens,
          numWaits: r.numWaits,
          graceTokens: r.graceTokens ?? 0,
          maxAnswerTokens: r.maxAnswerTokens,
          promptTokens: event.promptTokens,
          capabilities: event.capabilities,
        };
        s.tokenCountsExact = event.tokenCountsExact;
        break;
      }
      case "delta": {
        if (s.firstTokenMs === null && event.tokens > 0) s.firstTokenMs = event.time;
        // phaseTokens is the engine's running count, which also includes
        // corrections from usage on text-only backends; trust it over a sum.
        if (event.phase === "thinking") {
          s.thinkingGenerated = Math.max(
            s.thinkingGenerated + event.tokens,
            event.phaseTokens - s.thinkingInjected,
          );
        } else {
          s.phase = "answer";
          s.answerTokens = Math.max(s.answerTokens + event.tokens, event.phaseTokens);
        }
        const endP = event.endProbabilities?.length
          ? Math.max(...event.endProbabilities)
          : undefined;
        const entropies = event.entropies?.length ? event.entropies : undefined;
        if (entropies) s.hasEntropy = true;
        const levels = {
          hot: shadeLevel(endP),
          unsure: entropies ? entropyLevel(Math.max(...entropies)) : 0,
        };
        this.appendText(event.phase, event.text, event.tokens, levels);
        this.addPoint(event.time, endP, undefined, entropies);
        break;
      }
      case "injection": {
        const mark: InjectionMark = {
          kind: event.kind,
          text: event.text,
          tokens: event.tokens,
          thinkingTokenIndex: event.thinkingTokenIndex,
          reason: event.reason,
          time: event.time,
          ...(event.waitNumber !== undefined ? { waitNumber: event.waitNumber } : {}),
          ...(event.endProbability !== undefined ? { endProbability: event.endProbability } : {}),
        };
        this.injectionList().push(mark);
        if (event.kind === "wait" || event.kind === "elimination") {
          s.thinkingInjected += event.tokens;
          if (event.kind === "wait") s.waits = Math.max(s.waits + 1, event.waitNumber ?? 0);
        } else if (event.kind === "budget_message") {
          // Announces the forced close that follows; counted with it, still in the thinking.
          s.closeTokens += event.tokens;
        } else {
          s.closeTokens += event.tokens;
          s.forcedEnd = event.kind === "forced_end";
          s.phase = "answer";
          s.closedAtMs ??= event.time;
        }
        this.pushSegment({
          type: event.kind,
          blocks: [event.text],
          chars: event.text.length,
          tokens: event.tokens,
          injection: mark,
        });
        // The step where the model tried to close is the one a wait replaced:
        // its pressure is the spike that explains the injection.
        this.addPoint(event.time, event.endProbability, event.kind);
        break;
      }
      case "probe":
        this.probes ??= this.state.probes.slice();
        this.probes.push({
          time: event.time,
          thinkingTokenIndex: event.thinkingTokenIndex,
          answer: event.answer,
          trigger: event.trigger,
          tokens: event.tokens,
        });
        break;
      case "phase":
        s.phase = "answer";
        s.closedAtMs ??= event.time;
        break;
      case "run.finished": {
        const stats = event.stats;
        s.finish = { reason: event.finishReason, stats };
        // The engine's final counts win over the running ones.
        s.thinkingGenerated = stats.thinkingTokensGenerated;
        s.thinkingInjected = stats.thinkingTokensInjected;
        s.closeTokens = stats.closeTokens;
        s.answerTokens = stats.answerTokens;
        s.waits = stats.waits;
        s.forcedEnd = stats.forcedEnd;
        s.tokenCountsExact = stats.tokenCountsExact;
        if (s.firstTokenMs === null && stats.firstTokenMs !== null)
          s.firstTokenMs = stats.firstTokenMs;
        break;
      }
      case "run.error":
        s.error = { code: event.code, message: event.message, retryable: event.retryable };
        break;
    }
  }

  done(): TraceState {
    if (this.segments) this.state.segments = this.segments;
    if (this.points) this.state.points = this.points;
    if (this.injections) this.state.injections = this.injections;
    if (this.probes) this.state.probes = this.probes;
    return this.state;
  }

  private segmentList(): TraceSegment[] {
    this.segments ??= this.state.segments.slice();
    return this.segments;
  }

  private injectionList(): InjectionMark[] {
    this.injections ??= this.state.injections.slice();
    return this.injections;
  }

  private pushSegment(segment: Omit<TraceSegment, "startsLine">): void {
    const segments = this.segmentList();
    const previous = segments.at(-1)?.blocks.at(-1);
    segments.push({ ...segment, startsLine: previous === undefined || previous.endsWith("\n") });
    this.tailOwned = true;
    this.tailBlocksOwned = true;
    this.tailSpansOwned = { hot: true, unsure: true };
  }

  private appendText(
    phase: Phase,
    text: string,
    tokens: number,
    levels: Record<SpanKey, number>,
  ): void {
    const segments = this.segmentList();
    const last = segments.at(-1);
    if (!last || last.type !== phase) {
      const spans = (level: number) =>
        level > 0 && text.length > 0 ? [{ start: 0, end: text.length, level }] : null;
      const hot = spans(levels.hot);
      const unsure = spans(levels.unsure);
      this.pushSegment({
        type: phase,
        blocks: [text],
        chars: text.length,
        tokens,
        ...(hot ? { hot } : {}),
        ...(unsure ? { unsure } : {}),
      });
      return;
    }
    let tail = last;
    if (!this.tailOwned) {
      tail = { ...last };
      segments[segments.length - 1] = tail;
      this.tailOwned = true;
      this.tailBlocksOwned = false;
      this.tailSpansOwned = { hot: false, unsure: false };
    }
    if (text.length > 0) {
      for (const key of SPAN_KEYS) {
        if (levels[key] > 0) this.addSpan(key, tail, tail.chars, text.length, levels[key]);
      }
    }
    tail.chars += text.length;
    if (!this.tailBlocksOwned) {
      tail.blocks = tail.blocks.slice();
      this.tailBlocksOwned = true;
    }
    const blocks = tail.blocks as string[];
    const grown = (blocks[blocks.length - 1] ?? "") + text;
    const lineEnd = grown.length >= BLOCK_CHARS ? grown.lastIndexOf("\n") : -1;
    if (lineEnd >= 0) {
      // The rest of the last line (possibly nothing yet) starts the next block.
      blocks[blocks.length - 1] = grown.slice(0, lineEnd + 1);
      blocks.push(grown.slice(lineEnd + 1));
    } else if (lineEnd < 0 && grown.length >= MAX_BLOCK_CHARS) {
      // Split after the last space, so no word is drawn in two; with none, between deltas,
      // never inside one, so no character is cut in two.
      const space = grown.lastIndexOf(" ");
      if (space >= BLOCK_CHARS) {
        blocks[blocks.length - 1] = grown.slice(0, space + 1);
        blocks.push(grown.slice(space + 1));
      } else blocks.push(text);
    } else {
      blocks[blocks.length - 1] = grown;
    }
    tail.tokens += tokens;
  }

  /** Marks characters [start, start + length) of the (owned) tail in `key`'s spans, merging with a touching span of the same level. */
  private addSpan(
    key: SpanKey,
    tail: TraceSegment,
    start: number,
    length: number,
    level: number,
  ): void {
    if (!this.tailSpansOwned[key]) {
      tail[key] = tail[key] ? tail[key].slice() : [];
      this.tailSpansOwned[key] = true;
    }
    const hot = (tail[key] ??= []) as HotSpan[];
    const previous = hot.at(-1);
    if (previous && previous.end === start && previous.level === level) {
      hot[hot.length - 1] = { ...previous, end: start + length };
    } else {
      hot.push({ start, end: start + length, level });
    }
  }

  private addPoint(
    time: number,
    endP: number | undefined,
    kind?: InjectionKind,
    entropies?: readonly number[],
  ): void {
    const s = this.state;
    const point: TokenPoint = {
      time,
      thinking: s.thinkingGenerated + s.thinkingInjected,
      answer: s.phase === "answer" ? s.answerTokens : null,
      generated: s.thinkingGenerated + s.answerTokens,
    };
    if (kind) point.injection = kind;
    const points = (this.points ??= this.state.points.slice());
    const last = points.at(-1);
    // Merge into the previous point when close in time, unless either marks
    // an injection or the phase changed: those corners of the curve must stay.
    const mergeable =
      last !== undefined &&
      kind === undefined &&
      last.injection === undefined &&
      time - last.time < POINT_SPACING_MS &&
      (last.answer === null) === (point.answer === null);
    if (mergeable) {
      const merged: TokenPoint = { ...point, time: last.time };
      const maxP = maxDefined(last.endP, endP);
      if (maxP !== undefined) merged.endP = maxP;
      const entropy = meanEntropy([last, entropyPoint(entropies)]);
      if (entropy) Object.assign(merged, entropy);
      points[points.length - 1] = merged;
      return;
    }
    if (endP !== undefined) point.endP = endP;
    if (entropies) Object.assign(point, entropyPoint(entropies));
    points.push(point);
  }
}

/** The span lists a segment keeps: by stop pressure and by entropy. */
type SpanKey = "hot" | "unsure";
const SPAN_KEYS: readonly SpanKey[] = ["hot", "unsure"];

/** The segment spans a shading choice draws. */
export function shadeSpans(
  segment: TraceSegment,
  by: ShadeBy | null | undefined,
): readonly HotSpan[] | undefined {
  if (by === "pressure") return segment.hot;
  if (by === "entropy") return segment.unsure;
  return undefined;
}

type EntropyPart = Pick<TokenPoint, "entropy" | "entropyTokens">;

function entropyPoint(entropies: readonly number[] | undefined): EntropyPart {
  if (!entropies?.length) return {};
  return {
    entropy: entropies.reduce((sum, bits) => sum + bits, 0) / entropies.length,
    entropyTokens: entropies.length,
  };
}

/** The mean entropy over several points' tokens, each token weighing alike; null when none has one. */
export function meanEntropy(parts: readonly EntropyPart[]): Required<EntropyPart> | null {
  let sum = 0;
  let tokens = 0;
  for (const part of parts) {
    if (part.entropy === undefined || !part.entropyTokens) continue;
    sum += part.entropy * part.entropyTokens;
    tokens += part.entropyTokens;
  }
  return tokens > 0 ? { entropy: sum / tokens, entropyTokens: tokens } : null;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
