// The contract of Mini Task Runner, in one place: what the controller writes and the plugin and the
// dashboard read. The API group and kinds, the labels and annotations on the pods the controller makes,
// the step container-name prefix, the status shapes (derived from the generated models by indexed
// access, so this file never restates the schema) and the reasons users and tools match on.
import { createHash } from "node:crypto";
import type { DeepReadonly } from "@minitask/client";
import {
  type Task,
  TaskResource,
  type TaskRun,
  TaskRunApiVersion,
  TaskRunKind,
  TaskRunResource,
} from "./generated/minitask.myorg.dev/v1/index.ts";

export type { Task, TaskRun };
export { TaskResource, TaskRunApiVersion, TaskRunKind, TaskRunResource };
export type TaskSpec = NonNullable<Task["spec"]>;
export type Step = NonNullable<TaskSpec["steps"]>[number];
export type StepTemplate = NonNullable<TaskSpec["stepTemplate"]>;
export type Sidecar = NonNullable<TaskSpec["sidecars"]>[number];
export type WorkspaceDeclaration = NonNullable<TaskSpec["workspaces"]>[number];
export type WorkspaceBinding = NonNullable<TaskRunSpec["workspaces"]>[number];
export type TaskRunResult = NonNullable<TaskRunStatus["results"]>[number];
export type ParamSpec = NonNullable<TaskSpec["params"]>[number];
export type TaskRunSpec = NonNullable<TaskRun["spec"]>;
export type ParamValue = NonNullable<TaskRunSpec["params"]>[number];
export type TaskRunStatus = NonNullable<TaskRun["status"]>;
export type StepStatus = NonNullable<TaskRunStatus["steps"]>[number];
export type AttemptStatus = NonNullable<TaskRunStatus["retriesStatus"]>[number];
export type StepState = StepStatus["state"];
export type Phase = NonNullable<TaskRunStatus["phase"]>;
export type Condition = NonNullable<TaskRunStatus["conditions"]>[number];

export type ReadonlyTask = DeepReadonly<Task>;
export type ReadonlyTaskRun = DeepReadonly<TaskRun>;

/** The API group of Task and TaskRun. */
export const GROUP: string = TaskRunResource.group;
/** The API version of Task and TaskRun. */
export const VERSION: string = TaskRunResource.version;

/** Label on a run's pod: the TaskRun's name. */
export const LABEL_TASKRUN = `${GROUP}/taskrun`;
/** Label on a run's pod and on runs started by the plugin: the Task's name. */
export const LABEL_TASK = `${GROUP}/task`;
/** Label on every pod the controller makes; its pod informer selects on it. */
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
/** The value of {@link LABEL_MANAGED_BY}. */
export const MANAGED_BY = "minitask-controller";
/** Annotation on a run's pod: the TaskRun's full name (the label value may be hash-shortened). */
export const ANNOTATION_TASKRUN_NAME = `${GROUP}/taskrun-name`;
/** Annotations of a TaskRun that are not copied onto its pod. */
export const ANNOTATIONS_NOT_COPIED: ReadonlySet<string> = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
]);
/** A step's container is named `step-<step name>`, as Tekton does. */
export const STEP_CONTAINER_PREFIX = "step-";

/** The container name of a step. */
export function stepContainerName(step: string): string {
  return `${STEP_CONTAINER_PREFIX}${step}`;
}

/** A sidecar's container is named `sidecar-<sidecar name>`; sidecars are not steps. */
export const SIDECAR_CONTAINER_PREFIX = "sidecar-";

/** The container name of a sidecar. */
export function sidecarContainerName(sidecar: string): string {
  return `${SIDECAR_CONTAINER_PREFIX}${sidecar}`;
}

const MAX_NAME = 63;

/** `<base><suffix>`, with `base` cut and a hash of the full base inserted when the result would exceed 63. */
export function boundedName(base: string, suffix = "", max: number = MAX_NAME): string {
  if (base.length + suffix.length <= max) return `${base}${suffix}`;
  const keep = max - suffix.length - 9;
  const hash = createHash("sha256").update(base).digest("hex").slice(0, 8);
  return `${base.slice(0, keep).replace(/[-.]+$/, "")}-${hash}${suffix}`;
}

/**
 * The pod of a TaskRun's attempt: `<taskrun>-pod` (the original's name) for the first, `<taskrun>-pod-retry<N>`
 * for retry N (Tekton's names), shortened with a hash when too long. Deterministic, so a repeated or restarted
 * reconcile can never make a second pod for an attempt.
 */
export function podNameFor(taskRunName: string, attempt = 0): string {
  return boundedName(taskRunName, attempt > 0 ? `-pod-retry${attempt}` : "-pod");
}

