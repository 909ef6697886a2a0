/**
 * A request without `budget_forcing` to a backend with no upstream to forward
 * it to (the embedded one): one plain generation answered in OpenAI's shape,
 * streamed or not, as an OpenAI-compatible server would. Not stored.
 */
import { ThinkscopeError } from "@thinkscope/core";
import type { FastifyBaseLogger, FastifyReply } from "fastify";
import type { BackendRegistry, ResolvedModel } from "../../backends/registry.ts";
import { abortOnClientGone } from "../../lib/client-gone.ts";
import { publicMessage } from "../../lib/public-error.ts";
import type { Scrubber } from "../../lib/secrets.ts";
import { SseWriter } from "../../lib/sse-writer.ts";
import type { ChatCompletionRequest, CompletionRequest } from "../../schemas/openai.ts";
import { renderChatTemplate } from "../chat-prompt.ts";
import { plainGeneration, type PlainRequest } from "./plain-generation.ts";
import { ChunkEncoder, type Endpoint, type ResponseContext, type Usage } from "./responses.ts";
import { requireMessages, toChatMessages } from "./run-input.ts";

export interface PlainAnswer {
  endpoint: Endpoint;
  body: CompletionRequest | ChatCompletionRequest;
  resolved: ResolvedModel;
  reply: FastifyReply;
  backends: BackendRegistry;
  scrub: Scrubber;
  log: FastifyBaseLogger;
  stalledClientTimeoutMs: number;
}

export async function answerPlain(answer: PlainAnswer): Promise<FastifyReply> {
  const { endpoint, body, resolved, reply } = answer;
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw new ThinkscopeError("unsupported_n", `n must be 1 on the ${resolved.entry.id} backend.`, {
      status: 400,
    });
  }
  const clientGone = abortOnClientGone(reply);
  try {
    const request: PlainRequest = {
      prompt: await promptOf(answer),
      model: resolved.model,
      maxTokens: maxTokensOf(body),
      defaultMaxTokens: endpoint === "chat" ? "chat" : "completions",
      stop: body.stop === undefined || body.stop === null ? [] : [body.stop].flat(),
      sampling: {
        ...(body.temperature != null ? { temperature: body.temperature } : {}),
        ...(body.top_p != null ? { topP: body.top_p } : {}),
        ...(body.seed != null ? { seed: body.seed } : {}),
      },
      signal: clientGone.signal,
    };
    const context: ResponseContext = {
      endpoint,
      id: `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${crypto.randomUUID()}`,
      created: Math.floor(Date.now() / 1000),
      model:
        resolved.model ??
        (await answer.backends.models(resolved.entry))?.[0]?.id ??
        resolved.entry.id,
    };
    const events = plainGeneration(resolved.entry.backend, request);
    if (body.stream) return await stream(answer, events, context);

    let text = "";
    for await (const event of events) {
      if (event.type === "text") {
        text += event.text;
        continue;
      }
      const usage = usageOf(event.promptTokens, event.completionTokens);
      const base = { id: context.id, created: context.created, model: context.model, usage };
      const choice = { index: 0, logprobs: null, finish_reason: event.finishReason };
      return reply.send(
        endpoint === "chat"
          ? {
              ...base,
              object: "chat.completion",
              choices: [{ ...choice, message: { role: "assistant", content: text } }],
            }
          : { ...base, object: "text_completion", choices: [{ ...choice, text }] },
      );
    }
    throw new ThinkscopeError("internal_error", "The generation ended without finishing.");
  } finally {
    clientGone.dispose();
  }
}

async function stream(
  answer: PlainAnswer,
  events: ReturnType<typeof plainGeneration>,
  context: ResponseContext,
): Promise<FastifyReply> {
  const { body, reply, scrub, log } = answer;
  // The first event before the 200: a request refused at the start still gets a JSON error.
  const first = await events.next();
  const sse = new SseWriter(reply, answer.stalledClientTimeoutMs);
  const encoder = new ChunkEncoder(context, body.stream_options?.include_usage === true);
  try {
    for (let next = first; !next.done; next = await events.next()) {
      const event = next.value;
      const chunks =
        event.type === "text"
          ? encoder.encode({
              type: "delta",
              phase: "answer",
              text: event.text,
              tokens: event.tokens,
              phaseTokens: 0,
              time: 0,
            })
          : encoder.finish({
              finishReason: event.finishReason,
              usage: usageOf(event.promptTokens, event.completionTokens),
            });
      for (const chunk of chunks) await sse.send(chunk);
      if (event.type === "end") await sse.done();
    }
  } catch (error) {
    const failure = ThinkscopeError.isInstance(error) ? error : null;
    if (!failure || failure.status >= 500) log.error({ err: error }, "plain generation failed");
    await sse.send({
      error: {
        code: failure?.code ?? "internal_error",
        message: failure
          ? publicMessage(failure.status, scrub(failure.message))
          : "Internal server error.",
      },
    });
  } finally {
    sse.end();
  }
  return reply;
}

async function promptOf({ endpoint, body, resolved }: PlainAnswer): Promise<string> {
  if (endpoint === "completion") {
    const { prompt } = body as CompletionRequest;
    const text = Array.isArray(prompt) && prompt.length === 1 ? prompt[0] : prompt;
    if (typeof text !== "string") {
      throw new ThinkscopeError(
        "invalid_prompt",
        `The ${resolved.entry.id} backend takes \`prompt\` as one string.`,
        {
          status: 400,
        },
      );
    }
    return text;
  }
  const messages = toChatMessages(requireMessages((body as ChatCompletionRequest).messages));
  return renderChatTemplate(resolved.entry.backend, messages, { model: resolved.model });
}

function maxTokensOf(body: CompletionRequest | ChatCompletionRequest): number | undefined {
  const chatCap = "max_completion_tokens" in body ? body.max_completion_tokens : undefined;
  return chatCap ?? body.max_tokens ?? undefined;
}

function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}
