/** The resample analyses service on the app (`fastify.resamples`); running ones stop on close. */
import fp from "fastify-plugin";
import { ResampleService } from "../services/resample/resample-service.ts";
import { ResampleStore } from "../store/resample-store.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** Starts, follows and reports resample analyses of runs. */
    resamples: ResampleService;
  }
}

export default fp(
  async (fastify) => {
    const service = new ResampleService({
      runs: fastify.runService,
      runStore: fastify.runStore,
      store: new ResampleStore(fastify.runStore.db),
      experiments: fastify.experimentStore,
      log: fastify.log,
    });
    fastify.decorate("resamples", service);
    fastify.addHook("preClose", async () => service.shutdown());
  },
  { name: "resample", dependencies: ["config", "store", "services"] },
);
