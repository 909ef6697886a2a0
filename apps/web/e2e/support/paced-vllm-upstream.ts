/**
 * A stand-in for a vLLM server that writes tokens at an exact, steady rate,
 * so the page can be measured under a known load (1,000 tokens/s) while the
 * real Thinkscope server and its vLLM adapter sit in between. It speaks the
 * parts of vLLM's wire format the adapter reads (packages/backends/src/vllm/
 * vllm-wire.ts, and the recorded test/__fixtures__/vllm-*.sse.txt): GET
 * /v1/models, POST /tokenize (text or chat messages), POST /detokenize and
 * streamed POST /v1/completions with `token_ids` and running usage.
 *
 * The "model" thinks `thinkingTokens` tokens of sentence-like text, closes
 * with `</think>` (its stop token id, as vLLM reports a `stop_token_ids`
 * hit), and answers " The answer is 42." once the prompt holds the close.
 * Asked for logprobs (the adapter probes `</think>`, or wants each token's
 * entropy), it reports each thinking token's top candidates under
 * `token_id:` keys, as vLLM does with `return_tokens_as_token_ids`: the
 * token, `</think>` at `endProbability`, and a rival word at
 * `rivalProbability`, so the entropy the adapter estimates rises and falls.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface PacedUpstreamOptions {
  tokensPerSecond: number;
  /** Thinking tokens before the model closes by itself. */
  thinkingTokens: number;
  modelName?: string;
  maxModelLen?: number;
}

export interface PacedUpstream {
  /** The OpenAI base URL, `http://127.0.0.1:PORT/v1` (what `vllm:URL` takes). */
  url: string;
  /** Completion requests served so far. */
  readonly completions: number;
  close(): Promise<void>;
}

const SPECIALS = ["<|im_start|>", "<|im_end|>", "<think>", "</think>"] as const;
const THINK_START = 3;
const THINK_END = 4;
const EOS = 2;
/** Words the thinking is made of; each is one token (id WORD_BASE + index). */
const WORDS = (
  " so the number of r in raspberry is what we need to count letter by letter ," +
  " first check each one again carefully and then add them up ; let me verify" +
  " this step because it is easy to miss a double r near the end"
).match(/ \S+/g)!;
const WORD_BASE = 100;
const NEWLINE_ID = 99;
/** Every other character is its own token. */
const CHAR_BASE = 1000;

/** Text to ids: special tokens whole (as Hugging Face tokenizers parse them), everything else per character. */
export function tokenize(text: string): number[] {
  const ids: number[] = [];
  let rest = text;
  outer: while (rest.length > 0) {
    for (const [index, special] of SPECIALS.entries()) {
      if (rest.startsWith(special)) {
        ids.push(index + 1);
        rest = rest.slice(special.length);
        continue outer;
      }
    }
    const char = String.fromCodePoint(rest.codePointAt(0)!);
    ids.push(CHAR_BASE + char.codePointAt(0)!);
    rest = rest.slice(char.length);
  }
  return ids;
}

export function detokenize(ids: readonly number[]): string {
  return ids
    .map((id) => {
      if (id >= 1 && id <= SPECIALS.length) return SPECIALS[id - 1];
      if (id === NEWLINE_ID) return "\n";
      if (id >= WORD_BASE && id < WORD_BASE + WORDS.length) return WORDS[id - WORD_BASE];
      if (id >= CHAR_BASE) return String.fromCodePoint(id - CHAR_BASE);
      return "";
    })
    .join("");
}

/**
 * The stand-in's probability of writing `</think>` at thinking step n: low,
 * with a swell every few hundred tokens (a made-up but steady pattern of stop
 * pressure, so the page's shading has something to draw at every level).
 */
export function endProbability(n: number): number {
  const swell = Math.max(0, Math.sin(n / 37)) ** 12;
  return Math.min(0.95, 0.005 + 0.9 * swell);
}

/**
 * The probability of the runner-up word at thinking step n: now and then a
 * close call (up to 45%), mostly none, out of step with the stop pressure.
 */
export function rivalProbability(n: number): number {
  return 0.001 + 0.45 * Math.max(0, Math.sin(n / 11)) ** 6;
}

/** The n-th thinking token: words, a line break about every 14 words, a blank line every 6 lines. */
function thinkingToken(n: number): number {
  // A fixed scramble, so the text is the same every run but not one repeated phrase.
  if (n % 15 === 14 || n % 90 === 88) return NEWLINE_ID;
  return WORD_BASE + ((n * 7 + Math.floor(n / 15) * 3) % WORDS.length);
}

const ANSWER = tokenize(" The answer is 42.");

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let raw = "";
  for await (const chunk of request) raw += chunk;
  return raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function chatMl(messages: { role: string; content: string }[]): string {
  return (
    messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("") +
    "<|im_start|>assistant\n<think>\n"
  );
}

