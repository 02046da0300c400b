// The TaskRun reconciler's decisions, as pure functions: from what was read (the run, its Task, its Pod,
// the time) to the one thing to do next. No I/O here; `reconciler.ts` performs each decision and, after
// reading or creating the pod, asks again. Every branch is one row of the table in plan.test.ts.
//
//   active run:   InvalidTimeout · foreign pod · status names a pod the cache lacks (check) · pod gone ·
//                 cancelled · Task missing (wait, or fail at the deadline) · deadline before the pod ·
//                 InvalidParams · create failed permanently · create · deadline with the pod running ·
//                 image pull stuck · step runs as root where it may not · pod finished · pod progressing
//                 — and a failure that another attempt could fix, with retries left: retry
//   finished run: keep · delete after the TTL · requeue at the TTL
//
// Attempts (spec.retries): attempt N runs in pod podNameFor(run, N); N is the length of status.retriesStatus,
// so the decision to retry is recorded (one status write) before the next pod is created, and a crash in
// between cannot make two pods for one attempt. Each attempt has the whole timeout, from when the one before
// it ended.
import type { DeepReadonly } from "@minitask/client";
import {
  ANNOTATIONS_NOT_COPIED,
  type AttemptStatus,
  attemptOf,
  podNameFor,
  type ReadonlyTask,
  type ReadonlyTaskRun,
  Reasons,
} from "../contract.ts";
import { parseDuration } from "../duration.ts";
import type { Pod } from "./corev1.ts";
import { InvalidParamsError, InvalidSpecError } from "./params.ts";
import { buildPod } from "./pod.ts";
import { closeSteps, isoSeconds, isTerminal, outcomeFromPod, type StatusInput } from "./status.ts";

/** What the reconciler knows about an active (not finished) run. */
export interface ActiveRunView {
  readonly run: ReadonlyTaskRun;
  /** The run's Task from the cache (undefined: not there). */
  readonly task: ReadonlyTask | undefined;
  /** The run's pod: from the cache, or from the apiserver after a `checkPod` or `createPod`. */
  readonly pod: DeepReadonly<Pod> | undefined;
  /** The apiserver was asked about the pod (its absence is real, not cache lag). */
  readonly podChecked: boolean;
  /** Why creating the pod failed for good (a 4xx other than AlreadyExists), after a `createPod`. */
  readonly createFailure?: string | undefined;
  readonly now: number;
  /** How long a step may fail to pull its image before the run fails. */
  readonly imagePullTimeoutMs: number;
  /** The run's namespace enforces Pod Security `restricted`: its pod must ask for a non-root user. */
  readonly restrictedNamespace?: boolean;
}

/**
 * What a finishing run does to its pod: `keep` it; `stop` it by lowering `activeDeadlineSeconds` to 1, so the
 * kubelet kills its containers and the pod stays, with its logs, events and exit codes (Tekton deletes the pod
 * on timeout and cancel, and its logs are lost); or `delete` it when it never reached a node (nothing to keep).
 */
export type PodAction = "keep" | "stop" | "delete";

/** The next thing to do for an active run. */
export type ActiveDecision =
  /** The cache has no pod but the status names one: read it from the apiserver, then decide again. */
  | { readonly type: "checkPod"; readonly podName: string }
  /** Create this pod, then decide again with the pod the apiserver returned (or the existing one). */
  | { readonly type: "createPod"; readonly pod: Pod }
  /** Write this terminal status (stopping the pod first when asked, see {@link PodAction}): the run is over. */
  | { readonly type: "finish"; readonly status: StatusInput; readonly pod: PodAction }
  /**
   * This attempt failed and the run has retries left: end its pod as asked, then write this status, which
   * records the attempt in retriesStatus (the next reconcile creates the next attempt's pod).
   */
  | { readonly type: "retry"; readonly status: StatusInput; readonly pod: PodAction }
  /** Write this status (if it changed) and look again after `requeueAfterMs` (if set). */
  | { readonly type: "update"; readonly status: StatusInput; readonly requeueAfterMs?: number };

const fail = (
  reason: string,
  message: string,
  extra: Partial<StatusInput> = {},
  pod: PodAction = "keep",
): ActiveDecision => ({
  type: "finish",
  status: { phase: "Failed", reason, message, ...extra },
  pod,
});

/** How to end a pod that is still running: stop it where it runs, delete it if it never got a node. */
function stopping(pod: DeepReadonly<Pod>): PodAction {
  return pod.spec?.nodeName ? "stop" : "delete";
}

