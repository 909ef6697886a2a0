/**
 * The optional access token (`THINKSCOPE_AUTH_TOKEN`) for the page, the API
 * and the WebSocket, and the identity per-client limits count against.
 *
 * Access is decided on the route the router matched (lib/route-config.ts):
 * a route is open without a token only if it says `public: true` (health,
 * signing in and out, the page's built files), whatever the URL looked like.
 *
 * Credentials, checked before anything else runs (for the WebSocket, before
 * the upgrade):
 * - API: `Authorization: Bearer TOKEN` (an OpenAI client's API key).
 * - Page: a session cookie (HttpOnly, SameSite=Strict), set by the token
 *   form or by opening a page URL with `?token=TOKEN` once; the token is
 *   then dropped from the address bar. Same-origin fetches and the
 *   WebSocket carry the cookie by themselves. Sessions live on the server
 *   (store/session-store.ts): signing out ends them for good.
 * - WebSocket: the cookie, the bearer header, or `?token=` on the upgrade.
 *
 * Without a credential a page answers with the token form (401) and
 * anything else with a 401 JSON error.
 *
 * Client identity: the client's address (`ip:<address>`, IPv6 by /64, from
 * X-Forwarded-For only when THINKSCOPE_TRUST_PROXY says whom to believe),
 * and for a signed-in page also its session (`session:<id>`). Limits count
 * against both, so signing in again never buys a fresh allowance.
 */
import fastifyCookie from "@fastify/cookie";
import { normalizeIP } from "@fastify/rate-limit";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ThinkscopeError } from "@thinkscope/core";
import fp from "fastify-plugin";
import {
  SESSION_COOKIE,
  SESSION_MAX_AGE_SECONDS,
  bearerToken,
  isSessionId,
  newSessionId,
  sessionSigningKey,
  tokensEqual,
} from "../auth/credentials.ts";
import { continuePage, loginPage, type ServerPage } from "../auth/login-page.ts";
import "../lib/route-config.ts";
import type { ClientIdentity } from "../services/admission.ts";

/**
 * Wrong tokens one address may present per minute. Enough for a class
 * behind one address to mistype now and then; far too few to guess even
 * the shortest token allowed (12 characters).
 */
const WRONG_TOKENS_PER_MINUTE = 30;

/**
 * Sessions one address may start per minute. Limits count against the
 * address as well as the session, so a new session buys nothing; this only
 * keeps a script from filling the session table. A class behind one NAT
 * signing in at once fits; an operator who raised the address's run rate
 * for a larger one (`THINKSCOPE_RATE_LIMIT_PER_ADDRESS_PER_MINUTE`) gets as
 * many sign-ins a minute.
 */
const SIGN_INS_PER_MINUTE = 120;

declare module "fastify" {
  interface FastifyRequest {
    /** Whom this request is, for logs and messages: `session:<id>` for a signed-in page, else `ip:<address>`. */
    clientId: string;
    /** Whom per-client limits count this request against: its address, and its session if signed in. */
    client: ClientIdentity;
    /** A valid token or session came with the request, or the server needs none. */
    authenticated: boolean;
    /** The signed-in page session, if a valid session cookie came with the request. */
    sessionId: string | undefined;
  }
  interface FastifyReply {
    /**
     * Starts a page session for this client (sets the cookie); returns its id.
     * Throws a 429 `too_many_sign_ins` when the address has started too many.
     */
    startSession(): Promise<string>;
    /** Ends the page session for good (clears the cookie, forgets the session). */
    endSession(): void;
  }
  interface FastifyInstance {
    /** Whether THINKSCOPE_AUTH_TOKEN is set. */
    authRequired: boolean;
    /**
     * Whether `given` is the access token (compared in constant time). A
     * wrong one counts against the client address's wrong-token allowance;
     * once that is used up, every attempt from there is refused with a 429
     * `too_many_wrong_tokens` until the minute is over, right or wrong, so
     * guessing gains nothing.
     */
    checkAccessToken(request: FastifyRequest, given: string): Promise<boolean>;
  }
}

/** The key a client address counts under (an IPv6 client by its /64, which one host usually holds). */
export function addressKey(request: FastifyRequest): string {
  return `ip:${normalizeIP(request.ip)}`;
}

/**
 * Whether a request that matched no route is for a page: a GET for a path
 * outside the API. Only the form of a refusal depends on it (the token form
 * or a JSON 401); such a request reaches nothing but the not-found handler.
 */
function looksLikePage(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  return !/^\/(api|v1|ws)(\/|$)/i.test(request.url);
}

