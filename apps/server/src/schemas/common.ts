import { Type } from "typebox";

/** `{ "error": { "code", "message" } }`, every error the server answers with (contract). */
export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    /** The stored run, when a run failed after it started (its partial output is kept there). */
    run_id: Type.Optional(Type.String()),
  }),
});

/** Error responses every route may give; spread into a route's `response`. */
export const ErrorResponses = {
  400: ErrorBodySchema,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
  413: ErrorBodySchema,
  415: ErrorBodySchema,
  500: ErrorBodySchema,
  502: ErrorBodySchema,
  503: ErrorBodySchema,
  504: ErrorBodySchema,
  507: ErrorBodySchema,
} as const;

/**
 * A whole number in a query string. Not `Type.Integer`: query values are
 * converted before they are checked, and that conversion cuts an integer's
 * fraction off (`limit=1.5` passed as 1); a number is taken as it is, then
 * refused unless whole.
 */
export function QueryInteger(range: { minimum: number; maximum?: number }) {
  return Type.Number({ maximum: Number.MAX_SAFE_INTEGER, ...range, multipleOf: 1 });
}