/** Whether `pod` is controlled by `run` (by uid: a pod of an older run of the same name is not). */
export function isOwnedBy(pod: DeepReadonly<Pod>, run: ReadonlyTaskRun): boolean {
  return (pod.metadata?.ownerReferences ?? []).some(
    (r) => r.controller === true && r.kind === "TaskRun" && r.uid === run.metadata?.uid,
  );
}

/** The labels and annotations of the run that its pod carries too. */
function propagated(run: ReadonlyTaskRun): { labels: Record<string, string>; annotations: Record<string, string> } {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(run.metadata?.annotations ?? {})) {
    if (!ANNOTATIONS_NOT_COPIED.has(k)) annotations[k] = v;
  }
  return { labels: { ...(run.metadata?.labels ?? {}) }, annotations };
}

/** Failures another attempt could fix; the others (Cancelled, invalid specs, missing Task, …) are final. */
const RETRYABLE: ReadonlySet<string> = new Set([
  Reasons.StepFailed,
  Reasons.TimedOut,
  Reasons.PodFailed,
  Reasons.PodDeleted,
  Reasons.ImagePullFailed,
]);

/** Decides the next step for an active run. */
export function planActive(v: ActiveRunView): ActiveDecision {
  const decision = planAttempt(v);
  if (decision.type !== "finish" || decision.status.phase !== "Failed") return decision;
  const { run } = v;
  const attempt = attemptOf(run);
  // A relaxed or older CRD may let anything through: what is not a count is no retries.
  const asked: unknown = run.spec?.retries;
  const retries = typeof asked === "number" && Number.isInteger(asked) && asked > 0 ? asked : 0;
  if (attempt >= retries || !RETRYABLE.has(decision.status.reason)) return decision;
  const failed = decision.status;
  const ended: AttemptStatus = {
    podName: podNameFor(run.metadata?.name ?? "", attempt),
    phase: "Failed",
    reason: failed.reason,
    message: failed.message,
    ...(failed.startTime ? { startTime: failed.startTime } : {}),
    finishTime: failed.finishTime ?? isoSeconds(v.now),
    ...(failed.steps?.length ? { steps: failed.steps.map((s) => ({ ...s })) } : {}),
  };
  return {
    type: "retry",
    pod: decision.pod,
    status: {
      // Phases only move forward: a run that was Running stays Running while its next pod starts.
      phase: run.status?.phase === "Running" ? "Running" : "Pending",
      reason: Reasons.Retrying,
      message: `attempt ${attempt + 1} of ${retries + 1} failed (${failed.reason}: ${failed.message}); trying again`,
      steps: [],
      retriesStatus: [...((run.status?.retriesStatus ?? []) as AttemptStatus[]), ended],
    },
  };
}

/** When the current attempt began: the run's creation, or the end of the attempt before it. */
function attemptStart(run: ReadonlyTaskRun, now: number): number {
  const previous = run.status?.retriesStatus?.at(-1);
  const from = previous ? previous.finishTime : run.metadata?.creationTimestamp;
  return Date.parse(from ?? "") || now;
}

