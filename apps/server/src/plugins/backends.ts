import fp from "fastify-plugin";
import { createBackends } from "../backends/create-backends.ts";
import { BackendRegistry, type RegisteredBackend } from "../backends/registry.ts";

declare module "fastify" {
  interface FastifyInstance {
    backends: BackendRegistry;
  }
}

export interface BackendsPluginOptions {
  /** Backends built by the caller (tests); otherwise from `THINKSCOPE_BACKEND`. */
  backends?: RegisteredBackend[];
}

export default fp<BackendsPluginOptions>(
  async (fastify, options) => {
    const registry = new BackendRegistry(
      options.backends ?? (await createBackends(fastify.config)),
      { scrub: fastify.scrub },
    );
    fastify.decorate("backends", registry);
    fastify.addHook("onClose", async () => registry.close());
  },
  { name: "backends", dependencies: ["config"] },
);
