/**
 * The optional access token (`THINKSCOPE_AUTH_TOKEN`) for the page, the API
 * and the WebSocket, and the identity per-client limits count against.
 *
 * Credentials, checked before anything else runs (for the WebSocket, before
 * the upgrade):
 * - API: `Authorization: Bearer TOKEN` (an OpenAI client's API key).
 * - Page: a session cookie (HttpOnly, SameSite=Strict), set by the token
 *   form or by opening any page URL with `?token=TOKEN` once; the token is
 *   then dropped from the address bar. Same-origin fetches and the
 *   WebSocket carry the cookie by themselves.
 * - WebSocket: the cookie, the bearer header, or `?token=` on the upgrade.
 *
 * Without a credential the page answers with the token form (401) and the
 * API with a 401 JSON error. `/api/health` stays open (see OPEN_PATHS), and
 * so do the page's static files, which hold no data.
 *
 * Client identity: a signed-in page's session (`session:<id>`), otherwise
 * the client's address (`ip:<address>`, IPv6 by /64), from X-Forwarded-For
 * only when THINKSCOPE_TRUST_PROXY says whom to believe.
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
import { continuePage, loginPage } from "../auth/login-page.ts";
import { OPEN_PATHS, isApiPath, isPageFile, pathOf } from "../lib/request-paths.ts";

/**
 * Wrong tokens one address may present per minute. Enough for a class
 * behind one address to mistype now and then; far too few to guess even
 * the shortest token allowed (12 characters).
 */
const WRONG_TOKENS_PER_MINUTE = 30;

declare module "fastify" {
  interface FastifyRequest {
    /** Whom per-client limits count this request against: `session:<id>` or `ip:<address>`. */
    clientId: string;
    /** A valid token or session came with the request, or the server needs none. */
    authenticated: boolean;
    /** The signed-in page session, if a valid session cookie came with the request. */
    sessionId: string | undefined;
  }
  interface FastifyReply {
    /** Starts a page session for this client (sets the cookie); returns its id. */
    startSession(): string;
    /** Ends the page session (clears the cookie). */
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

export default fp(
  async (fastify) => {
    const token = fastify.config.authToken;
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
    fastify.decorateRequest("authenticated", false);
    fastify.decorateRequest("sessionId", undefined);
    fastify.decorateReply("startSession", function (this: FastifyReply) {
      const id = newSessionId();
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
      this.clearCookie(SESSION_COOKIE, { path: "/", sameSite: "strict", httpOnly: true });
    });

    const sessionOf = (request: FastifyRequest): string | undefined => {
      const raw = request.cookies[SESSION_COOKIE];
      if (!token || !raw) return undefined;
      const unsigned = request.unsignCookie(raw);
      return unsigned.valid && unsigned.value !== null && isSessionId(unsigned.value)
        ? unsigned.value
        : undefined;
    };

    fastify.addHook("onRequest", async (request, reply) => {
      request.sessionId = sessionOf(request);
      request.clientId = request.sessionId
        ? `session:${request.sessionId}`
        : `ip:${normalizeIP(request.ip)}`;
      if (!token) {
        request.authenticated = true;
        return;
      }
      const path = pathOf(request.url);
      const page = (request.method === "GET" || request.method === "HEAD") && !isApiPath(path);
      const queryToken = (request.query as { token?: unknown } | undefined)?.token;

      if (page && typeof queryToken === "string") {
        return enterWithToken(request, reply, await fastify.checkAccessToken(request, queryToken));
      }
      const bearer = bearerToken(request.headers.authorization);
      const presented =
        bearer ?? (path === "/ws" && typeof queryToken === "string" ? queryToken : undefined);
      request.authenticated =
        request.sessionId !== undefined ||
        (presented !== undefined && (await fastify.checkAccessToken(request, presented)));
      // The page's own files (scripts, styles, icons) are the same for everyone and hold no data;
      // serving them lets an open page load its lazy parts even after its session ended.
      if (request.authenticated || OPEN_PATHS.has(path) || (page && isPageFile(path))) return;

      if (page) return lockedPage(request, reply);
      request.log.info(
        { path, wrongToken: presented !== undefined },
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
  { name: "auth", dependencies: ["config", "rate-limit"] },
);

/** The URL without its `token` parameter (the rest, such as settings in the query, kept). */
function withoutToken(url: string): string {
  const [path, query = ""] = url.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.delete("token");
  const rest = params.toString();
  return rest ? `${path}?${rest}` : path;
}

function htmlReply(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .type("text/html; charset=utf-8")
    .send(html);
}

/** A page URL opened with `?token=`: sign in (or say the token is wrong), then continue without it in the URL. */
function enterWithToken(
  request: FastifyRequest,
  reply: FastifyReply,
  right: boolean,
): FastifyReply {
  const next = withoutToken(request.url);
  if (!right) {
    request.log.info("page opened with a wrong token");
    return htmlReply(reply, 401, loginPage({ next, wrongToken: true }));
  }
  if (request.sessionId === undefined) reply.startSession();
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
