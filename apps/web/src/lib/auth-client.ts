import { ApiError } from "./api-client.ts";

/** Whether the server wants an access token, and whether this page has presented it. */
export interface AuthStatus {
  required: boolean;
  authenticated: boolean;
}

/**
 * The page's side of the server's access token (THINKSCOPE_AUTH_TOKEN).
 * Signing in sets an HttpOnly session cookie, which every same-origin fetch
 * and the WebSocket then carry by themselves: the page never holds the token.
 */
export interface AuthClient {
  status(): Promise<AuthStatus>;
  /** `wrong` when the server refused the token. */
  login(token: string): Promise<"ok" | "wrong">;
}

export function createAuthClient(
  base = "",
  fetchImpl: typeof fetch = (...args) => fetch(...args),
): AuthClient {
  return {
    async status() {
      const response = await fetchImpl(`${base}/api/auth/status`);
      if (!response.ok) {
        throw new ApiError(
          `http_${response.status}`,
          "Could not read the sign-in state.",
          response.status,
        );
      }
      return (await response.json()) as AuthStatus;
    },
    async login(token) {
      const response = await fetchImpl(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      if (response.status === 401 || response.status === 400) return "wrong";
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as {
          error?: { code?: string; message?: string };
        } | null;
        throw new ApiError(
          body?.error?.code ?? `http_${response.status}`,
          body?.error?.message ?? `Signing in failed (${response.status}).`,
          response.status,
        );
      }
      return "ok";
    },
  };
}
