import type { AddressInfo } from "node:net";

/**
 * The one line `npm start` prints at a terminal once the server listens: the
 * URL to open, with the access token in it when one is set (the owner's own
 * terminal is where the token lives). A server bound to every address is
 * opened through the loopback one.
 */
export function readyLine(address: AddressInfo, authToken?: string): string {
  const everywhere = address.address === "0.0.0.0" || address.address === "::";
  const host = everywhere
    ? "127.0.0.1"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  const url = `http://${host}:${address.port}/`;
  const open = authToken ? `${url}?token=${encodeURIComponent(authToken)}` : url;
  return (
    `thinkscope: ready at ${url}` +
    (everywhere ? " (listening on every address)" : "") +
    (authToken ? `\nthinkscope: open ${open} (the link carries the access token)` : "")
  );
}
