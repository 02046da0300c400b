// Getting a Task or a TaskRun by name, with the errors a person needs when it is not there.
import { ApiError, isNotFound } from "@minitask/client";
// The controller's naming rule (`<taskrun>-pod`, cut with a hash when longer than 63 characters).
import type { StepStatus, Task, TaskRun } from "../contract.ts";
import { podNameFor, STEP_CONTAINER_PREFIX } from "../contract.ts";
import type { Api } from "./api.ts";
import { CliError, isMissingResourceType } from "./errors.ts";

function isObjectNotFound(err: unknown): boolean {
  return isNotFound(err) && !isMissingResourceType(err);
}

/** Names, shortened for a one-line message: `a, b, c and 7 more`. */
export function nameList(names: readonly string[], max = 10): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

export async function getTask(api: Api, name: string): Promise<Task> {
  try {
    return await api.tasks().get(name);
  } catch (err) {
    if (!isObjectNotFound(err)) throw err;
    const tasks = await api.tasks().list();
    const names = tasks.items.map((t) => t.metadata?.name ?? "").sort();
    const where = `namespace "${api.namespace}"`;
    throw new CliError(
      names.length === 0
        ? `task "${name}" not found: there are no tasks in ${where}`
        : `task "${name}" not found in ${where}; tasks there: ${nameList(names)}`,
    );
  }
}

export async function getRun(api: Api, name: string): Promise<TaskRun> {
  try {
    return await api.taskRuns().get(name);
  } catch (err) {
    if (err instanceof ApiError && isObjectNotFound(err)) {
      throw new CliError(
        `taskrun "${name}" not found in namespace "${api.namespace}" (list them with: kubectl task runs -n ${api.namespace})`,
      );
    }
    throw err;
  }
}

/** The pod of a run: as the status says, else the controller's naming rule. */
export function podOf(run: TaskRun): string {
  const name = run.metadata?.name ?? "";
  return run.status?.podName || podNameFor(name);
}

/** A step as the plugin tracks it: its name, container and state. */
export interface StepRef {
  readonly name: string;
  readonly container: string;
  readonly status: StepStatus | undefined;
}

/** The steps of a run, in order, from its status (the controller writes them all once the pod exists). */
export function stepsOf(run: TaskRun): StepRef[] {
  return (run.status?.steps ?? []).map((s) => ({
    name: s.name,
    container: s.container || `${STEP_CONTAINER_PREFIX}${s.name}`,
    status: s,
  }));
}

/** The steps of a pod, in order (init containers first), when the run's status has none yet. */
export function stepsOfPod(pod: {
  spec?: { initContainers?: { name: string }[]; containers?: { name: string }[] };
}): StepRef[] {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers
    .filter((c) => c.name.startsWith(STEP_CONTAINER_PREFIX))
    .map((c) => ({ name: c.name.slice(STEP_CONTAINER_PREFIX.length), container: c.name, status: undefined }));
}
