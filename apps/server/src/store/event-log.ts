/**
 * A run's events as the store keeps them (the format is the protocol's
 * event-log module): consecutive deltas in chunks of up to `CHUNK_DELTAS`,
 * each compressed, in `run_chunks`; every other event as deflated JSON in
 * `run_events` (plain JSON in rows written before, read as they are). Both carry the sequence number of their (first) event, so
 * a run reads back in order.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import {
  decodeDeltaChunk,
  encodeDeltaChunk,
  isChunkable,
  type DeltaEvent,
  type EngineEvent,
} from "@thinkscope/protocol";

/** Deltas per chunk: enough that a chunk compresses well, few enough that a chunk is cheap to rewrite. */
export const CHUNK_DELTAS = 256;
/**
 * ...and at most about this much text (UTF-16 units): a fast upstream's
 * deltas hold hundreds of tokens each, and the open chunk is written again
 * at every flush.
 */
export const CHUNK_TEXT = 16_384;

export type LogRow =
  | { kind: "chunk"; seq: number; deltas: DeltaEvent[] }
  | { kind: "event"; seq: number; event: EngineEvent };

/** A row's identity: a chunk written again as it grows replaces its earlier version. */
export function rowKey(row: LogRow): string {
  return `${row.kind}:${row.seq}`;
}

/** A chunk's bytes on disk. Level 1: most of the gain at a fraction of the cost. */
export function packChunk(deltas: readonly DeltaEvent[]): Buffer {
  return deflateRawSync(encodeDeltaChunk(deltas), { level: 1 });
}

export function unpackChunk(data: Uint8Array): DeltaEvent[] {
  return decodeDeltaChunk(inflateRawSync(data));
}

/** A rare event as `run_events` keeps it: its JSON, deflated (a run's start and end repeat much of theirs). */
export function packEvent(event: EngineEvent): Buffer {
  return deflateRawSync(Buffer.from(JSON.stringify(event), "utf8"), { level: 1 });
}

export function unpackEvent(data: Uint8Array | string): EngineEvent {
  const json = typeof data === "string" ? data : inflateRawSync(data).toString("utf8");
  return JSON.parse(json) as EngineEvent;
}

/** A run's whole text as the runs table keeps it (it is in the chunks too, but lists and search need it at hand). */
export function packText(text: string): Buffer {
  return deflateRawSync(Buffer.from(text, "utf8"), { level: 1 });
}

export function unpackText(data: Uint8Array | null): string {
  return data === null ? "" : inflateRawSync(data).toString("utf8");
}

/**
 * Groups one run's events into rows as they come. The chunk being filled
 * stays open (and is written again as it grows) until it is full or another
 * kind of event comes.
 */
export class LogBuilder {
  private closed: LogRow[] = [];
  private open: { seq: number; deltas: DeltaEvent[]; text: number } | null = null;

  constructor(private next = 0) {}

  /** Events appended so far. */
  get length(): number {
    return this.next;
  }

  append(event: EngineEvent): void {
    if (event.type === "delta" && isChunkable(event)) {
      this.open ??= { seq: this.next, deltas: [], text: 0 };
      this.open.deltas.push(event);
      this.open.text += event.text.length;
      this.next += 1;
      if (this.open.deltas.length >= CHUNK_DELTAS || this.open.text >= CHUNK_TEXT) this.close();
      return;
    }
    this.close();
    this.closed.push({ kind: "event", seq: this.next, event });
    this.next += 1;
  }

  /** The rows to write now (the open chunk as it is so far); the closed ones are handed over once. */
  take(): LogRow[] {
    const rows = this.peek();
    this.closed = [];
    return rows;
  }

  /** What `take` would give, without handing anything over. */
  peek(): LogRow[] {
    const open = this.open;
    return open
      ? [...this.closed, { kind: "chunk", seq: open.seq, deltas: [...open.deltas] }]
      : [...this.closed];
  }

  private close(): void {
    if (!this.open) return;
    this.closed.push({ kind: "chunk", seq: this.open.seq, deltas: this.open.deltas });
    this.open = null;
  }
}

/** Every row of a whole list of events (an import, a migration). */
export function rowsOf(events: readonly EngineEvent[]): LogRow[] {
  const builder = new LogBuilder();
  for (const event of events) builder.append(event);
  return builder.take();
}

/** Rows back into events, in order; a later version of a row replaces an earlier one. */
export function eventsOfRows(rows: Iterable<LogRow>): EngineEvent[] {
  const latest = new Map<string, LogRow>();
  for (const row of rows) latest.set(rowKey(row), row);
  const ordered = [...latest.values()].sort((a, b) => a.seq - b.seq);
  return ordered.flatMap((row) => (row.kind === "chunk" ? row.deltas : [row.event]));
}
