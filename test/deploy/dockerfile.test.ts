/**
 * The Dockerfile and .dockerignore, read as Docker reads them (no engine
 * here to build the image): a build stage with the compilers and
 * devDependencies, a small runtime stage that runs the server as a non-root
 * user, and a build context that holds what the build copies and nothing
 * secret.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import dockerignoreModule from "@balena/dockerignore";
import { DockerfileParser, type Copy, type Instruction } from "dockerfile-ast";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./compose-config.ts";

const dockerfile = DockerfileParser.parse(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"));
// A CommonJS package whose typings declare `export default`; it sets
// `factory.default = factory` so this form works under NodeNext and at run time.
const ignore = dockerignoreModule.default;
const dockerignore = ignore().add(
  readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8").split("\n"),
);
const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  workspaces: string[];
};

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
  copies: Copy[];
}

/** Instructions grouped by the FROM they follow, with ARG defaults resolved in the image name. */
function stages(): Stage[] {
  const froms = dockerfile.getFROMs();
  const all = dockerfile.getInstructions();
  return froms.map((from, index) => {
    const start = from.getRange().start.line;
    const end = froms[index + 1]?.getRange().start.line ?? Infinity;
    const image = (from.getImage() ?? "").replace(
      /\$\{?(\w+)\}?/g,
      (_, name: string) => dockerfile.resolveVariable(name, start) ?? "",
    );
    const inStage = (i: Instruction) => {
      const line = i.getRange().start.line;
      return line > start && line < end;
    };
    return {
      name: from.getBuildStage(),
      image,
      instructions: all.filter(inStage),
      copies: dockerfile.getCOPYs().filter(inStage),
    };
  });
}

function of(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

function text(instruction: Instruction): string {
  return instruction.getArgumentsContent() ?? "";
}

/** COPY sources, with flags such as --from left out. */
function copySources(instruction: Instruction): string[] {
  return instruction
    .getArguments()
    .map((argument) => argument.getValue())
    .filter((value) => !value.startsWith("--"))
    .slice(0, -1);
}

function fromFlag(copy: Copy): string | undefined {
  return copy.getFromFlag()?.getValue() ?? undefined;
}

const all = stages();
const runtime = all.at(-1)!;
const build = all.find((stage) => stage.name !== null && stage !== runtime)!;

describe("Dockerfile", () => {
  it("has a build stage and a runtime stage on Node 22 (package.json's engines) Debian slim", () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(runtime.image).toMatch(/^node:22(\.\d+)*-bookworm-slim$/);
    // Same base for both: the native addons built in one run in the other.
    expect(build.image).toBe(runtime.image);
  });

  it("builds the native addon in the build stage with python3, make and g++", () => {
    const runs = of(build, "RUN").map(text).join("\n");
    for (const tool of ["python3", "make", "g++"]) expect(runs).toContain(tool);
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm rebuild[^\n&]*better-sqlite3/);
    expect(runs).toContain("npm run build");
  });

  it("drops devDependencies after the page is built, before the runtime stage copies node_modules", () => {
    const runs = of(build, "RUN").map(text).join("\n");
    const buildAt = runs.indexOf("npm run build");
    const pruneAt = runs.search(/npm prune[^\n]*--omit=dev/);
    expect(pruneAt).toBeGreaterThan(buildAt);
    const modules = runtime.copies.filter((copy) =>
      copySources(copy).some((source) => source.endsWith("node_modules")),
    );
    expect(modules.map(fromFlag)).toEqual([build.name]);
  });

  it("installs nothing with npm in the runtime stage", () => {
    const runs = of(runtime, "RUN").map(text).join("\n");
    expect(runs).not.toMatch(/\bnpm\b|\bnpx\b/);
    // Everything the runtime gets comes from the build stage, not the raw context.
    for (const copy of runtime.copies) expect(fromFlag(copy)).toBe(build.name);
  });

  it("copies every workspace's package.json before `npm ci`, so the lockfile's workspaces resolve", () => {
    const ciAt = of(build, "RUN")
      .find((run) => /npm ci\b/.test(text(run)))!
      .getRange().start.line;
    const copiedFirst = build.copies
      .filter((copy) => copy.getRange().start.line < ciAt)
      .flatMap(copySources);
    expect(copiedFirst).toEqual(expect.arrayContaining(["package.json", "package-lock.json"]));
    for (const workspace of rootPackage.workspaces) {
      expect(copiedFirst).toContain(`${workspace}/package.json`);
    }
    // The GPU stand-in the root `overrides` link to must exist when npm ci runs.
    expect(copiedFirst).toContain("tools/no-gpu-prebuilt/package.json");
  });

  it("runs the server as a non-root user", () => {
    const users = of(runtime, "USER").map(text);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it("checks health on /api/health with Node's own fetch", () => {
    const [healthcheck, ...more] = of(runtime, "HEALTHCHECK");
    expect(more).toEqual([]);
    const check = text(healthcheck!);
    expect(check).toContain("/api/health");
    expect(check).toContain("fetch(");
    expect(check).not.toContain("curl");
  });

  it("listens on 0.0.0.0:8787 and keeps data in a /data volume", () => {
    const env = of(runtime, "ENV").map(text).join(" ");
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bPORT=8787\b/);
    expect(env).toMatch(/\bTHINKSCOPE_DATA_DIR=\/data\b/);
    expect(of(runtime, "EXPOSE").map(text)).toContain("8787");
    expect(of(runtime, "VOLUME").map(text).join(" ")).toContain("/data");
  });

  it("starts the server through tsx", () => {
    const cmd = of(runtime, "CMD").map(text).at(-1) ?? "";
    expect(cmd).toContain("tsx");
    expect(cmd).toContain("apps/server/src/main.ts");
  });

  it("copies only paths that exist in the repository or that the build stage produces", () => {
    const produced = ["node_modules", "apps/web/dist"];
    for (const copy of runtime.copies) {
      for (const source of copySources(copy)) {
        const path = source.replace(/^\/app\//, "");
        if (produced.includes(path)) continue;
        expect(existsSync(join(REPO_ROOT, path)), `${path} is copied into the image`).toBe(true);
      }
    }
  });
});

describe(".dockerignore", () => {
  it("keeps what the build copies and runs in the build context", () => {
    const sources = build.copies
      .filter((copy) => fromFlag(copy) === undefined)
      .flatMap(copySources)
      .filter((source) => source !== ".");
    const needed = [
      ...sources,
      "apps/server/src/main.ts",
      "apps/web/index.html",
      "packages/core/src/index.ts",
      "tsconfig.base.json",
      "models/tiny-reasoner.gguf",
      "models/tiny-reasoner-rl.gguf",
    ];
    expect(needed.filter((path) => dockerignore.ignores(path))).toEqual([]);
  });

  it("leaves out secrets, local data, installed modules and downloaded models", () => {
    const excluded = [
      ".env",
      "thinkscope.config.json",
      "data/thinkscope.sqlite",
      "node_modules/vite/package.json",
      "apps/server/node_modules/commander/package.json",
      "apps/web/dist/index.html",
      ".git/HEAD",
      // The compose CPU profile serves GGUF files from ./models: they stay out of the image.
      "models/Qwen3-1.7B-Q8_0.gguf",
    ];
    expect(excluded.filter((path) => !dockerignore.ignores(path))).toEqual([]);
  });
});
