/**
 * What a fork costs against starting over, on the real llama.cpp path: a
 * 1,000-token run (a generated model that never closes, the close forced at
 * the budget), forked at token 500 with "Wait" inserted.
 *
 * - fork: the child's session gets the parent's sequence back, so the shared
 *   prefix (prompt + 500 tokens) stays in the KV cache and only the
 *   insertion is evaluated;
 * - starting over: the same child on a fresh backend (an empty cache), which
 *   must evaluate the prompt, the 500 tokens and the insertion.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BudgetForcingRun, cutAtToken, type GenerationSession } from "@thinkscope/core";
import type { BudgetForcing, EngineEvent } from "@thinkscope/protocol";
import { createEmbeddedBackend, type EmbeddedBackend } from "@thinkscope/backends";
import { COUNTING_TRANSITIONS, getTestModel } from "@thinkscope/backends/testing";

const RUN_TOKENS = 1000;
const FORK_AT = 500;
const INSERT = "Wait";
const PROMPT = "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n<think>\n";
const SETTINGS: BudgetForcing = { max_thinking_tokens: RUN_TOKENS, max_answer_tokens: 0 };

interface Measured {
  events: EngineEvent[];
  /** Prompt tokens the backend evaluated for the first request, and how long until its first token. */
  evaluated: number;
  cached: number;
  firstTokenMs: number;
}

async function runOnce(
  backend: EmbeddedBackend,
  fork?: { parent: EngineEvent[]; at: number; insert: string },
): Promise<Measured> {
  const session = await backend.openSession({});
  try {
    const start = fork && {
      parentRunId: "run_0000000000000000",
      at: fork.at,
      insert: fork.insert,
      inherited: await cutAtToken(fork.parent, fork.at, session.detokenize?.bind(session)),
    };
    let evaluated = 0;
    let cached = 0;
    let requests = 0;
    // The session as is, but the first request's usage is kept: what the fork cost.
    const counted: GenerationSession = {
      eosTokenIds: session.eosTokenIds,
      tokenize: session.tokenize.bind(session),
      detokenize: session.detokenize.bind(session),
      close: () => session.close(),
      async *generate(request) {
        const first = requests++ === 0;
        for await (const event of session.generate(request)) {
          if (event.type === "finish" && first) {
            evaluated = event.usage?.promptTokensEvaluated ?? 0;
            cached = event.usage?.promptTokensCached ?? 0;
          }
          yield event;
        }
      },
    };
    const run = await BudgetForcingRun.prepare(counted, backend.capabilities, {
      prompt: PROMPT,
      budgetForcing: SETTINGS,
      ...(start ? { fork: start } : {}),
    });
    const began = performance.now();
    let firstTokenMs = 0;
    const events: EngineEvent[] = [];
    for await (const event of run.events()) {
      events.push(event);
      if (firstTokenMs === 0 && event.type === "delta" && event.time > 0)
        firstTokenMs = performance.now() - began;
    }
    return { events, evaluated, cached, firstTokenMs };
  } finally {
    await session.close();
  }
}

export async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "thinkscope-bench-fork-"));
  const loop = await getTestModel({ transitions: { ...COUNTING_TRANSITIONS, z: "a" } });
  const options = { model: loop.path, dataDir, threads: 1, sequences: 1, contextSize: 4096 };
  const warm = createEmbeddedBackend(options);
  const cold = createEmbeddedBackend(options);
  try {
    await Promise.all([warm.prepare(), cold.prepare()]);
    const parent = await runOnce(warm);
    const fork = await runOnce(warm, { parent: parent.events, at: FORK_AT, insert: INSERT });
    const over = await runOnce(cold, { parent: parent.events, at: FORK_AT, insert: INSERT });
    const insertTokens = (await warm.tokenize(INSERT, { special: false })).length;
    const reused = fork.evaluated - insertTokens;
    console.log(
      `fork at token ${FORK_AT} of a ${RUN_TOKENS}-token run, inserting ${JSON.stringify(INSERT)} (${insertTokens} token):`,
    );
    console.log(
      `  fork (KV cache kept)  ${String(fork.evaluated).padStart(5)} prompt tokens evaluated, ` +
        `${fork.cached} cached; ${Math.max(0, reused)} beyond the insertion (target: 0); ` +
        `first new token after ${fork.firstTokenMs.toFixed(0)} ms`,
    );
    console.log(
      `  starting over         ${String(over.evaluated).padStart(5)} prompt tokens evaluated, ` +
        `${over.cached} cached; first new token after ${over.firstTokenMs.toFixed(0)} ms`,
    );
    console.log(
      `  a fork evaluates ${((fork.evaluated / over.evaluated) * 100).toFixed(1)}% of what starting over does`,
    );
  } finally {
    await Promise.all([warm.close(), cold.close()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}
