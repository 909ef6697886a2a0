/**
 * The two small pages the server itself renders while the page is locked:
 * the token form, and a hop that moves the browser to a clean URL on this
 * site. Both work without the page's own JavaScript (the form is a plain
 * POST), so they also work before `npm run build` and on any browser.
 */
import { randomBytes } from "node:crypto";

/** A server-rendered page and the content security policy that lets exactly its own script run. */
export interface ServerPage {
  html: string;
  policy: string;
}

function policy(nonce?: string): string {
  return [
    "default-src 'none'",
    nonce ? `script-src 'nonce-${nonce}'` : "script-src 'none'",
    "style-src 'unsafe-inline'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const STYLE =
  "font-family: system-ui, sans-serif; max-width: 26rem; margin: 5rem auto; padding: 0 1rem; line-height: 1.5";

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** A base no request can carry, to read a candidate path as the browser would. */
const HERE = "http://thinkscope.invalid";

/**
 * A path on this site to send the browser to, or `/`. Read with the URL
 * parser a browser uses, so what the browser would do with it is what is
 * checked: tabs and newlines vanish (`/<TAB>/evil.example` is `//evil.example`),
 * backslashes are slashes, and anything that leaves this origin is refused.
 * The result is percent-encoded, so it is safe in a `Location` header.
 */
export function samePath(candidate: string | undefined): string {
  if (!candidate) return "/";
  let url: URL;
  try {
    url = new URL(candidate, HERE);
  } catch {
    return "/";
  }
  if (url.origin !== HERE) return "/";
  return url.pathname + url.search + url.hash;
}

export function loginPage(options: { next: string; wrongToken: boolean }): ServerPage {
  const problem = options.wrongToken
    ? `<p role="alert" style="color: #b42318">That token is not right. Check it with your teacher or the person who runs this server.</p>`
    : "";
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Thinkscope: access token</title></head>
<body style="${STYLE}">
<h1>Thinkscope</h1>
<p>This Thinkscope server needs an access token. Enter the one you were given, or open the link with the token that came with it.</p>
${problem}
<form method="post" action="/api/auth/login">
<input type="hidden" name="next" value="${escapeHtml(samePath(options.next))}">
<label for="token">Access token</label><br>
<input id="token" name="token" type="password" required autofocus autocomplete="current-password" style="width: 100%; font: inherit; padding: 0.4rem; margin: 0.3rem 0 0.8rem">
<button type="submit" style="font: inherit; padding: 0.4rem 1rem">Open Thinkscope</button>
</form>
</body></html>
`;
  return { html, policy: policy() };
}

/**
 * Sends the browser on to `path` from a page of this site. A redirect
 * response would not do: after a link from another site (a course page, a
 * chat), browsers keep treating the redirected request as cross-site and
 * hold back a SameSite=Strict cookie, so the page would ask for the token
 * again. A navigation started by this page is same-site and carries it.
 */
export function continuePage(path: string): ServerPage {
  const target = samePath(path);
  // `<` escaped so no URL can close the script element.
  const script = JSON.stringify(target).replace(/</g, "\\u003c");
  const nonce = randomBytes(16).toString("base64");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0; url=${escapeHtml(target)}"><title>Thinkscope</title></head>
<body style="${STYLE}"><p>Opening <a href="${escapeHtml(target)}">Thinkscope</a>…</p>
<script nonce="${nonce}">location.replace(${script});</script>
</body></html>
`;
  return { html, policy: policy(nonce) };
}
