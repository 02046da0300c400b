// The task runner's view of the generated API types (crds/ → codegen → ../generated). Nested types
// are derived by indexed access so this file never restates the schema.
import type { DeepReadonly } from "@minitask/client";
import type { Task, TaskRun } from "../generated/minitask.myorg.dev/v1/index.ts";

export type { Task, TaskRun };
export type TaskSpec = NonNullable<Task["spec"]>;
export type Step = NonNullable<TaskSpec["steps"]>[number];
export type ParamSpec = NonNullable<TaskSpec["params"]>[number];
export type TaskRunSpec = NonNullable<TaskRun["spec"]>;
export type ParamValue = NonNullable<TaskRunSpec["params"]>[number];
export type TaskRunStatus = NonNullable<TaskRun["status"]>;
export type StepStatus = NonNullable<TaskRunStatus["steps"]>[number];
export type StepState = StepStatus["state"];
export type Phase = NonNullable<TaskRunStatus["phase"]>;
export type Condition = NonNullable<TaskRunStatus["conditions"]>[number];

export type ReadonlyTask = DeepReadonly<Task>;
export type ReadonlyTaskRun = DeepReadonly<TaskRun>;

export const GROUP = "minitask.myorg.dev";
export const LABEL_TASKRUN = `${GROUP}/taskrun`;
export const LABEL_TASK = `${GROUP}/task`;
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "minitask-controller";
/** Container names of steps are `step-<name>`, as Tekton does. */
export const STEP_PREFIX = "step-";

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
} as const;
