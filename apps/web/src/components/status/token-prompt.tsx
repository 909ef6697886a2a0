import { useId, useState, type FormEvent } from "react";
import { useApp } from "../../store/app-store.ts";
import { createAuthClient, type AuthClient } from "../../lib/auth-client.ts";

const defaultAuth = createAuthClient();

/**
 * Asks for the server's access token when the server says the page needs
 * it (a 401: the session ended, or the operator changed the token). The
 * page stays as it was; signing in reconnects and reloads the backends.
 */
export function TokenPrompt({ auth = defaultAuth }: { auth?: AuthClient }) {
  const required = useApp((s) => s.authRequired);
  const setAuthRequired = useApp((s) => s.setAuthRequired);
  const retryConnection = useApp((s) => s.retryConnection);
  const [token, setToken] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  if (!required) return null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      if ((await auth.login(token.trim())) === "wrong") {
        setProblem("That token is not right.");
        return;
      }
      setToken("");
      setAuthRequired(false);
      retryConnection();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="banner"
      data-tone="warn"
      role="alert"
      aria-label="Access token"
      onSubmit={(event) => void submit(event)}
    >
      <p>
        This Thinkscope server needs an access token. Enter the one you were given (or open the link
        that came with it).
      </p>
      <label htmlFor={inputId} className="visually-hidden">
        Access token
      </label>
      <input
        id={inputId}
        type="password"
        autoComplete="current-password"
        placeholder="Access token"
        value={token}
        aria-invalid={problem !== null}
        onChange={(event) => setToken(event.target.value)}
        required
      />
      <button type="submit" className="small primary" disabled={busy || token.trim() === ""}>
        Sign in
      </button>
      {problem && <p role="status">{problem}</p>}
    </form>
  );
}
