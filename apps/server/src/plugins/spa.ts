/**
 * The page: `apps/web/dist` when it is built, with `index.html` for the
 * page's own routes (never for /api, /v1 or /ws, which answer JSON 404s);
 * a short note on how to build it when it is not.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

const API_PREFIXES = ["/api/", "/v1/", "/ws"];

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Thinkscope</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Thinkscope</h1>
<p>The server is running, but the page is not built yet. Run <code>npm run build</code>
(or start with <code>npm start</code>, which builds it), then reload.</p>
<p>The API is up: <a href="/api/health">/api/health</a>, <a href="/v1/models">/v1/models</a>.</p>
</body></html>
`;

/** Paths the page's router may own: not the API, not a missing file such as /assets/x.js. */
function isPageRoute(url: string): boolean {
  const path = url.split("?", 1)[0]!;
  if (path === "/api" || path === "/v1" || API_PREFIXES.some((prefix) => path.startsWith(prefix)))
    return false;
  return !path.split("/").at(-1)!.includes(".");
}

export default fp(
  async (fastify) => {
    const root = fastify.config.webDist;
    const built = existsSync(join(root, "index.html"));
    if (built) {
      await fastify.register(fastifyStatic, {
        root,
        prefix: "/",
        wildcard: true,
        index: ["index.html"],
      });
    } else {
      fastify.get("/", async (_request, reply) =>
        reply.type("text/html; charset=utf-8").send(NOT_BUILT_PAGE),
      );
    }

    fastify.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const page = request.method === "GET" || request.method === "HEAD";
      if (built && page && isPageRoute(request.url)) {
        // A client-side route (/runs/abc): the page's router takes it from here.
        return reply.header("cache-control", "no-cache").sendFile("index.html");
      }
      return reply.code(404).send({
        error: {
          code: "not_found",
          message: `No route for ${request.method} ${request.url.split("?", 1)[0]}.`,
        },
      });
    });
  },
  { name: "spa", dependencies: ["config"] },
);
