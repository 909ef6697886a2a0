import fp from "fastify-plugin";
import { OpenAIService } from "../services/openai/openai-service.ts";
import { RunService } from "../services/run-service.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** Starts, streams and stores runs for every entry point. */
    runService: RunService;
    /** The OpenAI-compatible endpoints' logic. */
    openai: OpenAIService;
  }
}

export default fp(
  async (fastify) => {
    const runs = new RunService({
      backends: fastify.backends,
      store: fastify.runStore,
      log: fastify.log,
      scrub: fastify.scrub,
    });
    fastify.decorate("runService", runs);
    fastify.decorate(
      "openai",
      new OpenAIService({
        backends: fastify.backends,
        runs,
        scrub: fastify.scrub,
        log: fastify.log,
      }),
    );
    // Before connections close: streams end with their runs stored as interrupted.
    fastify.addHook("preClose", async () => runs.abortAll());
  },
  { name: "services", dependencies: ["config", "store", "backends"] },
);
