/**
 * The page: `apps/web/dist` when it is built, a short note on how to build it
 * when it is not.
 *
 * The built files (scripts, styles, icons: the same for everyone, holding no
 * data) are the only public paths of the server besides health and signing
 * in: @fastify/static registers one route per file found at start, and each
 * is marked `public` here, so what is open is exactly that list of files.
 * The page itself (`/`, and `index.html` for the page's own routes such as
 * `/runs/abc`) needs a session when a token is set; without one the access
 * check answers with the token form. The API's paths never get the page:
 * they answer JSON 404s.
 */
import { existsSync } from "node:fs";
import { errorBody } from "@thinkscope/protocol";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import "../lib/route-config.ts";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Thinkscope</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Thinkscope</h1>
<p>The server is running, but the page is not built yet. Run <code>npm run build</code>
(or start with <code>npm start</code>, which builds it), then reload.</p>
<p>The API is up: <a href="/api/health">/api/health</a>, <a href="/v1/models">/v1/models</a>.</p>
</body></html>
`;

/**
 * Whether a request that matched no route may get the page (its router owns
 * the path): a GET outside the API, for a path that does not name a file.
 * The page holds no data and needs a session anyway; this only keeps
 * `/api/typo` and `/assets/missing.js` from being answered with HTML.
 */
function isPageRoute(url: string): boolean {
  const path = url.split("?", 1)[0]!;
  if (/^\/(api|v1|ws)(\/|$)/i.test(path)) return false;
  return !path.split("/").at(-1)!.includes(".");
}

export default fp(
  async (fastify) => {
    const root = fastify.config.webDist;
    const built = existsSync(join(root, "index.html"));
    const page = { config: { page: true, metered: false } };
    if (built) {
      // `reply.sendFile` for the page routes below; the files' own routes come from the child.
      await fastify.register(fastifyStatic, { root, serve: false });
      await fastify.register(async (files) => {
        files.addHook("onRoute", (route) => {
          route.config = { ...route.config, public: true, metered: false };
        });
        await files.register(fastifyStatic, {
          root,
          prefix: "/",
          decorateReply: false,
          // One route per built file, so the public paths are exactly the files that exist.
          wildcard: false,
          index: false,
          globIgnore: ["index.html"],
        });
      });
      fastify.get("/", page, (_request, reply) =>
        reply.header("cache-control", "no-cache").sendFile("index.html"),
      );
    } else {
      fastify.get("/", page, async (_request, reply) =>
        reply.type("text/html; charset=utf-8").send(NOT_BUILT_PAGE),
      );
    }

    fastify.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const get = request.method === "GET" || request.method === "HEAD";
      if (built && get && isPageRoute(request.url)) {
        // A client-side route (/runs/abc): the page's router takes it from here.
        return reply.header("cache-control", "no-cache").sendFile("index.html");
      }
      return reply
        .code(404)
        .send(
          errorBody(
            404,
            "not_found",
            `No route for ${request.method} ${request.url.split("?", 1)[0]}.`,
          ),
        );
    });
  },
  { name: "spa", dependencies: ["config"] },
);
