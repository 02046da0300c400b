import { describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import { boundedName, labelValue, podNameFor } from "../src/contract.ts";
import { parseDuration } from "../src/duration.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import {
  InvalidParamsError,
  InvalidSpecError,
  paramVariables,
  resolveParams,
  substitute,
} from "../src/reconciler/params.ts";
import { buildPod } from "../src/reconciler/pod.ts";
import { closeSteps, jsonEqual, nextStatus, outcomeFromPod } from "../src/reconciler/status.ts";

const task = (steps: NonNullable<Task["spec"]>["steps"], params?: NonNullable<Task["spec"]>["params"]): Task => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "hello", namespace: "ns" },
  spec: { steps, ...(params ? { params } : {}) },
});

const run = (spec: Partial<NonNullable<TaskRun["spec"]>> = {}, status?: TaskRun["status"]): TaskRun => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "TaskRun",
  metadata: { name: "hello-run-abcde", namespace: "ns", uid: "uid-1", generation: 1 },
  spec: { taskRef: "hello", ...spec },
  ...(status ? { status } : {}),
});

describe("durations", () => {
  it("parses Go durations", () => {
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("0")).toBe(0);
  });
  it("rejects malformed ones with a clear message", () => {
    for (const bad of ["", "1", "h", "1 h", "1x", "10m-", "abc"]) {
      expect(() => parseDuration(bad)).toThrow(/invalid duration/);
    }
  });
});

describe("params", () => {
  it("uses given values, then defaults", () => {
    const v = resolveParams([{ name: "who", default: "world" }, { name: "n" }], [{ name: "n", value: "3" }]);
    expect(Object.fromEntries(v)).toEqual({ who: "world", n: "3" });
    expect(substitute("hi $(params.who) x$(params.n) $(context.taskRun.name)", paramVariables(v))).toBe(
      "hi world x3 $(context.taskRun.name)",
    );
  });
  it("names missing and unknown params", () => {
    const err = (() => {
      try {
        resolveParams([{ name: "a" }, { name: "b" }], [{ name: "zz", value: "1" }]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidParamsError);
    expect((err as Error).message).toBe("missing required params a, b; unknown param zz");
  });
  it("refuses references to undeclared params", () => {
    expect(() => substitute("$(params.nope)", new Map())).toThrow(InvalidParamsError);
    expect(() => substitute("$(workspaces.src.path)", new Map())).toThrow(
      /\$\(workspaces\.src\.path\) refers to a workspace the task does not declare/,
    );
    expect(() => substitute("$(results.sha.path)", new Map())).toThrow(InvalidSpecError);
  });
});

describe("pod names", () => {
  it("keeps the original's <taskrun>-pod name when short", () => {
    expect(podNameFor("hello-run-abcde")).toBe("hello-run-abcde-pod");
  });
  it("truncates with a hash when too long, deterministically and uniquely", () => {
    const a = podNameFor(`${"x".repeat(70)}-a`);
    const b = podNameFor(`${"x".repeat(70)}-b`);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/-[0-9a-f]{8}-pod$/);
    expect(a).not.toBe(b);
    expect(podNameFor(`${"x".repeat(70)}-a`)).toBe(a);
    expect(labelValue("y".repeat(100)).length).toBeLessThanOrEqual(63);
    expect(boundedName("ab", "-pod")).toBe("ab-pod");
  });
});

const LOCKED_DOWN = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

describe("buildPod", () => {
  it("runs steps in order: all but the last as init containers, with the owner reference and labels", () => {
    const pod = buildPod(
      run(),
      task([
        { name: "greet", image: "busybox", script: "echo hello" },
        { name: "bye", image: "busybox", script: "echo bye" },
      ]),
      { remainingMs: 3_599_500 },
    );
    expect(pod.metadata?.name).toBe("hello-run-abcde-pod");
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["step-greet"]);
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(["step-bye"]);
    expect(pod.spec?.initContainers?.[0]?.command).toEqual(["/bin/sh", "-c", "echo hello"]);
    expect(pod.spec?.activeDeadlineSeconds).toBe(3600);
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "minitask.myorg.dev/v1",
        kind: "TaskRun",
        name: "hello-run-abcde",
        uid: "uid-1",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod.metadata?.labels).toMatchObject({
      "minitask.myorg.dev/taskrun": "hello-run-abcde",
      "minitask.myorg.dev/task": "hello",
    });
  });

  it("substitutes params in image, script, args, env and workingDir; commands run without a shell", () => {
    const pod = buildPod(
      run({ params: [{ name: "tag", value: "1.36" }] }),
      task(
        [
          {
            name: "one",
            image: "busybox:$(params.tag)",
            command: ["echo"],
            args: ["$(params.who)"],
            env: [{ name: "WHO", value: "$(params.who)" }],
            workingDir: "/w/$(params.who)",
          },
        ],
        [{ name: "tag" }, { name: "who", default: "world" }],
      ),
    );
    const c = pod.spec?.containers[0];
    expect(c).toMatchObject({
      image: "busybox:1.36",
      command: ["echo"],
      args: ["world"],
      env: [{ name: "WHO", value: "world" }],
      workingDir: "/w/world",
    });
    expect(pod.spec?.initContainers).toBeUndefined();
  });

  it("runs a #! script with its own interpreter", () => {
    const script = "#!/usr/bin/env python3\nprint('hi')\n";
    const pod = buildPod(run(), task([{ name: "py", image: "python:3", script }]));
    const c = pod.spec?.containers[0];
    expect(c?.command?.[0]).toBe("/bin/sh");
    expect(c?.command?.[2]).toContain('exec "$f"');
    expect(c?.env).toContainEqual({ name: "MINITASK_SCRIPT", value: script });
  });

  it("mounts a service-account token only when the run names a service account", () => {
    const pod = buildPod(run({ serviceAccountName: "builder" }), task([{ name: "a", image: "x", script: "true" }]));
    expect(pod.spec?.serviceAccountName).toBe("builder");
    expect(pod.spec?.automountServiceAccountToken).toBeUndefined();
    // Naming a ServiceAccount loosens nothing else.
    expect(pod.spec?.securityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.spec?.containers[0]?.securityContext).toEqual(LOCKED_DOWN);
  });

  it("locks a plain Task's pod down: no token, RuntimeDefault seccomp, no privilege escalation, no capabilities", () => {
    const pod = buildPod(
      run(),
      task([
        { name: "one", image: "busybox", script: "true" },
        { name: "two", image: "busybox", command: ["true"] },
        { name: "three", image: "busybox", script: "#!/bin/sh\ntrue\n" },
      ]),
    );
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.serviceAccountName).toBeUndefined();
    expect(pod.spec?.securityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    expect(all.map((c) => c.name)).toEqual(["step-one", "step-two", "step-three"]);
    for (const c of all) expect(c.securityContext, c.name).toEqual(LOCKED_DOWN);
    // Not forced: runAsNonRoot (root images would not start), so Pod Security `restricted` rejects the pod.
    expect(pod.spec?.securityContext?.runAsNonRoot).toBeUndefined();
    expect(all.some((c) => c.securityContext?.runAsNonRoot !== undefined || c.securityContext?.privileged)).toBe(false);
    // Each container gets its own object: changing one step's context cannot change another's.
    all[0]?.securityContext?.capabilities?.drop?.push("NET_RAW");
    expect(all[1]?.securityContext).toEqual(LOCKED_DOWN);
  });

  it("fails on bad params before anything is created", () => {
    expect(() =>
      buildPod(run(), task([{ name: "a", image: "x", script: "echo $(params.p)" }], [{ name: "p" }])),
    ).toThrow(InvalidParamsError);
  });
});

