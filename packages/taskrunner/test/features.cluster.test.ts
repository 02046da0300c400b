// Tekton-grade Task features on the real node (kubelet + containerd, busybox): a workspace shared by steps, results
// in status.results, env from a Secret, onError: continue, a sidecar running beside the steps, and results too large
// for a termination message, retries (a pod per attempt), and a stepTemplate with a Task volume.
import { KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { installCrds, startReadyController } from "./support/cluster.ts";

const B = "busybox:1.36";
let client: KubeClient;
let ns: string;
let controller: ControllerProcess | undefined;

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
  ns = await createTestNamespace("features", { node: "real" });
  controller = await startReadyController(["--namespace", ns, "--log-level=info"]);
});

afterAll(async () => {
  await controller?.stop("SIGTERM");
  await client?.close();
});

async function runTask(
  name: string,
  spec: NonNullable<Task["spec"]>,
  runSpec: Partial<NonNullable<TaskRun["spec"]>> = {},
) {
  await taskClient(client, ns).create({ apiVersion: "minitask.myorg.dev/v1", kind: "Task", metadata: { name }, spec });
  await taskRunClient(client, ns).create({
    apiVersion: "minitask.myorg.dev/v1",
    kind: "TaskRun",
    metadata: { name: `${name}-run` },
    spec: { taskRef: name, ...runSpec },
  });
  return eventually(
    `${name}-run to finish`,
    async () => {
      const r = await taskRunClient(client, ns).get(`${name}-run`);
      return r.status?.phase === "Succeeded" || r.status?.phase === "Failed" ? r : undefined;
    },
    90_000,
  );
}

const logs = (pod: string, container: string) => kubectl(["logs", "-n", ns, pod, "-c", container]);

