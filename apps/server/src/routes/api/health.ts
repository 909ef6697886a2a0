import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { BackendInfoSchema, HealthSchema } from "@thinkscope/protocol";
import { Type } from "typebox";

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  // Open without a token (health checks); without one it tells only each backend's state,
  // since a readiness message may name the upstream.
  // A store that cannot write makes the server degraded, not down: it answers 200 all the same.
  const open = {
    config: { public: true, metered: false },
    schema: { response: { 200: HealthSchema } },
  };
  fastify.get("/api/health", open, async (request) => {
    const { backends } = fastify;
    const { fault } = fastify.runStore;
    return {
      status: fault ? ("degraded" as const) : ("ok" as const),
      ...(fault ? { store: { code: fault.code, message: fault.message } } : {}),
      backends: await Promise.all(
        backends.list().map(async (entry) => ({
          id: entry.id,
          kind: entry.backend.kind,
          default: entry.isDefault,
          readiness: await backends
            .readiness(entry)
            .then((readiness) => (request.authenticated ? readiness : { state: readiness.state })),
        })),
      ),
    };
  });

  fastify.get(
    "/api/backends",
    { schema: { response: { 200: Type.Array(BackendInfoSchema) } } },
    async () => fastify.backends.info(),
  );
};

export default routes;
