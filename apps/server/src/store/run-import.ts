/**
 * Imports a JSONL export (one `RunDetail` per line, blank lines ignored) as it
 * arrives: the body is never held whole, nor the event loop. Lines are parsed
 * and checked one at a time and written in short transactions, and neither
 * holds the loop for more than `IMPORT_SLICE_MS` at a time, so other
 * clients' runs stream on while a large file comes in.
 *
 * It is all or nothing all the same: the runs stay hidden until the last line
 * is in, and are removed when any line is bad, the body is over the limit, or
 * the upload is cut off. A bad file is refused whole with the line numbers and
 * what is wrong on each (the first ten).
 */
import { StringDecoder } from "node:string_decoder";
import { InvalidRequestError } from "@thinkscope/core";
import type { RunDetail } from "@thinkscope/protocol";
import type { FastifyBaseLogger } from "fastify";
import { Compile } from "typebox/compile";
import { describeSchemaErrors, dottedPath } from "../lib/schema-errors.ts";
import { RunDetailSchema } from "@thinkscope/protocol";
import { IMPORT_SLICE_MS, type ImportResult, type RunStore } from "./run-store.ts";

const checkRun = Compile(RunDetailSchema);
const MAX_REPORTED = 10;
/** Input checked before it is handed to the store, which writes it in turns of its own. */
const BATCH_CHARS = 256 * 1024;

export interface ImportOptions {
  /** The largest body taken (bytes): past it, `tooLarge()` is thrown and nothing imported. */
  maxBytes: number;
  tooLarge: () => Error;
  log: FastifyBaseLogger;
}

export async function importRunsJsonl(
  store: RunStore,
  body: AsyncIterable<Buffer | string>,
  options: ImportOptions,
): Promise<ImportResult> {
  const importId = await store.startImport();
  let committed = false;
  try {
    const renamed: ImportResult["renamed"] = [];
    const problems: string[] = [];
    let goodLines = 0;
    let badLines = 0;
    let lineNumber = 0;
    let batch: RunDetail[] = [];
    let batchChars = 0;
    let turnStarted = performance.now();
    for await (const raw of lines(body, options)) {
      lineNumber += 1;
      const line = raw.trim();
      if (line !== "") {
        const checked = checkLine(line);
        if (typeof checked === "string") {
          badLines += 1;
          if (problems.length < MAX_REPORTED) problems.push(`line ${lineNumber}: ${checked}`);
          // Nothing more is written: the rest is only checked, for the report.
          batch = [];
        } else {
          goodLines += 1;
          if (badLines === 0) {
            batch.push(checked);
            batchChars += line.length;
          }
        }
      }
      if (batchChars >= BATCH_CHARS) {
        renamed.push(...(await store.importBatch(importId, batch)));
        batch = [];
        batchChars = 0;
      }
      if (performance.now() - turnStarted >= IMPORT_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        turnStarted = performance.now();
      }
    }
    if (badLines > 0) {
      const more =
        badLines > problems.length ? ` (and ${badLines - problems.length} more bad lines)` : "";
      throw new InvalidRequestError(
        "invalid_import",
        `Nothing was imported: ${badLines} of ${badLines + goodLines} lines are not valid runs${more}. ${problems.join("; ")}`,
      );
    }
    if (goodLines === 0) {
      throw new InvalidRequestError(
        "invalid_import",
        "The file holds no runs (one JSON run per line expected).",
      );
    }
    if (batch.length > 0) renamed.push(...(await store.importBatch(importId, batch)));
    await store.commitImport(importId);
    committed = true;
    return { imported: goodLines, renamed };
  } finally {
    if (!committed) {
      await store.discardImport(importId).catch((error: unknown) =>
        // Still hidden; removed on the next start.
        options.log.warn({ err: error, importId }, "could not remove a refused import's runs"),
      );
    }
  }
}

/** The body's lines as they arrive (without their `\n`), up to `maxBytes` of them. */
async function* lines(
  body: AsyncIterable<Buffer | string>,
  { maxBytes, tooLarge }: ImportOptions,
): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  // A line that spans chunks, in pieces: joined once, when it ends.
  let pieces: string[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (bytes > maxBytes) throw tooLarge();
    const text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      pieces.push(text.slice(start, end));
      yield pieces.join("");
      pieces = [];
      start = end + 1;
    }
    if (start < text.length) pieces.push(text.slice(start));
  }
  pieces.push(decoder.end());
  const last = pieces.join("");
  if (last !== "") yield last;
}

/** The run on a line, or what is wrong with it. */
function checkLine(line: string): RunDetail | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (!checkRun.Check(value)) {
    return describeSchemaErrors(checkRun.Errors(value), (path) => dottedPath(path, "the run"));
  }
  return value as RunDetail;
}
