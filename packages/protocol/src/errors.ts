import { Type, type Static } from "typebox";

/**
 * `{ "error": { "message", "type", "param", "code" } }`: every error the
 * server answers with, in OpenAI's shape, so the official clients raise it
 * with its message, code and the parameter at fault.
 */
export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    message: Type.String(),
    /** OpenAI's class of error (`invalid_request_error`, `server_error`, ...), from the status. */
    type: Type.String(),
    /** The request field at fault (`max_completion_tokens`, `budget_forcing.num_waits`), or null. */
    param: Type.Union([Type.String(), Type.Null()]),
    code: Type.String(),
    /** The stored run, when a run failed after it started (its partial output is kept there). */
    run_id: Type.Optional(Type.String()),
  }),
});
export type ErrorBody = Static<typeof ErrorBodySchema>;

/** OpenAI's error `type` for an HTTP status. */
export function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The one way to build an error body. */
export function errorBody(
  status: number,
  code: string,
  message: string,
  extra: { param?: string | null; run_id?: string } = {},
): ErrorBody {
  const error: ErrorBody["error"] = {
    message,
    type: errorType(status),
    param: extra.param ?? null,
    code,
  };
  if (extra.run_id !== undefined) error.run_id = extra.run_id;
  return { error };
}
