/**
 * A local stand-in for vLLM's OpenAI-compatible server, speaking exactly
 * the wire format Thinkscope's vLLM adapter sends and reads
 * (packages/backends/src/vllm, fixtures in packages/backends/test/__fixtures__):
 *
 * - `GET /v1/models` with `max_model_len`; `GET /health`.
 * - `POST /tokenize` (`prompt` or chat `messages`) and `POST /detokenize`.
 * - `POST /v1/completions` streamed as SSE: token-id or text prompts,
 *   `stop_token_ids`, `max_tokens`, `return_token_ids` (each chunk's new
 *   `token_ids`, the prompt's ids on the first), continuous usage, a
 *   closing usage chunk with cached prompt tokens, then `data: [DONE]`.
 *
 * The "model" is a reasoner with a known output, so a client can check
 * that no token was lost or reordered on the way: in the thinking segment
 * it writes `think` tokens and then tries to close with `</think>` (a stop
 * token id, left out of the text as vLLM does); after the close it answers
 * `answer` tokens and ends with its end-of-sequence token. The n-th token
 * it generates for a run has id `GENERATED_BASE + n`, where n counts on
 * across the run's continuations (read off the prompt), and a word of a
 * small vocabulary as its text (a model's text repeats its words, which the
 * run store's compression and search index rely on; a counter would not).
 *
 * A run is named by a marker in its prompt, `[run:KEY think=N answer=M tps=P]`
 * (all but the key optional; `tps` paces this run); `sentIds(KEY)` is every id the upstream
 * sent for it, in order. Pace: `tokensPerSecond` per stream (a shared GPU
 * gives each student some tens), or 0 for as fast as the socket takes them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const SPECIAL_TOKENS: Record<string, number> = {
  "<|endoftext|>": 151643,
  "<|im_start|>": 151644,
  "<|im_end|>": 151645,
  "<think>": 151667,
  "</think>": 151668,
};
const SPECIAL_TEXT = new Map(Object.entries(SPECIAL_TOKENS).map(([text, id]) => [id, text]));
const SPECIALS_LONGEST_FIRST = Object.keys(SPECIAL_TOKENS).sort((a, b) => b.length - a.length);
export const THINK_OPEN = SPECIAL_TOKENS["<think>"]!;
export const THINK_CLOSE = SPECIAL_TOKENS["</think>"]!;
export const EOS = SPECIAL_TOKENS["<|im_end|>"]!;

/** Generated tokens: `GENERATED_BASE + n` (n wraps at GENERATED_SPAN). */
export const GENERATED_BASE = 200_000;
const GENERATED_SPAN = 100_000;
/** Any other character: `CHAR_BASE + code point`. */
const CHAR_BASE = 300_000;

export interface FakeVllmOptions {
  model?: string;
  maxModelLen?: number;
  /** Generated tokens per second per stream; 0 streams as fast as the client reads. */
  tokensPerSecond?: number;
  /** Tokens per SSE chunk (vLLM's `--stream-interval`). */
  tokensPerChunk?: number;
  /** Thinking tokens per request before the model tries to close (a prompt's `think=` wins). */
  think?: number;
  /** Answer tokens before the end of sequence (a prompt's `answer=` wins). */
  answer?: number;
}

export interface FakeVllmStats {
  requests: number;
  completions: number;
  tokens: number;
  activeStreams: number;
  maxActiveStreams: number;
}

export interface FakeVllm {
  /** The server root (`/tokenize` lives here). */
  url: string;
  /** The OpenAI base, for `THINKSCOPE_BACKEND=vllm:<baseUrl>`. */
  baseUrl: string;
  model: string;
  stats: FakeVllmStats;
  /** Every generated token id sent for the run named KEY, in order (stop tokens excluded, as the adapter drops them). */
  sentIds(key: string): number[];
  /** Forgets the record of sent tokens (long benchmarks). */
  forget(key: string): void;
  close(): Promise<void>;
}

