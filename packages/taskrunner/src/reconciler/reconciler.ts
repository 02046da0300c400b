// The TaskRun reconciler: reads the TaskRun, its Task and its Pod from informer caches, creates the one
// Pod, mirrors the Pod's progress into the TaskRun status (only when it changed, through the status
// subresource), enforces timeout and cancellation, and records events. Idempotent: any number of
// reconciles of a key — including after a crash at any point — yield one Pod and the same status.
import {
  type ApiError,
  type DeepReadonly,
  isAlreadyExists,
  isApiError,
  isConflict,
  isNotFound,
  type ResourceClient,
} from "@minitask/client";
import type { EventRecorder, EventType, ReconcileContext, Result } from "@minitask/controller";
import type { Lister } from "@minitask/informers";
import {
  ANNOTATIONS_NOT_COPIED,
  GROUP,
  podNameFor,
  type ReadonlyTaskRun,
  Reasons,
  type Task,
  type TaskRun,
  type TaskRunStatus,
} from "../contract.ts";
import { parseDuration } from "../duration.ts";
import type { TaskRunClient } from "../generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "./corev1.ts";
import { InvalidParamsError } from "./params.ts";
import { buildPod } from "./pod.ts";
import { closeSteps, isTerminal, jsonEqual, nextStatus, outcomeFromPod, type StatusInput } from "./status.ts";

