/**
 * Turns a request's dataset source into problems: a JSONL file on the
 * server, an uploaded JSONL text, or the built-in generator. A server path
 * must lie inside one of the allowed folders (`<dataDir>/datasets` and
 * `THINKSCOPE_DATASET_DIRS`, nothing else): the page must not be able to
 * make the server read any file it can. Configuration, environment and
 * database files are never read as datasets, whatever the folders are.
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  generateProblems,
  InvalidRequestError,
  parseDataset,
  type ColumnMapping,
  type Problem,
} from "@thinkscope/core";
import type { DatasetSource, ExperimentDatasetInfo } from "@thinkscope/protocol";

export interface LoadedDataset {
  problems: Problem[];
  info: Omit<ExperimentDatasetInfo, "offset" | "problems">;
}

export interface DatasetLoaderOptions {
  /** Folders a `path` may point into (absolute). */
  roots: readonly string[];
  /** What a relative `path` is relative to. */
  cwd: string;
  /** Largest file read from a path, in bytes. */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export async function loadDataset(
  source: DatasetSource,
  options: DatasetLoaderOptions,
): Promise<LoadedDataset> {
  if ("generator" in source) {
    const { seed, count, digits, kinds } = source.generator;
    const problems = generateProblems({ seed, count, digits, ...(kinds ? { kinds } : {}) });
    const what = kinds ? kinds.join("+") : "mixed";
    return {
      problems,
      info: {
        name: `generated ${what}, ${digits} digits, seed ${seed}`,
        source: "generator",
        shape: "generated",
        available: problems.length,
      },
    };
  }
  if ("jsonl" in source) {
    const parsed = parseDataset(source.jsonl, columnsOf(source.columns));
    return {
      problems: parsed.problems,
      info: {
        name: source.name?.trim() || "upload",
        source: "upload",
        shape: parsed.shape,
        available: parsed.problems.length,
      },
    };
  }
  const file = await resolveDatasetPath(source.path, options);
  return readDatasetFile(file, source.columns, "path", options.maxBytes);
}

/**
 * Files that hold secrets or other people's runs: the server's config file
 * (it may carry the upstream key and the access token), environment files,
 * and the run database. Never a dataset, by name or through a link.
 */
export function isProtectedFile(file: string): boolean {
  const name = basename(file).toLowerCase();
  return (
    name === "thinkscope.config.json" ||
    /^\.env(\..*)?$/.test(name) ||
    name.endsWith(".env") ||
    /\.(db|sqlite|sqlite3)(-wal|-shm|-journal)?$/.test(name)
  );
}

function protectedFileError(file: string): InvalidRequestError {
  return new InvalidRequestError(
    "dataset_path_not_allowed",
    `${basename(file)} is a configuration, environment or database file, never read as a dataset.`,
  );
}

/** Reads and parses a JSONL file (a preset's, the CLI's, or a path already checked against the folders). */
export async function readDatasetFile(
  file: string,
  columns: ColumnMapping | undefined,
  source: ExperimentDatasetInfo["source"],
  maxBytes = DEFAULT_MAX_BYTES,
): Promise<LoadedDataset> {
  if (isProtectedFile(file)) throw protectedFileError(file);
  // A link with an innocent name may lead to one.
  const real = await realpath(file).catch(() => file);
  if (isProtectedFile(real)) throw protectedFileError(file);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new InvalidRequestError(
      "dataset_not_found",
      `Cannot read the dataset ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}.`,
    );
  }
  if (size > maxBytes) {
    throw new InvalidRequestError(
      "dataset_too_large",
      `The dataset ${file} has ${size} bytes; at most ${maxBytes} are read.`,
    );
  }
  const text = await readFile(file, "utf8");
  const parsed = parseDataset(text, columnsOf(columns));
  return {
    problems: parsed.problems,
    info: { name: basename(file), source, shape: parsed.shape, available: parsed.problems.length },
  };
}

/**
 * The real path of a dataset file, refused unless it lies inside an allowed
 * folder (after following symlinks, so a link cannot lead out).
 */
export async function resolveDatasetPath(
  path: string,
  options: DatasetLoaderOptions,
): Promise<string> {
  const wanted = isAbsolute(path) ? path : resolve(options.cwd, path);
  const realRoots = await Promise.all(
    options.roots.map((root) => realpath(root).catch(() => root)),
  );
  const allowed = (file: string, roots: readonly string[]) =>
    roots.some((root) => inside(file, root));
  const refuse = () =>
    new InvalidRequestError(
      "dataset_path_not_allowed",
      `The server reads datasets only from ${options.roots.join(", ")}; ${wanted} is elsewhere. ` +
        "Upload the file instead, or add its folder to THINKSCOPE_DATASET_DIRS.",
    );
  // Checked before touching the file, so a refused path tells nothing about what exists there.
  if (!allowed(wanted, [...options.roots, ...realRoots])) throw refuse();
  if (isProtectedFile(wanted)) throw protectedFileError(wanted);
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw new InvalidRequestError("dataset_not_found", `No dataset file at ${wanted}.`);
  }
  // Again after following links, so a link inside cannot lead out.
  if (!allowed(real, realRoots)) throw refuse();
  if (isProtectedFile(real)) throw protectedFileError(wanted);
  return real;
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel));
}

function columnsOf(columns: ColumnMapping | undefined): { columns?: ColumnMapping } {
  return columns ? { columns } : {};
}

/**
 * The allowed dataset folders: `<dataDir>/datasets` and the folders
 * THINKSCOPE_DATASET_DIRS lists. Not the data directory itself (it holds the
 * database) and not the repository (it may hold the config file).
 */
export function datasetRoots(dataDir: string, extra: readonly string[]): string[] {
  return [join(dataDir, "datasets"), ...extra];
}
