// Getting a Task or a TaskRun by name, with the errors a person needs when it is not there.
import { ApiError, isNotFound } from "@minitask/client";
// The controller's naming rule (`<taskrun>-pod`, cut with a hash when longer than 63 characters).
import type { StepStatus, Task, TaskRun } from "../contract.ts";
import { attemptOf, podNameFor, SIDECAR_CONTAINER_PREFIX, STEP_CONTAINER_PREFIX } from "../contract.ts";
import type { Api, ContainerStatus, Pod } from "./api.ts";
import { CliError, isMissingResourceType } from "./errors.ts";
import { parseTime } from "./format.ts";

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

/**
 * The pod of a run's current attempt: as the status says, else the controller's naming rule. Right after a
 * retry the status still names the failed attempt's pod until the next one is made; that name is not taken.
 */
export function podOf(run: TaskRun): string {
  const attempt = attemptOf(run);
  const pod = run.status?.podName;
  const stale = attempt > 0 && pod === run.status?.retriesStatus?.[attempt - 1]?.podName;
  return pod && !stale ? pod : podNameFor(run.metadata?.name ?? "", attempt);
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

/** A sidecar of a run's pod: its name (without the prefix), container, image and status. */
export interface SidecarRef {
  readonly name: string;
  readonly container: string;
  readonly image: string | undefined;
  readonly status: ContainerStatus | undefined;
}

/** The sidecars of a pod, in order (native sidecars are init containers; older pods may list them as containers). */
export function sidecarsOfPod(pod: Pod): SidecarRef[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]
    .filter((c) => c.name.startsWith(SIDECAR_CONTAINER_PREFIX))
    .map((c) => ({
      name: c.name.slice(SIDECAR_CONTAINER_PREFIX.length),
      container: c.name,
      image: c.image,
      status: statuses.find((s) => s.name === c.name),
    }));
}

/** The run's pod, or undefined when it does not exist (yet, or any more). */
export async function podOrNothing(api: Api, run: TaskRun): Promise<Pod | undefined> {
  try {
    return await api.pods().get(podOf(run));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Newest first by creation time (the run started last), then as `kubectl task runs` lists them. */
function createdLater(a: TaskRun, b: TaskRun): number {
  const created = (r: TaskRun) => parseTime(r.metadata?.creationTimestamp) ?? 0;
  const started = (r: TaskRun) => parseTime(r.status?.startTime) ?? Number.POSITIVE_INFINITY;
  return (
    created(b) - created(a) || started(b) - started(a) || (b.metadata?.name ?? "").localeCompare(a.metadata?.name ?? "")
  );
}

/**
 * `--last [TASK]`: the run created last in the namespace, or the last of TASK's runs (tkn's `--last`). With
 * --last the argument names a task; a run's name there gets a hint.
 */
export async function lastRun(api: Api, task: string | undefined): Promise<TaskRun> {
  const all = (await api.taskRuns().listAll()).items;
  const candidates = task === undefined ? all : all.filter((r) => r.spec?.taskRef === task);
  const newest = [...candidates].sort(createdLater)[0];
  if (newest !== undefined) return newest;
  const where = `namespace "${api.namespace}"`;
  if (task === undefined) throw new CliError(`there are no task runs in ${where}`);
  const isRun = all.some((r) => r.metadata?.name === task);
  throw new CliError(
    isRun
      ? `there are no runs of task "${task}" in ${where}: with --last the argument names a task, and "${task}" is a run (drop --last to use it)`
      : `there are no runs of task "${task}" in ${where}`,
  );
}

/** The run a command works on: RUN, or with --last the newest run (of TASK when given). */
export async function runFromArgs(
  api: Api,
  command: string,
  arg: string | undefined,
  last: boolean | undefined,
): Promise<TaskRun> {
  if (last) return lastRun(api, arg);
  if (arg === undefined) {
    throw new CliError(`${command} needs a run: give its name, or --last for the newest run (--last TASK: of a task)`);
  }
  return getRun(api, arg);
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
