/**
 * DNS rebinding: a page on `evil.example` can make its own name resolve to
 * 127.0.0.1 and then talk to a server on the laptop as "same origin". The
 * browser still sends `Host: evil.example`, so a server bound to a loopback
 * address answers only requests (and WebSocket upgrades) addressed to a
 * loopback name, as Vite and Jupyter do, plus what THINKSCOPE_ALLOWED_HOSTS
 * lists. Bound to another address (a deployment), any host is answered
 * unless THINKSCOPE_ALLOWED_HOSTS lists some.
 *
 * Runs first, before the access check: a refused host learns nothing else.
 */
import { isIP } from "node:net";
import { ThinkscopeError } from "@thinkscope/core";
import fp from "fastify-plugin";

/** Whether the server listens only on this machine. */
export function isLoopbackBind(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || (isIP(name) === 4 && name.startsWith("127."));
}

/** The host name of a `Host` header, lower case, without the port; IPv6 keeps its brackets. */
export function hostnameOf(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith("[")) return value.slice(0, value.indexOf("]") + 1);
  return value.replace(/:\d*$/, "");
}

function isLoopbackName(hostname: string): boolean {
  return (
    hostname === "localhost" ||
    hostname.endsWith(".localhost") ||
    hostname === "[::1]" ||
    (isIP(hostname) === 4 && hostname.startsWith("127."))
  );
}

/**
 * Whether a request with this `Host` may be answered. `allowed` holds
 * host names, `.domain` for a domain and its subdomains, or `*`.
 */
export function hostAllowed(
  header: string | undefined,
  allowed: readonly string[],
  loopbackOnly: boolean,
): boolean {
  // HTTP/1.0 clients may send none; a browser always does, so no page is behind such a request.
  if (header === undefined) return true;
  if (!loopbackOnly && allowed.length === 0) return true;
  const hostname = hostnameOf(header);
  // A loopback name is never a rebinding page's: such a page carries its own name.
  if (isLoopbackName(hostname)) return true;
  return allowed.some(
    (pattern) =>
      pattern === "*" ||
      pattern === hostname ||
      (pattern.startsWith(".") && (hostname.endsWith(pattern) || hostname === pattern.slice(1))),
  );
}

export default fp(
  async (fastify) => {
    const { host, allowedHosts } = fastify.config;
    const loopbackOnly = isLoopbackBind(host);
    fastify.addHook("onRequest", async (request) => {
      if (hostAllowed(request.headers.host, allowedHosts, loopbackOnly)) return;
      request.log.warn({ host: request.headers.host }, "request for a foreign host refused");
      throw new ThinkscopeError(
        "host_not_allowed",
        `This server does not answer to the host "${request.headers.host}". ` +
          "If you reach it by that name, add it to THINKSCOPE_ALLOWED_HOSTS.",
        { status: 403 },
      );
    });
  },
  { name: "host-check", dependencies: ["config", "error-handler"] },
);
