// Pure status computation: from a TaskRun and its Pod to the TaskRun status the controller writes.
// Phases only move forward (Pending → Running → Succeeded | Failed) and a finished run never changes.
import type { DeepReadonly } from "@minitask/client";
import {
  type AttemptStatus,
  type Condition,
  isTerminal,
  type Phase,
  type ReadonlyTaskRun,
  Reasons,
  STEP_CONTAINER_PREFIX,
  type StepStatus,
  type TaskRunResult,
  type TaskRunStatus,
} from "../contract.ts";
import type { ContainerStatus, Pod } from "./corev1.ts";
import { parseStepReport } from "./results.ts";

const RANK: Record<Phase, number> = { Pending: 0, Running: 1, Succeeded: 2, Failed: 2 };
const ROUTINE_WAITING = new Set(["PodInitializing", "ContainerCreating"]);
const IMAGE_PULL_REASONS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"]);

export { isTerminal };

/** What the pod says about the run. */
export interface PodOutcome {
  readonly phase: Phase;
  readonly reason: string;
  readonly message: string;
  readonly steps: StepStatus[];
  readonly startTime?: string;
  readonly finishTime?: string;
  /** The pod is stuck pulling an image (since `pullSince` = pod creation). */
  readonly imagePullError?: { step: string; message: string };
  /** A step's image runs as root (or as a user name) though the pod asks for runAsNonRoot: it never starts. */
  readonly runsAsRoot?: { step: string; message: string };
  /** The results the steps reported so far (later steps win), by name. */
  readonly results?: TaskRunResult[];
  /** Why a step's results could not be reported (too large for its termination message). */
  readonly resultsTooLarge?: string;
}

function stepFromContainer(container: string, cs: DeepReadonly<ContainerStatus> | undefined): StepStatus {
  const name = container.startsWith(STEP_CONTAINER_PREFIX) ? container.slice(STEP_CONTAINER_PREFIX.length) : container;
  const st = cs?.state;
  if (st?.terminated) {
    const t = st.terminated;
    // onError: continue — the container exits 0; its report has the script's own exit status.
    const continued = parseStepReport(t.message)?.exitCode;
    if (t.exitCode === 0 && continued !== undefined && continued !== 0) {
      return {
        name,
        container,
        state: "Failed",
        exitCode: continued,
        reason: Reasons.ContinuedOnError,
        message: `exited ${continued}; onError: continue`,
        ...(t.startedAt ? { startedAt: t.startedAt } : {}),
        ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
      };
    }
    const ok = t.exitCode === 0;
    return {
      name,
      container,
      state: ok ? "Succeeded" : "Failed",
      exitCode: t.exitCode,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.message && !parseStepReport(t.message) ? { message: t.message } : {}),
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
    };
  }
  if (st?.running) {
    return { name, container, state: "Running", ...(st.running.startedAt ? { startedAt: st.running.startedAt } : {}) };
  }
  // The normal waiting reasons say nothing a user needs and would cost a status write each.
  const reason = st?.waiting?.reason && !ROUTINE_WAITING.has(st.waiting.reason) ? st.waiting.reason : undefined;
  return {
    name,
    container,
    state: "Waiting",
    ...(reason ? { reason } : {}),
    ...(reason && st?.waiting?.message ? { message: st.waiting.message } : {}),
  };
}

/** "All N steps completed successfully", naming the steps that failed and continued (onError: continue). */
function succeededMessage(steps: readonly StepStatus[]): string {
  const all = `All ${steps.length} step${steps.length === 1 ? "" : "s"} completed successfully`;
  const continued = steps.filter((s) => s.reason === Reasons.ContinuedOnError).map((s) => `"${s.name}"`);
  return continued.length ? `${all} (failed and continued: ${continued.join(", ")})` : all;
}

/**
 * The results the finished steps reported (a later step's value wins), or why they could not be: a report
 * that did not fit names the step, its size and each result's.
 */
function reports(
  containers: readonly string[],
  statuses: ReadonlyMap<string, DeepReadonly<ContainerStatus>>,
): { results?: TaskRunResult[]; resultsTooLarge?: string } {
  const values = new Map<string, string>();
  for (const c of containers) {
    const report = parseStepReport(statuses.get(c)?.state?.terminated?.message);
    if (!report) continue;
    if (report.tooLarge) {
      const { bytes, limit, sizes } = report.tooLarge;
      const each = [...sizes].map(([n, b]) => `${n}: ${b}`).join(", ");
      const step = c.slice(STEP_CONTAINER_PREFIX.length);
      return {
        resultsTooLarge:
          `step "${step}" wrote ${bytes} bytes of results (${each}), over the ${limit}-byte limit of a step's ` +
          "termination message (4 KiB, shared 12 KiB per pod); write large outputs to a workspace instead",
      };
    }
    for (const [name, value] of report.results) values.set(name, value);
  }
  return values.size ? { results: [...values].map(([name, value]) => ({ name, value })) } : {};
}

