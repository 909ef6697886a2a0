/**
 * Requests per minute per client (`THINKSCOPE_RATE_LIMIT_PER_MINUTE`), with
 * @fastify/rate-limit keyed by the client identity of the auth plugin.
 *
 * Metered: API requests (`/api/...` but health, sign-in state and sign-in,
 * `/v1/...`), WebSocket upgrades, and, through `countRequest`, each run a
 * WebSocket starts, all from one allowance per client. The page's own files
 * are not metered: loading the page must never use up a student's runs.
 */
import fastifyRateLimit from "@fastify/rate-limit";
import { ThinkscopeError } from "@thinkscope/core";
import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { isApiPath, pathOf } from "../lib/request-paths.ts";

declare module "fastify" {
  interface FastifyInstance {
    /**
     * Counts one request of this client that is not an HTTP request of its
     * own (a run started over the WebSocket whose upgrade was `request`).
     * Throws a 429 `rate_limited` error when the client is over its allowance.
     */
    countRequest(request: FastifyRequest): Promise<void>;
  }
}

/** Health checks, and signing in: a class behind one address must all be able to sign in at once (wrong tokens have their own limit, plugins/auth.ts). */
const UNMETERED = new Set(["/api/health", "/api/auth/status", "/api/auth/login"]);

export function isMetered(url: string): boolean {
  const path = pathOf(url);
  return isApiPath(path) && !UNMETERED.has(path);
}

function rateLimited(perMinute: number, retryIn: string): ThinkscopeError {
  return new ThinkscopeError(
    "rate_limited",
    `Too many requests: this server allows ${perMinute} per minute per client ` +
      `(THINKSCOPE_RATE_LIMIT_PER_MINUTE). Try again in ${retryIn}.`,
    { status: 429, retryable: true },
  );
}

export default fp(
  async (fastify) => {
    const perMinute = fastify.config.rateLimitPerMinute;
    // Registered even without the setting: the auth plugin limits wrong tokens with it.
    await fastify.register(fastifyRateLimit, {
      global: perMinute !== undefined,
      max: perMinute ?? 1,
      timeWindow: 60_000,
      // Set by the auth plugin's onRequest hook, which runs before these route hooks.
      keyGenerator: (request) => request.clientId,
      allowList: (request) => !isMetered(request.url),
      errorResponseBuilder: (_request, context) => rateLimited(perMinute ?? 0, context.after),
    });
    if (perMinute === undefined) {
      fastify.decorate("countRequest", async () => {});
      return;
    }
    // Shares the global allowance (no options: the same store and key).
    const check = fastify.createRateLimit();
    fastify.decorate("countRequest", async (request: FastifyRequest) => {
      const result = await check(request);
      if (!result.isAllowed && result.isExceeded) {
        throw rateLimited(perMinute, `${result.ttlInSeconds} s`);
      }
    });
  },
  { name: "rate-limit", dependencies: ["config"] },
);
