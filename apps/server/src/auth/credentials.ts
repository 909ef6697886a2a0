/**
 * The access token and the page's session cookie. The token is compared in
 * constant time; the cookie never holds it: it holds a random session id
 * signed with a key derived from the token, so a new token (a restart with
 * another THINKSCOPE_AUTH_TOKEN) ends every session at once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "thinkscope_session";
/** A week: long enough for a course's sessions, short enough that a leaked cookie expires. */
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;

/** Whether `given` is the token, in time that does not depend on where they differ (or their lengths). */
export function tokensEqual(given: string, token: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b);
}

/** The credential of an `Authorization: Bearer ...` header (what OpenAI clients send as their API key). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** The key that signs session cookies: derived from the token, never the token itself. */
export function sessionSigningKey(token: string): Buffer {
  return createHmac("sha256", token).update("thinkscope session cookie v1").digest();
}

/** A new session id: 128 random bits, URL- and cookie-safe. */
export function newSessionId(): string {
  return randomBytes(16).toString("base64url");
}

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/** Whether an unsigned cookie value has the shape of a session id (not, say, a stale cookie of another app). */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}
