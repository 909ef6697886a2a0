import type { FastifyReply } from "fastify";

/**
 * A signal that fires when the client goes away before its response is
 * finished, so the upstream work for it stops. `dispose` stops watching.
 */
export function abortOnClientGone(reply: FastifyReply): {
  signal: AbortSignal;
  dispose: () => void;
} {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.on("close", onClose);
  return { signal: controller.signal, dispose: () => reply.raw.off("close", onClose) };
}
