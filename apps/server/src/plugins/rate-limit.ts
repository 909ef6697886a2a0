/**
 * Requests per minute per client: `THINKSCOPE_RATE_LIMIT_PER_MINUTE` for each
 * signed-in page session, and `THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE`
 * (the same number unless set) for each client address over all of its
 * sessions. A request must pass both, so signing in again never buys a
 * fresh allowance; a class behind one NAT raises the address's.
 *
 * Metered: every route that does not say `metered: false` (the route the
 * router matched, lib/route-config.ts), WebSocket upgrades included, and,
 * through `countRequest`, each run a WebSocket starts. Not metered: health,
 * signing in, the page and its files (loading the page must never use up
 * a student's runs), and requests that matched no route.
 */
import fastifyRateLimit from "@fastify/rate-limit";
import { ThinkscopeError } from "@thinkscope/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import "../lib/route-config.ts";

declare module "fastify" {
  interface FastifyInstance {
    /**
     * Counts one request of this client that is not an HTTP request of its
     * own (a run started over the WebSocket whose upgrade was `request`).
     * Throws a 429 `rate_limited` error when the client is over its allowance.
     */
    countRequest(request: FastifyRequest, reply?: FastifyReply): Promise<void>;
  }
}

type Check = ReturnType<FastifyInstance["createRateLimit"]>;

export default fp(
  async (fastify) => {
    // Registered even without limits: the auth plugin limits wrong tokens and sign-ins with it.
    await fastify.register(fastifyRateLimit, { global: false });

    const perSession = fastify.config.rateLimitPerMinute;
    const perAddress = fastify.config.rateLimitPerAddressPerMinute ?? perSession;
    const limiter = (max: number | undefined, key: (request: FastifyRequest) => string) =>
      max === undefined
        ? undefined
        : fastify.createRateLimit({
            max,
            timeWindow: 60_000,
            keyGenerator: key,
            allowList: () => false,
          });
    const checks: { check: Check; applies: (request: FastifyRequest) => boolean; what: string }[] =
      [];
    const address = limiter(perAddress, (request) => request.client.address);
    if (address) {
      // An API client is its address: the per-client limit, unless the address has one of its own.
      const own = fastify.config.rateLimitPerAddressPerMinute !== undefined;
      checks.push({
        check: address,
        applies: () => true,
        what: own
          ? `${perAddress} per minute per address (THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE)`
          : `${perAddress} per minute per client (THINKSCOPE_RATE_LIMIT_PER_MINUTE)`,
      });
    }
    const session = limiter(perSession, (request) => request.client.session ?? "");
    if (session) {
      checks.push({
        check: session,
        applies: (request) => request.client.session !== undefined,
        what: `${perSession} per minute per client (THINKSCOPE_RATE_LIMIT_PER_MINUTE)`,
      });
    }

    const countRequest = async (request: FastifyRequest, reply?: FastifyReply) => {
      for (const { check, applies, what } of checks) {
        if (!applies(request)) continue;
        const result = await check(request);
        if (result.isAllowed || !result.isExceeded) continue;
        reply?.header("retry-after", String(result.ttlInSeconds));
        throw new ThinkscopeError(
          "rate_limited",
          `Too many requests: this server allows ${what}. Try again in ${result.ttlInSeconds} s.`,
          { status: 429, retryable: true },
        );
      }
    };
    fastify.decorate("countRequest", countRequest);
  },
  { name: "rate-limit", dependencies: ["config"] },
);

/**
 * The meter itself: an `onRequest` hook registered after the access check
 * (it needs the client's identity, and refused requests are not counted).
 */
export const meterRequests = fp(
  async (fastify) => {
    fastify.addHook("onRequest", async (request, reply) => {
      const matched = request.routeOptions.url !== undefined;
      if (!matched || request.routeOptions.config.metered === false) return;
      await fastify.countRequest(request, reply);
    });
  },
  { name: "meter-requests", dependencies: ["rate-limit", "auth"] },
);
