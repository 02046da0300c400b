// kubectl task rerun RUN (or --last [TASK]): a new TaskRun with the spec of an earlier one — the same task,
// params, workspaces, retries, timeout, pod template and service account — and its labels and annotations,
// named like `start`'s (generateName TASK-run-). The Task is checked again first: a rerun of a run whose
// params or workspaces no longer fit its Task is refused with start's errors instead of failing later.
import { ANNOTATIONS_NOT_COPIED, LABEL_TASK, type TaskRun } from "../../contract.ts";
import { getTask, runFromArgs } from "../lookup.ts";
import { validateParams } from "../params.ts";
import type { Session } from "../session.ts";
import { validateWorkspaces } from "../workspaces.ts";
import { buildTaskRun, type CreateOptions, checkCreateOptions, createRun } from "./start.ts";

export interface RerunOptions extends CreateOptions {
  readonly last?: boolean | undefined;
}

/** The new TaskRun for a rerun of `old` (only what `start` would have set; no status, no name). */
export function rerunOf(old: TaskRun, namespace: string): TaskRun {
  const spec = old.spec;
  const annotations = Object.fromEntries(
    Object.entries(old.metadata?.annotations ?? {}).filter(([k]) => !ANNOTATIONS_NOT_COPIED.has(k)),
  );
  const { [LABEL_TASK]: _, ...labels } = old.metadata?.labels ?? {};
  return buildTaskRun(
    spec.taskRef,
    namespace,
    {
      timeout: spec.timeout,
      serviceAccount: spec.serviceAccountName,
      workspaces: spec.workspaces,
      retries: spec.retries,
      podTemplate: spec.podTemplate,
    },
    spec.params ?? [],
    annotations,
    labels,
  );
}

export async function rerun(session: Session, arg: string | undefined, o: RerunOptions): Promise<number> {
  checkCreateOptions(o);
  const { term } = session;
  const api = session.api;
  const old = await runFromArgs(api, "rerun", arg, o.last);
  const run = rerunOf(old, api.namespace);
  term.progress(`checking task ${run.spec.taskRef}…`);
  const task = await getTask(api, run.spec.taskRef);
  validateParams(task, run.spec.params ?? []);
  validateWorkspaces(task, run.spec.workspaces ?? []);
  term.progress(`creating a run of task ${run.spec.taskRef} like ${old.metadata?.name ?? ""}…`);
  return createRun(session, run, o);
}
