/**
 * Embedded backend overhead and injection cost, on a generated test model:
 *
 *   npx tsx packages/backends/bench/embedded-bench.ts [TOKENS]
 *
 * 1. Plain node-llama-cpp (`sequence.evaluate`) against the backend's
 *    `generate()` for the same number of tokens, same threads: the ratio is
 *    what the backend's bookkeeping costs (text streaming, stop checks, events).
 * 2. Budget-forcing injections on one session: tokens evaluated per injected
 *    `Wait`, against what re-sending the whole prompt would re-evaluate.
 * 3. What reporting each token's entropy costs on the bundled tiny reasoner
 *    (models/tiny-reasoner.gguf): microseconds per token with and without it,
 *    alone and beside the end-delimiter probe that reads the same distribution.
 *
 * Prints figures only; speed on a shared machine is a measurement, not a test.
 * Exports `run()` for the repository's `npm run bench`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { getLlama, type Token } from "node-llama-cpp";
import type { GenerateRequest, GenerationSession } from "@thinkscope/core";
import { createEmbeddedBackend, DEFAULT_EMBEDDED_MODEL } from "../src/index.ts";
import { COUNTING_TRANSITIONS, getTestModel } from "../src/testing/index.ts";

const ROUNDS = 5;
const THREADS = 1;

function request(tokens: number[], overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    prompt: { tokens },
    maxTokens: 100,
    stopTokenIds: [],
    stopStrings: [],
    sampling: { temperature: 0 },
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function drain(session: GenerationSession, req: GenerateRequest) {
  const ids: number[] = [];
  let evaluated = 0;
  for await (const event of session.generate(req)) {
    if (event.type === "tokens") ids.push(...(event.tokenIds ?? []));
    else evaluated = event.usage?.promptTokensEvaluated ?? 0;
  }
  return { ids, evaluated };
}

const rate = (tokens: number, ms: number) => (tokens / ms) * 1000;
const fmt = (n: number) => n.toFixed(0).padStart(7);

export async function run(tokens = 2000): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "thinkscope-bench-"));
  // A model that never ends (z -> a), so every run generates exactly `tokens`.
  const loop = await getTestModel({ transitions: { ...COUNTING_TRANSITIONS, z: "a" } });
  const counting = await getTestModel();

  // 1. Plain node-llama-cpp against generate().
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0 });
  const model = await llama.loadModel({ modelPath: loop.path });
  const context = await model.createContext({ contextSize: 4096, threads: THREADS });
  const sequence = context.getSequence();
  const prompt = model.tokenize("<think>\n", true);
  const backend = createEmbeddedBackend({
    model: loop.path,
    dataDir,
    threads: THREADS,
    sequences: 1,
  });
  const session = await backend.openSession({});

  let plainBest = 0;
  let backendBest = 0;
  let probesBest = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sequence.clearHistory();
    let started = performance.now();
    let n = 0;
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
      void model.detokenize([token as Token]);
      if (++n >= tokens) break;
    }
    plainBest = Math.max(plainBest, rate(n, performance.now() - started));

    // A different first prompt token each round, so no round reuses the last one's cache.
    const fresh = [round + 100, ...prompt];
    started = performance.now();
    const out = await drain(session, request(fresh, { maxTokens: tokens }));
    backendBest = Math.max(backendBest, rate(out.ids.length, performance.now() - started));

    started = performance.now();
    const probed = await drain(
      session,
      request([round + 200, ...prompt], {
        maxTokens: tokens,
        probeTokenIds: [counting.vocabulary.id("</think>")],
      }),
    );
    probesBest = Math.max(probesBest, rate(probed.ids.length, performance.now() - started));
  }
  await session.close();
  await backend.close();
  await context.dispose();
  await model.dispose();

  console.log(`generation, ${tokens} tokens, ${THREADS} thread, best of ${ROUNDS} (tokens/s):`);
  console.log(`  plain node-llama-cpp evaluate   ${fmt(plainBest)}`);
  console.log(
    `  embedded backend generate()     ${fmt(backendBest)}   ratio ${(backendBest / plainBest).toFixed(2)}`,
  );
  console.log(
    `  generate() with probe ids       ${fmt(probesBest)}   ratio ${(probesBest / plainBest).toFixed(2)}`,
  );

  // 2. Injections: think a..z, then Wait -> t..z, ten times over, as budget forcing with num_waits=10 does.
  const forcing = createEmbeddedBackend({
    model: counting.path,
    dataDir,
    threads: THREADS,
    sequences: 1,
  });
  const forced = await forcing.openSession({});
  const v = counting.vocabulary;
  const stop = { stopTokenIds: [v.id("</think>")] };
  let full = await forced.tokenize(
    "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n",
    { special: true },
  );
  const first = await drain(forced, request(full, stop));
  full = [...full, ...first.ids];
  const injected: number[] = [];
  const resent: number[] = [];
  const started = performance.now();
  for (let wait = 0; wait < 10; wait++) {
    full = [...full, v.id("Wait")];
    const before = forced.sequencePosition;
    const next = await drain(forced, request(full, stop));
    injected.push(next.evaluated);
    resent.push(full.length);
    if (forced.sequencePosition - before !== next.evaluated + next.ids.length) {
      console.log(
        `  ! cache grew by ${forced.sequencePosition - before}, expected ${next.evaluated + next.ids.length}`,
      );
    }
    full = [...full, ...next.ids];
  }
  const perInjectionMs = (performance.now() - started) / injected.length;
  await forced.close();
  await forcing.close();
  await rm(dataDir, { recursive: true, force: true });

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  console.log("budget forcing, 10 injected Waits on one session:");
  console.log(`  tokens evaluated per injection  ${injected.join(", ")}`);
  console.log(
    `  a full re-prefill would evaluate ${resent.join(", ")} (total ${sum(resent)} vs ${sum(injected)})`,
  );
  console.log(`  time per injection and continuation: ${perInjectionMs.toFixed(2)} ms`);

  await entropyCost();
}

/** Microseconds per generated token on the tiny reasoner, with and without entropy and probes. */
async function entropyCost(rounds = 15): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "thinkscope-bench-"));
  const backend = createEmbeddedBackend({
    model: DEFAULT_EMBEDDED_MODEL.bundledPath,
    dataDir,
    threads: THREADS,
    sequences: 1,
  });
  const session = await backend.openSession({});
  const end = await session.tokenize!("</think>", { special: true });
  const variants = {
    "plain generate()": {},
    "with token entropy": { tokenEntropy: true },
    "with the end probe": { probeTokenIds: end },
    "with probe and entropy": { probeTokenIds: end, tokenEntropy: true },
  } satisfies Record<string, Partial<GenerateRequest>>;
  const best: Record<string, number> = {};
  for (let round = 0; round < rounds; round++) {
    // Interleaved, so a busy moment on a shared machine falls on every variant alike.
    for (const [name, overrides] of Object.entries(variants)) {
      const a = 1000 + ((round * 37) % 8000);
      const prompt = await session.tokenize!(
        `<|im_start|>user\nWhat is ${a} + ${a + 123}?<|im_end|>\n<|im_start|>assistant\n<think>\n`,
        { special: true },
      );
      const started = performance.now();
      const out = await drain(session, request(prompt, { maxTokens: 400, ...overrides }));
      const perToken = ((performance.now() - started) * 1000) / Math.max(1, out.ids.length);
      best[name] = Math.min(best[name] ?? Infinity, perToken);
    }
  }
  const vocabulary = backend.info?.vocabularySize ?? "?";
  await session.close();
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
  console.log(
    `token entropy on the tiny reasoner (${vocabulary}-token vocabulary), ${THREADS} thread, best of ${rounds} (µs per token):`,
  );
  const plain = best["plain generate()"]!;
  for (const [name, us] of Object.entries(best)) {
    const extra = us - plain;
    console.log(
      `  ${name.padEnd(30)} ${fmt(us)}   ${name === "plain generate()" ? "" : `${extra >= 0 ? "+" : ""}${extra.toFixed(0)} µs, ratio ${(us / plain).toFixed(2)}`}`,
    );
  }
  const probe = best["with the end probe"]!;
  const both = best["with probe and entropy"]!;
  console.log(
    `  entropy beside the probe (the thinking of a page run) adds ${(both - probe).toFixed(0)} µs per token`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const tokens = Number(process.argv[2] ?? 2000);
  if (!Number.isInteger(tokens) || tokens < 1) {
    console.error("usage: embedded-bench.ts [TOKENS]");
    process.exit(2);
  }
  await run(tokens);
}
