/**
 * Headers that keep the page and the API from being used against their
 * users: no response is ever sniffed into another type (`nosniff`), the page
 * is never framed by another site (clickjacking), and the page may load
 * scripts, styles, fonts and connections only from this server (so injected
 * markup, were any to get through the answer's sanitiser, could not run or
 * send data away).
 */
import fp from "fastify-plugin";

/**
 * The built page's policy. Styles allow inline `style` attributes (React
 * and the charts set them); images allow `data:` and `blob:` (KaTeX, chart
 * export). `'self'` covers the page's own WebSocket.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export default fp(
  async (fastify) => {
    fastify.addHook("onSend", async (_request, reply, payload) => {
      reply.header("x-content-type-options", "nosniff");
      const type = String(reply.getHeader("content-type") ?? "");
      if (type.startsWith("text/html")) {
        reply.header("x-frame-options", "DENY");
        // Pages rendered here (the token form) set their own, stricter policy.
        if (!reply.hasHeader("content-security-policy")) {
          reply.header("content-security-policy", PAGE_CSP);
        }
      }
      return payload;
    });
  },
  { name: "security-headers" },
);
