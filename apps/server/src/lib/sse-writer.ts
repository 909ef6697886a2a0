import type { FastifyReply } from "fastify";
import { closeWhenStalled } from "./stalled-response.ts";

/**
 * Server-sent events in OpenAI's dialect (`data: {...}\n\n`, `data: [DONE]`)
 * over a hijacked reply. Honours backpressure (a slow reader slows the run
 * rather than filling memory), closes the response when its client has read
 * nothing for `stallTimeoutMs`, and drops writes once the client has left.
 */
export class SseWriter {
  private readonly raw: FastifyReply["raw"];
  private leftEarly = false;
  private corked = false;

  constructor(reply: FastifyReply, stallTimeoutMs: number, headers: Record<string, string> = {}) {
    reply.hijack();
    this.raw = reply.raw;
    this.raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // Reverse proxies (nginx) must not buffer the stream.
      "x-accel-buffering": "no",
      ...headers,
    });
    this.raw.flushHeaders();
    closeWhenStalled(reply, stallTimeoutMs);
    this.raw.on("close", () => {
      if (!this.raw.writableFinished) this.leftEarly = true;
    });
  }

  /** True once the client has gone; writes are then dropped. */
  get closed(): boolean {
    return this.leftEarly || this.raw.destroyed;
  }

  /** Writes one event; resolves when the socket can take more. */
  async send(data: unknown): Promise<void> {
    await this.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  async done(): Promise<void> {
    await this.write("data: [DONE]\n\n");
  }

  end(): void {
    if (this.corked) {
      this.corked = false;
      this.raw.uncork();
    }
    if (!this.raw.destroyed && !this.raw.writableEnded) this.raw.end();
  }

  private write(text: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Events produced in one turn of the event loop (a fast upstream's chunk
    // often holds several tokens) leave in one socket write, not one each.
    if (!this.corked) {
      this.corked = true;
      this.raw.cork();
      setImmediate(() => {
        this.corked = false;
        this.raw.uncork();
      });
    }
    if (this.raw.write(text)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.raw.off("drain", done);
        this.raw.off("close", done);
        resolve();
      };
      this.raw.on("drain", done);
      this.raw.on("close", done);
    });
  }
}