/** The prompt marker that names a run and shapes its output. */
export function runMarker(
  key: string,
  shape: { think?: number; answer?: number; tps?: number } = {},
): string {
  const parts = [`run:${key}`];
  if (shape.think !== undefined) parts.push(`think=${shape.think}`);
  if (shape.answer !== undefined) parts.push(`answer=${shape.answer}`);
  if (shape.tps !== undefined) parts.push(`tps=${shape.tps}`);
  return `[${parts.join(" ")}]`;
}

/** What the fake model says: a hundred-odd words a reasoning trace uses, picked by each token's number. */
const WORDS = (
  "the of and to a in is that we so let me check this step first then wait number sum carry " +
  "digit add each column result answer because it be can for with not are but if as on at by " +
  "two three four five six seven eight nine ten one zero plus minus times equal equals gives " +
  "now next again right wrong again hmm maybe actually correct careful look back recheck total " +
  "value write down keep track left over units tens hundreds thousands place move into same " +
  "other another way method try simple find need know see note clear done final so thus hence " +
  "therefore since given problem question asks compute answer boxed check each again last part"
).split(" ");

/** A 32-bit integer hash (no short period), so the words do not repeat in a pattern a compressor could learn. */
function scramble(n: number): number {
  let x = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The fake model's text for a token id. */
export function tokenText(id: number): string {
  const special = SPECIAL_TEXT.get(id);
  if (special !== undefined) return special;
  if (id >= CHAR_BASE) return String.fromCodePoint(id - CHAR_BASE);
  if (id >= GENERATED_BASE) return ` ${WORDS[scramble(id - GENERATED_BASE) % WORDS.length]}`;
  throw new Error(`unknown token id ${id}`);
}

/** Its tokenizer: special tokens whole (vLLM parses them in text), everything else one character each. */
export function tokenize(text: string): number[] {
  const ids: number[] = [];
  let i = 0;
  outer: while (i < text.length) {
    if (text.charCodeAt(i) === 60 /* < */) {
      for (const special of SPECIALS_LONGEST_FIRST) {
        if (text.startsWith(special, i)) {
          ids.push(SPECIAL_TOKENS[special]!);
          i += special.length;
          continue outer;
        }
      }
    }
    const codePoint = text.codePointAt(i)!;
    ids.push(CHAR_BASE + codePoint);
    i += codePoint > 0xffff ? 2 : 1;
  }
  return ids;
}

export function detokenize(ids: readonly number[]): string {
  return ids.map(tokenText).join("");
}

/** The template vLLM would apply for chat (`/tokenize` with `messages`): ChatML, thinking opened (QwQ). */
function renderChat(messages: { role: string; content: string }[]): string {
  const turns = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("");
  return `${turns}<|im_start|>assistant\n<think>\n`;
}

const MARKER = /\[run:([^\]\s]+)((?:\s+\w+=\d+)*)\]/;

interface RunShape {
  key: string | undefined;
  think: number;
  answer: number;
  tokensPerSecond: number;
}

function shapeOf(promptText: string, options: Required<FakeVllmOptions>): RunShape {
  const match = MARKER.exec(promptText);
  const shape: RunShape = {
    key: match?.[1],
    think: options.think,
    answer: options.answer,
    tokensPerSecond: options.tokensPerSecond,
  };
  for (const [, name, value] of (match?.[2] ?? "").matchAll(/(\w+)=(\d+)/g)) {
    if (name === "think") shape.think = Number(value);
    if (name === "answer") shape.answer = Number(value);
    if (name === "tps") shape.tokensPerSecond = Number(value);
  }
  return shape;
}

interface CompletionBody {
  model?: string;
  prompt?: string | number[];
  max_tokens?: number;
  stream?: boolean;
  stop_token_ids?: number[];
  return_token_ids?: boolean;
  stream_options?: { include_usage?: boolean; continuous_usage_stats?: boolean };
}

