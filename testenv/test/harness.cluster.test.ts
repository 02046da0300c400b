// The local control plane itself: it is real (version, RBAC, scheduling, garbage collection), kwok
// runs pods through their lifecycle with steps one after another, and the test hooks work.
import { describe, expect, it } from "vitest";
import { createTestNamespace, eventually, kubectl, testEnv } from "../src/testing.ts";
import { KUBERNETES_VERSION } from "../src/versions.ts";

interface ContainerState {
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string };
  waiting?: { reason: string; message?: string };
}
interface PodLike {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    initContainerStatuses?: { name: string; state: ContainerState }[];
    containerStatuses?: { name: string; state: ContainerState }[];
  };
}

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

function podManifest(ns: string, name: string, steps: string[], annotations: Record<string, string> = {}) {
  const containers = steps.map((s) => ({ name: s, image: "busybox:1.36", command: ["sh", "-c", `echo ${s}`] }));
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, annotations },
    spec: { restartPolicy: "Never", initContainers: containers.slice(0, -1), containers: containers.slice(-1) },
  });
}

async function podInPhase(ns: string, name: string, phases: string[]): Promise<PodLike> {
  return eventually(`pod ${ns}/${name} in ${phases.join("|")}`, async () => {
    const pod = await getJson<PodLike>(["get", "pod", name, "-n", ns]);
    return phases.includes(pod.status.phase ?? "") ? pod : undefined;
  });
}

describe("local control plane", () => {
  it("is a real, ready kube-apiserver of the pinned version with a Ready kwok node", async () => {
    const version = JSON.parse(await kubectl(["get", "--raw", "/version"])) as { gitVersion: string };
    expect(version.gitVersion).toBe(KUBERNETES_VERSION);
    expect(await kubectl(["get", "--raw", "/readyz"])).toBe("ok");
    const nodes = await getJson<{
      items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
    }>(["get", "nodes"]);
    expect(nodes.items.length).toBeGreaterThanOrEqual(1);
    for (const n of nodes.items) {
      expect(n.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    }
    expect(testEnv().kubectl).toMatch(/kubectl$/);
  });

  it("enforces RBAC: an unprivileged identity is Forbidden", async () => {
    const out = await kubectl(["auth", "can-i", "list", "secrets", "--as", "nobody", "-A"]).catch(
      (e: { stdout?: string }) => e.stdout ?? "",
    );
    expect(out.trim()).toBe("no");
    expect((await kubectl(["auth", "can-i", "list", "secrets", "-A"])).trim()).toBe("yes");
  });

  it("round-trips a namespace and a ConfigMap", async () => {
    const ns = await createTestNamespace("roundtrip");
    await kubectl(["create", "configmap", "cm1", "-n", ns, "--from-literal=greeting=hello"]);
    const cm = await getJson<{ data: Record<string, string> }>(["get", "configmap", "cm1", "-n", ns]);
    expect(cm.data).toEqual({ greeting: "hello" });
  });

  it("schedules a pod onto a kwok node and runs its steps one after another to Succeeded", async () => {
    const ns = await createTestNamespace("pod-ok");
    await kubectl(["apply", "-f", "-"], podManifest(ns, "steps", ["one", "two", "three"]));
    const pod = await podInPhase(ns, "steps", ["Succeeded", "Failed"]);
    expect(pod.status.phase).toBe("Succeeded");
    expect(pod.spec.nodeName).toMatch(/^kwok-node-/);
    const states = [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])];
    expect(states.map((s) => s.name)).toEqual(["one", "two", "three"]);
    for (const s of states) expect(s.state.terminated?.exitCode).toBe(0);
    // Sequential: each step starts no earlier than the previous one finished.
    for (let i = 1; i < states.length; i++) {
      const prevEnd = Date.parse(states[i - 1]?.state.terminated?.finishedAt ?? "");
      const start = Date.parse(states[i]?.state.terminated?.startedAt ?? "");
      expect(start).toBeGreaterThanOrEqual(prevEnd);
    }
  });

  it("fails a pod through the failure hook: the named step exits non-zero and later steps never start", async () => {
    const ns = await createTestNamespace("pod-fail");
    const annotations = { "testenv.minitask.dev/fail": "two", "testenv.minitask.dev/exit-code": "7" };
    await kubectl(["apply", "-f", "-"], podManifest(ns, "bad", ["one", "two", "three"], annotations));
    const pod = await podInPhase(ns, "bad", ["Succeeded", "Failed"]);
    expect(pod.status.phase).toBe("Failed");
    const init = pod.status.initContainerStatuses ?? [];
    expect(init[0]?.state.terminated?.exitCode).toBe(0);
    expect(init[1]?.state.terminated).toMatchObject({ exitCode: 7, reason: "Error" });
    expect(pod.status.containerStatuses?.[0]?.state.running).toBeUndefined();
    expect(pod.status.containerStatuses?.[0]?.state.terminated).toBeUndefined();
  });

  it("holds a pod Running until the hold annotation is removed", async () => {
    const ns = await createTestNamespace("pod-hold");
    await kubectl(["apply", "-f", "-"], podManifest(ns, "held", ["main"], { "testenv.minitask.dev/hold": "true" }));
    await podInPhase(ns, "held", ["Running"]);
    // A pod created after the held one finishes, while the held one is still Running.
    await kubectl(["apply", "-f", "-"], podManifest(ns, "free", ["main"]));
    await podInPhase(ns, "free", ["Succeeded"]);
    expect((await getJson<PodLike>(["get", "pod", "held", "-n", ns])).status.phase).toBe("Running");
    await kubectl(["annotate", "pod", "held", "-n", ns, "testenv.minitask.dev/hold-"]);
    expect((await podInPhase(ns, "held", ["Succeeded", "Failed"])).status.phase).toBe("Succeeded");
  });

  it("simulates an image that never pulls", async () => {
    const ns = await createTestNamespace("pod-pull");
    await kubectl(
      ["apply", "-f", "-"],
      podManifest(ns, "pull", ["one", "two"], { "testenv.minitask.dev/image-pull-fail": "one" }),
    );
    const pod = await eventually("ErrImagePull", async () => {
      const p = await getJson<PodLike>(["get", "pod", "pull", "-n", ns]);
      return p.status.initContainerStatuses?.[0]?.state.waiting?.reason === "ErrImagePull" ? p : undefined;
    });
    expect(pod.status.phase).toBe("Pending");
  });

  it("garbage-collects a pod whose owner is deleted", async () => {
    const ns = await createTestNamespace("gc");
    await kubectl(["create", "configmap", "owner", "-n", ns]);
    const owner = await getJson<{ metadata: { uid: string } }>(["get", "configmap", "owner", "-n", ns]);
    const pod = JSON.parse(podManifest(ns, "child", ["main"], { "testenv.minitask.dev/hold": "true" })) as {
      metadata: Record<string, unknown>;
    };
    pod.metadata.ownerReferences = [
      { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid, controller: true },
    ];
    await kubectl(["apply", "-f", "-"], JSON.stringify(pod));
    await podInPhase(ns, "child", ["Running"]);
    await kubectl(["delete", "configmap", "owner", "-n", ns, "--cascade=background"]);
    await eventually("the child pod to be garbage-collected", async () => {
      const out = await kubectl(["get", "pods", "-n", ns, "-o", "name"]);
      return out.trim() === "" ? true : undefined;
    });
  });
});
