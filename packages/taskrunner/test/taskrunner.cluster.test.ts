import { builtinResources, isNotFound, KubeClient } from "@minitask/client";
import { type ControllerProcess, startControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { installCrds } from "./support/cluster.ts";

const RANK: Record<string, number> = { "": 0, Pending: 1, Running: 2, Succeeded: 3, Failed: 3 };
const TR = { group: "minitask.myorg.dev", version: "v1", resource: "taskruns", kind: "TaskRun", namespaced: true };
const TSK = { group: "minitask.myorg.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true };

let client: KubeClient;
let controller: ControllerProcess;
const history = new Map<string, string[]>(); // taskrun uid → phases seen, in order
const podCreations = new Map<string, number>(); // "ns/name" → ADDED events of distinct uids
const podUids = new Set<string>();
const watchStop = new AbortController();
let watching: Promise<void>;

async function watchAll(): Promise<void> {
  const trStream = await client.resource<TaskRun>(TR).watch({ signal: watchStop.signal, resourceVersion: "0" });
  const podStream = await client.resource<Pod>(builtinResources.pods).watch({
    signal: watchStop.signal,
    labelSelector: "app.kubernetes.io/managed-by=minitask-controller",
    resourceVersion: "0",
  });
  const consume = async (
    stream: AsyncIterable<{ type: string; object: unknown }>,
    on: (t: string, o: unknown) => void,
  ) => {
    try {
      for await (const ev of stream) on(ev.type, ev.object);
    } catch {
      // aborted at the end of the file
    }
  };
  await Promise.all([
    consume(trStream, (_t, o) => {
      const tr = o as TaskRun;
      const uid = tr.metadata?.uid ?? "";
      const phase = tr.status?.phase ?? "";
      const seen = history.get(uid) ?? [];
      if (seen.at(-1) !== phase) seen.push(phase);
      history.set(uid, seen);
    }),
    consume(podStream, (t, o) => {
      const p = o as Pod;
      const uid = p.metadata?.uid ?? "";
      if (t === "ADDED" && !podUids.has(uid)) {
        podUids.add(uid);
        const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
        podCreations.set(key, (podCreations.get(key) ?? 0) + 1);
      }
    }),
  ]);
}

const taskRuns = (ns: string) => client.resource<TaskRun>(TR).inNamespace(ns);
const tasks = (ns: string) => client.resource<Task>(TSK).inNamespace(ns);
const pods = (ns: string) => client.resource<Pod>(builtinResources.pods).inNamespace(ns);

async function createTask(ns: string, name: string, steps: string[], params?: { name: string; default?: string }[]) {
  return tasks(ns).create({
    apiVersion: "minitask.myorg.dev/v1",
    kind: "Task",
    metadata: { name },
    spec: {
      steps: steps.map((s) => ({
        name: s,
        image: "busybox:1.36",
        script: params ? `echo ${s} $(params.x)` : `echo ${s}`,
      })),
      ...(params ? { params } : {}),
    },
  });
}

async function createRun(ns: string, spec: NonNullable<TaskRun["spec"]>, annotations: Record<string, string> = {}) {
  return taskRuns(ns).create({
    apiVersion: "minitask.myorg.dev/v1",
    kind: "TaskRun",
    metadata: { generateName: `${spec.taskRef}-run-`, annotations },
    spec,
  });
}

async function waitPhase(ns: string, name: string, phases: string[], timeoutMs = 60_000): Promise<TaskRun> {
  return eventually(
    `taskrun ${ns}/${name} in ${phases.join("|")}`,
    async () => {
      const tr = await taskRuns(ns).get(name);
      return phases.includes(tr.status?.phase ?? "") ? tr : undefined;
    },
    timeoutMs,
  );
}

async function podGone(ns: string, name: string): Promise<boolean> {
  try {
    await pods(ns).get(name);
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
  watching = watchAll();
  controller = await startControllerProcess(testEnv().kubeconfig, ["--image-pull-timeout=3s", "--workers=4"]);
  await eventually("controller readiness", async () => {
    const r = await fetch(`http://127.0.0.1:${controller.healthPort}/readyz`);
    return r.status === 200 ? true : undefined;
  });
});

afterAll(async () => {
  const code = await controller?.stop("SIGTERM");
  watchStop.abort();
  await watching;
  await client?.close();
  // Invariants over everything this file did.
  for (const [uid, phases] of history) {
    const ranks = phases.map((p) => RANK[p] ?? -1);
    for (let i = 1; i < ranks.length; i++) {
      expect(ranks[i], `phase regression of ${uid}: ${phases.join(" → ")}`).toBeGreaterThanOrEqual(ranks[i - 1] ?? 0);
    }
    expect(
      phases.filter((p) => p === "Succeeded" || p === "Failed").length,
      `terminal phase changed: ${phases}`,
    ).toBeLessThanOrEqual(1);
  }
  for (const [pod, n] of podCreations) expect(n, `pod ${pod} created ${n} times`).toBe(1);
  expect(code).toBe(0);
  expect(controller.output()).not.toContain("unhandled rejection");
});

describe("Mini Task Runner", () => {
  it("runs the hello task's steps in order and fills per-step status", async () => {
    const ns = await createTestNamespace("tr-hello");
    await createTask(ns, "hello", ["greet", "farewell"]);
    const run = await createRun(ns, { taskRef: "hello" });
    const name = run.metadata?.name ?? "";
    const done = await waitPhase(ns, name, ["Succeeded", "Failed"]);
    expect(done.status).toMatchObject({
      phase: "Succeeded",
      reason: "Succeeded",
      podName: `${name}-pod`,
      observedGeneration: 1,
      conditions: [{ type: "Succeeded", status: "True", reason: "Succeeded" }],
    });
    expect(done.status?.startTime).toBeTruthy();
    expect(done.status?.finishTime).toBeTruthy();
    const steps = done.status?.steps ?? [];
    expect(steps.map((s) => [s.name, s.state, s.exitCode])).toEqual([
      ["greet", "Succeeded", 0],
      ["farewell", "Succeeded", 0],
    ]);
    expect(Date.parse(steps[1]?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(steps[0]?.finishedAt ?? ""));
    const pod = await pods(ns).get(`${name}-pod`);
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["step-greet"]);
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "TaskRun", name, controller: true });
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    // Events on the TaskRun (written asynchronously).
    await eventually("events for the run", async () => {
      const out = await kubectl([
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        `involvedObject.name=${name}`,
        "-o",
        "json",
      ]);
      const reasons = (JSON.parse(out) as { items: { reason: string }[] }).items.map((e) => e.reason);
      return ["PodCreated", "Succeeded"].every((r) => reasons.includes(r)) ? reasons : undefined;
    });
  });

  it("fails with StepFailed when a middle step fails; later steps never start", async () => {
    const ns = await createTestNamespace("tr-fail");
    await createTask(ns, "three", ["one", "two", "three"]);
    const run = await createRun(
      ns,
      { taskRef: "three" },
      { "testenv.minitask.dev/fail": "step-two", "testenv.minitask.dev/exit-code": "4" },
    );
    const done = await waitPhase(ns, run.metadata?.name ?? "", ["Succeeded", "Failed"]);
    expect(done.status).toMatchObject({
      phase: "Failed",
      reason: "StepFailed",
      message: 'step "two" failed with exit code 4',
    });
    expect(done.status?.steps?.map((s) => s.state)).toEqual(["Succeeded", "Failed", "Skipped"]);
    expect(done.status?.steps?.[2]?.startedAt).toBeUndefined();
    expect(done.status?.conditions?.[0]).toMatchObject({ type: "Succeeded", status: "False", reason: "StepFailed" });
  });

  it("waits for a missing Task, then runs as soon as it is created", async () => {
    const ns = await createTestNamespace("tr-missing");
    const run = await createRun(ns, { taskRef: "later" });
    const name = run.metadata?.name ?? "";
    const waiting = await eventually("TaskNotFound", async () => {
      const tr = await taskRuns(ns).get(name);
      return tr.status?.reason === "TaskNotFound" ? tr : undefined;
    });
    expect(waiting.status?.phase).toBe("Pending");
    expect(await podGone(ns, `${name}-pod`)).toBe(true);
    await createTask(ns, "later", ["only"]);
    expect((await waitPhase(ns, name, ["Succeeded", "Failed"])).status?.phase).toBe("Succeeded");
  });

  it("fails a missing Task with TaskNotFound once the timeout passes", async () => {
    const ns = await createTestNamespace("tr-missing-to");
    const run = await createRun(ns, { taskRef: "never", timeout: "2s" });
    const done = await waitPhase(ns, run.metadata?.name ?? "", ["Failed"]);
    expect(done.status).toMatchObject({ reason: "TaskNotFound" });
  });

  it("substitutes params, and fails cleanly with InvalidParams", async () => {
    const ns = await createTestNamespace("tr-params");
    await createTask(ns, "p", ["show"], [{ name: "x" }, { name: "y", default: "dflt" }]);
    const ok = await createRun(ns, { taskRef: "p", params: [{ name: "x", value: "hello-param" }] });
    await waitPhase(ns, ok.metadata?.name ?? "", ["Succeeded"]);
    const pod = await pods(ns).get(`${ok.metadata?.name}-pod`);
    expect(pod.spec?.containers[0]?.command).toEqual(["/bin/sh", "-c", "echo show hello-param"]);

    const missing = await createRun(ns, { taskRef: "p" });
    const unknown = await createRun(ns, {
      taskRef: "p",
      params: [
        { name: "x", value: "1" },
        { name: "zzz", value: "2" },
      ],
    });
    const m = await waitPhase(ns, missing.metadata?.name ?? "", ["Failed"]);
    expect(m.status).toMatchObject({ reason: "InvalidParams", message: "missing required param x" });
    const u = await waitPhase(ns, unknown.metadata?.name ?? "", ["Failed"]);
    expect(u.status).toMatchObject({ reason: "InvalidParams", message: "unknown param zzz" });
    expect(await podGone(ns, `${missing.metadata?.name}-pod`)).toBe(true);
  });

  it("times out a run that takes too long and stops its pod", async () => {
    const ns = await createTestNamespace("tr-timeout");
    await createTask(ns, "slow", ["wait"]);
    const run = await createRun(ns, { taskRef: "slow", timeout: "3s" }, { "testenv.minitask.dev/hold": "true" });
    const name = run.metadata?.name ?? "";
    await waitPhase(ns, name, ["Running"]);
    const done = await waitPhase(ns, name, ["Failed"]);
    expect(done.status).toMatchObject({ reason: "TimedOut" });
    // Stopped where it runs, not deleted: its logs, events and exit codes stay (execution.cluster.test.ts
    // shows the real kubelet killing it).
    await eventually("the pod to be stopped", async () =>
      (await pods(ns).get(`${name}-pod`)).spec?.activeDeadlineSeconds === 1 ? true : undefined,
    );
  });

  it("cancels a running run", async () => {
    const ns = await createTestNamespace("tr-cancel");
    await createTask(ns, "long", ["a", "b"]);
    const run = await createRun(ns, { taskRef: "long" }, { "testenv.minitask.dev/hold": "true" });
    const name = run.metadata?.name ?? "";
    await waitPhase(ns, name, ["Running"]);
    await taskRuns(ns).patch(name, { spec: { cancelled: true } }, { type: "merge" });
    const done = await waitPhase(ns, name, ["Failed"]);
    expect(done.status).toMatchObject({ reason: "Cancelled" });
    await eventually("the pod to be stopped", async () =>
      (await pods(ns).get(`${name}-pod`)).spec?.activeDeadlineSeconds === 1 ? true : undefined,
    );
  });

  it("fails with PodDeleted when the pod vanishes while running", async () => {
    const ns = await createTestNamespace("tr-poddel");
    await createTask(ns, "t", ["a"]);
    const run = await createRun(ns, { taskRef: "t" }, { "testenv.minitask.dev/hold": "true" });
    const name = run.metadata?.name ?? "";
    await waitPhase(ns, name, ["Running"]);
    await pods(ns).delete(`${name}-pod`, { gracePeriodSeconds: 0 });
    const done = await waitPhase(ns, name, ["Failed"]);
    expect(done.status).toMatchObject({ reason: "PodDeleted" });
  });

  it("fails with ImagePullFailed after the bounded wait", async () => {
    const ns = await createTestNamespace("tr-pull");
    await createTask(ns, "img", ["a", "b"]);
    const run = await createRun(ns, { taskRef: "img" }, { "testenv.minitask.dev/image-pull-fail": "step-b" });
    const done = await waitPhase(ns, run.metadata?.name ?? "", ["Failed"]);
    expect(done.status?.reason).toBe("ImagePullFailed");
    expect(done.status?.message).toContain('step "b"');
  });

  it("garbage-collects the pod when its TaskRun is deleted", async () => {
    const ns = await createTestNamespace("tr-gc");
    await createTask(ns, "t", ["a"]);
    const run = await createRun(ns, { taskRef: "t" }, { "testenv.minitask.dev/hold": "true" });
    const name = run.metadata?.name ?? "";
    await waitPhase(ns, name, ["Running"]);
    await taskRuns(ns).delete(name, { propagationPolicy: "Background" });
    await eventually("the pod to be garbage-collected", async () =>
      (await podGone(ns, `${name}-pod`)) ? true : undefined,
    );
  });

  it("survives a SIGKILL mid-run: after restart, no duplicate pod and every run converges", async () => {
    const ns = await createTestNamespace("tr-crash");
    await createTask(ns, "t", ["a", "b", "c"]);
    const names: string[] = [];
    for (let i = 0; i < 20; i++) names.push((await createRun(ns, { taskRef: "t" })).metadata?.name ?? "");
    // Kill once some runs are underway.
    await eventually("some pods to exist", async () => {
      const list = await pods(ns).list();
      return list.items.length >= 5 ? true : undefined;
    });
    expect(await controller.stop("SIGKILL")).toBe("SIGKILL");
    controller = await startControllerProcess(testEnv().kubeconfig, ["--image-pull-timeout=3s", "--workers=4"]);
    for (const n of names) expect((await waitPhase(ns, n, ["Succeeded", "Failed"])).status?.phase).toBe("Succeeded");
    const list = await pods(ns).list();
    expect(list.items.length).toBe(20);
  });
});
