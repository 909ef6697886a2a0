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
} from "../../schemas/runs.ts";
import { parseRunsJsonl } from "../../store/run-import.ts";

/** Not `text/plain`: a page on another site can send that without asking first. */
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
      const { experiment_id, ...query } = request.query;
      return runStore.list({ ...query, experimentId: experiment_id });
    },
  );

  // Registered before /api/runs/:id so "export" is never read as an id.
  fastify.get(
    "/api/runs/export",
    { schema: { querystring: Type.Omit(RunListQuerySchema, ["limit", "offset"]) } },
    async (request, reply) => {
      const { experiment_id, ...query } = request.query;
      const stamp = new Date().toISOString().slice(0, 10);
      return reply
        .type("application/x-ndjson; charset=utf-8")
        .header("content-disposition", `attachment; filename="thinkscope-runs-${stamp}.jsonl"`)
        .send(Readable.from(runStore.exportLines({ ...query, experimentId: experiment_id })));
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

  // An export file is one JSONL document: read it whole, check every line, then store all or nothing.
  fastify.addContentTypeParser(
    JSONL_TYPES,
    { parseAs: "string", bodyLimit: fastify.config.importBodyLimit },
    (_request, body, done) => done(null, body),
  );
  fastify.post(
    "/api/runs/import",
    {
      bodyLimit: fastify.config.importBodyLimit,
      schema: { body: Type.String(), response: { 200: ImportResultSchema, ...ErrorResponses } },
    },
    async (request) => runStore.importRuns(parseRunsJsonl(request.body)),
  );
};

function notFound(id: string): ThinkscopeError {
  return new ThinkscopeError("run_not_found", `No run with id "${id}".`, { status: 404 });
}

export default routes;
