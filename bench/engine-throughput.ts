/**
 * The engine's cost on the real llama.cpp path (issue: the engine keeps at
 * least 95% of plain node-llama-cpp throughput) and what an injection costs.
 *
 * 1. Plain `sequence.evaluate` of N tokens against a whole budget-forcing run
 *    that thinks exactly N tokens (the close forced at the budget), on a
 *    generated model that never closes by itself.
 * 2. A run with ten forced waits on the counting model: tokens re-evaluated
 *    per injection (only the injected ones, thanks to the kept sequence).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Token } from "node-llama-cpp";
import { BudgetForcingRun, RunTranscript } from "@thinkscope/core";
import type { BudgetForcing } from "@thinkscope/protocol";
import { createEmbeddedBackend, type EmbeddedBackend } from "@thinkscope/backends";
import { COUNTING_TRANSITIONS, getTestModel } from "@thinkscope/backends/testing";

const TOKENS = 3500;
const ROUNDS = 5;
const THREADS = 1;
const PROMPT = "<|im_start|>user\nCount<|im_end|>\n<|im_start|>assistant\n<think>\n";

async function engineRun(backend: EmbeddedBackend, budgetForcing: BudgetForcing) {
  const session = await backend.openSession({});
  try {
    const run = await BudgetForcingRun.prepare(session, backend.capabilities, {
      prompt: PROMPT,
      budgetForcing,
    });
    const transcript = new RunTranscript();
    let firstDelta = 0;
    let closedAt = 0;
    for await (const event of run.events()) {
      transcript.apply(event);
      if (event.type === "delta" && firstDelta === 0) firstDelta = performance.now();
      if (event.type === "injection" && event.kind !== "wait") closedAt = performance.now();
    }
    return { summary: transcript.summary(), thinkingMs: closedAt - firstDelta };
  } finally {
    await session.close();
  }
}

export async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "thinkscope-bench-"));
  const loop = await getTestModel({ transitions: { ...COUNTING_TRANSITIONS, z: "a" } });
  const counting = await getTestModel();

  const llama = await getLlama({ gpu: false, build: "never" });
  const model = await llama.loadModel({ modelPath: loop.path });
  const context = await model.createContext({ contextSize: 4096, threads: THREADS });
  const sequence = context.getSequence();
  const prompt = model.tokenize(PROMPT, true);
  const backend = createEmbeddedBackend({
    model: loop.path,
    dataDir,
    threads: THREADS,
    sequences: 1,
    contextSize: 4096,
  });
  await backend.prepare();

  let plainBest = 0;
  let engineBest = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sequence.clearHistory();
    let started = 0;
    let n = 0;
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
      // Timed from the first token, like the engine's figure, so prefill is left out of both.
      if (n === 0) started = performance.now();
      void model.detokenize([token as Token]);
      if (++n >= TOKENS) break;
    }
    plainBest = Math.max(plainBest, ((n - 1) * 1000) / (performance.now() - started));

    const { summary, thinkingMs } = await engineRun(backend, {
      max_thinking_tokens: TOKENS,
      max_answer_tokens: 1,
    });
    engineBest = Math.max(engineBest, ((summary.thinking_tokens - 1) * 1000) / thinkingMs);
  }
  await context.dispose();
  await model.dispose();
  await backend.close();

  const forcing = createEmbeddedBackend({
    model: counting.path,
    dataDir,
    threads: THREADS,
    sequences: 1,
  });
  const waits = await engineRun(forcing, { num_waits: 10 });
  await forcing.close();
  await rm(dataDir, { recursive: true, force: true });

  const ratio = engineBest / plainBest;
  console.log(`thinking ${TOKENS} tokens, ${THREADS} thread, best of ${ROUNDS} (tokens/s):`);
  console.log(`  plain node-llama-cpp evaluate  ${plainBest.toFixed(0).padStart(7)}`);
  console.log(
    `  budget-forcing engine          ${engineBest.toFixed(0).padStart(7)}   ${(ratio * 100).toFixed(1)}% of plain (target >= 95%)`,
  );
  const s = waits.summary;
  console.log(`ten forced waits on one run: ${s.upstream_requests} upstream requests`);
  console.log(
    `  tokens re-evaluated on continuations: ${s.reprefilled_tokens} in all, ` +
      `${(s.reprefilled_tokens / (s.upstream_requests - 1)).toFixed(2)} per continuation ` +
      `(each sends the whole prefix; the kept sequence evaluates only the injected tokens)`,
  );
}
