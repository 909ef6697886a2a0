import fp from "fastify-plugin";
import { SESSION_MAX_AGE_SECONDS } from "../auth/credentials.ts";
import { RunStore, type RunStoreOptions } from "../store/run-store.ts";
import { ExperimentStore } from "../store/experiment-store.ts";
import { SessionStore } from "../store/session-store.ts";

declare module "fastify" {
  interface FastifyInstance {
    runStore: RunStore;
    /** The page's signed-in sessions. */
    sessions: SessionStore;
    /** Experiments and their items, in the same database. */
    experimentStore: ExperimentStore;
  }
}

export interface StorePluginOptions {
  /** A store opened by the caller (tests); otherwise `<dataDir>/thinkscope.db` is opened here. */
  store?: RunStore;
  storeOptions?: RunStoreOptions;
}

export default fp<StorePluginOptions>(
  async (fastify, options) => {
    const store = options.store ?? RunStore.open(fastify.config.dataDir, options.storeOptions);
    const recovered = store.recoverInterrupted();
    if (recovered > 0)
      fastify.log.warn({ recovered }, "runs cut off by a previous stop are now interrupted");
    const stopWatching = store.watchFault((fault) => {
      if (fault) fastify.log.error({ code: fault.code, err: fault.cause }, fault.message);
      else fastify.log.info("the run store writes again");
    });
    fastify.decorate("runStore", store);
    fastify.decorate("sessions", new SessionStore(store.db, SESSION_MAX_AGE_SECONDS * 1000));
    fastify.decorate("experimentStore", new ExperimentStore(store.db));
    fastify.addHook("onClose", async () => {
      stopWatching();
      store.close();
    });
  },
  { name: "store", dependencies: ["config"] },
);