/** Reads per-step state and the run's phase from the pod. */
export function outcomeFromPod(pod: DeepReadonly<Pod>): PodOutcome {
  const spec = pod.spec;
  // Steps only: sidecars (native, among the init containers) are not steps.
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]
    .map((c) => c.name)
    .filter((n) => n.startsWith(STEP_CONTAINER_PREFIX));
  const statuses = new Map<string, DeepReadonly<ContainerStatus>>();
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    statuses.set(cs.name, cs);
  }
  const steps = containers.map((c) => stepFromContainer(c, statuses.get(c)));
  const reported = reports(containers, statuses);
  const podPhase = pod.status?.phase;
  const failed = steps.find((s) => s.state === "Failed" && s.reason !== Reasons.ContinuedOnError);
  if (podPhase === "Failed" || failed) {
    // Steps after the failed one never ran.
    let seenFailure = false;
    for (const s of steps) {
      if (seenFailure && (s.state === "Waiting" || s.state === "Running")) {
        s.state = "Skipped";
        delete s.reason;
        delete s.message;
      }
      if (s.state === "Failed") seenFailure = true;
    }
  }
  const started = steps.map((s) => s.startedAt).filter((t): t is string => Boolean(t));
  const finished = steps.map((s) => s.finishedAt).filter((t): t is string => Boolean(t));
  const startTime = started.sort()[0];
  const lastFinish = finished.sort().at(-1);
  const times = { ...(startTime ? { startTime } : {}) };

  if (failed) {
    return {
      phase: "Failed",
      reason: Reasons.StepFailed,
      message: `step "${failed.name}" failed with exit code ${failed.exitCode ?? "?"}${failed.reason && failed.reason !== "Error" ? ` (${failed.reason})` : ""}`,
      steps,
      ...reported,
      ...times,
      ...(lastFinish ? { finishTime: lastFinish } : {}),
    };
  }
  if (podPhase === "Failed") {
    const deadline = pod.status?.reason === "DeadlineExceeded";
    return {
      phase: "Failed",
      reason: deadline ? Reasons.TimedOut : Reasons.PodFailed,
      message: pod.status?.message ?? (deadline ? "the pod exceeded its deadline" : "the pod failed"),
      steps,
      ...reported,
      ...times,
      ...(lastFinish ? { finishTime: lastFinish } : {}),
    };
  }
  // Every step done: the run has succeeded, though the pod may still be stopping its sidecars (a sidecar that
  // ignores SIGTERM keeps the pod Running for its grace period, 30 s by default).
  const stepsDone =
    steps.length > 0 && steps.every((s) => s.state === "Succeeded" || s.reason === Reasons.ContinuedOnError);
  if (podPhase === "Succeeded" || stepsDone) {
    return {
      phase: "Succeeded",
      reason: Reasons.Succeeded,
      message: succeededMessage(steps),
      steps,
      ...reported,
      ...times,
      ...(lastFinish ? { finishTime: lastFinish } : {}),
    };
  }
  const pulling = steps.find((s) => s.state === "Waiting" && s.reason && IMAGE_PULL_REASONS.has(s.reason));
  const pullError = pulling
    ? { step: pulling.name, message: pulling.message ?? pulling.reason ?? "image pull failed" }
    : undefined;
  // The kubelet's "container has runAsNonRoot and image will run as root" (or "… has non-numeric user").
  const asRoot = steps.find(
    (s) => s.state === "Waiting" && s.reason === "CreateContainerConfigError" && s.message?.includes("runAsNonRoot"),
  );
  const runsAsRoot = asRoot ? { runsAsRoot: { step: asRoot.name, message: asRoot.message ?? "" } } : {};
  const running = steps.find((s) => s.state === "Running");
  const anyStarted = steps.some((s) => s.state !== "Waiting");
  if (anyStarted) {
    return {
      phase: "Running",
      reason: Reasons.Running,
      message: running ? `step "${running.name}" is running` : "between steps",
      steps,
      ...reported,
      ...times,
      ...(pullError ? { imagePullError: pullError } : {}),
      ...runsAsRoot,
    };
  }
  if (pullError) {
    return {
      phase: "Pending",
      reason: Reasons.ImagePullBackOff,
      message: `step "${pullError.step}": ${pullError.message}`,
      steps,
      ...reported,
      imagePullError: pullError,
      ...runsAsRoot,
    };
  }
  return {
    phase: "Pending",
    reason: Reasons.Pending,
    message: "waiting for the pod to start",
    steps,
    ...reported,
    ...runsAsRoot,
  };
}

