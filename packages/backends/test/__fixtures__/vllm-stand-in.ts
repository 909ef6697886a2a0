/**
 * A stand-in for a vLLM server that replays vLLM's wire format around a
 * family's real tokenizer and chat template: `/tokenize` (text, or chat
 * messages through the template), `/detokenize`, and streamed
 * `/v1/completions` whose tokens follow a scripted transition table (the same
 * one the family test models carry). Like vLLM it keeps a requested stop id
 * as the last `token_ids` entry without its text, reports it as
 * `stop_reason`, and holds back the text of a token that ends in half a
 * UTF-8 character.
 */
import type { FamilyTokenizer } from "../../src/testing/index.ts";
import { jsonAnswer, type Handler } from "./replay-server.ts";

interface CompletionBody {
  model: string;
  prompt: number[] | string;
  max_tokens: number;
  stop_token_ids?: number[];
}

export function vllmStandIn(
  tokenizer: FamilyTokenizer,
  transitions: ReadonlyMap<number, number>,
  model: string,
): Record<string, Handler> {
  const eos = tokenizer.id(tokenizer.eos);
  return {
    "GET /v1/models": jsonAnswer(200, {
      object: "list",
      data: [{ id: model, object: "model", owned_by: "vllm", root: model, max_model_len: 4096 }],
    }),
    "POST /tokenize": (_request, response, body) => {
      const { prompt, messages } = body as { prompt?: string; messages?: never[] };
      const text = messages ? tokenizer.render(messages) : (prompt ?? "");
      const tokens = tokenizer.encode(text);
      jsonAnswer(200, { count: tokens.length, max_model_len: 4096, tokens, token_strs: null })(
        _request,
        response,
        body,
      );
    },
    "POST /detokenize": (request, response, body) => {
      const { tokens } = body as { tokens: number[] };
      jsonAnswer(200, { prompt: tokenizer.decode(tokens) })(request, response, body);
    },
    "POST /v1/completions": (_request, response, body) => {
      const request = body as CompletionBody;
      const prompt =
        typeof request.prompt === "string" ? tokenizer.encode(request.prompt) : request.prompt;
      const stops = new Set(request.stop_token_ids ?? []);
      response.writeHead(200, { "Content-Type": "text/event-stream" });
      const chunk = (choice: Record<string, unknown>, completion: number) =>
        `data: ${JSON.stringify({
          id: "cmpl-stand-in",
          object: "text_completion",
          created: 0,
          model: request.model,
          choices: [{ index: 0, logprobs: null, prompt_token_ids: null, ...choice }],
          usage: {
            prompt_tokens: prompt.length,
            completion_tokens: completion,
            total_tokens: prompt.length + completion,
          },
        })}\n\n`;
      const generated: number[] = [];
      let shown = "";
      let last = prompt.at(-1)!;
      for (;;) {
        const next = transitions.get(last) ?? eos;
        const stopped = stops.has(next) ? next : next === eos ? null : undefined;
        if (stopped !== undefined) {
          const finish = { text: "", finish_reason: "stop", stop_reason: stopped };
          response.write(chunk({ ...finish, token_ids: [next] }, generated.length + 1));
          break;
        }
        generated.push(next);
        last = next;
        // vLLM's incremental detokenizer shows no text while the last character is incomplete.
        const decoded = tokenizer.decode(generated);
        const text = decoded.endsWith("\uFFFD") ? "" : decoded.slice(shown.length);
        shown += text;
        const done = generated.length >= request.max_tokens;
        response.write(
          chunk(
            {
              text,
              finish_reason: done ? "length" : null,
              stop_reason: null,
              token_ids: [next],
            },
            generated.length,
          ),
        );
        if (done) break;
      }
      response.write("data: [DONE]\n\n");
      response.end();
    },
  };
}
