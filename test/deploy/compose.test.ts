/**
 * The compose files as Compose resolves them: valid, and wired so that
 * Thinkscope reaches the inference server it is meant to, on the GPUs and
 * with the prefix caching the budget-forcing continuations rely on.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  REPO_ROOT,
  backendUrl,
  commandArgs,
  dependsOn,
  flagValue,
  hasDockerCompose,
  healthcheckText,
  mounts,
  publishedPorts,
  resolveCompose,
  service,
  type ComposeService,
  type ResolvedCompose,
} from "./compose-config.ts";

const MAIN = "docker-compose.yml";
const MULTI_GPU = "deploy/compose.multi-gpu.yml";
const ENV_EXAMPLE = readFileSync(join(REPO_ROOT, ".env.example"), "utf8");

/** The host:port a `vllm:`/`llamacpp:` backend URL names must be a service listening there. */
function expectBackendPointsAt(
  compose: ResolvedCompose,
  consumer: ComposeService,
  kind: string,
  target: string,
) {
  const { kind: actualKind, url } = backendUrl(consumer.environment?.THINKSCOPE_BACKEND);
  expect(actualKind).toBe(kind);
  expect(url.hostname).toBe(target);
  const listens = flagValue(commandArgs(service(compose, target)), "--port");
  expect(url.port).toBe(listens);
}

function gpuDevices(svc: ComposeService) {
  return svc.deploy?.resources?.reservations?.devices ?? [];
}

function pinnedTag(image: string | undefined): string {
  const tag = (image ?? "").split(":").at(-1) ?? "";
  expect(tag, `${image} should name a tag`).not.toBe("");
  expect(tag).not.toBe("latest");
  return tag;
}

const requireCompose = process.env.CI ? "" : " (skipped: docker-compose is not installed)";