export async function startPacedUpstream(options: PacedUpstreamOptions): Promise<PacedUpstream> {
  const model = options.modelName ?? "paced-reasoner";
  const maxModelLen = options.maxModelLen ?? 65_536;
  const msPerToken = 1000 / options.tokensPerSecond;
  let completions = 0;

  const streamCompletion = (body: Record<string, unknown>, response: ServerResponse) => {
    completions += 1;
    const prompt = Array.isArray(body.prompt)
      ? (body.prompt as number[])
      : tokenize(String(body.prompt ?? ""));
    const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : 16;
    const stopIds = Array.isArray(body.stop_token_ids) ? (body.stop_token_ids as number[]) : [];
    const wantsLogprobs = typeof body.logprobs === "number" && body.logprobs > 0;
    const opened = prompt.lastIndexOf(THINK_START);
    const answering = prompt.lastIndexOf(THINK_END) > opened;
    // Thinking so far: what follows the opener `<think>\n` (the newline belongs to the template).
    const newlineAfterOpener = prompt[opened + 1] === CHAR_BASE + 10 ? 1 : 0;
    const thoughtSoFar = opened < 0 ? 0 : prompt.length - opened - 1 - newlineAfterOpener;

    // The tokens this request will produce, then how it ends.
    let planned: number[];
    let closing: { id: number; stopReason: number | null } | null;
    if (answering) {
      planned = ANSWER;
      closing = { id: EOS, stopReason: null };
    } else {
      const left = Math.max(0, options.thinkingTokens - thoughtSoFar);
      planned = Array.from({ length: left }, (_, i) => thinkingToken(thoughtSoFar + i));
      closing = { id: THINK_END, stopReason: stopIds.includes(THINK_END) ? THINK_END : null };
    }
    if (planned.length >= maxTokens) {
      planned = planned.slice(0, maxTokens);
      closing = null;
    }

    const id = `cmpl-paced-${completions}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = (n: number) => ({
      prompt_tokens: prompt.length,
      completion_tokens: n,
      total_tokens: prompt.length + n,
    });
    const chunk = (choice: Record<string, unknown>, n: number) =>
      `data: ${JSON.stringify({
        id,
        object: "text_completion",
        created,
        model,
        choices: [{ index: 0, logprobs: null, finish_reason: null, stop_reason: null, ...choice }],
        usage: usage(n),
      })}\n\n`;

    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const started = performance.now();
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    response.on("close", () => clearTimeout(timer));
    const tick = () => {
      // Every token whose time has come, one SSE event each (vLLM's default stream_interval).
      const due = Math.min(
        planned.length,
        Math.floor((performance.now() - started) / msPerToken) + 1,
      );
      let out = "";
      for (; sent < due; sent++) {
        const token = planned[sent]!;
        const first = sent === 0;
        const step = thoughtSoFar + sent;
        const end = endProbability(step);
        const rival = rivalProbability(step);
        // The rival is another word of the thinking, never the token itself.
        const rivalId = WORD_BASE + ((token - WORD_BASE + 1) % WORDS.length);
        const own = Math.log(Math.max(0.01, 1 - end - rival));
        const logprobs =
          wantsLogprobs && !answering
            ? {
                tokens: [`token_id:${token}`],
                token_logprobs: [own],
                top_logprobs: [
                  {
                    [`token_id:${token}`]: own,
                    [`token_id:${THINK_END}`]: Math.log(end),
                    [`token_id:${rivalId}`]: Math.log(rival),
                  },
                ],
              }
            : null;
        out += chunk(
          {
            text: detokenize([token]),
            token_ids: [token],
            ...(first ? { prompt_token_ids: prompt } : {}),
            ...(logprobs ? { logprobs } : {}),
          },
          sent + 1,
        );
      }
      if (sent === planned.length) {
        // vLLM puts a stop token's id in token_ids but leaves its text out.
        const finish = closing
          ? chunk(
              {
                text: "",
                token_ids: [closing.id],
                finish_reason: "stop",
                stop_reason: closing.stopReason,
              },
              sent + 1,
            )
          : chunk({ text: "", token_ids: [], finish_reason: "length" }, sent);
        const total = sent + (closing ? 1 : 0);
        out += finish;
        out += `data: ${JSON.stringify({ id, object: "text_completion", created, model, choices: [], usage: usage(total) })}\n\n`;
        out += "data: [DONE]\n\n";
        response.end(out);
        return;
      }
      if (out) response.write(out);
      timer = setTimeout(tick, Math.max(1, msPerToken));
    };
    tick();
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const route = `${request.method} ${path}`;
    void (async () => {
      if (route === "GET /v1/models") {
        return sendJson(response, 200, {
          object: "list",
          data: [{ id: model, object: "model", max_model_len: maxModelLen }],
        });
      }
      const body = await readJson(request);
      switch (route) {
        case "POST /tokenize": {
          const text = Array.isArray(body.messages)
            ? chatMl(body.messages as { role: string; content: string }[])
            : String(body.prompt ?? "");
          const tokens = tokenize(text);
          return sendJson(response, 200, {
            tokens,
            count: tokens.length,
            max_model_len: maxModelLen,
          });
        }
        case "POST /detokenize":
          return sendJson(response, 200, {
            prompt: detokenize((body.tokens as number[] | undefined) ?? []),
          });
        case "POST /v1/completions":
          if (body.stream !== true) {
            return sendJson(response, 400, {
              object: "error",
              message: "This stand-in only streams.",
            });
          }
          return streamCompletion(body, response);
        default:
          return sendJson(response, 404, { object: "error", message: `No route ${route}.` });
      }
    })().catch((error: unknown) => {
      if (!response.headersSent)
        sendJson(response, 500, { object: "error", message: String(error) });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get completions() {
      return completions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
