import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { BackendInfoSchema, HealthSchema } from "../../schemas/backends.ts";
import { Type } from "typebox";

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get("/api/health", { schema: { response: { 200: HealthSchema } } }, async () => {
    const { backends } = fastify;
    return {
      status: "ok" as const,
      backends: await Promise.all(
        backends.list().map(async (entry) => ({
          id: entry.id,
          kind: entry.backend.kind,
          default: entry.isDefault,
          readiness: await backends.readiness(entry),
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
