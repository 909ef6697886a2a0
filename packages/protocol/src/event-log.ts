/**
 * How a run's events are stored: the bulk of a run is `delta` events (one or
 * a few tokens each), kept in columnar chunks of a few hundred deltas; the
 * rare events (the start, injections, the phase switch, the end) and any
 * delta a chunk cannot hold exactly are kept as JSON. The codec is lossless:
 * `decodeDeltaChunk(encodeDeltaChunk(deltas))` deep-equals `deltas`, and
 * `isChunkable` says which deltas it takes.
 *
 * A chunk (every number an unsigned LEB128 varint; "signed" ones
 * zigzag-encoded), each column one value per delta unless said otherwise:
 *
 *   version (1 or 2) | count
 *   flags         one byte: 1 = answer phase, 2 = token ids, 4 = end probabilities,
 *                 8 = entropies (version 2 only)
 *   tokens
 *   phaseTokens   signed, from the previous delta of the same phase (the first absolute)
 *   time          signed, from the previous delta's (the first absolute)
 *   text length   in UTF-8 bytes
 *   token ids     one per token, for deltas with flag 2
 *   probabilities one per token, k for k/100000, for deltas with flag 4
 *   entropies     one per token, k for k/100 bits, for deltas with flag 8
 *   text          every delta's UTF-8 text, concatenated
 *
 * Version 2 only adds the entropy column. A chunk without entropies is still
 * written as version 1, byte for byte what earlier builds wrote, so a log
 * stays readable by them unless it holds what they cannot show.
 *
 * A chunk decodes on its own (no state from earlier chunks), so a reader can
 * start anywhere. The store may compress it further.
 */
import type { DeltaEvent } from "./events.ts";

/** The newest chunk version this build writes and reads (it reads every earlier one too). */
export const EVENT_LOG_VERSION = 2;
const FIRST_VERSION = 1;
/** The first version with the entropy column. */
const ENTROPY_VERSION = 2;

/**
 * End probabilities are kept on a decimal grid of 1e-5: finer than any chart
 * shows, exact for the decimals a test or a user writes (0.1 stays 0.1),
 * and one byte for the small values most steps have (k < 128).
 */
export const PROBABILITY_STEPS = 100_000;

/** A probability on the stored grid: the engine rounds what it reports, so storing loses nothing. */
export function quantizeProbability(p: number): number {
  return Math.round(Math.min(1, Math.max(0, p)) * PROBABILITY_STEPS) / PROBABILITY_STEPS;
}

/**
 * Entropies are kept on a grid of 0.01 bits: finer than a chart or a shade
 * tells apart, and one byte up to 1.27 bits, where most tokens of a
 * thinking trace are; two bytes up to 163 bits, far above any vocabulary's.
 */
export const ENTROPY_STEPS = 100;

/** An entropy (bits) on the stored grid: the engine rounds what it reports, so storing loses nothing. */
export function quantizeEntropy(bits: number): number {
  return Math.round(Math.max(0, bits) * ENTROPY_STEPS) / ENTROPY_STEPS;
}

const ANSWER = 1;
const IDS = 2;
const PROBABILITIES = 4;
const ENTROPIES = 8;
const DELTA_KEYS = new Set([
  "type",
  "phase",
  "text",
  "tokenIds",
  "tokens",
  "phaseTokens",
  "endProbabilities",
  "entropies",
  "time",
]);

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether a chunk holds this delta exactly: integer counts and times, one id
 * and one probability and entropy per token, both on their grids, text that
 * survives UTF-8, and no field a chunk has no column for.
 */
export function isChunkable(event: DeltaEvent): boolean {
  for (const key in event) if (!DELTA_KEYS.has(key)) return false;
  const { tokens, phaseTokens, time, tokenIds, endProbabilities, entropies } = event;
  if (!isCount(tokens) || !isCount(phaseTokens) || !isCount(time)) return false;
  if (tokenIds !== undefined && (tokenIds.length !== tokens || !tokenIds.every(isCount))) {
    return false;
  }
  if (
    endProbabilities !== undefined &&
    (endProbabilities.length !== tokens ||
      !endProbabilities.every((p) => quantizeProbability(p) === p))
  ) {
    return false;
  }
  if (
    entropies !== undefined &&
    (entropies.length !== tokens || !entropies.every((h) => quantizeEntropy(h) === h))
  ) {
    return false;
  }
  return !hasLoneSurrogate(event.text);
}

