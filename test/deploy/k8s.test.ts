/**
 * The Kubernetes example (deploy/k8s) holds together: every Service selects
 * pods that exist and targets a port they open, the router discovers the vLLM
 * pods, and Thinkscope is pointed at the router for the model vLLM serves.
 * (No cluster here: this checks the manifests' own wiring.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT, backendUrl, flagValue } from "./compose-config.ts";

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { optional?: boolean } } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { limits?: Record<string, string | number> };
  readinessProbe?: { httpGet?: { path: string } };
}

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName?: string;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
      };
    };
    ports?: { port: number; targetPort: number | string }[];
  };
  subjects?: { kind: string; name: string }[];
  roleRef?: { kind: string; name: string };
  rules?: { resources: string[]; verbs: string[] }[];
}

const dir = join(REPO_ROOT, "deploy", "k8s");
const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as {
  namespace: string;
  resources: string[];
};
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return doc.toJS() as Manifest;
  }),
);

function find(kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

function container(deployment: string): Container {
  return find("Deployment", deployment).spec!.template!.spec.containers[0]!;
}

function env(c: Container, name: string) {
  return c.env?.find((e) => e.name === name);
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

const deployments = manifests.filter((m) => m.kind === "Deployment");
const services = manifests.filter((m) => m.kind === "Service");

describe("deploy/k8s", () => {
  it("lists files that parse into the expected objects", () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(
      ["thinkscope", "vllm", "vllm-router"].sort(),
    );
    expect(services.map((s) => s.metadata.name).sort()).toEqual(["thinkscope", "vllm-router"]);
  });

  it("gives every Deployment a selector that matches its own pods", () => {
    for (const d of deployments) {
      expect(selects(d.spec!.selector!.matchLabels!, d.spec!.template!.metadata.labels)).toBe(true);
    }
  });

  it("points every Service at pods that exist and at a port they open", () => {
    for (const svc of services) {
      const selector = svc.spec!.selector as Record<string, string>;
      const targets = deployments.filter((d) =>
        selects(selector, d.spec!.template!.metadata.labels),
      );
      expect(targets, `Service ${svc.metadata.name}`).toHaveLength(1);
      const ports = targets[0]!.spec!.template!.spec.containers.flatMap((c) => c.ports ?? []);
      for (const { targetPort } of svc.spec!.ports!) {
        expect(ports.some((p) => p.name === targetPort || p.containerPort === targetPort)).toBe(
          true,
        );
      }
    }
  });

  it("runs vLLM on one GPU per pod with prefix caching on", () => {
    const vllm = container("vllm");
    expect(vllm.image).toMatch(/^vllm\/vllm-openai:v/);
    expect(vllm.args).toContain("--enable-prefix-caching");
    expect(Number(vllm.resources?.limits?.["nvidia.com/gpu"])).toBe(1);
    expect(vllm.readinessProbe?.httpGet?.path).toBe("/health");
  });

  it("lets the router discover the vLLM pods in the namespace the example is applied to", () => {
    const router = container("vllm-router");
    const args = router.args ?? [];
    expect(flagValue(args, "--service-discovery")).toBe("k8s");
    expect(flagValue(args, "--k8s-namespace")).toBe(kustomization.namespace);
    const [key, value] = (flagValue(args, "--k8s-label-selector") ?? "").split("=");
    expect(find("Deployment", "vllm").spec!.template!.metadata.labels[key!]).toBe(value);
    const vllmPort = flagValue(container("vllm").args ?? [], "--port");
    expect(flagValue(args, "--k8s-port")).toBe(vllmPort);
    expect(flagValue(args, "--routing-logic")).toBe("session");

    // It may list pods: a ServiceAccount bound to a Role that can watch them.
    const account = find("Deployment", "vllm-router").spec!.template!.spec.serviceAccountName!;
    find("ServiceAccount", account);
    const binding = manifests.find(
      (m) => m.kind === "RoleBinding" && m.subjects?.some((s) => s.name === account),
    )!;
    const role = find("Role", binding.roleRef!.name);
    const podRule = role.rules!.find((r) => r.resources.includes("pods"))!;
    expect(podRule.verbs).toEqual(expect.arrayContaining(["get", "list", "watch"]));
  });

  it("points Thinkscope at the router's Service for the model vLLM serves", () => {
    const thinkscope = container("thinkscope");
    const { kind, url } = backendUrl(env(thinkscope, "THINKSCOPE_BACKEND")?.value);
    expect(kind).toBe("vllm");
    const routerService = find("Service", url.hostname);
    expect(routerService.spec!.ports!.map((p) => String(p.port))).toContain(url.port);
    const routerPods = find("Deployment", "vllm-router").spec!.template!.metadata.labels;
    expect(selects(routerService.spec!.selector as Record<string, string>, routerPods)).toBe(true);
    expect(env(thinkscope, "THINKSCOPE_MODEL")?.value).toBe(
      flagValue(container("vllm").args ?? [], "--model"),
    );
  });

  it("runs Thinkscope as one non-root replica with its data on a volume", () => {
    const deployment = find("Deployment", "thinkscope");
    const pod = deployment.spec!.template!.spec;
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).not.toBe(0);
    const thinkscope = container("thinkscope");
    expect(env(thinkscope, "THINKSCOPE_DATA_DIR")?.value).toBe("/data");
    expect(thinkscope.readinessProbe?.httpGet?.path).toBe("/api/health");
    find("PersistentVolumeClaim", "thinkscope-data");
  });

  it("reads secrets as optional, so the example applies before they are created", () => {
    for (const d of deployments) {
      for (const c of d.spec!.template!.spec.containers) {
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) expect(e.valueFrom.secretKeyRef.optional).toBe(true);
        }
      }
    }
  });
});
