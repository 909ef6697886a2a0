/**
 * `POST /api/runs/preview`: what a run of this spec would use (the prompt as
 * the model would see it, its tokens, the budgets fitted to the context),
 * without generating or storing anything. A spec the run would refuse gets
 * the same 400.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { RunPreviewSchema, RunSpecSchema } from "@thinkscope/protocol";
import { ErrorResponses } from "../../schemas/common.ts";
import { runInputFromSpec } from "../../services/run-service.ts";

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    "/api/runs/preview",
    { schema: { body: RunSpecSchema, response: { 200: RunPreviewSchema, ...ErrorResponses } } },
    async (request) => fastify.runService.preview(runInputFromSpec(request.body, "page")),
  );
};

export default routes;
