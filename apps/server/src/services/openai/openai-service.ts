/**
 * The OpenAI-compatible endpoints. With `budget_forcing` a request becomes a
 * stored run (source `api`); without it, it goes to the backend as it came:
 * forwarded to a server backend (status and body piped back, streaming
 * included), or, for the embedded backend, one plain generation answered in
 * OpenAI's shape.
 */
import { Readable, pipeline } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { FastifyBaseLogger, FastifyReply } from "fastify";
import { InvalidRequestError } from "@thinkscope/core";
import type { BackendRegistry, ResolvedModel } from "../../backends/registry.ts";
import { scrubbingStream, type Scrubber } from "../../lib/secrets.ts";
import { abortOnClientGone } from "../../lib/client-gone.ts";
import { publicMessage } from "../../lib/public-error.ts";
import { SseWriter } from "../../lib/sse-writer.ts";
import { closeWhenStalled } from "../../lib/stalled-response.ts";
import type { ChatCompletionRequest, CompletionRequest, ModelList } from "../../schemas/openai.ts";
import type { Admission } from "../admission.ts";
import type { ActiveRun, RunService } from "../run-service.ts";
import { answerPlain } from "./plain-response.ts";
import { chatRunInput, completionRunInput, requireMessages } from "./run-input.ts";
import {
  ChunkEncoder,
  chatResponse,
  completionResponse,
  responseContext,
  type Endpoint,
  type ResponseContext,
} from "./responses.ts";

export interface OpenAIServiceDeps {
  backends: BackendRegistry;
  runs: RunService;
  scrub: Scrubber;
  /** For the upstream's own answer passed through: secrets only (an answer may hold addresses). */
  scrubSecrets: Scrubber;
  log: FastifyBaseLogger;
  /** Operator limits; a plain request (no budget_forcing) is held to them here. */
  admission?: Admission;
  /** How long a streamed response may wait for a client that reads nothing before it is closed (ms). */
  stalledClientTimeoutMs: number;
}

export const RUN_ID_HEADER = "x-thinkscope-run-id";

export class OpenAIService {
  constructor(private readonly deps: OpenAIServiceDeps) {}

  /** `GET /v1/models`: every configured backend's models. */
  async models(): Promise<ModelList> {
    const { backends } = this.deps;
    const created = Math.floor(Date.now() / 1000);
    const data: ModelList["data"] = [];
    for (const entry of backends.list()) {
      for (const model of (await backends.models(entry)) ?? []) {
        const item: ModelList["data"][number] = {
          id: model.id,
          object: "model",
          created,
          owned_by: entry.backend.kind,
          backend: entry.id,
        };
        if (model.contextLength !== undefined) item.context_length = model.contextLength;
        data.push(item);
      }
    }
    return { object: "list", data };
  }

  /** `POST /v1/completions`. Resolves to the reply once it is sent or streaming has ended. */
  async completions(body: CompletionRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (body.fork) return this.budgetForced("completion", completionRunInput(body), body, reply);
    if (body.prompt === undefined) {
      throw new InvalidRequestError("invalid_prompt", "`prompt` is required (or `fork`).");
    }
    const resolved = await this.deps.backends.resolveModel(body.model);
    if (body.budget_forcing === undefined)
      return this.forward("/completions", body, resolved, reply);
    return this.budgetForced("completion", completionRunInput(body), body, reply, resolved);
  }

  /** `POST /v1/chat/completions`. */
  async chatCompletions(body: ChatCompletionRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (body.fork) return this.budgetForced("chat", chatRunInput(body), body, reply);
    requireMessages(body.messages);
    const resolved = await this.deps.backends.resolveModel(body.model);
    if (body.budget_forcing === undefined)
      return this.forward("/chat/completions", body, resolved, reply);
    return this.budgetForced("chat", chatRunInput(body), body, reply, resolved);
  }

