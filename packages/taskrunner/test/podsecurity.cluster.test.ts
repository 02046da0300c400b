import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { builtinResources, KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { buildImage, nodeArtifactPaths } from "@minitask/testenv";
import { createTestNamespace, eventually, importNodeImage, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { enforcePodSecurity, installCrds, startReadyController } from "./support/cluster.ts";

const B = "busybox:1.36";
/** busybox in an image whose USER is 65532 (built and imported by the last test). */
const NONROOT = "example.test/minitask/nonroot:1";
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
async function podSecurityNamespace(level: "baseline" | "restricted", steps = STEPS): Promise<string> {
  const ns = await createTestNamespace(`psa-${level}`, { node: "real" });
  await enforcePodSecurity(ns, level);
  await taskClient(client, ns).create(task(steps));
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

  it("a `restricted` namespace: the pod is admitted asking for runAsNonRoot, and busybox (root) fails StepRunsAsRoot at once", async () => {
    const ns = await podSecurityNamespace("restricted");
    await runController(ns);
    const tr = await runToEnd(ns);
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Failed");
    // Admitted: every check of the profile passes; the kubelet refuses to start a root image.
    expect(tr.status?.reason).toBe("StepRunsAsRoot");
    expect(tr.status?.message).toContain(
      'step "first" cannot start: container has runAsNonRoot and image will run as root',
    );
    expect(tr.status?.message).toContain("use an image whose USER is a non-root numeric uid");
    const pod = await client
      .resource<Pod>(builtinResources.pods)
      .inNamespace(ns)
      .get(tr.status?.podName ?? "");
    expect(pod.spec?.securityContext?.runAsNonRoot).toBe(true);
  });

  it("an image whose USER is not root runs in a `restricted` namespace with no change to the Task", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-nonroot-"));
    try {
      const shell = join(dir, "shell");
      mkdirSync(join(shell, "bin"), { recursive: true });
      copyFileSync(nodeArtifactPaths().busybox, join(shell, "bin", "busybox"));
      chmodSync(join(shell, "bin", "busybox"), 0o755);
      for (const a of ["sh", "grep", "id"]) symlinkSync("busybox", join(shell, "bin", a));
      const tarball = join(dir, "nonroot.tar");
      await buildImage({
        out: tarball,
        tags: [NONROOT],
        layers: [{ dir: shell }],
        config: { Env: ["PATH=/bin"], User: "65532:65532" },
      });
      expect(await importNodeImage(tarball)).toEqual([NONROOT]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ns = await podSecurityNamespace("restricted", [
      { name: "first", image: NONROOT, script: PROBE },
      { name: "second", image: NONROOT, script: PROBE },
    ]);
    await runController(ns);
    const tr = await runToEnd(ns);
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    for (const step of ["step-first", "step-second"]) {
      expect(await probed(ns, tr.status?.podName ?? "", step), step).toMatchObject({
        CapEff: "0000000000000000",
        NoNewPrivs: "1",
        uid: "65532",
        token: "no",
      });
    }
  });
});
