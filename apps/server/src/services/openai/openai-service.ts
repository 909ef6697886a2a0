/**
 * The OpenAI-compatible endpoints. Every request is a run (source `api`,
 * stored unless the operator turned that off): the thinking is separated
 * from the answer, whatever the client asked or did not ask of it
 * (`thinkingRequest` reads every server's thinking parameters). A request
 * with a field only an upstream server can honour (`tools`, `logprobs`, ...)
 * and no thinking budget goes to that upstream as it came (status and body
 * piped back, streaming included); where there is no upstream it is refused
 * by name.
 */
import { Readable, pipeline } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { InvalidRequestError, ThinkscopeError } from "@thinkscope/core";
import { errorBody } from "@thinkscope/protocol";
import type { FastifyBaseLogger, FastifyReply } from "fastify";
import type { BackendRegistry, ResolvedModel } from "../../backends/registry.ts";
import { scrubbingStream, type Scrubber } from "../../lib/secrets.ts";
import { abortOnClientGone } from "../../lib/client-gone.ts";
import { publicMessage } from "../../lib/public-error.ts";
import { SseWriter } from "../../lib/sse-writer.ts";
import { closeWhenStalled } from "../../lib/stalled-response.ts";
import type { ChatCompletionRequest, CompletionRequest, ModelList } from "../../schemas/openai.ts";
import type { Admission } from "../admission.ts";
import type { ActiveRun, RunService } from "../run-service.ts";
import type { RunInput } from "../run-service.ts";
import {
  chatRunInput,
  completionRunInput,
  requireMessages,
  unhonouredError,
  unhonouredParameter,
} from "./run-input.ts";
import { thinkingRequest, type ThinkingRequest } from "./thinking-parameters.ts";
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
  /** Keep API requests as runs (default); off, they stream unstored. */
  storeRuns?: boolean;
}

export const RUN_ID_HEADER = "x-thinkscope-run-id";
/** Which other servers' parameters were mapped to what (`reasoning_effort=low -> max_thinking_tokens=128`). */
export const APPLIED_HEADER = "x-thinkscope-applied";

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

  /** `GET /v1/models/:id`: one model, as the list shows it; 404 `model_not_found` otherwise. */
  async model(id: string): Promise<ModelList["data"][number]> {
    const { data } = await this.models();
    const found = data.find((model) => model.id === id);
    if (found) return found;
    // `default`, `backendId` or `backendId/model`: the model that name resolves to, under that name.
    const resolved = await this.deps.backends.resolveModel(id);
    const listed = data.find(
      (model) => model.backend === resolved.entry.id && (resolved.model ?? model.id) === model.id,
    );
    if (listed) return { ...listed, id };
    throw new ThinkscopeError("model_not_found", `The model "${id}" is not served here.`, {
      status: 404,
      param: "model",
    });
  }

  /** `POST /v1/completions`. Resolves to the reply once it is sent or streaming has ended. */
  async completions(body: CompletionRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (body.prompt === undefined && !body.fork) {
      throw new InvalidRequestError(
        "invalid_prompt",
        "`prompt` is required (or `fork`).",
        "prompt",
      );
    }
    const resolved = await this.resolve(body);
    const thinking = this.thinking("/completions", body, resolved);
    if (thinking === "forward") return this.forward("/completions", body, resolved, reply);
    return this.run(
      "completion",
      completionRunInput(body, thinking),
      thinking,
      body,
      resolved,
      reply,
    );
  }

  /** `POST /v1/chat/completions`. */
  async chatCompletions(body: ChatCompletionRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (!body.fork) requireMessages(body.messages);
    const resolved = await this.resolve(body);
    const thinking = this.thinking("/chat/completions", body, resolved);
    if (thinking === "forward") return this.forward("/chat/completions", body, resolved, reply);
    return this.run("chat", chatRunInput(body, thinking), thinking, body, resolved, reply);
  }

  /** The backend and model a request names; a fork that names none runs on its parent's. */
  private async resolve(body: CompletionRequest | ChatCompletionRequest): Promise<ResolvedModel> {
    if (!body.fork || (body.model !== undefined && body.model !== "")) {
      return this.deps.backends.resolveModel(body.model);
    }
    const parent = this.deps.runs.forkParent(body.fork.run_id);
    return {
      entry: this.deps.backends.get(parent.backend),
      model: parent.model ?? undefined,
      aliased: false,
    };
  }

  /**
   * What the request asks of the thinking, or `forward` when it holds a field
   * only the upstream can honour and no thinking budget. Throws the 400 for a
   * field nobody here can honour.
   */
  private thinking(
    path: string,
    body: CompletionRequest | ChatCompletionRequest,
    resolved: ResolvedModel,
  ): ThinkingRequest | "forward" {
    const { backend, id } = resolved.entry;
    const thinking = thinkingRequest(body, backend.capabilities.contextLength);
    const unhonoured = unhonouredParameter(body);
    if (unhonoured === undefined) return thinking;
    if (thinking.budgeted || body.fork) {
      throw unhonouredError(
        unhonoured,
        "a run with a thinking budget does not honour it. Send the request without budget_forcing " +
          `and other thinking budgets to have the upstream answer it as is.`,
      );
    }
    if (!backend.passthrough) {
      throw unhonouredError(
        unhonoured,
        `the ${id} backend runs the model in this server, which does not honour it on ${path}.`,
      );
    }
    return "forward";
  }

  private async run(
    endpoint: Endpoint,
    input: RunInput,
    thinking: ThinkingRequest,
    body: CompletionRequest | ChatCompletionRequest,
    resolved: ResolvedModel,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    if (thinking.applied.length > 0) reply.header(APPLIED_HEADER, thinking.applied.join(", "));
    // The client leaving, while the run prepares or streams, stops it as interrupted.
    const clientGone = abortOnClientGone(reply);
    let run: ActiveRun;
    try {
      run = await this.deps.runs.start(
        { ...input, model: resolved.model },
        {
          entry: resolved.entry,
          signal: clientGone.signal,
          abortStatus: "interrupted",
          client: reply.request.client,
          unstored: this.deps.storeRuns === false,
        },
      );
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
        .send(errorBody(error.status, error.code, message, { run_id: run.id }));
    }
    if (run.transcript.finishReason === "aborted") {
      // The client left (nobody reads this) or the server is stopping.
      return reply.code(503).send(
        errorBody(503, "run_aborted", "The run was stopped before it finished.", {
          run_id: run.id,
        }),
      );
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
          await sse.send(errorBody(event.status, event.code, message, { run_id: run.id }));
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

  /** A request for the upstream alone: it answers the request as it is. */
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
    if (!backend.passthrough) throw new Error("forward() needs a backend with an upstream");
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
