/**
 * Cross-site writes. A page on another site can make a browser send a POST
 * here without asking first (no CORS preflight) when its body is
 * `text/plain`, a form or multipart, or when it has no body at all; on a
 * server without a token nothing else would stop it from importing,
 * cancelling or deleting. So:
 *
 * - a state-changing request (anything but GET, HEAD, OPTIONS) from a
 *   browser page of another origin is refused: its `Origin` must be this
 *   server's own or one THINKSCOPE_ALLOWED_ORIGINS lists, and without an
 *   `Origin`, `Sec-Fetch-Site` must not say the request came from another site;
 * - `text/plain` bodies are not parsed at all, so every route takes only its
 *   real content type (JSON, the import's JSONL, the sign-in form's
 *   url-encoding), and anything else is a 415.
 *
 * Clients that are not browsers (the OpenAI SDKs, curl) send neither header
 * and are not affected.
 */
import { ThinkscopeError } from "@thinkscope/core";
import fp from "fastify-plugin";
import { originAllowed } from "../lib/origin.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export default fp(
  async (fastify) => {
    const { allowedOrigins } = fastify.config;
    fastify.removeContentTypeParser("text/plain");
    fastify.addHook("onRequest", async (request) => {
      if (SAFE_METHODS.has(request.method)) return;
      const { origin, host } = request.headers;
      const site = request.headers["sec-fetch-site"];
      const foreign =
        origin !== undefined
          ? !originAllowed(origin, host, allowedOrigins)
          : site === "cross-site" || site === "same-site";
      if (!foreign) return;
      request.log.warn({ origin, site }, "cross-site request refused");
      throw new ThinkscopeError(
        "origin_not_allowed",
        `${request.method} requests from ${origin ?? "another site"} are not allowed; ` +
          "add the page's origin to THINKSCOPE_ALLOWED_ORIGINS if it should be.",
        { status: 403 },
      );
    });
  },
  { name: "cross-site", dependencies: ["config", "error-handler"] },
);
