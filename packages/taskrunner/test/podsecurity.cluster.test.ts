import { builtinResources, KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { buildPod } from "../src/reconciler/pod.ts";
import { installCrds, startReadyController } from "./support/cluster.ts";

const B = "busybox:1.36";
const TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** What a step sees of its own privileges. */
const PROBE =
  "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; echo uid=$(id -u); " +
  `if [ -e ${TOKEN} ]; then echo token=yes; else echo token=no; fi`;

let client: KubeClient;
let controller: ControllerProcess | undefined;

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
});

afterEach(async () => {
  await controller?.stop("SIGTERM");
  controller = undefined;
});

afterAll(async () => {
  await client?.close();
});

const task = (steps: NonNullable<Task["spec"]>["steps"]): Task => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "probe" },
  spec: { steps },
});
const STEPS = [
  { name: "first", image: B, script: PROBE },
  { name: "second", image: B, script: PROBE },
];

/** A real-node namespace enforcing Pod Security `level` (once admission sees the label), with the Task. */
async function podSecurityNamespace(level: "baseline" | "restricted"): Promise<string> {
  const ns = await createTestNamespace(`psa-${level}`, { node: "real" });
  await kubectl(["label", "namespace", ns, `pod-security.kubernetes.io/enforce=${level}`]);
  // Admission reads namespaces from a cache: wait until a privileged pod is refused.
  const privileged = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "privileged", namespace: ns },
    spec: { containers: [{ name: "c", image: B, securityContext: { privileged: true } }] },
  };
  await eventually(`Pod Security ${level} in force in ${ns}`, async () => {
    try {
      await kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(privileged));
      return undefined;
    } catch (err) {
      return String((err as { stderr?: string }).stderr).includes("violates PodSecurity") ? true : undefined;
    }
  });
  await taskClient(client, ns).create(task(STEPS));
  return ns;
}

async function runController(ns: string): Promise<void> {
  controller = await startReadyController(["--namespace", ns, "--log-level=info"]);
}

async function runToEnd(ns: string): Promise<TaskRun> {
  const runs = taskRunClient(client, ns);
  const created = await runs.create({
    apiVersion: "minitask.myorg.dev/v1",
    kind: "TaskRun",
    metadata: { generateName: "probe-run-" },
    spec: { taskRef: "probe" },
  });
  const name = created.metadata?.name ?? "";
  return eventually(
    `taskrun ${name} to finish`,
    async () => {
      const r = await runs.get(name);
      return r.status?.phase === "Succeeded" || r.status?.phase === "Failed" ? r : undefined;
    },
    90_000,
  );
}

/** The probe's lines from one step's log, as a record. */
async function probed(ns: string, pod: string, container: string): Promise<Record<string, string>> {
  const out = await kubectl(["logs", "-n", ns, pod, "-c", container]);
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => l.split(/[:=]\s*/, 2).map((s) => s.trim()) as [string, string]),
  );
}

describe("step pods' security defaults", () => {
  it("a plain Task runs in a `baseline` namespace on the real node with no capabilities, no_new_privs, a seccomp filter and no token", async () => {
    const ns = await podSecurityNamespace("baseline");
    await runController(ns);
    const tr = await runToEnd(ns);
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    const pod = tr.status?.podName ?? "";
    for (const step of ["step-first", "step-second"]) {
      expect(await probed(ns, pod, step), step).toEqual({
        CapEff: "0000000000000000",
        CapBnd: "0000000000000000",
        NoNewPrivs: "1",
        Seccomp: "2", // SECCOMP_MODE_FILTER: containerd's default profile
        uid: "0", // busybox's user: not changed (see the last test)
        token: "no",
      });
    }
  });

  it("a `restricted` namespace refuses the pod for runAsNonRoot alone: the run fails with PodCreationFailed saying so", async () => {
    const ns = await podSecurityNamespace("restricted");
    await runController(ns);
    const tr = await runToEnd(ns);
    expect(tr.status?.phase).toBe("Failed");
    expect(tr.status?.reason).toBe("PodCreationFailed");
    const message = tr.status?.message ?? "";
    expect(message).toContain('violates PodSecurity "restricted:latest": runAsNonRoot != true');
    expect(message).toContain('"step-first", "step-second" must set securityContext.runAsNonRoot=true');
    // Every other check of the profile passes.
    for (const other of ["allowPrivilegeEscalation", "capabilities", "seccompProfile", "runAsUser", "volume"]) {
      expect(message).not.toContain(other);
    }
  });

  it("what a Task would have to add for `restricted`: runAsNonRoot and a non-root runAsUser (busybox runs as root)", async () => {
    const ns = await podSecurityNamespace("restricted");
    const run: TaskRun = {
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      metadata: { name: "by-hand", namespace: ns, uid: "00000000-0000-0000-0000-000000000000" },
      spec: { taskRef: "probe" },
    };
    const pod = buildPod(run, task(STEPS));
    // No owner (the garbage collector would delete a pod whose owner does not exist).
    pod.metadata = { ...pod.metadata, ownerReferences: [] };
    const pods = client.resource<Pod>(builtinResources.pods).inNamespace(ns);
    const asIs = await kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(pod)).catch(
      (err: { stderr?: string }) => err.stderr ?? "",
    );
    expect(asIs).toContain("runAsNonRoot != true");
    if (pod.spec) pod.spec.securityContext = { ...pod.spec.securityContext, runAsNonRoot: true, runAsUser: 65534 };
    await pods.create(pod);
    const done = await eventually(
      "the hand-made pod to finish",
      async () => {
        const p = await pods.get(pod.metadata?.name ?? "");
        return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
      },
      90_000,
    );
    expect(done.status?.phase).toBe("Succeeded");
    expect(await probed(ns, pod.metadata?.name ?? "", "step-second")).toMatchObject({ uid: "65534", token: "no" });
  });
});
