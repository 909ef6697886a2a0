/**
 * Every code block in README.md and docs/ is either run here, as written,
 * against a real server on the bundled model (only its address changed to
 * this test's port), or named below with the reason it cannot run on this
 * machine. A new block that is neither fails the test, so no example rots
 * unseen.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledModelApp, type TestApp } from "./helpers.ts";

const run = promisify(execFile);
const ROOT = new URL("../../../", import.meta.url).pathname;

interface Block {
  where: string;
  lang: string;
  code: string;
}

function blocks(file: string): Block[] {
  const found: Block[] = [];
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const code: string[] = [];
    while (++i < lines.length && !/^\s*```\s*$/.test(lines[i]!)) code.push(lines[i]!.slice(indent));
    found.push({ where: `${file}:${start + 1}`, lang: open[2]!, code: code.join("\n") });
  }
  return found;
}

const files = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const all = files.flatMap(blocks);

/** Blocks this machine cannot run, each with why. Matched by a line of the block. */
const NOT_RUN: Array<[RegExp, string]> = [
  [/^npm (start|test|run )/m, "the project's own commands: CI runs them"],
  [/\bnpm start\b/, "starts a server that runs until stopped (this test runs one of its own)"],
  [/docker|kubectl/, "needs Docker or Kubernetes and, for vLLM, a GPU"],
  [/^# \.env/m, "an environment file, not a command"],
  [/"model": "Qwen\/Qwen3-8B"/, "addresses the GPU deployment's vLLM model"],
  [
    /--backend vllm:|thinkscope doctor --backend embedded:\.\/model\.gguf/,
    "needs a vLLM server or a model file of the reader's own",
  ],
  [
    /--preset tiny-reasoner --limit 200|thinkscope experiment --/,
    "experiments of minutes; the experiments CLI tests run them at small sizes",
  ],
  [
    /BudgetForcingRun\.prepare\(session/,
    "a fragment of the engine's API, with `...` for the reader's code",
  ],
  [/^(apps|packages|bench|server|web)\b|^[\w-]+\/\s{2,}/m, "a directory layout, not code"],
];
const LANGS_NOT_CODE = new Set(["caddy", "nginx", "json", ""]);

function reasonNotRun(block: Block): string | undefined {
  if (LANGS_NOT_CODE.has(block.lang) && !/^curl /m.test(block.code))
    return `a ${block.lang || "plain"} listing`;
  return NOT_RUN.find(([pattern]) => pattern.test(block.code))?.[1];
}

let server: TestApp;
let base: string;

beforeAll(async () => {
  ({ server, base } = await bundledModelApp());
});
afterAll(() => server.close());

/** The block as a reader runs it, pointed at this test's server. */
function here(code: string): string {
  return code.replace(/(http:\/\/)?(127\.0\.0\.1|localhost):8787/g, base);
}

const runnable = all.filter((block) => reasonNotRun(block) === undefined);

describe("the examples in README.md and docs/", () => {
  it("are all run here or named with why not", () => {
    const unknown = runnable.filter((block) => !["sh", "ts"].includes(block.lang));
    expect(unknown.map((block) => block.where)).toEqual([]);
    // The API examples this issue of the docs is about are among those run.
    expect(runnable.map((block) => block.where)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^README\.md/),
        expect.stringMatching(/^docs\/api\.md/),
      ]),
    );
  });

  it.each(
    runnable.filter((block) => block.lang === "sh").map((block) => [block.where, block] as const),
  )("%s runs and is answered without an error", async (_where, block) => {
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", here(block.code)], {
      timeout: 120_000,
      maxBuffer: 16 << 20,
    });
    expect(stdout.length).toBeGreaterThan(0);
    const failed = /"error"\s*:\s*\{[^}]*/.exec(stdout);
    expect(failed?.[0] ?? null).toBeNull();
  });

  it.each(
    runnable.filter((block) => block.lang === "ts").map((block) => [block.where, block] as const),
  )("%s type-checks and runs", async (_where, block) => {
    // In the repository, so that its imports resolve as in a reader's project.
    const dir = mkdtempSync(join(ROOT, "apps/server/test/.example-"));
    try {
      const file = join(dir, "example.mts");
      writeFileSync(file, here(block.code) + "\nexport {};\n");
      await run(
        join(ROOT, "node_modules/.bin/tsc"),
        [
          "--noEmit",
          "--strict",
          "--skipLibCheck",
          "--module",
          "nodenext",
          "--target",
          "es2022",
          "--types",
          "node",
          file,
        ],
        { cwd: ROOT, timeout: 120_000 },
      ).catch((error: { stdout?: string }) => {
        throw new Error(`${block.where} does not type-check:\n${error.stdout ?? String(error)}`);
      });
      const { stdout } = await run(join(ROOT, "node_modules/.bin/tsx"), [file], {
        cwd: ROOT,
        timeout: 120_000,
      });
      expect(stdout.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
