import { builtinResources, KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, testEnv } from "@minitask/testenv/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { runChild } from "./kubectl-task.support.ts";
import { installCrds, startReadyController } from "./support/cluster.ts";

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

const runs = (ns: string) => taskRunClient(client, ns);
const pods = (ns: string) => client.resource<Pod>(builtinResources.pods).inNamespace(ns);

/** A real-node namespace with `task` in it and a controller watching only that namespace. */
async function realNamespace(prefix: string, task: Task): Promise<string> {
  const ns = await createTestNamespace(prefix, { node: "real" });
  await taskClient(client, ns).create(task);
  controller = await startReadyController(["--namespace", ns, "--log-level=info"]);
  return ns;
}

function task(
  name: string,
  steps: NonNullable<Task["spec"]>["steps"],
  params?: NonNullable<Task["spec"]>["params"],
): Task {
  return {
    apiVersion: "minitask.myorg.dev/v1",
    kind: "Task",
    metadata: { name },
    spec: { steps, ...(params ? { params } : {}) },
  };
}

async function createRun(ns: string, spec: TaskRun["spec"]): Promise<string> {
  const r = await runs(ns).create({
    apiVersion: "minitask.myorg.dev/v1",
    kind: "TaskRun",
    metadata: { generateName: `${spec.taskRef}-run-` },
    spec,
  });
  return r.metadata?.name ?? "";
}

async function waitPhase(ns: string, name: string, phases: readonly string[], timeoutMs = 90_000): Promise<TaskRun> {
  return eventually(
    `taskrun ${name} to reach ${phases.join("|")}`,
    async () => {
      const r = await runs(ns).get(name);
      return phases.includes(r.status?.phase ?? "") ? r : undefined;
    },
    timeoutMs,
  );
}

/** `kubectl task` as a child process in `ns`, recording when each line first appeared on stdout. */
async function kt(ns: string, args: readonly string[]) {
  const seen = new Map<string, number>();
  const result = await runChild(["-n", ns, ...args], {
    env: { KUBECONFIG: testEnv().kubeconfig },
    timeoutMs: 120_000,
    onStdout: (text) => {
      for (const line of text.split("\n")) if (line && !seen.has(line)) seen.set(line, Date.now());
    },
  });
  return { ...result, seen };
}

const B = "busybox:1.36";
/**
 * A shell that is a container's PID 1 ignores SIGTERM unless it traps it, and the kubelet then waits the
 * whole grace period (30 s) before SIGKILL; well-behaved long steps trap it.
 */
const TERMINATES_ON_SIGTERM = 'trap "exit 143" TERM\n';

