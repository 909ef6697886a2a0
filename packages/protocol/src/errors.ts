import { Type, type Static } from "typebox";

/** `{ "error": { "code", "message" } }`: every error the server answers with. */
export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    /** The stored run, when a run failed after it started (its partial output is kept there). */
    run_id: Type.Optional(Type.String()),
  }),
});
export type ErrorBody = Static<typeof ErrorBodySchema>;
