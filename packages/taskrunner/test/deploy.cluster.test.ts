// deploy/ as the apiserver sees it: the controller's pod passes Pod Security `restricted` admission, the
// NetworkPolicy and the metrics Service agree with the Deployment's ports, and metrics are secure.
import { fileURLToPath } from "node:url";
import { createTestNamespace, kubectl } from "@minitask/testenv/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { enforcePodSecurity } from "./support/cluster.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: {
    containers: { name: string; args?: string[]; ports?: { name: string; containerPort: number }[] }[];
  };
}

async function render(dir: string): Promise<Manifest[]> {
  const out = await kubectl(["kustomize", `${ROOT}${dir}`]);
  return parseAllDocuments(out).map((d) => d.toJS() as Manifest);
}

function one(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Manifest;
}

/** The Deployment's pod as a bare Pod in `ns`, created with a server-side dry run: admission runs, nothing is stored. */
async function dryRunPod(deployment: Manifest, ns: string): Promise<string> {
  const template = (deployment.spec as { template: PodTemplate }).template;
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "controller-dry-run", namespace: ns, labels: template.metadata?.labels },
    spec: { ...template.spec, serviceAccountName: "default" },
  };
  return kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], JSON.stringify(pod)).then(
    (out) => out.trim(),
    (err: { stderr?: string }) => `refused: ${err.stderr ?? ""}`,
  );
}

let base: Manifest[];
let ns: string;

beforeAll(async () => {
  base = await render("deploy");
  ns = await createTestNamespace("deploy-restricted");
  await enforcePodSecurity(ns, "restricted");
});

describe("deploy/", () => {
  it("runs the controller in a pod that Pod Security `restricted` admits (and the local-node overlay's is refused)", async () => {
    expect(one(base, "Namespace").metadata).toMatchObject({ name: "minitask-system" });
    expect(JSON.stringify(one(base, "Namespace"))).toContain('"pod-security.kubernetes.io/enforce":"restricted"');
    expect(await dryRunPod(one(base, "Deployment"), ns)).toBe("pod/controller-dry-run");
    // The check bites: the test overlay needs hostNetwork, which `restricted` forbids.
    const local = await dryRunPod(one(await render("deploy-local-node"), "Deployment"), ns);
    expect(local).toContain('violates PodSecurity "restricted:latest"');
    expect(local).toContain("host namespaces (hostNetwork=true)");
  });

  it("deploy-sharded/ runs three active replicas with --sharding instead of --leader-elect, as restricted as the base", async () => {
    const sharded = one(await render("deploy-sharded"), "Deployment");
    const spec = sharded.spec as { replicas: number; template: PodTemplate };
    expect(spec.replicas).toBe(3);
    const args = spec.template.spec.containers[0]?.args ?? [];
    expect(args).toContain("--sharding");
    expect(args).toContain("--shard-buckets=16");
    expect(args).not.toContain("--leader-elect");
    expect(await dryRunPod(sharded, ns)).toBe("pod/controller-dry-run");
  });

  it("serves metrics securely, and its NetworkPolicy admits exactly the metrics and probe ports and egress to the apiserver", async () => {
    const deployment = one(base, "Deployment");
    const container = (deployment.spec as { template: PodTemplate }).template.spec.containers[0];
    const ports = Object.fromEntries((container?.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(container?.args).toContain("--metrics-secure");
    expect(container?.args).toContain(`--metrics-bind-address=:${ports.metrics}`);
    expect(container?.args).toContain(`--health-probe-bind-address=:${ports.health}`);
    const service = one(base, "Service").spec as { ports: { port: number; targetPort: string }[] };
    expect(service.ports).toEqual([expect.objectContaining({ port: ports.metrics, targetPort: "metrics" })]);

    const policy = one(base, "NetworkPolicy");
    const spec = policy.spec as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: { ports: { port: number }[] }[];
      egress: { ports: { port: number }[]; to?: unknown }[];
    };
    expect(spec.podSelector.matchLabels).toEqual(
      (deployment.spec as { template: PodTemplate }).template.metadata?.labels,
    );
    expect(spec.policyTypes.toSorted()).toEqual(["Egress", "Ingress"]);
    expect(spec.ingress.flatMap((r) => r.ports.map((p) => p.port)).toSorted()).toEqual(
      [ports.metrics, ports.health].toSorted(),
    );
    expect(spec.egress.flatMap((r) => r.ports.map((p) => p.port)).toSorted()).toEqual([443, 6443]);
    // The apiserver accepts every object as written (schema and defaults; nothing stored but the namespace,
    // which the namespaced objects' dry run needs, and which the other deploy/ tests apply too).
    await kubectl(["apply", "-f", `${ROOT}deploy/namespace.yaml`]);
    const out = await kubectl(["apply", "--dry-run=server", "-k", `${ROOT}deploy`]);
    expect(out).toContain("networkpolicy.networking.k8s.io/minitask-controller");
    expect(out).toContain("service/minitask-controller-metrics");
  });
});
