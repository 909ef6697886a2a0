import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { errorBody } from "@thinkscope/protocol";
import { originAllowed } from "../lib/origin.ts";
import { WsSession } from "../services/ws-session.ts";

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  /** Open connections per client address. */
  const open = new Map<string, number>();
  const limit = fastify.config.maxConnectionsPerAddress;

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
          return reply
            .code(403)
            .send(
              errorBody(
                403,
                "origin_not_allowed",
                `WebSocket connections from ${origin} are not allowed; add it to THINKSCOPE_ALLOWED_ORIGINS.`,
              ),
            );
        }
        const { address } = request.client;
        if ((open.get(address) ?? 0) >= limit) {
          request.log.warn({ address }, "websocket refused: too many connections from one address");
          return reply
            .code(429)
            .send(
              errorBody(
                429,
                "too_many_connections",
                `This address already has ${limit} connections open, the most this server allows ` +
                  "(THINKSCOPE_MAX_CONNECTIONS_PER_ADDRESS). Close a tab, then reload.",
              ),
            );
        }
      },
    },
    (socket, request) => {
      const { address } = request.client;
      open.set(address, (open.get(address) ?? 0) + 1);
      socket.once("close", () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
      });
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
