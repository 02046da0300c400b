// What the dashboard sends to the browser, computed from cached objects by pure functions. These views are the
// only way data leaves the controller for the page: they carry names, images, phases, reasons, step states,
// exit codes, times and results — never a script, a command, an environment variable or a parameter value.
import type { DeepReadonly } from "@minitask/client";
import {
  type AttemptStatus,
  resolvedSteps,
  SIDECAR_CONTAINER_PREFIX,
  STEP_CONTAINER_PREFIX,
  type StepStatus,
  stepContainerName,
  type Task,
  type TaskRun,
} from "../contract.ts";
import type { ContainerState, Pod } from "../reconciler/corev1.ts";

/** One row of the runs table. */
export interface RunView {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly task: string;
  readonly phase: string;
  readonly reason: string;
  readonly message: string;
  readonly created: string;
  readonly started: string;
  readonly finished: string;
  readonly steps: readonly {
    name: string;
    state: string;
    exitCode?: number;
    startedAt?: string;
    finishedAt?: string;
  }[];
}

/** One row of the tasks table. */
export interface TaskView {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly description: string;
  readonly steps: readonly { name: string; image: string }[];
  readonly params: readonly string[];
}

/** A step of an attempt, as the run page shows it. */
export interface StepView {
  readonly name: string;
  /** The step's container (`step-<name>`): what its log is asked for by. */
  readonly container: string;
  readonly state: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** An earlier attempt of a run with retries (`status.retriesStatus[]`). */
export interface AttemptView {
  /** 1 for the first attempt. */
  readonly number: number;
  readonly podName: string;
  readonly phase: string;
  readonly reason: string;
  readonly message: string;
  readonly started: string;
  readonly finished: string;
  readonly steps: readonly StepView[];
}

/** A sidecar of the current attempt's pod, from the pod's container states. */
export interface SidecarView {
  readonly name: string;
  readonly container: string;
  readonly image: string;
  readonly state: "Waiting" | "Running" | "Terminated";
  readonly reason?: string;
  readonly exitCode?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** Everything a run's own page shows, but its logs and events. */
export interface RunDetail extends RunView {
  readonly podName: string;
  /** 1 for the first attempt; attempts before it are in `attempts`. */
  readonly attempt: number;
  /** `spec.retries`: how many more attempts a failure may have. */
  readonly retries: number;
  readonly timeout: string;
  readonly cancelled: boolean;
  readonly steps: readonly StepView[];
  readonly results: readonly { name: string; value: string }[];
  readonly attempts: readonly AttemptView[];
  readonly sidecars: readonly SidecarView[];
  /** Pods of this run (current and earlier attempts) that still exist: their logs can be read. */
  readonly pods: readonly string[];
}

export function runView(tr: DeepReadonly<TaskRun>): RunView {
  const s = tr.status;
  return {
    uid: tr.metadata?.uid ?? "",
    namespace: tr.metadata?.namespace ?? "",
    name: tr.metadata?.name ?? "",
    task: tr.spec?.taskRef ?? "",
    phase: s?.phase ?? "",
    reason: s?.reason ?? "",
    message: s?.message ?? "",
    created: tr.metadata?.creationTimestamp ?? "",
    started: s?.startTime ?? "",
    finished: s?.finishTime ?? "",
    steps: (s?.steps ?? []).map((st) => ({
      name: st.name,
      state: st.state,
      ...(st.exitCode !== undefined ? { exitCode: st.exitCode } : {}),
      ...(st.startedAt ? { startedAt: st.startedAt } : {}),
      ...(st.finishedAt ? { finishedAt: st.finishedAt } : {}),
    })),
  };
}

export function taskView(t: DeepReadonly<Task>): TaskView {
  return {
    uid: t.metadata?.uid ?? "",
    namespace: t.metadata?.namespace ?? "",
    name: t.metadata?.name ?? "",
    description: t.spec?.description ?? "",
    steps: resolvedSteps(t).map((s) => ({ name: s.name, image: s.image })),
    params: (t.spec?.params ?? []).map((p) => p.name),
  };
}

function stepView(st: DeepReadonly<StepStatus>): StepView {
  return {
    name: st.name,
    container: st.container ?? stepContainerName(st.name),
    state: st.state,
    ...(st.exitCode !== undefined ? { exitCode: st.exitCode } : {}),
    ...(st.reason ? { reason: st.reason } : {}),
    ...(st.message ? { message: st.message } : {}),
    ...(st.startedAt ? { startedAt: st.startedAt } : {}),
    ...(st.finishedAt ? { finishedAt: st.finishedAt } : {}),
  };
}

function attemptView(a: DeepReadonly<AttemptStatus>, index: number): AttemptView {
  return {
    number: index + 1,
    podName: a.podName,
    phase: a.phase,
    reason: a.reason ?? "",
    message: a.message ?? "",
    started: a.startTime ?? "",
    finished: a.finishTime ?? "",
    steps: (a.steps ?? []).map(stepView),
  };
}

function sidecarState(name: string, image: string, st: DeepReadonly<ContainerState> | undefined): SidecarView {
  const container = name;
  const base = { name: name.slice(SIDECAR_CONTAINER_PREFIX.length), container, image };
  if (st?.terminated) {
    const t = st.terminated;
    return {
      ...base,
      state: "Terminated",
      exitCode: t.exitCode,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
    };
  }
  if (st?.running)
    return { ...base, state: "Running", ...(st.running.startedAt ? { startedAt: st.running.startedAt } : {}) };
  return { ...base, state: "Waiting", ...(st?.waiting?.reason ? { reason: st.waiting.reason } : {}) };
}

/** The sidecars of a run's pod (init containers named `sidecar-…`), with their states. */
export function sidecarViews(pod: DeepReadonly<Pod> | undefined): SidecarView[] {
  if (!pod) return [];
  const states = new Map((pod.status?.initContainerStatuses ?? []).map((c) => [c.name, c.state]));
  return (pod.spec?.initContainers ?? [])
    .filter((c) => c.name.startsWith(SIDECAR_CONTAINER_PREFIX))
    .map((c) => sidecarState(c.name, c.image ?? "", states.get(c.name)));
}

/** The pod names of a run: the current attempt's, then the earlier ones' (deduplicated). */
export function podsOfRun(tr: DeepReadonly<TaskRun>): string[] {
  const names = [tr.status?.podName, ...(tr.status?.retriesStatus ?? []).map((a) => a.podName)];
  return [...new Set(names.filter((n): n is string => !!n))];
}

/** Whether `pod` was made by the controller for `tr` (its owner reference names the run's uid). */
export function isPodOfRun(pod: DeepReadonly<Pod> | undefined, tr: DeepReadonly<TaskRun>): boolean {
  const uid = tr.metadata?.uid;
  return !!pod && !!uid && (pod.metadata?.ownerReferences ?? []).some((o) => o.uid === uid && o.kind === "TaskRun");
}

/**
 * The run page's view of a TaskRun. `pod(name)` looks a pod up in the controller's pod cache (our pods only);
 * only pods owned by this run count.
 */
export function runDetail(tr: DeepReadonly<TaskRun>, pod: (name: string) => DeepReadonly<Pod> | undefined): RunDetail {
  const s = tr.status;
  const own = (name: string) => {
    const p = pod(name);
    return isPodOfRun(p, tr) ? p : undefined;
  };
  const current = s?.podName ? own(s.podName) : undefined;
  return {
    ...runView(tr),
    podName: s?.podName ?? "",
    attempt: (s?.retriesStatus?.length ?? 0) + 1,
    retries: tr.spec?.retries ?? 0,
    timeout: tr.spec?.timeout ?? "",
    cancelled: tr.spec?.cancelled === true,
    steps: (s?.steps ?? []).map(stepView),
    results: (s?.results ?? []).map((r) => ({ name: r.name, value: r.value })),
    attempts: (s?.retriesStatus ?? []).map(attemptView),
    sidecars: sidecarViews(current),
    pods: podsOfRun(tr).filter((n) => own(n) !== undefined),
  };
}

/** Why a browser may not read a container's log, or undefined when it may. */
export function logRefusal(
  tr: DeepReadonly<TaskRun> | undefined,
  pod: DeepReadonly<Pod> | undefined,
  podName: string,
  container: string,
): string | undefined {
  if (!tr) return "no such run";
  if (!podsOfRun(tr).includes(podName)) return `${podName} is not a pod of this run`;
  if (!pod || !isPodOfRun(pod, tr)) return `pod ${podName} is gone`;
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  const ours = container.startsWith(STEP_CONTAINER_PREFIX) || container.startsWith(SIDECAR_CONTAINER_PREFIX);
  if (!ours || !containers.includes(container)) return `${container} is not a step or sidecar of ${podName}`;
  return undefined;
}

/** Whether a container can be asked for its log yet: it has started (or will never). */
export function logReadiness(
  pod: DeepReadonly<Pod> | undefined,
  container: string,
): "ready" | "waiting" | { readonly none: string } {
  if (!pod) return { none: "the pod is gone" };
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const st = statuses.find((c) => c.name === container)?.state;
  if (st?.running || st?.terminated) return "ready";
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed" || pod.metadata?.deletionTimestamp) {
    return { none: "the container did not run" };
  }
  return "waiting";
}