describe.skipIf(!hasDockerCompose)(
  `docker-compose config on the compose files${hasDockerCompose ? "" : requireCompose}`,
  () => {
    describe("docker-compose.yml with every setting at its default", () => {
      let compose: ResolvedCompose;
      beforeAll(async () => {
        compose = await resolveCompose(MAIN);
      });

      it("validates, and every variable it uses has a default", () => {
        expect(compose.warnings).not.toMatch(/variable is not set/i);
      });

      it("has the GPU pair without a profile and the CPU pair in the `cpu` profile", () => {
        expect(Object.keys(compose.services).sort()).toEqual(
          ["llamacpp", "thinkscope", "thinkscope-cpu", "vllm"].sort(),
        );
        // `docker compose up` starts exactly the services without a profile.
        expect(service(compose, "vllm").profiles ?? []).toEqual([]);
        expect(service(compose, "thinkscope").profiles ?? []).toEqual([]);
        expect(service(compose, "llamacpp").profiles).toEqual(["cpu"]);
        expect(service(compose, "thinkscope-cpu").profiles).toEqual(["cpu"]);
      });

      it("points thinkscope at the vllm service's port, for the model vLLM serves", () => {
        const thinkscope = service(compose, "thinkscope");
        expect(thinkscope.environment?.THINKSCOPE_BACKEND).toBe("vllm:http://vllm:8000/v1");
        expectBackendPointsAt(compose, thinkscope, "vllm", "vllm");
        const served = flagValue(commandArgs(service(compose, "vllm")), "--model");
        expect(served).toBe("Qwen/Qwen3-8B");
        expect(thinkscope.environment?.THINKSCOPE_MODEL).toBe(served);
      });

      it("starts thinkscope only once vLLM reports healthy", () => {
        expect(dependsOn(service(compose, "thinkscope"))).toEqual({ vllm: "service_healthy" });
        expect(healthcheckText(service(compose, "vllm"))).toContain("localhost:8000/health");
      });

      it("publishes the page on 8787, listening on all interfaces inside the container", () => {
        const thinkscope = service(compose, "thinkscope");
        expect(publishedPorts(thinkscope)).toEqual([
          { hostIp: "0.0.0.0", published: 8787, target: 8787 },
        ]);
        expect(thinkscope.environment?.HOST).toBe("0.0.0.0");
        expect(thinkscope.environment?.PORT).toBe("8787");
      });

      it("keeps the run store in a named volume at THINKSCOPE_DATA_DIR", () => {
        const thinkscope = service(compose, "thinkscope");
        expect(thinkscope.environment?.THINKSCOPE_DATA_DIR).toBe("/data");
        expect(mounts(thinkscope)).toContainEqual({
          source: "thinkscope-data",
          target: "/data",
          readOnly: false,
        });
        expect(compose.volumes).toHaveProperty("thinkscope-data");
      });

      it("builds thinkscope from the repository's Dockerfile", () => {
        const { build } = service(compose, "thinkscope");
        const context = typeof build === "string" ? build : build?.context;
        expect(resolve(context ?? "")).toBe(resolve(REPO_ROOT));
      });

      it("reserves NVIDIA GPUs for vLLM, as many as its tensor-parallel size", () => {
        const vllm = service(compose, "vllm");
        const [device, ...others] = gpuDevices(vllm);
        expect(others).toEqual([]);
        expect(device?.driver).toBe("nvidia");
        expect(device?.capabilities).toContain("gpu");
        expect(String(device?.count)).toBe("1");
        expect(flagValue(commandArgs(vllm), "--tensor-parallel-size")).toBe("1");
      });

      it("runs a pinned vLLM with prefix caching, a context limit and a shared HF cache", () => {
        const vllm = service(compose, "vllm");
        pinnedTag(vllm.image);
        expect(vllm.image).toMatch(/^vllm\/vllm-openai:/);
        const args = commandArgs(vllm);
        expect(args).toContain("--enable-prefix-caching");
        expect(Number(flagValue(args, "--max-model-len"))).toBeGreaterThanOrEqual(8192);
        expect(mounts(vllm).map((m) => m.target)).toContain("/root/.cache/huggingface");
        expect(vllm.environment).toHaveProperty("HF_TOKEN");
        // Tensor-parallel workers need more shared memory than Docker's 64 MB default.
        expect(vllm.ipc === "host" || vllm.shm_size !== undefined).toBe(true);
        // Only Thinkscope is published; vLLM stays inside the compose network.
        expect(vllm.ports ?? []).toEqual([]);
      });

      it("gives vLLM the upstream key Thinkscope sends", () => {
        const vllm = service(compose, "vllm");
        expect(vllm.environment).toHaveProperty("VLLM_API_KEY");
        expect(service(compose, "thinkscope").environment).toHaveProperty("THINKSCOPE_API_KEY");
      });

      it("wires the CPU profile: llama.cpp's server on a GGUF from ./models", () => {
        const llamacpp = service(compose, "llamacpp");
        expect(llamacpp.image).toMatch(/^ghcr\.io\/ggml-org\/llama\.cpp:server/);
        expect(flagValue(commandArgs(llamacpp), "--model")).toBe("/models/tiny-reasoner.gguf");
        expect(mounts(llamacpp)).toContainEqual({
          source: join(resolve(REPO_ROOT), "models"),
          target: "/models",
          readOnly: true,
        });
        expect(healthcheckText(llamacpp)).toContain("localhost:8080/health");

        const cpu = service(compose, "thinkscope-cpu");
        expect(cpu.environment?.THINKSCOPE_BACKEND).toBe("llamacpp:http://llamacpp:8080");
        expectBackendPointsAt(compose, cpu, "llamacpp", "llamacpp");
        expect(dependsOn(cpu)).toEqual({ llamacpp: "service_healthy" });
        expect(publishedPorts(cpu)).toEqual(publishedPorts(service(compose, "thinkscope")));
        expect(gpuDevices(cpu)).toEqual([]);
        expect(gpuDevices(llamacpp)).toEqual([]);
      });
    });

    describe("docker-compose.yml with a .env", () => {
      let compose: ResolvedCompose;
      beforeAll(async () => {
        compose = await resolveCompose(
          MAIN,
          [
            "THINKSCOPE_MODEL=simplescaling/s1.1-32B",
            "VLLM_GPU_COUNT=2",
            "VLLM_TENSOR_PARALLEL_SIZE=2",
            "VLLM_IMAGE_TAG=v0.11.1",
            "PORT=9000",
            "BIND_ADDRESS=127.0.0.1",
            "THINKSCOPE_API_KEY=upstream-key",
            "THINKSCOPE_AUTH_TOKEN=class-of-2026",
            "THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT=2",
            "THINKSCOPE_MAX_THINKING_TOKENS_CAP=4096",
            "LLAMACPP_MODEL_FILE=Qwen3-1.7B-Q8_0.gguf",
            "VLLM_EXTRA_ARGS=--quantization fp8",
            "",
          ].join("\n"),
        );
      });

      it("serves the chosen model and sends Thinkscope the same name", () => {
        const args = commandArgs(service(compose, "vllm"));
        expect(flagValue(args, "--model")).toBe("simplescaling/s1.1-32B");
        expect(service(compose, "thinkscope").environment?.THINKSCOPE_MODEL).toBe(
          "simplescaling/s1.1-32B",
        );
        expect(flagValue(args, "--quantization")).toBe("fp8");
        expect(service(compose, "vllm").image).toBe("vllm/vllm-openai:v0.11.1");
      });

      it("splits the model over the reserved GPUs", () => {
        const vllm = service(compose, "vllm");
        expect(flagValue(commandArgs(vllm), "--tensor-parallel-size")).toBe("2");
        expect(String(gpuDevices(vllm)[0]?.count)).toBe("2");
      });

      it("publishes on the chosen address and port; the container port stays 8787", () => {
        for (const name of ["thinkscope", "thinkscope-cpu"]) {
          expect(publishedPorts(service(compose, name))).toEqual([
            { hostIp: "127.0.0.1", published: 9000, target: 8787 },
          ]);
        }
      });

      it("hands the operator limits to both Thinkscope services", () => {
        for (const name of ["thinkscope", "thinkscope-cpu"]) {
          const env = service(compose, name).environment;
          expect(env?.THINKSCOPE_AUTH_TOKEN).toBe("class-of-2026");
          expect(env?.THINKSCOPE_MAX_CONCURRENT_RUNS_PER_CLIENT).toBe("2");
          expect(env?.THINKSCOPE_MAX_THINKING_TOKENS_CAP).toBe("4096");
          expect(env?.THINKSCOPE_API_KEY).toBe("upstream-key");
        }
        expect(service(compose, "vllm").environment?.VLLM_API_KEY).toBe("upstream-key");
      });

      it("serves the chosen GGUF in the CPU profile", () => {
        expect(flagValue(commandArgs(service(compose, "llamacpp")), "--model")).toBe(
          "/models/Qwen3-1.7B-Q8_0.gguf",
        );
      });
    });

    describe(".env.example", () => {
      it("documents every variable the compose files read", () => {
        const documented = new Set(
          [...ENV_EXAMPLE.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]),
        );
        for (const file of [MAIN, MULTI_GPU]) {
          const text = readFileSync(join(REPO_ROOT, file), "utf8");
          const used = new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
          const missing = [...used].filter((name) => !documented.has(name));
          expect(missing, `${file} reads variables .env.example does not document`).toEqual([]);
        }
      });

      it("holds the defaults: copying it to .env changes nothing", async () => {
        for (const file of [MAIN, MULTI_GPU]) {
          const fromExample = await resolveCompose(file, ENV_EXAMPLE);
          const defaults = await resolveCompose(file);
          expect(fromExample.warnings).not.toMatch(/variable is not set/i);
          expect(fromExample.services).toEqual(defaults.services);
        }
      });
    });

    describe("deploy/compose.multi-gpu.yml: vLLM replicas behind vLLM's router", () => {
      let compose: ResolvedCompose;
      let replicas: string[];
      beforeAll(async () => {
        compose = await resolveCompose(MULTI_GPU);
        replicas = Object.keys(compose.services).filter((name) => /^vllm-\d+$/.test(name));
      });

      it("validates, and every variable it uses has a default", () => {
        expect(compose.warnings).not.toMatch(/variable is not set/i);
        expect(replicas.length).toBeGreaterThanOrEqual(2);
      });

      it("runs every replica on its own GPU, same model, prefix caching on", () => {
        const gpuIds = replicas.flatMap((name) => {
          const replica = service(compose, name);
          const args = commandArgs(replica);
          expect(args).toContain("--enable-prefix-caching");
          expect(flagValue(args, "--model")).toBe("Qwen/Qwen3-8B");
          expect(healthcheckText(replica)).toContain("localhost:8000/health");
          const [device] = gpuDevices(replica);
          expect(device?.driver).toBe("nvidia");
          expect(device?.count).toBeUndefined();
          return device?.device_ids ?? [];
        });
        expect(new Set(gpuIds).size).toBe(replicas.length);
      });

      it("routes to exactly the replicas, each listed with the model it serves", () => {
        const router = service(compose, "router");
        expect(router.image).toMatch(/^lmcache\/lmstack-router:/);
        pinnedTag(router.image);
        const args = commandArgs(router);
        expect(flagValue(args, "--service-discovery")).toBe("static");
        const backends = (flagValue(args, "--static-backends") ?? "").split(",");
        expect(backends.sort()).toEqual(
          replicas
            .map((name) => {
              const port = flagValue(commandArgs(service(compose, name)), "--port");
              return `http://${name}:${port}`;
            })
            .sort(),
        );
        expect((flagValue(args, "--static-models") ?? "").split(",")).toEqual(
          backends.map(() => "Qwen/Qwen3-8B"),
        );
        // Session routing keeps a run's continuations on the replica holding its prefix.
        expect(flagValue(args, "--routing-logic")).toBe("session");
        expect(flagValue(args, "--session-key")).toBe("x-thinkscope-session");
        expect(dependsOn(router)).toEqual(
          Object.fromEntries(replicas.map((name) => [name, "service_healthy"])),
        );
      });

      it("points thinkscope at the router, which starts after the replicas", () => {
        const thinkscope = service(compose, "thinkscope");
        expectBackendPointsAt(compose, thinkscope, "vllm", "router");
        expect(thinkscope.environment?.THINKSCOPE_MODEL).toBe("Qwen/Qwen3-8B");
        expect(dependsOn(thinkscope)).toEqual({ router: "service_healthy" });
        const { build } = thinkscope;
        const context = typeof build === "string" ? build : build?.context;
        expect(resolve(context ?? "")).toBe(resolve(REPO_ROOT));
        expect(publishedPorts(thinkscope)).toEqual([
          { hostIp: "0.0.0.0", published: 8787, target: 8787 },
        ]);
      });
    });
  },
);

describe.runIf(!hasDockerCompose && process.env.CI)("CI", () => {
  it("has docker-compose installed (.ci/run installs Debian's docker-compose)", () => {
    expect.fail("docker-compose is missing, so the compose files were not validated");
  });
});
