import fp from "fastify-plugin";
import type { ServerConfig } from "../config/config.ts";
import { createScrubber, type Scrubber } from "../lib/secrets.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** The resolved configuration (holds the API key: never send or log it whole). */
    config: ServerConfig;
    /**
     * For messages that leave the server (errors, stored messages, readiness):
     * removes configured secrets and hides addresses.
     */
    scrub: Scrubber;
    /** For content passed through from an upstream (a model's answer): removes configured secrets only. */
    scrubSecrets: Scrubber;
  }
}

export interface ConfigPluginOptions {
  config: ServerConfig;
}

export default fp<ConfigPluginOptions>(
  async (fastify, { config }) => {
    fastify.decorate("config", config);
    const secrets = [config.apiKey, config.authToken];
    fastify.decorate("scrub", createScrubber(secrets, { hideAddresses: true }));
    fastify.decorate("scrubSecrets", createScrubber(secrets));
  },
  { name: "config" },
);