  private async budgetForced(
    endpoint: Endpoint,
    input: ReturnType<typeof completionRunInput>,
    body: CompletionRequest | ChatCompletionRequest,
    reply: FastifyReply,
    resolved?: ResolvedModel,
  ): Promise<FastifyReply> {
    // A fork names its model only to check it: it runs on its parent's.
    if (!resolved && body.model !== undefined)
      resolved = await this.deps.backends.resolveModel(body.model);
    // The client leaving, while the run prepares or streams, stops it as interrupted.
    const clientGone = abortOnClientGone(reply);
    let run: ActiveRun;
    try {
      run = await this.deps.runs.start(resolved ? { ...input, model: resolved.model } : input, {
        ...(resolved ? { entry: resolved.entry } : {}),
        signal: clientGone.signal,
        abortStatus: "interrupted",
        client: reply.request.client,
      });
    } catch (error) {
      clientGone.dispose();
      throw error;
    }
    void run.done.then(clientGone.dispose);
    const context = responseContext(endpoint, run);
    if (body.stream) {
      await this.stream(run, context, body.stream_options?.include_usage === true, reply);
      return reply;
    }
    for await (const _event of run.events()) {
      // The transcript folds the events; the whole response is built at the end.
    }
    reply.header(RUN_ID_HEADER, run.id);
    const error = run.transcript.error;
    if (error) {
      const message = publicMessage(error.status, error.message);
      return reply
        .code(error.status)
        .send({ error: { code: error.code, message, run_id: run.id } });
    }
    if (run.transcript.finishReason === "aborted") {
      // The client left (nobody reads this) or the server is stopping.
      return reply.code(503).send({
        error: {
          code: "run_aborted",
          message: "The run was stopped before it finished.",
          run_id: run.id,
        },
      });
    }
    return reply.send(
      endpoint === "chat" ? chatResponse(run, context) : completionResponse(run, context),
    );
  }

  private async stream(
    run: ActiveRun,
    context: ResponseContext,
    includeUsage: boolean,
    reply: FastifyReply,
  ) {
    const sse = new SseWriter(reply, this.deps.stalledClientTimeoutMs, {
      [RUN_ID_HEADER]: run.id,
    });
    const encoder = new ChunkEncoder(context, includeUsage);
    let failed = false;
    try {
      for await (const event of run.events()) {
        if (event.type === "run.error") {
          failed = true;
          // The OpenAI clients raise an APIError on an `error` payload; the partial run stays stored.
          const message = publicMessage(event.status, event.message);
          await sse.send({ error: { code: event.code, message, run_id: run.id } });
          continue;
        }
        for (const chunk of encoder.encode(event)) await sse.send(chunk);
      }
      if (!failed && run.transcript.finishReason !== "aborted") {
        for (const chunk of encoder.finishRun(run)) await sse.send(chunk);
        await sse.done();
      }
    } finally {
      sse.end();
    }
  }

  /** Without `budget_forcing`: the backend answers the request as it is. */
  private async forward(
    path: "/completions" | "/chat/completions",
    body: CompletionRequest | ChatCompletionRequest,
    resolved: ResolvedModel,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const { admission } = this.deps;
    if (admission) {
      const maxTokens =
        "max_completion_tokens" in body
          ? (body.max_completion_tokens ?? body.max_tokens)
          : body.max_tokens;
      admission.checkPlainMaxTokens(maxTokens);
      // Held until the response is over, however it ends.
      reply.raw.once("close", admission.acquire(reply.request.client));
    }
    const { backend } = resolved.entry;
    if (!backend.passthrough) {
      const endpoint: Endpoint = path === "/chat/completions" ? "chat" : "completion";
      return answerPlain({ endpoint, body, resolved, reply, ...this.deps });
    }
    const upstreamAbort = abortOnClientGone(reply);
    // Only a model named through this server (`backend/model`) is rewritten; everything else goes as sent.
    let forwarded: unknown = body;
    if (resolved.aliased) {
      const { model: _alias, ...rest } = body;
      forwarded = resolved.model === undefined ? rest : { ...rest, model: resolved.model };
    }
    const upstream = await backend.passthrough({
      path,
      body: forwarded,
      signal: upstreamAbort.signal,
    });
    reply.code(upstream.status);
    const contentType = upstream.headers.get("content-type");
    if (contentType) reply.header("content-type", contentType);
    if (!upstream.ok || !upstream.body) {
      // An upstream error body may quote the request's credentials back.
      const text = await upstream.text();
      upstreamAbort.dispose();
      return reply.send(this.deps.scrub(text));
    }
    reply.raw.once("finish", () => upstreamAbort.dispose());
    closeWhenStalled(reply, this.deps.stalledClientTimeoutMs);
    // An upstream may echo the request's credentials in a successful answer too.
    const answer = Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>);
    const scrubbed = scrubbingStream(this.deps.scrubSecrets);
    // `pipeline`, not `pipe`: an upstream cut short (the client left, a stall) ends the reply
    // through `scrubbed` instead of surfacing as an uncaught error.
    pipeline(answer, scrubbed, () => {});
    return reply.send(scrubbed);
  }
}
