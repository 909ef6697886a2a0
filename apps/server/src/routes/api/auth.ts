/**
 * Presenting the access token: `POST /api/auth/login` (JSON from the page's
 * token prompt, or the server-rendered form), `POST /api/auth/logout`, and
 * `GET /api/auth/status` so the page can tell "locked" from "server down".
 * Open without a token (`public`); wrong tokens and sign-ins are limited per
 * address (plugins/auth.ts), so guessing is hopeless.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { errorBody } from "@thinkscope/protocol";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { loginPage, samePath } from "../../auth/login-page.ts";

const FORM = "application/x-www-form-urlencoded";

const LoginSchema = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  /** Form only: the page to return to. */
  next: Type.Optional(Type.String({ maxLength: 8192 })),
});

const AuthStatusSchema = Type.Object({
  /** The server has an access token. */
  required: Type.Boolean(),
  /** This request carried a valid token or session (always true when none is required). */
  authenticated: Type.Boolean(),
});

function fromForm(request: FastifyRequest): boolean {
  return (request.headers["content-type"] ?? "").toLowerCase().startsWith(FORM);
}

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  // The token form posts url-encoded; only these routes accept that (this plugin is encapsulated).
  fastify.addContentTypeParser(FORM, { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  fastify.get(
    "/api/auth/status",
    { config: { public: true, metered: false }, schema: { response: { 200: AuthStatusSchema } } },
    async (request) => ({
      required: fastify.authRequired,
      authenticated: request.authenticated,
    }),
  );

  // Unmetered: a class behind one address must all be able to sign in at once.
  const signIn = { config: { public: true, metered: false }, schema: { body: LoginSchema } };
  fastify.post("/api/auth/login", signIn, async (request, reply) => {
    const form = fromForm(request);
    if (!fastify.authRequired) return form ? reply.redirect("/", 303) : reply.code(204).send();
    if (!(await fastify.checkAccessToken(request, request.body.token))) {
      request.log.info("login with a wrong token");
      if (form) {
        const page = loginPage({ next: samePath(request.body.next), wrongToken: true });
        return reply
          .code(401)
          .header("cache-control", "no-store")
          .type("text/html; charset=utf-8")
          .header("content-security-policy", page.policy)
          .send(page.html);
      }
      return reply
        .code(401)
        .send(errorBody(401, "invalid_token", "The access token is not right."));
    }
    if (request.sessionId === undefined) await reply.startSession();
    // The form's own page is on this site, so the redirected request carries the new cookie.
    return form ? reply.redirect(samePath(request.body.next), 303) : reply.code(204).send();
  });

  fastify.post("/api/auth/logout", { config: { public: true } }, async (request, reply) => {
    reply.endSession();
    return fromForm(request) ? reply.redirect("/", 303) : reply.code(204).send();
  });
};

export default routes;
