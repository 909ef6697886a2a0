/**
 * `thinkscope doctor` as a user runs it (a child process) on each family's
 * test model: the real vocabulary and chat template, so what it prints are
 * the real ids; and on a model whose template contradicts its family.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  FAMILY_IDS,
  FAMILY_QUESTION,
  familyModelName,
  familyScript,
  familyTokenizer,
  getFamilyTestModel,
} from "@thinkscope/backends/testing";
import { FAMILY_PROFILES } from "@thinkscope/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../bin/thinkscope.js", import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "thinkscope-doctor-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

// Each doctor loads a 150k-200k vocabulary: two at a time on two cores.
let running = 0;
const waiting: Array<() => void> = [];
async function doctor(modelPath: string) {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await runDoctor(modelPath);
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

async function runDoctor(modelPath: string) {
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, "doctor", "--backend", `embedded:${modelPath}`],
      {
        env: {
          ...process.env,
          THINKSCOPE_DATA_DIR: dataDir,
          THINKSCOPE_BACKEND: "",
          NO_COLOR: "1",
        },
      },
    );
    return { code: 0, stdout };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout + failure.stderr };
  }
}

describe.concurrent("thinkscope doctor", { timeout: 180_000 }, () => {
  it.each(FAMILY_IDS)(
    "on the %s test model prints its family, the real ids and no warning",
    async (family) => {
      const script = familyScript(family);
      const { path } = await getFamilyTestModel({
        family,
        transitions: script.transitions,
        name: familyModelName(family),
      });
      const result = await doctor(path);
      const profile = FAMILY_PROFILES[family];
      const end = script.format.endMarkers[0]!;
      const wait = profile.waitStrings[0]!;
      const waitIds = script.tokenizer.encode(wait).join(", ");
      expect(result.stdout).toContain(`family: ${profile.label} (${family}, `);
      expect(result.stdout).toContain(
        `end of thinking: ${JSON.stringify(end)} -> [${script.endId}]`,
      );
      expect(result.stdout).toContain(
        `wait ${JSON.stringify(wait)} -> [${waitIds}]; after "four" [${waitIds}]`,
      );
      const opens = profile.templateOpensThinking;
      expect(result.stdout).toContain(
        `template opens the thinking: ${script.prompt === script.tokenizer.render([...FAMILY_QUESTION]) && script.opening === "" ? "yes" : "no"} ` +
          `(${profile.label}: ${opens === undefined ? "either" : opens ? "yes" : "no"})`,
      );
      expect(result.stdout).toContain("no warnings");
      expect(result.code).toBe(0);
    },
  );

  it("warns, and exits 1, when a model's template does not open the thinking its family's does", async () => {
    const script = familyScript("qwq");
    const { path } = await getFamilyTestModel({
      family: "qwq",
      transitions: script.transitions,
      name: familyModelName("qwq"),
      // Qwen3's template leaves the thinking to the model; QwQ's opens it.
      chatTemplate: familyTokenizer("qwen3").chatTemplate,
    });
    const result = await doctor(path);
    expect(result.stdout).toContain("family: QwQ-32B (qwq, matched by name)");
    expect(result.stdout).toMatch(
      /warning: the QwQ-32B template opens the thinking, but this model's template does not/,
    );
    expect(result.code).toBe(1);
  });
});