/** The deltas as one chunk. Every delta must be `isChunkable`. */
export function encodeDeltaChunk(deltas: readonly DeltaEvent[]): Uint8Array {
  const out = new ByteWriter(32 + deltas.length * 12);
  out.varint(deltas.some((delta) => delta.entropies) ? ENTROPY_VERSION : FIRST_VERSION);
  out.varint(deltas.length);
  for (const delta of deltas) {
    out.byte(
      (delta.phase === "answer" ? ANSWER : 0) |
        (delta.tokenIds ? IDS : 0) |
        (delta.endProbabilities ? PROBABILITIES : 0) |
        (delta.entropies ? ENTROPIES : 0),
    );
  }
  for (const delta of deltas) out.varint(delta.tokens);
  const lastPhaseTokens = { thinking: 0, answer: 0 };
  for (const delta of deltas) {
    out.signed(delta.phaseTokens - lastPhaseTokens[delta.phase]);
    lastPhaseTokens[delta.phase] = delta.phaseTokens;
  }
  let lastTime = 0;
  for (const delta of deltas) {
    out.signed(delta.time - lastTime);
    lastTime = delta.time;
  }
  const texts = deltas.map((delta) => utf8.encode(delta.text));
  for (const text of texts) out.varint(text.length);
  for (const delta of deltas) for (const id of delta.tokenIds ?? []) out.varint(id);
  for (const delta of deltas) {
    for (const p of delta.endProbabilities ?? []) out.varint(Math.round(p * PROBABILITY_STEPS));
  }
  for (const delta of deltas) {
    for (const h of delta.entropies ?? []) out.varint(Math.round(h * ENTROPY_STEPS));
  }
  for (const text of texts) out.bytes(text);
  return out.done();
}

/** The deltas of one chunk, exactly as they were encoded. */
export function decodeDeltaChunk(bytes: Uint8Array): DeltaEvent[] {
  const input = new ByteReader(bytes);
  const version = input.varint();
  if (version < FIRST_VERSION || version > EVENT_LOG_VERSION) {
    throw new Error(
      `Unknown event chunk version ${version}; this build reads ${FIRST_VERSION} to ${EVENT_LOG_VERSION}.`,
    );
  }
  const count = input.varint();
  const flags = Array.from({ length: count }, () => input.byte());
  if (version < ENTROPY_VERSION && flags.some((flag) => flag & ENTROPIES)) {
    throw new Error(`An event chunk of version ${version} cannot hold entropies.`);
  }
  const tokens = Array.from({ length: count }, () => input.varint());
  const lastPhaseTokens = { thinking: 0, answer: 0 };
  const phaseTokens = flags.map((flag) => {
    const phase = flag & ANSWER ? "answer" : "thinking";
    lastPhaseTokens[phase] += input.signed();
    return lastPhaseTokens[phase];
  });
  let lastTime = 0;
  const times = flags.map(() => (lastTime += input.signed()));
  const lengths = flags.map(() => input.varint());
  const ids = flags.map((flag, i) =>
    flag & IDS ? Array.from({ length: tokens[i]! }, () => input.varint()) : undefined,
  );
  const probabilities = flags.map((flag, i) =>
    flag & PROBABILITIES
      ? Array.from({ length: tokens[i]! }, () => input.varint() / PROBABILITY_STEPS)
      : undefined,
  );
  const entropies = flags.map((flag, i) =>
    flag & ENTROPIES
      ? Array.from({ length: tokens[i]! }, () => input.varint() / ENTROPY_STEPS)
      : undefined,
  );
  return flags.map((flag, i) => {
    const delta: DeltaEvent = {
      type: "delta",
      phase: flag & ANSWER ? "answer" : "thinking",
      text: fromUtf8.decode(input.bytes(lengths[i]!)),
      tokens: tokens[i]!,
      phaseTokens: phaseTokens[i]!,
      time: times[i]!,
    };
    if (ids[i]) delta.tokenIds = ids[i];
    if (probabilities[i]) delta.endProbabilities = probabilities[i];
    if (entropies[i]) delta.entropies = entropies[i];
    return delta;
  });
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Text with half a surrogate pair cannot round-trip through UTF-8. */
function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(capacity);
  }

  byte(value: number): void {
    this.room(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    this.room(10);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  /** Zigzag: small negative numbers stay small. */
  signed(value: number): void {
    this.varint(value < 0 ? -2 * value - 1 : 2 * value);
  }

  bytes(value: Uint8Array): void {
    this.room(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  done(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private room(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

class ByteReader {
  private at = 0;

  constructor(private readonly buffer: Uint8Array) {}

  byte(): number {
    if (this.at >= this.buffer.length) throw new Error("The event chunk ends early.");
    return this.buffer[this.at++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  signed(): number {
    const value = this.varint();
    return value % 2 === 1 ? -(value + 1) / 2 : value / 2;
  }

  bytes(length: number): Uint8Array {
    if (this.at + length > this.buffer.length) throw new Error("The event chunk ends early.");
    const slice = this.buffer.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }
}
