// @minitask/envtest's public API as a user's tests use it: startControlPlane on a control plane of its own
// (CRDs served at once, namespaces ready for pods, `await using` leaving no process and no state), and
// connecting to a running cluster (the one of this test run) without stopping it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isNotFound, type KubeObject } from "@minitask/client";
import { describe, expect, it } from "vitest";
import { connectControlPlane, startControlPlane } from "../src/envtest.ts";
import { eventually, testEnv } from "../src/testing.ts";
import { envtestGlobalSetup } from "../src/vitest.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CRDS = join(REPO, "crds");
interface Task extends KubeObject {
  spec: { steps: { name: string; image: string; script: string }[] };
}
const tasks = { group: "minitask.myorg.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true };

/** Whether any process of the process group `pgid` is alive (not a zombie). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const e of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z") return true;
    } catch {
      // gone
    }
  }
  return false;
}

describe("startControlPlane", () => {
  it("starts a control plane with CRDs served, namespaces ready for pods, and leaves nothing behind", async () => {
    let pids: number[] = [];
    let stateDir = "";
    {
      await using env = await startControlPlane({ crds: [CRDS], log: () => {} });
      expect(env.owned).toBe(true);
      expect(env.nodeKind).toBe("kwok");
      expect(env.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      stateDir = env.controlPlane?.state.stateDir ?? "";
      pids = env.controlPlane?.livePids() ?? [];
      expect(pids.length).toBe(5); // etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
      // The CRDs are served as soon as start resolves: no retry needed.
      const ns = await env.createNamespace("Envtest Start!");
      expect(ns).toMatch(/^envtest-start-[0-9a-f]{8}$/);
      const created = await env.client
        .resource<Task>(tasks, ns)
        .create({ metadata: { name: "hello" }, spec: { steps: [{ name: "a", image: "busybox", script: "true" }] } });
      expect(created.metadata?.uid).toBeTruthy();
      // The namespace's default ServiceAccount exists, so a pod is admitted at once; kwok runs it.
      await env.client.requestJson({
        method: "POST",
        path: `/api/v1/namespaces/${ns}/pods`,
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "p" },
          spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "Never" },
        }),
      });
      await eventually("kwok to run the pod to completion", async () => {
        const pod = await env.client.requestJson<{ status?: { phase?: string } }>({
          method: "GET",
          path: `/api/v1/namespaces/${ns}/pods/p`,
        });
        return pod.status?.phase === "Succeeded" ? true : undefined;
      });
      expect(await env.kubectl(["get", "tasks", "-n", ns, "-o", "name"])).toBe("task.minitask.myorg.dev/hello\n");
    }
    // `await using` stopped it: no process of any component, no state folder.
    expect(pids.filter(groupAlive)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  }, 180_000);

  it("connects to an existing cluster: installs CRDs, cleans up its namespaces, stops nothing", async () => {
    const kubeconfig = testEnv().kubeconfig;
    const env = await startControlPlane({ existingCluster: kubeconfig, crds: [join(CRDS, "task.yaml")] });
    expect(env.owned).toBe(false);
    expect(env.controlPlane).toBeUndefined();
    const ns = await env.createNamespace("envtest-existing");
    await env.stop();
    await env.stop(); // idempotent
    await using other = connectControlPlane(kubeconfig);
    await eventually("the namespace to be deleted", async () => {
      try {
        const got = await other.client.requestJson<{ status?: { phase?: string } }>({
          method: "GET",
          path: `/api/v1/namespaces/${ns}`,
        });
        return got.status?.phase === "Terminating" ? true : undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    });
    // The cluster still serves.
    await expect(other.client.version()).resolves.toMatchObject({ gitVersion: expect.stringMatching(/^v1\./) });
  });

  it("a CRD path that does not exist, or a manifest that is not a CRD, fails start with the reason", async () => {
    const existingCluster = testEnv().kubeconfig;
    await expect(startControlPlane({ existingCluster, crds: [join(REPO, "nope")] })).rejects.toThrow(
      /CRD path .*nope does not exist/,
    );
    await expect(startControlPlane({ existingCluster, crds: [join(REPO, "deploy/namespace.yaml")] })).rejects.toThrow(
      /namespace\.yaml: not a CustomResourceDefinition \(kind "Namespace"\)/,
    );
  });
});

describe("envtestGlobalSetup (vitest)", () => {
  it("provides the control plane's kubeconfig to test files, and its teardown stops it", async () => {
    const provided = new Map<string, unknown>();
    const setup = envtestGlobalSetup({ existingCluster: testEnv().kubeconfig });
    const teardown = await setup({
      provide: (key: string, value: unknown) => provided.set(key, value),
    } as unknown as Parameters<typeof setup>[0]);
    expect(provided.get("minitaskEnvtest")).toEqual({
      kubeconfig: testEnv().kubeconfig,
      server: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      nodeKind: "kwok",
    });
    await teardown();
  });
});