describe("Task features on the real node", () => {
  it("a checkout step writes into an emptyDir workspace, a later step reads it, and both report results", async () => {
    const tr = await runTask(
      "build",
      {
        workspaces: [{ name: "source" }],
        results: [{ name: "commit" }, { name: "summary" }],
        steps: [
          {
            name: "checkout",
            image: B,
            script:
              'printf "one\\ntwo\\nthree\\n" > $(workspaces.source.path)/README\nprintf abc123 > $(results.commit.path)',
          },
          {
            name: "build",
            image: B,
            workingDir: "$(workspaces.source.path)",
            script:
              'cat README\nprintf "%s lines, built ✓\\nsecond line" "$(wc -l < README)" > $(results.summary.path)',
          },
        ],
      },
      { workspaces: [{ name: "source", emptyDir: {} }] },
    );
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(tr.status?.results).toEqual([
      { name: "commit", value: "abc123" },
      { name: "summary", value: "3 lines, built ✓\nsecond line" },
    ]);
    expect(await logs(tr.status?.podName ?? "", "step-build")).toBe("one\ntwo\nthree\n");
  });

  it("an env var from a Secret reaches the script; a missing optional ConfigMap key is simply absent", async () => {
    await kubectl(["create", "secret", "generic", "db", "-n", ns, "--from-literal=password=s3cr3t"]);
    const tr = await runTask("secret-env", {
      steps: [
        {
          name: "use",
          image: B,
          env: [
            { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
            { name: "MODE", valueFrom: { configMapKeyRef: { name: "nope", key: "mode", optional: true } } },
          ],
          script: 'echo "password=$PASSWORD" | cut -c1-11; env | grep -c "^MODE=" || true',
        },
      ],
    });
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(await logs(tr.status?.podName ?? "", "step-use")).toBe("password=s3\n0\n");
  });

  it("onError: continue records the failing step's exit code and runs the next; the run succeeds", async () => {
    const tr = await runTask("lenient", {
      steps: [
        { name: "lint", image: B, onError: "continue", script: "echo some warnings; exit 3" },
        { name: "test", image: B, script: "echo tests pass" },
      ],
    });
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(tr.status?.message).toBe('All 2 steps completed successfully (failed and continued: "lint")');
    expect(tr.status?.steps?.[0]).toMatchObject({
      name: "lint",
      state: "Failed",
      exitCode: 3,
      reason: "ContinuedOnError",
    });
    expect(tr.status?.steps?.[1]).toMatchObject({ name: "test", state: "Succeeded", exitCode: 0 });
    expect(await logs(tr.status?.podName ?? "", "step-test")).toBe("tests pass\n");
  });

  it("a sidecar runs beside every step; the run finishes with the last step, and the sidecar is stopped after", async () => {
    const tr = await runTask(
      "with-sidecar",
      {
        workspaces: [{ name: "shared" }],
        sidecars: [
          {
            name: "beat",
            image: B,
            script:
              "trap 'exit 0' TERM; n=0; while true; do n=$((n+1)); echo $n > $(workspaces.shared.path)/beat; sleep 0.1; done",
          },
        ],
        steps: [
          {
            name: "first",
            image: B,
            script:
              "f=$(workspaces.shared.path)/beat; until [ -s $f ]; do sleep 0.1; done; a=$(cat $f); sleep 1; b=$(cat $f); [ $b -gt $a ] && echo beating",
          },
          {
            name: "second",
            image: B,
            script:
              "a=$(cat $(workspaces.shared.path)/beat); sleep 1; b=$(cat $(workspaces.shared.path)/beat); [ $b -gt $a ] && echo still beating",
          },
        ],
      },
      { workspaces: [{ name: "shared", emptyDir: {} }] },
    );
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    // Sidecars are not steps.
    expect(tr.status?.steps?.map((s) => s.name)).toEqual(["first", "second"]);
    const podName = tr.status?.podName ?? "";
    expect(await logs(podName, "step-first")).toBe("beating\n");
    expect(await logs(podName, "step-second")).toBe("still beating\n");
    const pod = await eventually("the sidecar to be stopped and the pod to complete", async () => {
      const p = (await client.resource<Pod>({ group: "", version: "v1", resource: "pods" }, ns).get(podName)) as Pod;
      const sidecar = p.status?.initContainerStatuses?.find((c) => c.name === "sidecar-beat");
      // The kubelet stops the sidecar once the last step has exited, then the pod completes.
      return sidecar?.state?.terminated && p.status?.phase === "Succeeded" ? p : undefined;
    });
    expect(pod.status?.initContainerStatuses?.find((c) => c.name === "sidecar-beat")?.state?.terminated).toBeDefined();
  });

  it("results too large for the termination message fail the run, naming the result and its size", async () => {
    const tr = await runTask("too-big", {
      results: [{ name: "blob" }, { name: "small" }],
      steps: [
        {
          name: "write",
          image: B,
          script: "head -c 5000 /dev/zero | tr '\\0' x > $(results.blob.path); printf ok > $(results.small.path)",
        },
      ],
    });
    expect(tr.status?.phase).toBe("Failed");
    expect(tr.status?.reason).toBe("ResultsTooLarge");
    expect(tr.status?.message).toContain('step "write" wrote');
    expect(tr.status?.message).toContain("(blob: 5000, small: 2), over the 4096-byte limit");
    expect(tr.status?.results).toBeUndefined();
  });

  it("a Task workspace the run does not bind fails at once with InvalidWorkspaces, before any pod", async () => {
    const tr = await runTask("needs-ws", {
      workspaces: [{ name: "src" }],
      steps: [{ name: "a", image: B, script: "true" }],
    });
    expect(tr.status?.reason).toBe("InvalidWorkspaces");
    expect(tr.status?.message).toContain('workspace "src" of task "needs-ws" not bound');
    expect(tr.status?.podName).toBeUndefined();
  });

  it("retries: 2 on an always-failing step makes 3 attempts, one pod each, the first two in retriesStatus", async () => {
    const tr = await runTask(
      "flaky",
      { steps: [{ name: "try", image: B, script: 'echo "attempt on $(hostname)"; exit 7' }] },
      { retries: 2 },
    );
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Failed");
    expect(tr.status?.reason).toBe("StepFailed");
    expect(tr.status?.podName).toBe("flaky-run-pod-retry2");
    const attempts = tr.status?.retriesStatus ?? [];
    expect(attempts.map((a) => [a.podName, a.phase, a.reason])).toEqual([
      ["flaky-run-pod", "Failed", "StepFailed"],
      ["flaky-run-pod-retry1", "Failed", "StepFailed"],
    ]);
    expect(attempts.map((a) => a.steps?.[0]?.exitCode)).toEqual([7, 7]);
    // Each attempt ran in its own pod, whose logs stay readable.
    const pods = await client
      .resource<Pod>({ group: "", version: "v1", resource: "pods" }, ns)
      .list({ labelSelector: "minitask.myorg.dev/taskrun=flaky-run" });
    expect(pods.items.map((p) => p.metadata?.name).sort()).toEqual([
      "flaky-run-pod",
      "flaky-run-pod-retry1",
      "flaky-run-pod-retry2",
    ]);
    for (const name of ["flaky-run-pod", "flaky-run-pod-retry1", "flaky-run-pod-retry2"]) {
      expect(await logs(name, "step-try")).toBe(`attempt on ${name}\n`);
    }
  });

  it("a stepTemplate and a Task volume: every step gets the template's image, env and mount", async () => {
    const tr = await runTask("templated", {
      stepTemplate: {
        image: B,
        env: [{ name: "GREETING", value: "hi" }],
        volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
      },
      volumes: [{ name: "scratch", emptyDir: {} }],
      steps: [
        { name: "write", script: 'echo "$GREETING" > /scratch/note' },
        {
          name: "read",
          script: 'cat /scratch/note; echo "$GREETING again"',
          env: [{ name: "GREETING", value: "bye" }],
        },
      ],
    });
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(await logs(tr.status?.podName ?? "", "step-read")).toBe("hi\nbye again\n");
  });

  it("examples/tasks/build-and-test.yaml runs as its example TaskRun asks: a shared workspace and two results", async () => {
    const root = new URL("../../../", import.meta.url).pathname;
    await kubectl(["apply", "-n", ns, "-f", `${root}examples/tasks/build-and-test.yaml`]);
    const created = await kubectl([
      "create",
      "-n",
      ns,
      "-o",
      "name",
      "-f",
      `${root}examples/taskruns/build-and-test-run.yaml`,
    ]);
    const name = created.trim().replace(/^.*\//, "");
    const tr = await eventually(
      `${name} to finish`,
      async () => {
        const r = await taskRunClient(client, ns).get(name);
        return r.status?.phase === "Succeeded" || r.status?.phase === "Failed" ? r : undefined;
      },
      90_000,
    );
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(tr.status?.results).toEqual([
      { name: "revision", value: "v1.2.3" },
      { name: "summary", value: "1 test file(s) passed at v1.2.3" },
    ]);
    const podName = tr.status?.podName ?? "";
    expect(await logs(podName, "step-build")).toBe("built bin/add: 42\n");
    expect(await logs(podName, "step-test")).toBe("add 2 3 = 5: ok\n1 test file(s) passed\n");
  });

  it("an array param expands into separate arguments of a real command", async () => {
    const tr = await runTask(
      "words",
      {
        params: [{ name: "words", type: "array" }],
        steps: [{ name: "count", image: B, command: ["sh", "-c", 'echo "$# args: $*"', "sh", "$(params.words[*])"] }],
      },
      { params: [{ name: "words", value: ["one", "two words", "three"] }] },
    );
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(await logs(tr.status?.podName ?? "", "step-count")).toBe("3 args: one two words three\n");
  });

  it("a podTemplate reaches the pod: its securityContext runs the steps as uid 1000 on the node it selects", async () => {
    const tr = await runTask(
      "as-user",
      { steps: [{ name: "who", image: B, script: "id -u; id -g" }] },
      {
        podTemplate: {
          securityContext: { runAsUser: 1000, runAsGroup: 3000 },
          nodeSelector: { "kubernetes.io/hostname": "127.0.0.1" },
        },
      },
    );
    expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
    expect(await logs(tr.status?.podName ?? "", "step-who")).toBe("1000\n3000\n");
  });
});
