import fp from "fastify-plugin";
import { Admission } from "../services/admission.ts";
import { OpenAIService } from "../services/openai/openai-service.ts";
import { RunService } from "../services/run-service.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** Starts, streams and stores runs for every entry point. */
    runService: RunService;
    /** The OpenAI-compatible endpoints' logic. */
    openai: OpenAIService;
    /** Operator limits: budget caps and runs per client (experiments check their budgets here too). */
    admission: Admission;
  }
}

export default fp(
  async (fastify) => {
    const admission = new Admission(fastify.config);
    fastify.decorate("admission", admission);
    const runs = new RunService({
      backends: fastify.backends,
      store: fastify.runStore,
      log: fastify.log,
      scrub: fastify.scrub,
      admission,
    });
    fastify.decorate("runService", runs);
    fastify.decorate(
      "openai",
      new OpenAIService({
        backends: fastify.backends,
        runs,
        scrub: fastify.scrub,
        scrubSecrets: fastify.scrubSecrets,
        log: fastify.log,
        admission,
        stalledClientTimeoutMs: fastify.config.stalledClientTimeoutMs,
        storeRuns: fastify.config.storeApiRuns,
      }),
    );
    // Before connections close: streams end with their runs stored as interrupted.
    fastify.addHook("preClose", async () => runs.abortAll());
  },
  { name: "services", dependencies: ["config", "store", "backends"] },
);