export default fp(
  async (fastify) => {
    const token = fastify.config.authToken;
    const sessions = fastify.sessions;
    await fastify.register(fastifyCookie, token ? { secret: sessionSigningKey(token) } : {});

    fastify.decorate("authRequired", token !== undefined);
    const wrongTokens = fastify.createRateLimit({
      max: WRONG_TOKENS_PER_MINUTE,
      timeWindow: 60_000,
      keyGenerator: (request) => `wrong-token:${normalizeIP(request.ip)}`,
      allowList: () => false,
    });
    fastify.decorate("checkAccessToken", async (request: FastifyRequest, given: string) => {
      if (token === undefined) return false;
      const state = await wrongTokens(request, { increment: false });
      if (!state.isAllowed && state.remaining === 0) {
        request.log.warn({ ip: request.ip }, "token attempts refused: too many wrong tokens");
        throw new ThinkscopeError(
          "too_many_wrong_tokens",
          `Too many wrong access tokens from this address; try again in ${state.ttlInSeconds} s.`,
          { status: 429, retryable: true },
        );
      }
      if (tokensEqual(given, token)) return true;
      await wrongTokens(request);
      return false;
    });
    fastify.decorateRequest("clientId", "");
    // Set by the hook below before any route or later hook reads it.
    fastify.decorateRequest("client", null as unknown as ClientIdentity);
    fastify.decorateRequest("authenticated", false);
    fastify.decorateRequest("sessionId", undefined);
    const signIns = fastify.createRateLimit({
      max: Math.max(SIGN_INS_PER_MINUTE, fastify.config.rateLimitPerAddressPerMinute ?? 0),
      timeWindow: 60_000,
      keyGenerator: (request) => `sign-in:${normalizeIP(request.ip)}`,
      allowList: () => false,
    });
    fastify.decorateReply("startSession", async function (this: FastifyReply) {
      const allowance = await signIns(this.request);
      if (!allowance.isAllowed && allowance.isExceeded) {
        throw new ThinkscopeError(
          "too_many_sign_ins",
          `Too many sign-ins from this address; try again in ${allowance.ttlInSeconds} s.`,
          { status: 429, retryable: true },
        );
      }
      const id = newSessionId();
      sessions.create(id);
      this.setCookie(SESSION_COOKIE, id, {
        path: "/",
        httpOnly: true,
        sameSite: "strict",
        secure: this.request.protocol === "https",
        maxAge: SESSION_MAX_AGE_SECONDS,
        signed: true,
      });
      this.request.sessionId = id;
      return id;
    });
    fastify.decorateReply("endSession", function (this: FastifyReply) {
      const id = this.request.sessionId;
      if (id !== undefined) sessions.end(id);
      this.clearCookie(SESSION_COOKIE, { path: "/", sameSite: "strict", httpOnly: true });
    });

    const sessionOf = (request: FastifyRequest): string | undefined => {
      const raw = request.cookies[SESSION_COOKIE];
      if (!token || !raw) return undefined;
      const unsigned = request.unsignCookie(raw);
      return unsigned.valid &&
        unsigned.value !== null &&
        isSessionId(unsigned.value) &&
        sessions.isValid(unsigned.value)
        ? unsigned.value
        : undefined;
    };

    fastify.addHook("onRequest", async (request, reply) => {
      request.sessionId = sessionOf(request);
      const address = addressKey(request);
      request.clientId = request.sessionId ? `session:${request.sessionId}` : address;
      request.client = request.sessionId ? { address, session: request.clientId } : { address };
      if (!token) {
        request.authenticated = true;
        return;
      }
      const route = request.routeOptions.config;
      const matched = request.routeOptions.url !== undefined;
      const page = route.page === true || (!matched && looksLikePage(request));
      const queryToken = (request.query as { token?: unknown } | undefined)?.token;

      if (page && typeof queryToken === "string") {
        return enterWithToken(request, reply, await fastify.checkAccessToken(request, queryToken));
      }
      const bearer = bearerToken(request.headers.authorization);
      const presented =
        bearer ?? (route.tokenInQuery && typeof queryToken === "string" ? queryToken : undefined);
      request.authenticated =
        request.sessionId !== undefined ||
        (presented !== undefined && (await fastify.checkAccessToken(request, presented)));
      if (request.authenticated || route.public === true) return;

      if (page) return lockedPage(request, reply);
      request.log.info(
        { route: request.routeOptions.url ?? null, wrongToken: presented !== undefined },
        "request without a valid token refused",
      );
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="Thinkscope"')
        .send({
          error:
            presented === undefined
              ? {
                  code: "unauthorized",
                  message:
                    "This server needs an access token: send it as `Authorization: Bearer TOKEN` " +
                    "(an OpenAI client's API key), or open the page and enter it.",
                }
              : { code: "invalid_token", message: "The access token is not right." },
        });
    });
  },
  { name: "auth", dependencies: ["config", "store", "rate-limit"] },
);

/** The URL without its `token` parameter (the rest, such as settings in the query, kept). */
function withoutToken(url: string): string {
  const [path, query = ""] = url.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.delete("token");
  const rest = params.toString();
  return rest ? `${path}?${rest}` : path;
}

function htmlReply(reply: FastifyReply, status: number, page: ServerPage): FastifyReply {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("content-security-policy", page.policy)
    .type("text/html; charset=utf-8")
    .send(page.html);
}

/** A page URL opened with `?token=`: sign in (or say the token is wrong), then continue without it in the URL. */
async function enterWithToken(
  request: FastifyRequest,
  reply: FastifyReply,
  right: boolean,
): Promise<FastifyReply> {
  const next = withoutToken(request.url);
  if (!right) {
    request.log.info("page opened with a wrong token");
    return htmlReply(reply, 401, loginPage({ next, wrongToken: true }));
  }
  if (request.sessionId === undefined) await reply.startSession();
  return htmlReply(reply, 200, continuePage(next));
}

/** The page without a session: the token form, or first a same-site reload for links from other sites. */
function lockedPage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const crossSiteLink =
    request.headers["sec-fetch-site"] === "cross-site" &&
    request.headers["sec-fetch-mode"] === "navigate";
  // A SameSite=Strict cookie is withheld on a navigation from another site;
  // the same URL opened from this site carries it, and otherwise shows the form.
  if (crossSiteLink) return htmlReply(reply, 200, continuePage(request.url));
  return htmlReply(reply, 401, loginPage({ next: request.url, wrongToken: false }));
}