export async function startFakeVllm(options: FakeVllmOptions = {}, port = 0): Promise<FakeVllm> {
  const settings: Required<FakeVllmOptions> = {
    model: "fake/reasoner",
    maxModelLen: 131_072,
    tokensPerSecond: 0,
    tokensPerChunk: 1,
    think: 200,
    answer: 20,
    ...options,
  };
  const stats: FakeVllmStats = {
    requests: 0,
    completions: 0,
    tokens: 0,
    activeStreams: 0,
    maxActiveStreams: 0,
  };
  const sent = new Map<string, number[]>();
  /** The last prompt length per run: what an automatic prefix cache would hold. */
  const lastPrompt = new Map<string, number>();
  const created = Math.floor(Date.now() / 1000);
  let nextId = 0;

  const json = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };

  async function completions(response: ServerResponse, body: CompletionBody): Promise<void> {
    if (body.stream !== true) {
      return json(response, 400, {
        object: "error",
        message: "this fake streams only",
        type: "BadRequestError",
        code: 400,
      });
    }
    stats.completions += 1;
    const promptIds = typeof body.prompt === "string" ? tokenize(body.prompt) : (body.prompt ?? []);
    const promptText = typeof body.prompt === "string" ? body.prompt : detokenize(promptIds);
    const shape = shapeOf(promptText, settings);
    const lastOpen = promptIds.lastIndexOf(THINK_OPEN);
    const answering = promptIds.lastIndexOf(THINK_CLOSE) > lastOpen;
    let position = 0;
    let thoughtThisRequest = 0;
    for (const id of promptIds) if (id >= GENERATED_BASE && id < CHAR_BASE) position += 1;
    const stopIds = new Set(body.stop_token_ids ?? []);
    const maxTokens = body.max_tokens ?? 16;
    const withIds = body.return_token_ids === true;
    const usageEvery = body.stream_options?.continuous_usage_stats === true;
    const usageAtEnd = body.stream_options?.include_usage === true;
    const record = shape.key === undefined ? undefined : (sent.get(shape.key) ?? []);
    if (shape.key !== undefined && record) sent.set(shape.key, record);
    const cached =
      shape.key === undefined
        ? 0
        : Math.min(promptIds.length, Math.floor((lastPrompt.get(shape.key) ?? 0) / 16) * 16);
    if (shape.key !== undefined) lastPrompt.set(shape.key, promptIds.length);

    const id = `cmpl-fake${(nextId++).toString(16).padStart(8, "0")}`;
    const head = `data: {"id":"${id}","object":"text_completion","created":${created},"model":${JSON.stringify(settings.model)},"choices":[`;
    let completion = 0;
    const usage = (details: boolean) =>
      `{"prompt_tokens":${promptIds.length},"total_tokens":${promptIds.length + completion},"completion_tokens":${completion}` +
      (details ? `,"prompt_tokens_details":{"cached_tokens":${cached}}}` : "}");
    let first = true;
    const chunk = (
      text: string,
      ids: number[],
      finish: string | null,
      stopReason: number | null,
    ): string => {
      const promptField = first && withIds ? JSON.stringify(promptIds) : "null";
      first = false;
      const idsField = withIds ? `,"token_ids":[${ids.join(",")}]` : "";
      return (
        `${head}{"index":0,"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`},` +
        `"stop_reason":${stopReason === null ? "null" : stopReason},"prompt_token_ids":${promptField}${idsField}}]` +
        (usageEvery ? `,"usage":${usage(false)}` : "") +
        "}\n\n"
      );
    };

    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    let closed = false;
    response.on("close", () => (closed = true));
    stats.activeStreams += 1;
    stats.maxActiveStreams = Math.max(stats.maxActiveStreams, stats.activeStreams);

    // The model's next token, and whether it ends this request (and how).
    let thinking = !answering;
    let answered = 0;
    const step = (): { id: number; end?: "stop" | "length"; stopReason?: number | null } => {
      if (thinking && thoughtThisRequest >= shape.think) {
        if (stopIds.has(THINK_CLOSE))
          return { id: THINK_CLOSE, end: "stop", stopReason: THINK_CLOSE };
        thinking = false; // Not asked to stop on it: the close is ordinary output.
        return { id: THINK_CLOSE };
      }
      if (!thinking && answered >= shape.answer) {
        return { id: EOS, end: "stop", stopReason: stopIds.has(EOS) ? EOS : null };
      }
      const token = GENERATED_BASE + (position++ % GENERATED_SPAN);
      if (thinking) thoughtThisRequest += 1;
      else answered += 1;
      return { id: token };
    };

    const interval =
      shape.tokensPerSecond > 0 ? (1000 * settings.tokensPerChunk) / shape.tokensPerSecond : 0;
    const startedAt = performance.now();
    let chunks = 0;
    try {
      for (let done = false; !done && !closed;) {
        const ids: number[] = [];
        let text = "";
        let finish: string | null = null;
        let stopReason: number | null = null;
        while (ids.length < settings.tokensPerChunk) {
          const next = step();
          ids.push(next.id);
          completion += 1;
          if (next.end) {
            finish = next.end;
            stopReason = next.stopReason ?? null;
            break;
          }
          text += tokenText(next.id);
          record?.push(next.id);
          stats.tokens += 1;
          if (completion >= maxTokens) {
            finish = "length";
            break;
          }
        }
        done = finish !== null;
        const ok = response.write(chunk(text, ids, finish, stopReason));
        chunks += 1;
        if (interval > 0) {
          const wait = startedAt + chunks * interval - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        } else if (!ok) {
          await new Promise<void>((resolve) => {
            const go = () => {
              response.off("drain", go);
              response.off("close", go);
              resolve();
            };
            response.on("drain", go);
            response.on("close", go);
          });
        } else if (chunks % 64 === 0) {
          // Let the other streams (and the event loop) have a turn.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      if (!closed) {
        if (usageAtEnd) response.write(`${head}],"usage":${usage(true)}}\n\n`);
        response.end("data: [DONE]\n\n");
      }
    } finally {
      stats.activeStreams -= 1;
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    stats.requests += 1;
    const path = (request.url ?? "/").split("?", 1)[0];
    let raw = "";
    for await (const part of request) raw += part;
    let body: Record<string, unknown> = {};
    if (raw !== "") {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return json(response, 400, { object: "error", message: "invalid JSON", code: 400 });
      }
    }
    switch (`${request.method} ${path}`) {
      case "GET /health":
        response.writeHead(200).end();
        return;
      case "GET /v1/models":
        return json(response, 200, {
          object: "list",
          data: [
            {
              id: settings.model,
              object: "model",
              created,
              owned_by: "vllm",
              root: settings.model,
              parent: null,
              max_model_len: settings.maxModelLen,
              permission: [],
            },
          ],
        });
      case "POST /tokenize": {
        const messages = body.messages as { role: string; content: string }[] | undefined;
        const text = messages ? renderChat(messages) : String(body.prompt ?? "");
        const tokens = tokenize(text);
        return json(response, 200, {
          count: tokens.length,
          max_model_len: settings.maxModelLen,
          tokens,
          token_strs: null,
        });
      }
      case "POST /detokenize":
        return json(response, 200, { prompt: detokenize((body.tokens as number[]) ?? []) });
      case "POST /v1/completions":
        return completions(response, body as CompletionBody);
      default:
        return json(response, 404, { object: "error", message: `no route ${path}`, code: 404 });
    }
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) json(response, 500, { object: "error", message: String(error) });
      else response.destroy();
    });
  });
  // Hundreds of long-lived streams from one client: no idle or request timeouts.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    model: settings.model,
    stats,
    sentIds: (key) => sent.get(key) ?? [],
    forget: (key) => {
      sent.delete(key);
      lastPrompt.delete(key);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
