/** `npm run bench` reaches every benchmark, and refuses a name it does not know. */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

async function benchmarkModules(): Promise<string[]> {
  const modules: string[] = [];
  for (const dir of ["bench", "packages/backends/bench"]) {
    for (const file of await readdir(dir)) {
      if (!file.endsWith(".ts") || file === "index.ts") continue;
      const source = await readFile(`${dir}/${file}`, "utf8");
      if (/^export async function run\(/m.test(source)) modules.push(`${dir}/${file}`);
    }
  }
  return modules;
}

describe("npm run bench", () => {
  it("imports every module that exports a benchmark's run()", async () => {
    const index = await readFile("bench/index.ts", "utf8");
    const modules = await benchmarkModules();
    expect(modules.length).toBeGreaterThanOrEqual(8);
    for (const module of modules) {
      const fromIndex = module.startsWith("bench/")
        ? `./${module.slice("bench/".length)}`
        : `../${module}`;
      expect(index, `bench/index.ts does not run ${module}`).toContain(`import("${fromIndex}")`);
    }
  });

  it("refuses an unknown benchmark by name, listing the ones there are", async () => {
    const failure = await run(process.execPath, [
      "--import",
      "tsx",
      "bench/index.ts",
      "no-such",
    ]).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain("Unknown benchmark(s): no-such.");
    for (const name of ["engine", "proxy", "classroom", "page", "hostile", "methods", "fork"])
      expect(failure?.stderr).toContain(name);
  });
});
