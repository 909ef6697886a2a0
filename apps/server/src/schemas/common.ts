import { ErrorBodySchema } from "@thinkscope/protocol";

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