/** The Succeeded condition for a phase, keeping lastTransitionTime when its status does not change. */
export function succeededCondition(
  phase: Phase,
  reason: string,
  message: string,
  previous: DeepReadonly<Condition> | undefined,
  generation: number | undefined,
  nowIso: string,
): Condition {
  const status = phase === "Succeeded" ? "True" : phase === "Failed" ? "False" : "Unknown";
  return {
    type: "Succeeded",
    status,
    reason,
    message: message || reason,
    lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : nowIso,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

export interface StatusInput {
  readonly phase: Phase;
  readonly reason: string;
  readonly message: string;
  readonly podName?: string | undefined;
  readonly steps?: readonly StepStatus[] | undefined;
  readonly startTime?: string | undefined;
  readonly finishTime?: string | undefined;
  readonly results?: readonly TaskRunResult[] | undefined;
  /** The earlier attempts (a retry appends one); kept from the current status when undefined. */
  readonly retriesStatus?: readonly AttemptStatus[] | undefined;
}

/** A time as the apiserver writes it: RFC 3339 in UTC, whole seconds. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The next status of `run`: phases never move backwards and a finished status never changes. Times
 * already recorded are kept. Returns the status to write (equal to the current one when nothing changed).
 */
export function nextStatus(run: ReadonlyTaskRun, input: StatusInput, now: number): TaskRunStatus {
  const cur = run.status ?? {};
  const nowIso = isoSeconds(now);
  if (isTerminal(cur.phase)) return structuredClone(cur) as TaskRunStatus;
  let { phase, reason, message } = input;
  if (cur.phase && RANK[input.phase] < RANK[cur.phase]) {
    // Stale observation (e.g. a lagging cache): keep the later phase.
    phase = cur.phase;
    reason = cur.reason ?? reason;
    message = cur.message ?? message;
  }
  const terminal = isTerminal(phase);
  const podName = input.podName ?? cur.podName;
  const startTime = cur.startTime ?? input.startTime ?? (phase === "Running" || terminal ? nowIso : undefined);
  const finishTime = terminal ? (cur.finishTime ?? input.finishTime ?? nowIso) : undefined;
  const steps = input.steps ?? (cur.steps as StepStatus[] | undefined);
  // Results are published when the run finishes (Tekton's rule), not while steps still write them.
  const results = terminal ? (input.results ?? (cur.results as TaskRunResult[] | undefined)) : undefined;
  const retriesStatus = input.retriesStatus ?? (cur.retriesStatus as AttemptStatus[] | undefined);
  const generation = run.metadata?.generation;
  const prevCond = (cur.conditions ?? []).find((c) => c.type === "Succeeded");
  const status: TaskRunStatus = {
    phase,
    reason,
    message,
    ...(podName ? { podName } : {}),
    ...(startTime ? { startTime } : {}),
    ...(finishTime ? { finishTime } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(steps?.length ? { steps: steps.map((s) => ({ ...s })) } : {}),
    ...(results?.length ? { results: results.map((r) => ({ ...r })) } : {}),
    ...(retriesStatus?.length ? { retriesStatus: structuredClone(retriesStatus) as AttemptStatus[] } : {}),
    conditions: [succeededCondition(phase, reason, message, prevCond, generation, nowIso)],
  };
  return status;
}

/** Deep equality of JSON values, ignoring object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ak = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Marks steps that never finished as Skipped (after cancel / timeout / pod loss). */
export function closeSteps(steps: readonly StepStatus[] | undefined, reason: string): StepStatus[] | undefined {
  if (!steps) return undefined;
  return steps.map((s) =>
    s.state === "Succeeded" || s.state === "Failed"
      ? { ...s }
      : s.state === "Running"
        ? { ...s, state: "Failed", reason }
        : { name: s.name, ...(s.container ? { container: s.container } : {}), state: "Skipped" },
  );
}