function podWith(status: Pod["status"], steps = ["one", "two", "three"]): Pod {
  const cs = steps.map((s) => ({ name: `step-${s}`, image: "busybox" }));
  return {
    metadata: { name: "p", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: { initContainers: cs.slice(0, -1), containers: cs.slice(-1) },
    status,
  };
}
const term = (name: string, exitCode: number, at: string) => ({
  name,
  state: { terminated: { exitCode, reason: exitCode ? "Error" : "Completed", startedAt: at, finishedAt: at } },
});

describe("outcomeFromPod", () => {
  it("is Pending before any step starts", () => {
    const o = outcomeFromPod(podWith({ phase: "Pending" }));
    expect(o.phase).toBe("Pending");
    expect(o.steps.map((s) => s.state)).toEqual(["Waiting", "Waiting", "Waiting"]);
  });

  it("is Running as soon as a step runs, although the pod is still Pending (init containers)", () => {
    const o = outcomeFromPod(
      podWith({
        phase: "Pending",
        initContainerStatuses: [
          term("step-one", 0, "2026-01-01T00:00:01Z"),
          { name: "step-two", state: { running: { startedAt: "2026-01-01T00:00:02Z" } } },
        ],
      }),
    );
    expect(o).toMatchObject({ phase: "Running", message: 'step "two" is running', startTime: "2026-01-01T00:00:01Z" });
    expect(o.steps.map((s) => s.state)).toEqual(["Succeeded", "Running", "Waiting"]);
  });

  it("fails with StepFailed naming the step and exit code; later steps are Skipped", () => {
    const o = outcomeFromPod(
      podWith({
        phase: "Failed",
        initContainerStatuses: [
          term("step-one", 0, "2026-01-01T00:00:01Z"),
          term("step-two", 3, "2026-01-01T00:00:02Z"),
        ],
        containerStatuses: [{ name: "step-three", state: { waiting: { reason: "PodInitializing" } } }],
      }),
    );
    expect(o).toMatchObject({ phase: "Failed", reason: "StepFailed", message: 'step "two" failed with exit code 3' });
    expect(o.steps.map((s) => s.state)).toEqual(["Succeeded", "Failed", "Skipped"]);
    expect(o.finishTime).toBe("2026-01-01T00:00:02Z");
  });

  it("succeeds when the pod succeeds", () => {
    const o = outcomeFromPod(
      podWith({ phase: "Succeeded", containerStatuses: [term("step-only", 0, "2026-01-01T00:00:05Z")] }, ["only"]),
    );
    expect(o).toMatchObject({ phase: "Succeeded", reason: "Succeeded", message: "All 1 step completed successfully" });
  });

  it("reports image pull trouble", () => {
    const o = outcomeFromPod(
      podWith({
        phase: "Pending",
        initContainerStatuses: [{ name: "step-one", state: { waiting: { reason: "ErrImagePull", message: "nope" } } }],
      }),
    );
    expect(o).toMatchObject({ phase: "Pending", reason: "ImagePullBackOff", imagePullError: { step: "one" } });
  });

  it("maps DeadlineExceeded to TimedOut", () => {
    const o = outcomeFromPod(podWith({ phase: "Failed", reason: "DeadlineExceeded", message: "too slow" }));
    expect(o).toMatchObject({ phase: "Failed", reason: "TimedOut", message: "too slow" });
  });
});

describe("nextStatus", () => {
  const now = Date.parse("2026-01-01T00:01:00Z");

  it("fills the Succeeded condition, times and observedGeneration", () => {
    const s = nextStatus(run(), { phase: "Running", reason: "Running", message: "go", podName: "p" }, now);
    expect(s).toMatchObject({
      phase: "Running",
      podName: "p",
      startTime: "2026-01-01T00:01:00Z",
      observedGeneration: 1,
      conditions: [{ type: "Succeeded", status: "Unknown", reason: "Running" }],
    });
    expect(s.finishTime).toBeUndefined();
  });

  it("never moves a phase backwards", () => {
    const r = run({}, { phase: "Running", reason: "Running", message: "m", startTime: "2026-01-01T00:00:30Z" });
    const s = nextStatus(r, { phase: "Pending", reason: "Pending", message: "stale" }, now);
    expect(s.phase).toBe("Running");
    expect(s.startTime).toBe("2026-01-01T00:00:30Z");
  });

  it("never changes a finished run", () => {
    const done = {
      phase: "Succeeded" as const,
      reason: "Succeeded",
      message: "ok",
      finishTime: "2026-01-01T00:00:50Z",
    };
    const s = nextStatus(run({}, done), { phase: "Failed", reason: "PodDeleted", message: "x" }, now);
    expect(s).toEqual(done);
  });

  it("keeps lastTransitionTime while the condition status stays", () => {
    const first = nextStatus(run(), { phase: "Pending", reason: "Pending", message: "a" }, now);
    const later = nextStatus(run({}, first), { phase: "Running", reason: "Running", message: "b" }, now + 5000);
    expect(later.conditions?.[0]?.lastTransitionTime).toBe(first.conditions?.[0]?.lastTransitionTime);
    const done = nextStatus(run({}, later), { phase: "Failed", reason: "StepFailed", message: "c" }, now + 9000);
    expect(done.conditions?.[0]).toMatchObject({ status: "False", lastTransitionTime: "2026-01-01T00:01:09Z" });
    expect(done.finishTime).toBe("2026-01-01T00:01:09Z");
  });

  it("is stable: recomputing from the written status changes nothing", () => {
    const s = nextStatus(run(), { phase: "Running", reason: "Running", message: "m", podName: "p", steps: [] }, now);
    const again = nextStatus(
      run({}, s),
      { phase: "Running", reason: "Running", message: "m", podName: "p" },
      now + 1000,
    );
    expect(jsonEqual(again, s)).toBe(true);
  });
});

describe("closeSteps", () => {
  it("fails the running step and skips the waiting ones", () => {
    expect(
      closeSteps(
        [
          { name: "a", state: "Succeeded", exitCode: 0 },
          { name: "b", state: "Running" },
          { name: "c", state: "Waiting", reason: "PodInitializing" },
        ],
        "Cancelled",
      ),
    ).toEqual([
      { name: "a", state: "Succeeded", exitCode: 0 },
      { name: "b", state: "Failed", reason: "Cancelled" },
      { name: "c", state: "Skipped" },
    ]);
  });
});

describe("trimPod", () => {
  it("keeps what the reconciler reads and drops the rest", async () => {
    const { trimPod } = await import("../src/reconciler/corev1.ts");
    const pod = podWith({
      phase: "Failed",
      reason: "DeadlineExceeded",
      initContainerStatuses: [term("step-one", 0, "2026-01-01T00:00:01Z"), term("step-two", 3, "2026-01-01T00:00:02Z")],
    });
    pod.metadata = {
      ...pod.metadata,
      namespace: "ns",
      uid: "u",
      labels: { a: "b" },
      annotations: { big: "x".repeat(1000) },
      ownerReferences: [
        { apiVersion: "minitask.myorg.dev/v1", kind: "TaskRun", name: "r", uid: "ru", controller: true },
      ],
      managedFields: [{ manager: "kubectl" }],
    };
    const t = trimPod(pod);
    expect(t.metadata?.annotations).toBeUndefined();
    expect(t.metadata?.managedFields).toBeUndefined();
    expect(t.metadata?.ownerReferences?.[0]?.uid).toBe("ru");
    expect(outcomeFromPod(t)).toEqual(outcomeFromPod(pod));
  });
});
