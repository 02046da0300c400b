// The TaskRun reconciler's executor: reads the TaskRun, its Task and its Pod from informer caches, asks
// plan.ts what to do, and does it — read the pod from the apiserver, create it, delete it, write the
// status (only when it changed, through the status subresource), record events — then asks again until
// the plan settles. Idempotent: any number of reconciles of a key — including after a crash at any
// point — yield one Pod and the same status.
import {
  type ApiError,
  isAlreadyExists,
  isApiError,
  isConflict,
  isNotFound,
  type ResourceClient,
} from "@minitask/client";
import {
  type EventRecorder,
  type EventType,
  type ReconcileContext,
  type Result,
  TerminalError,
} from "@minitask/controller";
import { type Lister, MutationCache } from "@minitask/informers";
import {
  attemptOf,
  GROUP,
  podNameFor,
  type ReadonlyTaskRun,
  type Task,
  type TaskRun,
  type TaskRunStatus,
} from "../contract.ts";
import type { TaskRunClient } from "../generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "./corev1.ts";
import { type ActiveRunView, planActive, planFinished } from "./plan.ts";
import { isTerminal, jsonEqual, nextStatus, type StatusInput } from "./status.ts";

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
  /** Whether a namespace enforces Pod Security `restricted` (its pods then ask for runAsNonRoot). */
  readonly enforcesRestricted?: (namespace: string) => boolean;
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

/** Whether the apiserver refused the object itself: the same request can never succeed. */
function refused(err: unknown): err is ApiError {
  if (!isApiError(err)) return false;
  return [400, 413, 422].includes(err.code) || (err.code === 500 && TOO_LARGE_FOR_ETCD.test(err.message));
}

/**
 * Whether creating a pod failed for good: refused, or forbidden (Pod Security admission and resource
 * quotas answer 403), or its namespace is gone (404).
 */
function podCreateFailedForGood(err: unknown): err is ApiError {
  return refused(err) || (isApiError(err) && [403, 404].includes(err.code));
}

export class TaskRunReconciler {
  readonly #o: TaskRunReconcilerOptions;
  readonly #now: () => number;
  /** Read-your-writes: our last status write of each run, until the informer's cache has caught up. */
  readonly #written: MutationCache<TaskRun>;

  constructor(opts: TaskRunReconcilerOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#written = new MutationCache<TaskRun>({ ttlMs: 5_000, clock: { now: this.#now } });
  }

  /** The reconcile function for `Controller`. */
  readonly reconcile = async (key: string, ctx: ReconcileContext): Promise<Result> => {
    const { namespace, name } = splitKey(key);
    const run = this.#o.taskRuns.namespace(namespace).get(name);
    if (!run) {
      this.#written.forget(key);
      return {}; // deleted: its pod is garbage-collected through the owner reference
    }
    if (this.#written.isBehind(key, run)) {
      // Our last status write is not in the cache yet: acting on the older copy would only conflict.
      // The informer's event for that write requeues this key; the delay is a backstop.
      ctx.log.debug("cache behind our last status write; waiting for it");
      return { requeueAfterMs: 1000 };
    }
    if (isTerminal(run.status?.phase)) return this.#afterFinished(run, ctx);
    return this.#reconcileActive(run, ctx);
  };

  async #reconcileActive(run: ReadonlyTaskRun, ctx: ReconcileContext): Promise<Result> {
    const ns = run.metadata?.namespace ?? "";
    const podName = podNameFor(run.metadata?.name ?? "", attemptOf(run));
    const view: Mutable<ActiveRunView> = {
      run,
      task: this.#o.tasks.namespace(ns).get(run.spec?.taskRef ?? ""),
      pod: this.#o.pods.namespace(ns).get(podName),
      podChecked: false,
      now: this.#now(),
      imagePullTimeoutMs: this.#o.imagePullTimeoutMs ?? 120_000,
      restrictedNamespace: this.#o.enforcesRestricted?.(ns) ?? false,
    };
    // Each pass performs one decision; reading or creating the pod leads to a second (or third) pass.
    for (;;) {
      const decision = planActive(view);
      switch (decision.type) {
        case "checkPod":
          view.pod = await this.#livePod(ns, decision.podName, ctx.signal);
          view.podChecked = true;
          continue;
        case "createPod":
          try {
            view.pod = await this.#o.podClient.inNamespace(ns).create(decision.pod, { signal: ctx.signal });
            this.#event(run, "Normal", "PodCreated", `Created pod ${podName}`);
          } catch (err) {
            if (isAlreadyExists(err)) {
              view.pod = await this.#livePod(ns, podName, ctx.signal);
              if (!view.pod) throw err; // deleted in between: retry
            } else if (podCreateFailedForGood(err)) {
              view.createFailure = err.message;
            } else {
              throw err;
            }
          }
          view.podChecked = true;
          continue;
        case "finish":
          if (decision.pod === "delete") await this.#deletePod(ns, podName, ctx);
          if (decision.pod === "stop") await this.#stopPod(ns, podName, ctx);
          return this.#finish(run, ctx, decision.status);
        case "retry":
          if (decision.pod === "delete") await this.#deletePod(ns, podName, ctx);
          if (decision.pod === "stop") await this.#stopPod(ns, podName, ctx);
          if (await this.#write(run, ctx, decision.status)) {
            this.#event(run, "Warning", decision.status.reason, decision.status.message);
          }
          // The status write's watch event brings the run back, to create the next attempt's pod.
          return {};
        case "update":
          await this.#write(run, ctx, decision.status);
          return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
      }
    }
  }

  async #livePod(ns: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    try {
      return await this.#o.podClient.inNamespace(ns).get(name, { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Stops a pod where it runs, keeping it: `activeDeadlineSeconds` may be lowered on a running pod, and at 1
   * the kubelet kills its containers at once (the pod ends Failed, DeadlineExceeded, logs kept).
   */
  async #stopPod(ns: string, name: string, ctx: ReconcileContext): Promise<void> {
    try {
      await this.#o.podClient
        .inNamespace(ns)
        .patch(name, { spec: { activeDeadlineSeconds: 1 } }, { type: "merge", signal: ctx.signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
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
    const status = nextStatus(run, input, this.#now());
    if (jsonEqual(status, run.status ?? {})) return status;
    const before = run.status?.phase;
    try {
      const updated = await this.#o.taskRunClient
        .inNamespace(run.metadata?.namespace ?? "")
        .updateStatus({ ...(run as TaskRun), status }, { signal: ctx.signal });
      this.#written.record(updated);
    } catch (err) {
      if (isConflict(err)) {
        // Someone (or our own previous write) changed the run: the informer brings the new version
        // and that event requeues the key. Nothing to log.
        ctx.log.debug("status write conflicted; waiting for the newer object");
        return undefined;
      }
      if (isNotFound(err)) return undefined; // deleted meanwhile
      // A status the apiserver refuses is refused again on every retry: record it, do not hot-loop.
      if (refused(err)) throw new TerminalError(`the apiserver refused the status of this TaskRun: ${err.message}`);
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
    const decision = planFinished(run, this.#o.ttlAfterFinishedMs, this.#now());
    if (decision.type === "keep") return {};
    if (decision.type === "requeue") return { requeueAfterMs: decision.afterMs };
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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
