/// <reference types="node" />
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The public reference sets live beside the repository at ../shared/data
 * (never copied into it); resolved from this file so any clone location works.
 */
const DATA_DIR = fileURLToPath(new URL("../../../../../shared/data/", import.meta.url));

export function readSharedData(
  name: "aime24.jsonl" | "math500-test.jsonl" | "gsm8k-test.jsonl",
): string {
  const path = DATA_DIR + name;
  if (!existsSync(path)) {
    throw new Error(
      `Reference data ${name} not found at ${path}: the shared/ folder must sit beside the repository.`,
    );
  }
  return readFileSync(path, "utf8");
}