describe("on the real node", () => {
  it("start --follow streams each step's real output while the step runs, and exits 0", async () => {
    const ns = await realNamespace(
      "ex-follow",
      task(
        "talk",
        [
          { name: "first", image: B, script: 'echo "hello $(params.who)"\nsleep 3\necho "three seconds later"' },
          { name: "second", image: B, script: "echo done" },
        ],
        [{ name: "who" }],
      ),
    );
    const r = await kt(ns, ["start", "talk", "-p", "who=Ada", "--follow"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("[first] hello Ada");
    expect(lines).toContain("[first] three seconds later");
    expect(lines).toContain("[second] done");
    expect(lines.indexOf("[first] three seconds later")).toBeLessThan(lines.indexOf("[second] done"));
    // Streamed: the first line was on screen well before the step's last one, not all at the end.
    const early = r.seen.get("[first] hello Ada") ?? 0;
    const late = r.seen.get("[first] three seconds later") ?? 0;
    expect(late - early).toBeGreaterThanOrEqual(2_000);
  });

  it("records real exit codes per step, runs steps strictly in order, and a failing step stops the rest", async () => {
    const ns = await realNamespace(
      "ex-exit",
      task("three", [
        { name: "one", image: B, script: "echo one; sleep 1" },
        { name: "two", image: B, script: "echo two; exit 3" },
        { name: "three", image: B, script: "echo three" },
      ]),
    );
    const name = await createRun(ns, { taskRef: "three" });
    const done = await waitPhase(ns, name, ["Failed"]);
    expect(done.status?.reason).toBe("StepFailed");
    const steps = done.status?.steps ?? [];
    expect(steps.map((s) => [s.name, s.state, s.exitCode])).toEqual([
      ["one", "Succeeded", 0],
      ["two", "Failed", 3],
      ["three", "Skipped", undefined],
    ]);
    // Order by the containers' own timestamps: two started after one finished; three never started.
    const pod = await pods(ns).get(`${name}-pod`);
    const init = pod.status?.initContainerStatuses ?? [];
    const one = init.find((c) => c.name === "step-one")?.state?.terminated;
    const two = init.find((c) => c.name === "step-two")?.state?.terminated;
    expect(one?.exitCode).toBe(0);
    expect(two?.exitCode).toBe(3);
    expect(Date.parse(two?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(one?.finishedAt ?? ""));
    const three = pod.status?.containerStatuses?.find((c) => c.name === "step-three")?.state;
    expect(three?.running).toBeUndefined();
    expect(three?.terminated?.startedAt).toBeUndefined();

    const logs = await kt(ns, ["logs", name]);
    expect(logs.code).toBe(0);
    expect(logs.stdout.split("\n")).toEqual(expect.arrayContaining(["[one] one", "[two] two"]));
    expect(logs.stdout).not.toContain("[three] three");
  });

  it("a #!/bin/sh script, workingDir, env, resources and params, seen in the step's own output", async () => {
    const ns = await realNamespace(
      "ex-shape",
      task(
        "shape",
        [
          {
            name: "inspect",
            image: B,
            workingDir: "/tmp",
            env: [{ name: "GREETING", value: "hi $(params.who)" }],
            resources: { limits: { memory: "64Mi" }, requests: { cpu: "50m", memory: "32Mi" } },
            script:
              '#!/bin/sh\nset -eu\necho "shell=$0"\necho "pwd=$(pwd)"\necho "env=$GREETING"\necho "param=$(params.who)"\ncat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max',
          },
        ],
        [{ name: "who", default: "world" }],
      ),
    );
    const name = await createRun(ns, { taskRef: "shape", params: [{ name: "who", value: "Grace" }] });
    await waitPhase(ns, name, ["Succeeded"]);
    const out = (await kt(ns, ["logs", name])).stdout.split("\n");
    expect(out).toContain("[inspect] pwd=/tmp");
    expect(out).toContain("[inspect] env=hi Grace");
    expect(out).toContain("[inspect] param=Grace");
    expect(out.some((l) => /^\[inspect\] shell=\/\S+/.test(l))).toBe(true);
    expect(out).toContain(`[inspect] ${64 * 1024 * 1024}`);
  });

  it("the timeout kills a running step; the run is TimedOut and the logs of what ran stay readable", async () => {
    const ns = await realNamespace(
      "ex-timeout",
      task("slow", [{ name: "wait", image: B, script: `${TERMINATES_ON_SIGTERM}echo started; sleep 600 & wait` }]),
    );
    const name = await createRun(ns, { taskRef: "slow", timeout: "6s" });
    await waitPhase(ns, name, ["Running"]);
    const done = await waitPhase(ns, name, ["Failed"]);
    expect(done.status?.reason).toBe("TimedOut");
    expect(done.status?.steps?.[0]).toMatchObject({ name: "wait", state: "Failed" });
    // The pod is stopped, not deleted: the kubelet kills it (DeadlineExceeded) and it stays.
    await eventually("the pod to be killed by the kubelet", async () => {
      const p = await pods(ns).get(`${name}-pod`);
      return p.status?.phase === "Failed" ? p : undefined;
    });
    const logs = await kt(ns, ["logs", name]);
    expect(logs.code).toBe(0);
    expect(logs.stdout.split("\n")).toContain("[wait] started");
  });

  it("cancel kills a running step; the run is Cancelled and the logs of what ran stay readable", async () => {
    const ns = await realNamespace(
      "ex-cancel",
      task("long", [
        { name: "work", image: B, script: `${TERMINATES_ON_SIGTERM}echo working; sleep 600 & wait` },
        { name: "never", image: B, script: "echo never" },
      ]),
    );
    const name = await createRun(ns, { taskRef: "long" });
    await eventually("the step to print", async () => {
      const l = await kt(ns, ["logs", name]);
      return l.stdout.includes("[work] working") ? true : undefined;
    });
    const c = await kt(ns, ["cancel", name]);
    expect(c.code).toBe(0);
    const done = await waitPhase(ns, name, ["Failed"]);
    expect(done.status?.reason).toBe("Cancelled");
    expect(done.status?.steps?.map((s) => [s.name, s.state])).toEqual([
      ["work", "Failed"],
      ["never", "Skipped"],
    ]);
    await eventually("the pod to be killed by the kubelet", async () => {
      const p = await pods(ns).get(`${name}-pod`);
      return p.status?.phase === "Failed" ? p : undefined;
    });
    const logs = await kt(ns, ["logs", name]);
    expect(logs.stdout.split("\n")).toContain("[work] working");
    expect(logs.stdout).not.toContain("[never] never");
  });
});
