// The reconciler's decision table: one row per branch of planActive and planFinished. Each row gives what
// the reconciler read and the decision it must take; the executor and the apiserver are tested in
// taskrunner.cluster.test.ts.
import type { DeepReadonly } from "@minitask/client";
import { describe, expect, it } from "vitest";
import { podNameFor, type Task, type TaskRun } from "../src/contract.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { type ActiveDecision, type ActiveRunView, planActive, planFinished } from "../src/reconciler/plan.ts";

const T0 = Date.parse("2026-12-01T10:00:00Z");
const MIN = 60_000;

const task: Task = {
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "hello", namespace: "ns" },
  spec: {
    params: [{ name: "who", default: "world" }],
    steps: [
      { name: "a", image: "busybox", script: "echo $(params.who)" },
      { name: "b", image: "busybox", script: "true" },
    ],
  },
};

function run(
  spec: Partial<NonNullable<TaskRun["spec"]>> = {},
  status?: TaskRun["status"],
  labels?: Record<string, string>,
): TaskRun {
  return {
    apiVersion: "minitask.myorg.dev/v1",
    kind: "TaskRun",
    metadata: {
      name: "r",
      namespace: "ns",
      uid: "uid-r",
      creationTimestamp: new Date(T0).toISOString(),
      ...(labels
        ? { labels, annotations: { note: "x", "kubectl.kubernetes.io/last-applied-configuration": "{}" } }
        : {}),
    },
    spec: { taskRef: "hello", timeout: "10m", ...spec },
    ...(status ? { status } : {}),
  };
}

