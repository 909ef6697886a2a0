/**
 * Builds the Fastify app from its plugins, in dependency order, then its
 * routes (as the official Fastify demo does; registered explicitly rather
 * than autoloaded, so the order is visible here):
 *
 *   config -> error handler -> websocket -> host check -> cross-site check
 *   -> security headers -> store -> backends -> services -> rate limit ->
 *   auth -> request meter -> routes (/api, /v1, /ws) -> page
 *
 * Every request (and WebSocket upgrade) meets the `onRequest` hooks in that
 * order: a foreign `Host` is refused first, then a cross-site write, then a
 * request without the token, and only then is it counted against its
 * client's rate. Access and metering read the flags of the route the router
 * matched (lib/route-config.ts), never the URL's text.
 */
import fastifyWebsocket from "@fastify/websocket";
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance } from "fastify";
import type { RegisteredBackend } from "./backends/registry.ts";
import { loadConfig, type ServerConfig } from "./config/config.ts";
import experimentsPlugin from "./plugins/experiments.ts";
import experimentRoutes from "./routes/api/experiments.ts";
import { loggerOptions, type LogDestination } from "./lib/logger.ts";
import { createScrubber } from "./lib/secrets.ts";
import authPlugin from "./plugins/auth.ts";
import crossSitePlugin from "./plugins/cross-site.ts";
import hostCheckPlugin from "./plugins/host-check.ts";
import securityHeadersPlugin from "./plugins/security-headers.ts";
import backendsPlugin from "./plugins/backends.ts";
import configPlugin from "./plugins/config.ts";
import errorHandlerPlugin, { formatValidationErrors } from "./plugins/error-handler.ts";
import rateLimitPlugin, { meterRequests } from "./plugins/rate-limit.ts";
import servicesPlugin from "./plugins/services.ts";
import spaPlugin from "./plugins/spa.ts";
import storePlugin from "./plugins/store.ts";
import authRoutes from "./routes/api/auth.ts";
import healthRoutes from "./routes/api/health.ts";
import runPreviewRoutes from "./routes/api/run-preview.ts";
import runsRoutes from "./routes/api/runs.ts";
import resampleRoutes from "./routes/api/resample.ts";
import resamplePlugin from "./plugins/resample.ts";
import openaiRoutes from "./routes/v1/openai.ts";
import wsRoutes from "./routes/ws.ts";
import type { RunStore, RunStoreOptions } from "./store/run-store.ts";

export interface BuildAppOptions {
  /** The configuration; read from the environment and `thinkscope.config.json` when absent. */
  config?: ServerConfig;
  /** Backends to serve instead of those `config.backends` describes (tests, embedding). */
  backends?: RegisteredBackend[];
  /** A store opened by the caller instead of `<dataDir>/thinkscope.db`. */
  store?: RunStore;
  storeOptions?: RunStoreOptions;
  /** `false` silences the log; a destination captures it (lines are scrubbed of secrets either way). */
  log?: false | LogDestination;
}

export type App = FastifyInstance;

export async function buildApp(options: BuildAppOptions = {}): Promise<App> {
  const config = options.config ?? loadConfig();
  const scrub = createScrubber([config.apiKey, config.authToken]);
  const fastify = Fastify({
    logger:
      options.log === false
        ? false
        : loggerOptions(config.logLevel ?? "info", scrub, options.log ?? process.stdout),
    bodyLimit: config.bodyLimit,
    schemaErrorFormatter: formatValidationErrors,
    // Stopping must not wait on clients' keep-alive sockets: by then (preClose)
    // every run has been aborted and stored as interrupted.
    forceCloseConnections: true,
    // Client addresses for per-client limits: X-Forwarded-For only from proxies the operator named.
    trustProxy: config.trustProxy,
  })
    // TypeBox's compiler checks bodies strictly (no coercion: "12" is not a number of tokens).
    .setValidatorCompiler(TypeBoxValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();

  await fastify.register(configPlugin, { config });
  await fastify.register(errorHandlerPlugin);
  // Before any hook that may refuse a request: the plugin's own hooks close a refused upgrade's socket.
  await fastify.register(fastifyWebsocket, { options: { maxPayload: config.bodyLimit } });
  await fastify.register(hostCheckPlugin);
  await fastify.register(crossSitePlugin);
  await fastify.register(securityHeadersPlugin);
  await fastify.register(storePlugin, { store: options.store, storeOptions: options.storeOptions });
  await fastify.register(backendsPlugin, { backends: options.backends });
  await fastify.register(servicesPlugin);
  await fastify.register(rateLimitPlugin);
  await fastify.register(authPlugin);
  await fastify.register(meterRequests);

  await fastify.register(authRoutes);
  await fastify.register(healthRoutes);
  await fastify.register(runsRoutes);
  await fastify.register(runPreviewRoutes);
  await fastify.register(experimentsPlugin);
  await fastify.register(experimentRoutes);
  await fastify.register(resamplePlugin);
  await fastify.register(resampleRoutes);
  await fastify.register(openaiRoutes);
  await fastify.register(wsRoutes);
  await fastify.register(spaPlugin);
  return fastify;
}