/** The next step for the run's current attempt, as if it had no retries. */
function planAttempt(v: ActiveRunView): ActiveDecision {
  const { run, now } = v;
  const podName = podNameFor(run.metadata?.name ?? "", attemptOf(run));

  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(run.spec?.timeout ?? "1h");
  } catch (err) {
    return fail(Reasons.InvalidTimeout, (err as Error).message);
  }
  const deadline = timeoutMs > 0 ? attemptStart(run, now) + timeoutMs : Number.POSITIVE_INFINITY;
  const untilDeadline = Number.isFinite(deadline) ? Math.max(1, deadline - now) : undefined;

  const pod = v.pod;
  if (pod && !isOwnedBy(pod, run)) {
    return fail(
      Reasons.PodCreationFailed,
      `a pod named ${podName} already exists and is not controlled by this TaskRun`,
    );
  }
  if (!pod && run.status?.podName === podName) {
    // The cache may lag behind our own create; ask the apiserver before concluding the pod is gone.
    if (!v.podChecked) return { type: "checkPod", podName };
    return fail(Reasons.PodDeleted, `pod ${podName} was deleted while the run was active`, {
      steps: closeSteps(run.status?.steps, Reasons.PodDeleted),
    });
  }

  if (run.spec?.cancelled) {
    const steps = pod ? { steps: closeSteps(outcomeFromPod(pod).steps, Reasons.Cancelled), podName } : {};
    const finished = pod !== undefined && isTerminal(outcomeFromPod(pod).phase);
    return fail(Reasons.Cancelled, "the TaskRun was cancelled", steps, pod && !finished ? stopping(pod) : "keep");
  }

  if (!pod) {
    if (v.createFailure !== undefined) return fail(Reasons.PodCreationFailed, v.createFailure);
    const task = v.task;
    if (!task) {
      const message = `task "${run.spec?.taskRef}" not found in namespace ${run.metadata?.namespace ?? ""}`;
      if (now >= deadline) return fail(Reasons.TaskNotFound, message);
      // The Task informer wakes this run when the Task appears; the deadline is the backstop.
      return {
        type: "update",
        status: { phase: "Pending", reason: Reasons.TaskNotFound, message: `${message}; waiting for it` },
        ...(untilDeadline !== undefined ? { requeueAfterMs: untilDeadline } : {}),
      };
    }
    if (now >= deadline) return fail(Reasons.TimedOut, "the run timed out before its pod was created");
    try {
      const { labels, annotations } = propagated(run);
      const desired = buildPod(run, task, {
        attempt: attemptOf(run),
        remainingMs: untilDeadline,
        annotations,
        ...(v.restrictedNamespace ? { runAsNonRoot: true } : {}),
      });
      desired.metadata = { ...desired.metadata, labels: { ...labels, ...desired.metadata?.labels } };
      return { type: "createPod", pod: desired };
    } catch (err) {
      if (err instanceof InvalidParamsError) return fail(Reasons.InvalidParams, err.message);
      if (err instanceof InvalidSpecError) return fail(err.reason, err.message);
      throw err;
    }
  }

  const outcome = outcomeFromPod(pod);
  if (!isTerminal(outcome.phase) && now >= deadline) {
    return fail(
      Reasons.TimedOut,
      `the run did not finish within its timeout (${run.spec?.timeout})`,
      { steps: closeSteps(outcome.steps, Reasons.TimedOut), podName, startTime: outcome.startTime },
      stopping(pod),
    );
  }
  let requeueAfterMs = untilDeadline;
  if (outcome.imagePullError) {
    const podCreated = Date.parse(pod.metadata?.creationTimestamp ?? "") || now;
    const pullTimeout = v.imagePullTimeoutMs;
    if (now - podCreated >= pullTimeout) {
      return fail(
        Reasons.ImagePullFailed,
        `step "${outcome.imagePullError.step}" could not pull its image for ${Math.round(pullTimeout / 1000)}s: ${outcome.imagePullError.message}`,
        { steps: closeSteps(outcome.steps, Reasons.ImagePullFailed), podName },
        stopping(pod),
      );
    }
    const untilPullTimeout = podCreated + pullTimeout - now;
    requeueAfterMs = requeueAfterMs === undefined ? untilPullTimeout : Math.min(requeueAfterMs, untilPullTimeout);
  }
  if (outcome.resultsTooLarge) {
    return fail(Reasons.ResultsTooLarge, outcome.resultsTooLarge, { steps: outcome.steps, podName }, stopping(pod));
  }
  if (outcome.runsAsRoot) {
    // The kubelet would retry forever; no retry can change the image's user.
    return fail(
      Reasons.StepRunsAsRoot,
      `step "${outcome.runsAsRoot.step}" cannot start: ${outcome.runsAsRoot.message}. The namespace enforces Pod Security "restricted": use an image whose USER is a non-root numeric uid`,
      { steps: closeSteps(outcome.steps, Reasons.StepRunsAsRoot), podName },
      stopping(pod),
    );
  }
  const status: StatusInput = {
    phase: outcome.phase,
    reason: outcome.reason,
    message: outcome.message,
    podName,
    steps: outcome.steps,
    startTime: outcome.startTime,
    finishTime: outcome.finishTime,
    ...(outcome.results ? { results: outcome.results } : {}),
  };
  if (isTerminal(outcome.phase)) return { type: "finish", status, pod: "keep" };
  return { type: "update", status, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}

/** The next thing to do for a finished run. */
export type FinishedDecision =
  | { readonly type: "keep" }
  | { readonly type: "requeue"; readonly afterMs: number }
  | { readonly type: "delete" };

/** Deletes finished runs `ttlAfterFinishedMs` after their finish time (undefined: keep them). */
export function planFinished(
  run: ReadonlyTaskRun,
  ttlAfterFinishedMs: number | undefined,
  now: number,
): FinishedDecision {
  if (ttlAfterFinishedMs === undefined) return { type: "keep" };
  const finished = Date.parse(run.status?.finishTime ?? "");
  if (!Number.isFinite(finished)) return { type: "keep" };
  const left = finished + ttlAfterFinishedMs - now;
  return left > 0 ? { type: "requeue", afterMs: left } : { type: "delete" };
}