/** An earlier attempt of run "r" that failed and ended at `endedAt`. */
function attempt(n: number, endedAt: number) {
  return {
    podName: podNameFor("r", n),
    phase: "Failed" as const,
    reason: "StepFailed",
    finishTime: new Date(endedAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

type Container = { name: string; state?: Record<string, unknown> };
function pod(
  opts: {
    /** The pod's name (default: the first attempt's). */
    name?: string;
    owner?: string;
    phase?: string;
    init?: Container[];
    main?: Container[];
    createdAt?: number;
    /** The node it was scheduled to; null: not scheduled. */
    node?: string | null;
  } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: opts.name ?? podNameFor("r"),
      namespace: "ns",
      creationTimestamp: new Date(opts.createdAt ?? T0).toISOString(),
      ownerReferences: [
        {
          apiVersion: "minitask.myorg.dev/v1",
          kind: "TaskRun",
          name: "r",
          uid: opts.owner ?? "uid-r",
          controller: true,
        },
      ],
    },
    spec: {
      ...(opts.node === null ? {} : { nodeName: opts.node ?? "node-1" }),
      initContainers: [{ name: "step-a", image: "busybox" }],
      containers: [{ name: "step-b", image: "busybox" }],
    },
    status: {
      phase: opts.phase ?? "Pending",
      initContainerStatuses: (opts.init ?? [{ name: "step-a", state: { waiting: { reason: "PodInitializing" } } }]).map(
        (c) => ({ ready: false, restartCount: 0, image: "busybox", imageID: "", ...c }),
      ),
      containerStatuses: (opts.main ?? [{ name: "step-b", state: { waiting: { reason: "PodInitializing" } } }]).map(
        (c) => ({ ready: false, restartCount: 0, image: "busybox", imageID: "", ...c }),
      ),
    },
  } as Pod;
}

const terminated = (exitCode: number) => ({
  terminated: {
    exitCode,
    reason: exitCode ? "Error" : "Completed",
    startedAt: "2026-12-01T10:00:01Z",
    finishedAt: "2026-12-01T10:00:02Z",
  },
});
const running = { running: { startedAt: "2026-12-01T10:00:01Z" } };
const pullBackOff = { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image" } };
const runsAsRoot = {
  waiting: {
    reason: "CreateContainerConfigError",
    message: 'container has runAsNonRoot and image will run as root (pod: "r-pod_ns(1)", container: step-a)',
  },
};

interface Row {
  readonly name: string;
  readonly view: Partial<ActiveRunView> & { readonly run: TaskRun };
  /** Fields the decision must have (status fields are matched partially). */
  readonly expect: Record<string, unknown>;
}

const rows: readonly Row[] = [
  {
    name: "a malformed timeout fails the run",
    view: { run: run({ timeout: "soon" }) },
    expect: { type: "finish", pod: "keep", status: { phase: "Failed", reason: "InvalidTimeout" } },
  },
  {
    name: "a pod of that name not controlled by this run fails it",
    view: { run: run(), pod: pod({ owner: "someone-else" }) },
    expect: { type: "finish", status: { phase: "Failed", reason: "PodCreationFailed" } },
  },
  {
    name: "status names a pod the cache lacks: ask the apiserver first",
    view: { run: run({}, { phase: "Pending", podName: podNameFor("r") }) },
    expect: { type: "checkPod", podName: podNameFor("r") },
  },
  {
    name: "…and the apiserver has no such pod either: PodDeleted, steps closed",
    view: {
      run: run(
        {},
        { phase: "Running", podName: podNameFor("r"), steps: [{ name: "a", container: "step-a", state: "Running" }] },
      ),
      podChecked: true,
    },
    expect: {
      type: "finish",
      status: { phase: "Failed", reason: "PodDeleted", steps: [{ name: "a", state: "Failed", reason: "PodDeleted" }] },
    },
  },
  {
    name: "cancelled with a running pod: stop it where it runs (logs kept), steps closed",
    view: { run: run({ cancelled: true }), pod: pod({ init: [{ name: "step-a", state: running }] }) },
    expect: {
      type: "finish",
      pod: "stop",
      status: { phase: "Failed", reason: "Cancelled", podName: podNameFor("r") },
    },
  },
  {
    name: "cancelled while its pod was never scheduled: delete it (nothing ran, no logs to keep)",
    view: { run: run({ cancelled: true }), pod: pod({ node: null }) },
    expect: { type: "finish", pod: "delete", status: { phase: "Failed", reason: "Cancelled" } },
  },
  {
    name: "cancelled after its pod finished: keep it as it is",
    view: {
      run: run({ cancelled: true }),
      pod: pod({
        phase: "Succeeded",
        init: [{ name: "step-a", state: terminated(0) }],
        main: [{ name: "step-b", state: terminated(0) }],
      }),
    },
    expect: { type: "finish", pod: "keep", status: { phase: "Failed", reason: "Cancelled" } },
  },
  {
    name: "cancelled before any pod: nothing to delete",
    view: { run: run({ cancelled: true }), task },
    expect: { type: "finish", pod: "keep", status: { phase: "Failed", reason: "Cancelled" } },
  },
  {
    name: "Task missing: wait for it (Pending, TaskNotFound) until the deadline",
    view: { run: run() },
    expect: { type: "update", requeueAfterMs: 10 * MIN, status: { phase: "Pending", reason: "TaskNotFound" } },
  },
  {
    name: "Task missing with no timeout: wait without a requeue",
    view: { run: run({ timeout: "0" }) },
    expect: { type: "update", status: { phase: "Pending", reason: "TaskNotFound" } },
  },
  {
    name: "Task still missing at the deadline: fail",
    view: { run: run(), now: T0 + 10 * MIN },
    expect: { type: "finish", status: { phase: "Failed", reason: "TaskNotFound" } },
  },
  {
    name: "deadline passed before the pod was made: TimedOut",
    view: { run: run(), task, now: T0 + 11 * MIN },
    expect: { type: "finish", pod: "keep", status: { phase: "Failed", reason: "TimedOut" } },
  },
  {
    name: "bad params: InvalidParams before anything is created",
    view: { run: run({ params: [{ name: "nope", value: "1" }] }), task },
    expect: { type: "finish", status: { phase: "Failed", reason: "InvalidParams" } },
  },
  {
    name: "the create failed for good: PodCreationFailed with the apiserver's message",
    view: { run: run(), task, podChecked: true, createFailure: 'pods "r-pod" is forbidden: violates PodSecurity' },
    expect: {
      type: "finish",
      status: {
        phase: "Failed",
        reason: "PodCreationFailed",
        message: 'pods "r-pod" is forbidden: violates PodSecurity',
      },
    },
  },
  { name: "Task found: create the pod", view: { run: run(), task }, expect: { type: "createPod" } },
  {
    name: "pod running past the deadline: stop it (logs kept), TimedOut",
    view: { run: run(), pod: pod({ init: [{ name: "step-a", state: running }] }), now: T0 + 10 * MIN },
    expect: {
      type: "finish",
      pod: "stop",
      status: { phase: "Failed", reason: "TimedOut", podName: podNameFor("r") },
    },
  },
  {
    name: "image pull stuck past the pull timeout: stop the pod, ImagePullFailed",
    view: { run: run(), pod: pod({ init: [{ name: "step-a", state: pullBackOff }] }), now: T0 + 2 * MIN },
    expect: { type: "finish", pod: "stop", status: { phase: "Failed", reason: "ImagePullFailed" } },
  },
  {
    name: "image pull stuck within the pull timeout: Pending, look again when it runs out",
    view: { run: run(), pod: pod({ init: [{ name: "step-a", state: pullBackOff }] }), now: T0 + 30_000 },
    expect: { type: "update", requeueAfterMs: 90_000, status: { phase: "Pending", reason: "ImagePullBackOff" } },
  },
  {
    name: "a step's image runs as root where runAsNonRoot is required: stop the pod, StepRunsAsRoot at once",
    view: { run: run(), pod: pod({ init: [{ name: "step-a", state: runsAsRoot }] }), now: T0 + 5_000 },
    expect: {
      type: "finish",
      pod: "stop",
      status: {
        phase: "Failed",
        reason: "StepRunsAsRoot",
        message: expect.stringContaining(
          'step "a" cannot start: container has runAsNonRoot and image will run as root',
        ),
      },
    },
  },
  {
    name: "a step failed: finish Failed (StepFailed), the pod is kept for its logs",
    view: { run: run(), pod: pod({ phase: "Failed", init: [{ name: "step-a", state: terminated(3) }] }) },
    expect: { type: "finish", pod: "keep", status: { phase: "Failed", reason: "StepFailed" } },
  },
  {
    name: "every step succeeded: finish Succeeded",
    view: {
      run: run(),
      pod: pod({
        phase: "Succeeded",
        init: [{ name: "step-a", state: terminated(0) }],
        main: [{ name: "step-b", state: terminated(0) }],
      }),
    },
    expect: { type: "finish", pod: "keep", status: { phase: "Succeeded" } },
  },
  {
    name: "a step is running: Running, look again at the deadline",
    view: { run: run(), pod: pod({ init: [{ name: "step-a", state: running }] }), now: T0 + MIN },
    expect: { type: "update", requeueAfterMs: 9 * MIN, status: { phase: "Running", podName: podNameFor("r") } },
  },
  {
    name: "a step failed with retries left: retry — the attempt goes to retriesStatus, steps reset",
    view: {
      run: run({ retries: 2 }, { phase: "Running", podName: podNameFor("r"), startTime: "2026-12-01T10:00:01Z" }),
      pod: pod({ phase: "Failed", init: [{ name: "step-a", state: terminated(3) }] }),
      now: T0 + MIN,
    },
    expect: {
      type: "retry",
      pod: "keep",
      status: {
        phase: "Running",
        reason: "Retrying",
        message: 'attempt 1 of 3 failed (StepFailed: step "a" failed with exit code 3); trying again',
        steps: [],
        retriesStatus: [
          {
            podName: "r-pod",
            phase: "Failed",
            reason: "StepFailed",
            finishTime: "2026-12-01T10:00:02Z",
            steps: [
              { name: "a", state: "Failed", exitCode: 3 },
              { name: "b", state: "Skipped" },
            ],
          },
        ],
      },
    },
  },
  {
    name: "an attempt that timed out with retries left: stop its pod, retry",
    view: {
      run: run({ retries: 1 }, { phase: "Running", podName: podNameFor("r") }),
      pod: pod({ init: [{ name: "step-a", state: running }] }),
      now: T0 + 10 * MIN,
    },
    expect: {
      type: "retry",
      pod: "stop",
      status: { reason: "Retrying", retriesStatus: [{ podName: "r-pod", reason: "TimedOut" }] },
    },
  },
  {
    name: "after a retry: create the next attempt's pod, with the whole timeout from the attempt's start",
    view: {
      run: run({ retries: 2 }, { phase: "Running", podName: podNameFor("r"), retriesStatus: [attempt(0, T0 + MIN)] }),
      task,
      now: T0 + 2 * MIN,
    },
    expect: {
      type: "createPod",
      pod: { metadata: { name: "r-pod-retry1" }, spec: { activeDeadlineSeconds: 9 * 60 } },
    },
  },
  {
    name: "the status still names the last attempt's pod while the next is not cached: create, not PodDeleted",
    view: {
      run: run({ retries: 2 }, { phase: "Running", podName: "r-pod", retriesStatus: [attempt(0, T0 + MIN)] }),
      task,
      podChecked: true,
      now: T0 + 2 * MIN,
    },
    expect: { type: "createPod", pod: { metadata: { name: "r-pod-retry1" } } },
  },
  {
    name: "the last attempt failed: finish Failed, earlier attempts kept",
    view: {
      run: run({ retries: 1 }, { phase: "Running", podName: "r-pod-retry1", retriesStatus: [attempt(0, T0 + MIN)] }),
      pod: pod({ name: "r-pod-retry1", phase: "Failed", init: [{ name: "step-a", state: terminated(1) }] }),
      now: T0 + 2 * MIN,
    },
    expect: { type: "finish", status: { phase: "Failed", reason: "StepFailed" } },
  },
  {
    name: "cancelled with retries left: no retry",
    view: {
      run: run({ retries: 3, cancelled: true }),
      pod: pod({ init: [{ name: "step-a", state: running }] }),
    },
    expect: { type: "finish", pod: "stop", status: { phase: "Failed", reason: "Cancelled" } },
  },
  {
    name: "a failure no attempt can fix (InvalidParams) is final, retries or not",
    view: { run: run({ retries: 3, params: [{ name: "nope", value: "x" }] }), task },
    expect: { type: "finish", status: { phase: "Failed", reason: "InvalidParams" } },
  },
];

function decide(view: Row["view"]): ActiveDecision {
  return planActive({
    task: undefined,
    pod: undefined,
    podChecked: false,
    now: T0,
    imagePullTimeoutMs: 2 * MIN,
    ...view,
  } as ActiveRunView);
}

describe("planActive: the decision table", () => {
  it.each(rows)("$name", ({ view, expect: want }) => {
    expect(decide(view)).toMatchObject(want);
  });

  it("covers every kind of decision", () => {
    expect(new Set(rows.map((r) => decide(r.view).type))).toEqual(
      new Set(["checkPod", "createPod", "finish", "retry", "update"]),
    );
  });

  it("the pod it creates carries the run's labels and annotations, except kubectl's last-applied copy", () => {
    const d = decide({ run: run({}, undefined, { team: "a" }), task });
    if (d.type !== "createPod") throw new Error(`expected createPod, got ${d.type}`);
    expect(d.pod.metadata?.labels).toMatchObject({ team: "a", "minitask.myorg.dev/taskrun": "r" });
    expect(d.pod.metadata?.annotations).toMatchObject({ note: "x" });
    expect(d.pod.metadata?.annotations).not.toHaveProperty("kubectl.kubernetes.io/last-applied-configuration");
    expect(d.pod.spec?.activeDeadlineSeconds).toBe(600);
    expect(d.pod.spec?.initContainers?.[0]?.name).toBe("step-a");
  });

  it("asks for a non-root user only in a namespace that enforces Pod Security restricted", () => {
    for (const restrictedNamespace of [false, true]) {
      const d = decide({ run: run(), task, restrictedNamespace });
      if (d.type !== "createPod") throw new Error(`expected createPod, got ${d.type}`);
      expect(d.pod.spec?.securityContext).toEqual({
        seccompProfile: { type: "RuntimeDefault" },
        ...(restrictedNamespace ? { runAsNonRoot: true } : {}),
      });
    }
  });

  it("decides the same after the pod it asked for exists: create → progress", () => {
    const created = pod() as DeepReadonly<Pod>;
    expect(decide({ run: run(), task, pod: created, podChecked: true })).toMatchObject({
      type: "update",
      status: { phase: "Pending", reason: "Pending" },
    });
  });
});

describe("planFinished", () => {
  const finished = run({}, { phase: "Succeeded", finishTime: "2026-12-01T10:05:00Z" });
  it.each([
    { name: "no TTL: keep", ttl: undefined, now: T0 + 60 * MIN, want: { type: "keep" } },
    {
      name: "before the TTL: requeue when it runs out",
      ttl: 10 * MIN,
      now: T0 + 6 * MIN,
      want: { type: "requeue", afterMs: 9 * MIN },
    },
    { name: "after the TTL: delete", ttl: 10 * MIN, now: T0 + 15 * MIN, want: { type: "delete" } },
  ])("$name", ({ ttl, now, want }) => {
    expect(planFinished(finished, ttl, now)).toEqual(want);
  });
  it("a finished run without a finish time is kept", () => {
    expect(planFinished(run({}, { phase: "Failed" }), MIN, T0)).toEqual({ type: "keep" });
  });
});
