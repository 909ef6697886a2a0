import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { originAllowed } from "../lib/origin.ts";
import { WsSession } from "../services/ws-session.ts";

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    "/ws",
    {
      websocket: true,
      // A browser cannot set headers on an upgrade: scripts may send the token as `?token=`.
      config: { tokenInQuery: true },
      // Runs before the upgrade: a page from another origin never gets a socket.
      preValidation: async (request, reply) => {
        const { origin, host } = request.headers;
        if (!originAllowed(origin, host, fastify.config.allowedOrigins)) {
          request.log.warn({ origin }, "websocket from a foreign origin refused");
          return reply.code(403).send({
            error: {
              code: "origin_not_allowed",
              message: `WebSocket connections from ${origin} are not allowed; add it to THINKSCOPE_ALLOWED_ORIGINS.`,
            },
          });
        }
      },
    },
    (socket, request) => {
      new WsSession(
        socket,
        {
          runs: fastify.runService,
          backends: fastify.backends,
          log: fastify.log,
          client: request.client,
          countRun: () => fastify.countRequest(request),
          experiments: fastify.experiments,
        },
        {
          maxBufferedBytes: fastify.config.sendBufferLimit,
          stallTimeoutMs: fastify.config.stalledClientTimeoutMs,
        },
      );
    },
  );
};

export default routes;
