import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  ExperimentCreateSchema,
  ExperimentDetailSchema,
  ExperimentIdParamsSchema,
  ExperimentListQuerySchema,
  ExperimentListSchema,
  ExperimentPresetListSchema,
  ExperimentResultsDocumentSchema,
} from "@thinkscope/protocol";
import { Type } from "typebox";
import { presetInfos } from "../../services/experiments/presets.ts";
import { ErrorResponses } from "../../schemas/common.ts";

/** Experiments: create and start, list, read, cancel, resume, export, delete. */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { experiments } = fastify;
  const byId = { params: ExperimentIdParamsSchema };

  fastify.post(
    "/api/experiments",
    {
      // An uploaded dataset travels in the body, so it may be as large as a runs import.
      bodyLimit: fastify.config.importBodyLimit,
      schema: {
        body: ExperimentCreateSchema,
        response: { 201: ExperimentDetailSchema, ...ErrorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await experiments.create(request.body)),
  );

  fastify.get(
    "/api/experiments",
    {
      schema: {
        querystring: ExperimentListQuerySchema,
        response: { 200: ExperimentListSchema, ...ErrorResponses },
      },
    },
    async (request) => experiments.list(request.query.limit, request.query.offset),
  );

  // Registered before /api/experiments/:id so "presets" is never read as an id.
  fastify.get(
    "/api/experiments/presets",
    { schema: { response: { 200: ExperimentPresetListSchema } } },
    async () => ({ presets: presetInfos() }),
  );

  fastify.get(
    "/api/experiments/:id",
    { schema: { ...byId, response: { 200: ExperimentDetailSchema, ...ErrorResponses } } },
    async (request) => experiments.detail(request.params.id),
  );

  fastify.post(
    "/api/experiments/:id/cancel",
    { schema: { ...byId, response: { 200: ExperimentDetailSchema, ...ErrorResponses } } },
    async (request) => experiments.cancel(request.params.id),
  );

  fastify.post(
    "/api/experiments/:id/resume",
    { schema: { ...byId, response: { 200: ExperimentDetailSchema, ...ErrorResponses } } },
    async (request) => experiments.resume(request.params.id),
  );

  fastify.get(
    "/api/experiments/:id/results.json",
    {
      schema: { ...byId, response: { 200: ExperimentResultsDocumentSchema, ...ErrorResponses } },
    },
    async (request, reply) =>
      reply
        .header("content-disposition", `attachment; filename="${request.params.id}.json"`)
        .send(experiments.resultsDocument(request.params.id)),
  );

  fastify.get(
    "/api/experiments/:id/results.csv",
    {
      schema: {
        ...byId,
        querystring: Type.Object(
          {
            /** `settings` (default): one row per setting; `items`: one row per run. */
            rows: Type.Optional(Type.Union([Type.Literal("settings"), Type.Literal("items")])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.String(), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const rows = request.query.rows ?? "settings";
      const csv = experiments.csv(request.params.id, rows);
      const suffix = rows === "items" ? "-items" : "";
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${request.params.id}${suffix}.csv"`)
        .send(csv);
    },
  );

  fastify.delete(
    "/api/experiments/:id",
    { schema: { ...byId, response: { 204: Type.Null(), ...ErrorResponses } } },
    async (request, reply) => {
      experiments.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
};

export default routes;
