/**
 * Hands out the context's sequences, one per session. When all are taken, a
 * caller waits in line (first come, first served) until a session closes:
 * another context would cost a second full KV cache, and on a CPU parallel
 * sequences add little throughput anyway. A released sequence keeps its KV
 * cache, so the next session reuses whatever prefix it shares (a repeated
 * system prompt or question costs nothing the second time).
 */
import type { LlamaContext, LlamaContextSequence } from "node-llama-cpp";
import { ThinkscopeError } from "@thinkscope/core";

interface Waiter {
  resolve(sequence: LlamaContextSequence): void;
  reject(error: unknown): void;
}

export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(private readonly context: LlamaContext) {}

  /** Sequences in use right now. */
  get inUse(): number {
    return this.context.totalSequences - this.context.sequencesLeft - this.free.length;
  }

  acquire(signal?: AbortSignal): Promise<LlamaContextSequence> {
    if (this.closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const free = this.free.pop();
    if (free) return Promise.resolve(free);
    if (this.context.sequencesLeft > 0) return Promise.resolve(this.context.getSequence());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (sequence) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(sequence);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    if (this.closed || sequence.disposed) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(sequence);
    else this.free.push(sequence);
  }

  /** Refuse every waiting and future caller. The context itself is disposed by its owner. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(closedError());
    this.free.length = 0;
  }
}

function closedError(): ThinkscopeError {
  return new ThinkscopeError("backend_closed", "the embedded backend is closed", { status: 503 });
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}
