import type { FastifyReply } from "fastify";

/**
 * Closes a streamed response whose client has read nothing for `timeoutMs`
 * while it was full: a client that stopped reading must not hold a run, or
 * an upstream request, open forever. Whatever streams into the response then
 * sees its client gone (`abortOnClientGone`) and stops; a run is stored as
 * `interrupted`. While it waits, the response's backpressure has already
 * paused whatever writes into it.
 */
export function closeWhenStalled(reply: FastifyReply, timeoutMs: number): void {
  const response = reply.raw;
  let fullSince: number | null = null;
  // A response says when it drains, not when it has been full for long: look every so often.
  const timer = setInterval(
    () => {
      if (!response.writableNeedDrain) {
        fullSince = null;
        return;
      }
      fullSince ??= Date.now();
      if (Date.now() - fullSince < timeoutMs) return;
      reply.log.warn("closing a streamed response whose client stopped reading");
      response.destroy();
    },
    Math.min(1_000, Math.max(10, timeoutMs / 4)),
  );
  const drained = () => (fullSince = null);
  response.on("drain", drained);
  response.once("close", () => {
    clearInterval(timer);
    response.off("drain", drained);
  });
}
