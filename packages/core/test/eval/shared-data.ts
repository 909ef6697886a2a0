/// <reference types="node" />
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";

/**
 * The public reference sets (AIME 2024, MATH-500, GSM8K) live beside the
 * repository in `../shared/data`, never copied into it; resolved from this
 * file so any clone location works. A clone without them skips the tests
 * that need them, saying so in one line.
 */
const DATA_DIR = fileURLToPath(new URL("../../../../../shared/data/", import.meta.url));

type SharedSet = "aime24.jsonl" | "math500-test.jsonl" | "gsm8k-test.jsonl";
const SETS: SharedSet[] = ["aime24.jsonl", "math500-test.jsonl", "gsm8k-test.jsonl"];

/** Why the reference tests cannot run here, or null when the sets are there. */
export const sharedDataMissing: string | null = SETS.every((name) => existsSync(DATA_DIR + name))
  ? null
  : `the reference sets are not in ${DATA_DIR} (they sit beside a full checkout)`;

/** `describe`, or a skipped block whose name says why when the reference sets are absent. */
export function describeWithSharedData(name: string, body: () => void): void {
  if (sharedDataMissing) describe.skip(`${name} (skipped: ${sharedDataMissing})`, body);
  else describe(name, body);
}

/** A reference set's text; "" when absent (its tests are skipped then). */
export function readSharedData(name: SharedSet): string {
  return sharedDataMissing ? "" : readFileSync(DATA_DIR + name, "utf8");
}
