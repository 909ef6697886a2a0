/**
 * The experiment service on the app (`fastify.experiments`).
 * On start, experiments a stopped or crashed server left running become
 * `interrupted` (resumable); on close, running ones are stopped as
 * `interrupted` before the run service aborts the rest.
 */
import fp from "fastify-plugin";
import { datasetRoots } from "../services/experiments/dataset-loader.ts";
import { ExperimentService } from "../services/experiments/experiment-service.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** Creates, runs, cancels, resumes and reports experiments. */
    experiments: ExperimentService;
  }
}

export default fp(
  async (fastify) => {
    const service = new ExperimentService({
      runs: fastify.runService,
      store: fastify.experimentStore,
      backends: fastify.backends,
      log: fastify.log,
      datasets: {
        roots: datasetRoots(fastify.config.dataDir, fastify.config.datasetDirs),
        cwd: process.cwd(),
      },
      checkBudgets: (budgetForcing) => fastify.admission.checkBudgets(budgetForcing),
    });
    const recovered = service.recoverInterrupted();
    if (recovered.length > 0) {
      fastify.log.warn(
        { experiments: recovered },
        "experiments cut off by a previous stop are now interrupted",
      );
    }
    fastify.decorate("experiments", service);
    fastify.addHook("preClose", async () => service.shutdown());
  },
  { name: "experiments", dependencies: ["config", "store", "backends", "services"] },
);