export interface TaskRunReconcilerOptions {
  readonly taskRuns: Lister<TaskRun>;
  readonly tasks: Lister<Task>;
  readonly pods: Lister<Pod>;
  /** Writes: TaskRun status (and deletes after the TTL). */
  readonly taskRunClient: TaskRunClient;
  /** Writes: Pod create / get (live check) / delete. */
  readonly podClient: ResourceClient<Pod>;
  readonly events?: EventRecorder | undefined;
  /** How long a step may fail to pull its image before the run fails. Default 2 minutes. */
  readonly imagePullTimeoutMs?: number;
  /** Delete finished runs this long after they finish; undefined = keep them. */
  readonly ttlAfterFinishedMs?: number | undefined;
  readonly now?: () => number;
}

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * etcd's size limits, which the apiserver reports as 500 InternalError rather than 413: "etcdserver:
 * request is too large" (over --max-request-bytes) and gRPC's "trying to send message larger than max"
 * (over the apiserver's 2 MiB etcd client limit). The same object always fails the same way.
 */
const TOO_LARGE_FOR_ETCD = /etcdserver: request is too large|trying to send message larger than max/;

/** Whether an apiserver error means "this will never work" (bad request / invalid / forbidden / too large…). */
function permanent(err: unknown): err is ApiError {
  if (!isApiError(err)) return false;
  return [400, 403, 404, 413, 422].includes(err.code) || (err.code === 500 && TOO_LARGE_FOR_ETCD.test(err.message));
}

export class TaskRunReconciler {
  readonly #o: TaskRunReconcilerOptions;
  readonly #now: () => number;
  /** key → the TaskRun version our last status write produced, until the cache has caught up with it. */
  readonly #written = new Map<string, { uid: string; rv: string; at: number }>();

  constructor(opts: TaskRunReconcilerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** The reconcile function for `Controller`. */
  readonly reconcile = async (key: string, ctx: ReconcileContext): Promise<Result> => {
    const { namespace, name } = splitKey(key);
    const run = this.#o.taskRuns.namespace(namespace).get(name);
    if (!run) {
      this.#written.delete(key);
      return {}; // deleted: its pod is garbage-collected through the owner reference
    }
    if (this.#cacheBehindOurWrite(key, run)) {
      // Our last status write is not in the cache yet: acting on the older copy would only conflict.
      // The informer's event for that write requeues this key; the delay is a backstop.
      ctx.log.debug("cache behind our last status write; waiting for it");
      return { requeueAfterMs: 1000 };
    }
    if (isTerminal(run.status?.phase)) return this.#afterFinished(run, ctx);
    return this.#reconcileActive(run, ctx);
  };

  async #reconcileActive(run: ReadonlyTaskRun, ctx: ReconcileContext): Promise<Result> {
    const now = this.#now();
    const ns = run.metadata?.namespace ?? "";
    const podName = podNameFor(run.metadata?.name ?? "");

    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(run.spec?.timeout ?? "1h");
    } catch (err) {
      return this.#finish(run, ctx, {
        phase: "Failed",
        reason: Reasons.InvalidTimeout,
        message: (err as Error).message,
      });
    }
    const created = Date.parse(run.metadata?.creationTimestamp ?? "") || now;
    const deadline = timeoutMs > 0 ? created + timeoutMs : Number.POSITIVE_INFINITY;

    let pod = this.#o.pods.namespace(ns).get(podName) as DeepReadonly<Pod> | undefined;
    if (pod && !this.#ownedBy(pod, run)) {
      return this.#finish(run, ctx, {
        phase: "Failed",
        reason: Reasons.PodCreationFailed,
        message: `a pod named ${podName} already exists and is not controlled by this TaskRun`,
      });
    }
    if (!pod && run.status?.podName) {
      // The cache may lag behind our own create; ask the apiserver before concluding the pod is gone.
      pod = await this.#livePod(ns, podName, ctx.signal);
      if (!pod) {
        return this.#finish(run, ctx, {
          phase: "Failed",
          reason: Reasons.PodDeleted,
          message: `pod ${podName} was deleted while the run was active`,
          steps: closeSteps(run.status?.steps as TaskRunStatus["steps"], Reasons.PodDeleted),
        });
      }
    }

    if (run.spec?.cancelled) {
      if (pod) await this.#deletePod(ns, podName, ctx);
      return this.#finish(run, ctx, {
        phase: "Failed",
        reason: Reasons.Cancelled,
        message: "the TaskRun was cancelled",
        ...(pod ? { steps: closeSteps(outcomeFromPod(pod).steps, Reasons.Cancelled), podName } : {}),
      });
    }

    if (!pod) {
      const task = this.#o.tasks.namespace(ns).get(run.spec?.taskRef ?? "");
      if (!task) {
        const message = `task "${run.spec?.taskRef}" not found in namespace ${ns}`;
        if (now >= deadline) return this.#finish(run, ctx, { phase: "Failed", reason: Reasons.TaskNotFound, message });
        await this.#write(run, ctx, {
          phase: "Pending",
          reason: Reasons.TaskNotFound,
          message: `${message}; waiting for it`,
        });
        // The Task informer wakes this run when the Task appears; the deadline is the backstop.
        return Number.isFinite(deadline) ? { requeueAfterMs: Math.max(1, deadline - now) } : {};
      }
      if (now >= deadline) {
        return this.#finish(run, ctx, {
          phase: "Failed",
          reason: Reasons.TimedOut,
          message: "the run timed out before its pod was created",
        });
      }
      let desired: Pod;
      try {
        desired = buildPod(run, task, {
          remainingMs: Number.isFinite(deadline) ? deadline - now : undefined,
          annotations: this.#propagatedAnnotations(run),
        });
        const labels = this.#propagatedLabels(run);
        desired.metadata = { ...desired.metadata, labels: { ...labels, ...desired.metadata?.labels } };
      } catch (err) {
        if (err instanceof InvalidParamsError) {
          return this.#finish(run, ctx, { phase: "Failed", reason: Reasons.InvalidParams, message: err.message });
        }
        throw err;
      }
      try {
        pod = (await this.#o.podClient.inNamespace(ns).create(desired, { signal: ctx.signal })) as Pod;
        this.#event(run, "Normal", "PodCreated", `Created pod ${podName}`);
      } catch (err) {
        if (isAlreadyExists(err)) {
          pod = await this.#livePod(ns, podName, ctx.signal);
          if (!pod) throw err; // deleted in between: retry
          if (!this.#ownedBy(pod, run)) {
            return this.#finish(run, ctx, {
              phase: "Failed",
              reason: Reasons.PodCreationFailed,
              message: `a pod named ${podName} already exists and is not controlled by this TaskRun`,
            });
          }
        } else if (permanent(err)) {
          return this.#finish(run, ctx, { phase: "Failed", reason: Reasons.PodCreationFailed, message: err.message });
        } else {
          throw err;
        }
      }
    }

    const outcome = outcomeFromPod(pod);
    if (!isTerminal(outcome.phase) && now >= deadline) {
      await this.#deletePod(ns, podName, ctx);
      return this.#finish(run, ctx, {
        phase: "Failed",
        reason: Reasons.TimedOut,
        message: `the run did not finish within its timeout (${run.spec?.timeout})`,
        steps: closeSteps(outcome.steps, Reasons.TimedOut),
        podName,
        startTime: outcome.startTime,
      });
    }
    const pullTimeout = this.#o.imagePullTimeoutMs ?? 120_000;
    let requeueAfterMs: number | undefined;
    if (outcome.imagePullError) {
      const podCreated = Date.parse(pod.metadata?.creationTimestamp ?? "") || now;
      if (now - podCreated >= pullTimeout) {
        await this.#deletePod(ns, podName, ctx);
        return this.#finish(run, ctx, {
          phase: "Failed",
          reason: Reasons.ImagePullFailed,
          message: `step "${outcome.imagePullError.step}" could not pull its image for ${Math.round(pullTimeout / 1000)}s: ${outcome.imagePullError.message}`,
          steps: closeSteps(outcome.steps, Reasons.ImagePullFailed),
          podName,
        });
      }
      requeueAfterMs = podCreated + pullTimeout - now;
    }
    const input: StatusInput = {
      phase: outcome.phase,
      reason: outcome.reason,
      message: outcome.message,
      podName,
      steps: outcome.steps,
      startTime: outcome.startTime,
      finishTime: outcome.finishTime,
    };
    if (isTerminal(outcome.phase)) return this.#finish(run, ctx, input);
    await this.#write(run, ctx, input);
    if (Number.isFinite(deadline)) {
      const untilDeadline = Math.max(1, deadline - now);
      requeueAfterMs = requeueAfterMs === undefined ? untilDeadline : Math.min(requeueAfterMs, untilDeadline);
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  #cacheBehindOurWrite(key: string, run: ReadonlyTaskRun): boolean {
    const w = this.#written.get(key);
    if (!w) return false;
    const rv = run.metadata?.resourceVersion ?? "";
    const caughtUp =
      run.metadata?.uid !== w.uid ||
      rv === w.rv ||
      // Resource versions are opaque, but the apiserver's are etcd revisions: a larger one is newer.
      (/^\d+$/.test(rv) && /^\d+$/.test(w.rv) && BigInt(rv) > BigInt(w.rv)) ||
      this.#now() - w.at > 5_000;
    if (caughtUp) this.#written.delete(key);
    return !caughtUp;
  }

  #ownedBy(pod: DeepReadonly<Pod>, run: ReadonlyTaskRun): boolean {
    return (pod.metadata?.ownerReferences ?? []).some(
      (r) => r.controller === true && r.kind === "TaskRun" && r.uid === run.metadata?.uid,
    );
  }

  #propagatedAnnotations(run: ReadonlyTaskRun): Record<string, string> {
    const out: Record<string, string> = {};
    const annotations: Readonly<Record<string, string>> = run.metadata?.annotations ?? {};
    for (const [k, v] of Object.entries(annotations)) {
      if (!ANNOTATIONS_NOT_COPIED.has(k)) out[k] = v;
    }
    return out;
  }

  #propagatedLabels(run: ReadonlyTaskRun): Record<string, string> {
    return { ...(run.metadata?.labels ?? {}) };
  }

  async #livePod(ns: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    try {
      return await this.#o.podClient.inNamespace(ns).get(name, { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #deletePod(ns: string, name: string, ctx: ReconcileContext): Promise<void> {
    try {
      await this.#o.podClient.inNamespace(ns).delete(name, { signal: ctx.signal, propagationPolicy: "Background" });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Writes a terminal status (once) and records the matching event. */
  async #finish(run: ReadonlyTaskRun, ctx: ReconcileContext, input: StatusInput): Promise<Result> {
    const written = await this.#write(run, ctx, input);
    if (written && isTerminal(input.phase)) {
      return this.#afterFinished({ ...run, status: written } as ReadonlyTaskRun, ctx);
    }
    return {};
  }

  /** Writes the status if it changed; returns the status now stored (or undefined on a conflict). */
  async #write(run: ReadonlyTaskRun, ctx: ReconcileContext, input: StatusInput): Promise<TaskRunStatus | undefined> {
    const now = this.#now();
    const status = nextStatus(run, input, now);
    if (jsonEqual(status, run.status ?? {})) return status;
    const before = run.status?.phase;
    try {
      const updated = await this.#o.taskRunClient
        .inNamespace(run.metadata?.namespace ?? "")
        .updateStatus({ ...(run as TaskRun), status }, { signal: ctx.signal });
      const rv = updated.metadata?.resourceVersion;
      if (rv) {
        this.#written.set(`${run.metadata?.namespace}/${run.metadata?.name}`, {
          uid: run.metadata?.uid ?? "",
          rv,
          at: now,
        });
      }
    } catch (err) {
      if (isConflict(err)) {
        // Someone (or our own previous write) changed the run: the informer brings the new version
        // and that event requeues the key. Nothing to log.
        ctx.log.debug("status write conflicted; waiting for the newer object");
        return undefined;
      }
      if (isNotFound(err)) return undefined; // deleted meanwhile
      throw err;
    }
    if (status.phase !== before) {
      ctx.log.info({ phase: status.phase, reason: status.reason }, "phase changed");
      if (status.phase === "Running") this.#event(run, "Normal", "Started", status.message ?? "Started");
      else if (status.phase === "Succeeded") this.#event(run, "Normal", "Succeeded", status.message ?? "Succeeded");
      else if (status.phase === "Failed")
        this.#event(run, "Warning", status.reason ?? "Failed", status.message ?? "Failed");
    }
    return status;
  }

  async #afterFinished(run: ReadonlyTaskRun, ctx: ReconcileContext): Promise<Result> {
    const ttl = this.#o.ttlAfterFinishedMs;
    if (ttl === undefined) return {};
    const finished = Date.parse(run.status?.finishTime ?? "");
    if (!Number.isFinite(finished)) return {};
    const left = finished + ttl - this.#now();
    if (left > 0) return { requeueAfterMs: left };
    try {
      await this.#o.taskRunClient.inNamespace(run.metadata?.namespace ?? "").delete(run.metadata?.name ?? "", {
        signal: ctx.signal,
        propagationPolicy: "Background",
        preconditions: { uid: run.metadata?.uid ?? "" },
      });
      ctx.log.info("deleted finished TaskRun after its TTL");
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    return {};
  }

  #event(run: ReadonlyTaskRun, type: EventType, reason: string, note: string): void {
    this.#o.events?.record({ ...run, apiVersion: `${GROUP}/v1`, kind: "TaskRun" }, type, reason, note);
  }
}
