import { Readable } from "node:stream";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ThinkscopeError } from "@thinkscope/core";
import { Type } from "typebox";
import { ErrorResponses } from "../../schemas/common.ts";
import {
  ImportResultSchema,
  RunDetailResponseSchema,
  RunIdParamsSchema,
  RunListQuerySchema,
  RunListSchema,
} from "@thinkscope/protocol";
import { importRunsJsonl } from "../../store/run-import.ts";

/** An export's media types. Not `text/plain`: a page on any site may send that without asking first. */
const JSONL_TYPES = ["application/x-ndjson", "application/jsonl", "application/json-lines"];

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { runStore } = fastify;

  fastify.get(
    "/api/runs",
    {
      schema: {
        querystring: RunListQuerySchema,
        response: { 200: RunListSchema, ...ErrorResponses },
      },
    },
    async (request) => {
      const { experiment_id, exclude_source, parent_run_id, ...query } = request.query;
      return runStore.list({
        ...query,
        experimentId: experiment_id,
        excludeSource: exclude_source,
        parentRunId: parent_run_id,
      });
    },
  );

  // Registered before /api/runs/:id so "export" is never read as an id.
  fastify.get(
    "/api/runs/export",
    { schema: { querystring: Type.Omit(RunListQuerySchema, ["limit", "offset"]) } },
    async (request, reply) => {
      const { experiment_id, exclude_source, parent_run_id, ...query } = request.query;
      const stamp = new Date().toISOString().slice(0, 10);
      return reply
        .type("application/x-ndjson; charset=utf-8")
        .header("content-disposition", `attachment; filename="thinkscope-runs-${stamp}.jsonl"`)
        .send(
          Readable.from(
            runStore.exportLines({
              ...query,
              experimentId: experiment_id,
              excludeSource: exclude_source,
              parentRunId: parent_run_id,
            }),
          ),
        );
    },
  );

  fastify.get(
    "/api/runs/:id",
    {
      schema: {
        params: RunIdParamsSchema,
        response: { 200: RunDetailResponseSchema, ...ErrorResponses },
      },
    },
    async (request) => {
      const run = runStore.get(request.params.id);
      if (!run) throw notFound(request.params.id);
      return run;
    },
  );

  fastify.delete(
    "/api/runs/:id",
    { schema: { params: RunIdParamsSchema, response: { 204: Type.Null(), ...ErrorResponses } } },
    async (request, reply) => {
      if (!runStore.delete(request.params.id)) throw notFound(request.params.id);
      return reply.code(204).send(null);
    },
  );

  // An export is read as it arrives (store/run-import.ts): the parser hands the handler the body's stream.
  const limit = fastify.config.importBodyLimit;
  fastify.addContentTypeParser(JSONL_TYPES, (_request, payload, done) => done(null, payload));
  fastify.post(
    "/api/runs/import",
    {
      // Refused before a byte of the body is read; the connection then closes rather than read the rest.
      onRequest: async (request, reply) => {
        const type = request.headers["content-type"]?.split(";")[0]!.trim().toLowerCase() ?? "";
        if (!JSONL_TYPES.includes(type)) {
          reply.header("connection", "close");
          throw new ThinkscopeError(
            "unsupported_media_type",
            `Send the export as application/x-ndjson (one JSON run per line), not ${type || "without a content type"}.`,
            { status: 415 },
          );
        }
        if (Number(request.headers["content-length"]) > limit) {
          reply.header("connection", "close");
          throw tooLarge(limit);
        }
      },
      schema: { response: { 200: ImportResultSchema, ...ErrorResponses } },
    },
    async (request, reply) => {
      try {
        return await importRunsJsonl(runStore, request.body as Readable, {
          maxBytes: limit,
          tooLarge: () => tooLarge(limit),
          log: request.log,
        });
      } catch (error) {
        if (request.raw.complete) throw error;
        // What is left of the body is not read: the connection closes after the answer.
        reply.header("connection", "close");
        if (ThinkscopeError.isInstance(error)) throw error;
        throw new ThinkscopeError(
          "import_aborted",
          "The upload was cut off: nothing was imported.",
          {
            status: 400,
            cause: error,
          },
        );
      }
    },
  );
};

function tooLarge(limit: number): ThinkscopeError {
  return new ThinkscopeError(
    "body_too_large",
    `The import is larger than the server takes (${limit} bytes, THINKSCOPE_IMPORT_LIMIT): nothing was imported.`,
    { status: 413 },
  );
}

function notFound(id: string): ThinkscopeError {
  return new ThinkscopeError("run_not_found", `No run with id "${id}".`, { status: 404 });
}

export default routes;
