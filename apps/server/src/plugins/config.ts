import fp from "fastify-plugin";
import type { ServerConfig } from "../config/config.ts";
import { createScrubber, type Scrubber } from "../lib/secrets.ts";

declare module "fastify" {
  interface FastifyInstance {
    /** The resolved configuration (holds the API key: never send or log it whole). */
    config: ServerConfig;
    /** Removes configured secrets from text that leaves the server (errors, stored messages). */
    scrub: Scrubber;
  }
}

export interface ConfigPluginOptions {
  config: ServerConfig;
}

export default fp<ConfigPluginOptions>(
  async (fastify, { config }) => {
    fastify.decorate("config", config);
    fastify.decorate("scrub", createScrubber([config.apiKey, config.authToken]));
  },
  { name: "config" },
);
