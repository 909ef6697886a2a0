/**
 * The one error handler: every error is `{ "error": { "message", "type", "param", "code" } }`.
 * Bad input (4xx) says what was wrong; upstream failures (502/503/504) say
 * which backend failed and how, with secrets scrubbed; anything else is a 500
 * whose details stay in the log.
 */
import { ThinkscopeError } from "@thinkscope/core";
import type { FastifyError, FastifySchemaValidationError } from "fastify";
import fp from "fastify-plugin";
import { errorBody } from "@thinkscope/protocol";
import { publicMessage } from "../lib/public-error.ts";
import { describeSchemaErrors, type SchemaError } from "../lib/schema-errors.ts";

/** Fastify's own 4xx codes, renamed to the API's snake_case vocabulary. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_BODY_TOO_LARGE: "body_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_VALIDATION: "invalid_request",
};

export function describeError(
  error: unknown,
  scrub: (text: string) => string,
): { status: number; code: string; message: string; param?: string } {
  if (ThinkscopeError.isInstance(error)) {
    const described = {
      status: error.status,
      code: error.code,
      message: publicMessage(error.status, scrub(error.message)),
    };
    return error.param === undefined ? described : { ...described, param: error.param };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    let message = fastifyError.message ?? "Bad request.";
    // JSON.parse's own message ("Unexpected token } in JSON at position 9") needs its context.
    if (error instanceof SyntaxError && !fastifyError.code)
      message = `The body is not valid JSON: ${message}`;
    return {
      status,
      code:
        FASTIFY_CODES[fastifyError.code ?? ""] ??
        (fastifyError.code ?? "bad_request").toLowerCase(),
      message: scrub(message),
    };
  }
  return { status: 500, code: "internal_error", message: "Internal server error." };
}

/** Fastify's `schemaErrorFormatter`: `body/budget_forcing/num_waits must be >= 0`. */
export function formatValidationErrors(
  errors: FastifySchemaValidationError[],
  dataVar: string,
): Error {
  return new Error(describeSchemaErrors(errors as SchemaError[], (path) => `${dataVar}${path}`));
}

export default fp(
  async (fastify) => {
    fastify.setErrorHandler((error, request, reply) => {
      const { status, code, message, param } = describeError(error, fastify.scrub);
      if (status >= 500) request.log.error({ err: error }, "request failed");
      else request.log.info({ code, status }, message);
      if (reply.sent || reply.raw.headersSent) return;
      return reply.code(status).send(errorBody(status, code, message, { param }));
    });
  },
  { name: "error-handler", dependencies: ["config"] },
);