/** Which attempt a run is on: 0 for the first, N after N retries (one entry each in status.retriesStatus). */
export function attemptOf(run: {
  readonly status?: { readonly retriesStatus?: readonly unknown[] } | undefined;
}): number {
  return run.status?.retriesStatus?.length ?? 0;
}

/** A label value (≤ 63 chars) that identifies `value`, hash-shortened when needed. */
export function labelValue(value: string): string {
  return boundedName(value, "");
}

/** A step with `spec.stepTemplate` applied: what the step's container is made from. */
export type ResolvedStep = DeepReadonly<Step> & { readonly image: string };

function mergeBy<T>(template: readonly T[] | undefined, own: readonly T[] | undefined, key: (t: T) => string): T[] {
  const ownKeys = new Set((own ?? []).map(key));
  return [...(template ?? []).filter((t) => !ownKeys.has(key(t))), ...(own ?? [])];
}

/**
 * The Task's steps with `spec.stepTemplate` merged in, as Tekton merges it: a step's own field wins; env
 * is merged by name and volumeMounts by mountPath (the step's entry wins), resources per resource name,
 * securityContext per field; a step's envFrom replaces the template's. A step with no image (the CRD
 * refuses such a Task unless the template has one) gets "".
 */
export function resolvedSteps(task: { readonly spec?: DeepReadonly<TaskSpec> | undefined }): ResolvedStep[] {
  const t = task.spec?.stepTemplate;
  return (task.spec?.steps ?? []).map((step): ResolvedStep => {
    if (!t) return { ...step, image: step.image ?? "" };
    const env = mergeBy(t.env, step.env, (e) => e.name);
    const volumeMounts = mergeBy(t.volumeMounts, step.volumeMounts, (m) => m.mountPath);
    const envFrom = step.envFrom ?? t.envFrom;
    const workingDir = step.workingDir ?? t.workingDir;
    const imagePullPolicy = step.imagePullPolicy ?? t.imagePullPolicy;
    const limits = { ...t.resources?.limits, ...step.resources?.limits };
    const requests = { ...t.resources?.requests, ...step.resources?.requests };
    const resources = {
      ...(Object.keys(limits).length ? { limits } : {}),
      ...(Object.keys(requests).length ? { requests } : {}),
    };
    const securityContext = { ...t.securityContext, ...step.securityContext };
    return {
      ...step,
      image: step.image ?? t.image ?? "",
      ...(env.length ? { env } : {}),
      ...(volumeMounts.length ? { volumeMounts } : {}),
      ...(envFrom ? { envFrom } : {}),
      ...(workingDir !== undefined ? { workingDir } : {}),
      ...(imagePullPolicy ? { imagePullPolicy } : {}),
      ...(Object.keys(resources).length ? { resources } : {}),
      ...(Object.keys(securityContext).length ? { securityContext } : {}),
    };
  });
}

/** Whether a phase is final (a finished run never changes again). */
export function isTerminal(phase: string | undefined): phase is "Succeeded" | "Failed" {
  return phase === "Succeeded" || phase === "Failed";
}

/** Whether the run has finished (Succeeded or Failed). */
export function isFinished(run: { readonly status?: { readonly phase?: string } | undefined }): boolean {
  return isTerminal(run.status?.phase);
}

/** Reasons written to TaskRun status (CamelCase, stable: users and tools match on them). */
export const Reasons = {
  Pending: "Pending",
  Running: "Running",
  Succeeded: "Succeeded",
  TaskNotFound: "TaskNotFound",
  InvalidParams: "InvalidParams",
  InvalidTimeout: "InvalidTimeout",
  PodCreationFailed: "PodCreationFailed",
  StepFailed: "StepFailed",
  TimedOut: "TimedOut",
  Cancelled: "Cancelled",
  PodDeleted: "PodDeleted",
  PodFailed: "PodFailed",
  ImagePullFailed: "ImagePullFailed",
  ImagePullBackOff: "ImagePullBackOff",
  /** A step's container cannot be made: its image runs as root in a namespace that forbids it. */
  StepRunsAsRoot: "StepRunsAsRoot",
  /** The run's workspace bindings do not fit its Task (missing, unknown), or a step names an undeclared one. */
  InvalidWorkspaces: "InvalidWorkspaces",
  /** A step refers to a result the Task does not declare. */
  InvalidResults: "InvalidResults",
  /** A step's results do not fit in its termination message (4 KiB; 12 KiB for the whole pod). */
  ResultsTooLarge: "ResultsTooLarge",
  /** An attempt failed and the run is tried again (spec.retries); the run stays active. */
  Retrying: "Retrying",
  /** A step with `onError: continue` failed; the run went on (a step state's reason, not a run's). */
  ContinuedOnError: "ContinuedOnError",
} as const;
/** One of {@link Reasons}. */
export type Reason = (typeof Reasons)[keyof typeof Reasons];
