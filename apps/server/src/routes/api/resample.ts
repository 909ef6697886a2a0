/**
 * Resample analyses: `POST /api/runs/:id/resample` starts one (202), its
 * state is `GET /api/resamples/:id`, its progress streams as server-sent
 * events from `GET /api/resamples/:id/events`, and its samples export as CSV.
 * A run's family (itself, its ancestors' root and every fork) is
 * `GET /api/runs/:id/family`.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ThinkscopeError } from "@thinkscope/core";
import {
  ResampleAnalysisSchema,
  ResampleListSchema,
  ResampleRequestSchema,
  RunIdParamsSchema,
  RunSummarySchema,
  type ResampleAnalysis,
} from "@thinkscope/protocol";
import { Type } from "typebox";
import { SseWriter } from "../../lib/sse-writer.ts";
import { ErrorResponses } from "../../schemas/common.ts";

const AnalysisParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { resamples, runStore } = fastify;

  const analysisOr404 = (id: string): ResampleAnalysis => {
    const analysis = resamples.get(id);
    if (!analysis) {
      throw new ThinkscopeError("resample_not_found", `No resample analysis ${id}.`, {
        status: 404,
      });
    }
    return analysis;
  };

  fastify.post(
    "/api/runs/:id/resample",
    {
      schema: {
        params: RunIdParamsSchema,
        body: ResampleRequestSchema,
        response: { 202: ResampleAnalysisSchema, ...ErrorResponses },
      },
    },
    async (request, reply) =>
      reply.code(202).send(resamples.start(request.params.id, request.body)),
  );

  fastify.get(
    "/api/runs/:id/resamples",
    {
      schema: {
        params: RunIdParamsSchema,
        response: { 200: ResampleListSchema, ...ErrorResponses },
      },
    },
    async (request) => ({ analyses: fastify.resamples.forRun(request.params.id) }),
  );

  fastify.get(
    "/api/runs/:id/family",
    {
      schema: {
        params: RunIdParamsSchema,
        response: { 200: Type.Object({ runs: Type.Array(RunSummarySchema) }), ...ErrorResponses },
      },
    },
    async (request) => {
      const runs = runStore.family(request.params.id);
      if (runs.length === 0) {
        throw new ThinkscopeError("run_not_found", `No run ${request.params.id}.`, { status: 404 });
      }
      return { runs };
    },
  );

  fastify.get(
    "/api/resamples/:id",
    {
      schema: {
        params: AnalysisParams,
        response: { 200: ResampleAnalysisSchema, ...ErrorResponses },
      },
    },
    async (request) => analysisOr404(request.params.id),
  );

  fastify.get(
    "/api/resamples/:id/events",
    { schema: { params: AnalysisParams } },
    async (request, reply) => {
      const first = analysisOr404(request.params.id);
      const sse = new SseWriter(reply, fastify.config.stalledClientTimeoutMs);
      let stop = () => {};
      try {
        await sse.send(first);
        if (first.status === "running") {
          await new Promise<void>((resolve) => {
            const queue: ResampleAnalysis[] = [];
            let writing = false;
            const drain = async () => {
              if (writing) return;
              writing = true;
              while (queue.length > 0) await sse.send(queue.shift()!);
              writing = false;
              if (last?.status !== "running" || sse.closed) resolve();
            };
            let last: ResampleAnalysis | undefined;
            stop = resamples.watch(first.id, (analysis) => {
              last = analysis;
              queue.push(analysis);
              void drain();
            });
            reply.raw.once("close", () => resolve());
            // Finished between the read and the watch: nothing more will come.
            const now = resamples.get(first.id);
            if (now && now.status !== "running") {
              last = now;
              queue.push(now);
              void drain();
            }
          });
        }
        await sse.done();
      } finally {
        stop();
        sse.end();
      }
    },
  );

  fastify.get(
    "/api/resamples/:id/export",
    { schema: { params: AnalysisParams } },
    async (request, reply) => {
      const analysis = analysisOr404(request.params.id);
      const lines = ["at,sample,run_id,answer,correct"];
      for (const point of analysis.points) {
        point.samples.forEach((sample, i) => {
          lines.push(
            [point.at, i, sample.runId, csvField(sample.answer ?? ""), sample.correct ?? ""].join(
              ",",
            ),
          );
        });
      }
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${analysis.id}.csv"`)
        .send(lines.join("\n") + "\n");
    },
  );
};

/** A CSV field, quoted when it must be; a leading formula character is neutralised for spreadsheets. */
function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export default routes;
