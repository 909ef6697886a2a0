/**
 * HTTP/1.1 requests written byte for byte on a socket. `fetch`, Node's
 * `http.request` and Fastify's `inject` all normalise or refuse request
 * targets (`/./`, `#`, `//`) before they are sent; an attacker's client does
 * not, so the access tests speak raw HTTP.
 */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `GET`-style request text (no body unless given) and reads the whole response. */
export function rawRequest(
  base: string,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  const headers: Record<string, string> = {
    host: `${hostname}:${port}`,
    connection: "close",
    ...options.headers,
  };
  if (options.body !== undefined)
    headers["content-length"] = String(Buffer.byteLength(options.body));
  const head =
    `${method} ${target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("") +
    "\r\n";
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(head + (options.body ?? ""));
    });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      // An upgrade answered with 101 keeps the socket open: the head is all there is to read.
      if (Buffer.concat(chunks).toString("latin1").startsWith("HTTP/1.1 101")) socket.end();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [headText = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...headerLines] = headText.split("\r\n");
      const status = Number(statusLine.split(" ")[1]);
      const parsed: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers: parsed, body: rest.join("\r\n\r\n") });
    });
  });
}

/** The headers of a WebSocket upgrade request. */
export const UPGRADE_HEADERS = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/**
 * Other ways of writing `path` that a router may read as the same route:
 * each letter percent-escaped (both hex cases) or double-escaped, slashes
 * doubled, dot segments, `%2F`, a fragment, a query, a `;` parameter, a
 * trailing slash, other letter cases.
 */
export function spellingsOf(path: string): string[] {
  const out = new Set<string>();
  const at = (i: number, replacement: string) => path.slice(0, i) + replacement + path.slice(i + 1);
  [...path].forEach((char, i) => {
    if (/[a-z]/i.test(char)) {
      const hex = char.charCodeAt(0).toString(16);
      out.add(at(i, `%${hex}`));
      out.add(at(i, `%${hex.toUpperCase()}`));
      out.add(at(i, `%25${hex}`));
      out.add(at(i, char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase()));
    }
    if (char === "/") {
      out.add(at(i, "//"));
      out.add(at(i, "/./"));
      out.add(at(i, "/x/../"));
      out.add(at(i, "/%2e/"));
      if (i > 0) out.add(at(i, "%2F"));
    }
  });
  for (const suffix of ["#.js", "#", "%23.js", "?x=.js", "?.css", ";.js", "/", "/.", "/..;/x"]) {
    out.add(path + suffix);
  }
  out.add(path.toUpperCase());
  out.delete(path);
  return [...out];
}
