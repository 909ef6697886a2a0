import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ErrorResponses } from "../../schemas/common.ts";
import {
  ChatCompletionRequestSchema,
  ChatCompletionResponseSchema,
  CompletionRequestSchema,
  CompletionResponseSchema,
  ModelListSchema,
  ModelSchema,
} from "../../schemas/openai.ts";
import { Type } from "typebox";

/**
 * OpenAI-compatible endpoints. Streaming and passthrough replies bypass the
 * response schemas (they are streams or the upstream's own bytes); the
 * schemas describe the non-streaming budget-forced answers.
 */
const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { openai } = fastify;

  fastify.get("/v1/models", { schema: { response: { 200: ModelListSchema } } }, async () =>
    openai.models(),
  );

  fastify.get(
    "/v1/models/:id",
    {
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 500 }) }),
        response: { 200: ModelSchema, ...ErrorResponses },
      },
    },
    async (request) => openai.model(request.params.id),
  );

  fastify.post(
    "/v1/completions",
    {
      schema: {
        body: CompletionRequestSchema,
        response: { 200: CompletionResponseSchema, ...ErrorResponses },
      },
    },
    async (request, reply) => openai.completions(request.body, reply),
  );

  fastify.post(
    "/v1/chat/completions",
    {
      schema: {
        body: ChatCompletionRequestSchema,
        response: { 200: ChatCompletionResponseSchema, ...ErrorResponses },
      },
    },
    async (request, reply) => openai.chatCompletions(request.body, reply),
  );
};

export default routes;
