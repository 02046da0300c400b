// kubectl task start TASK: check the Task, the params and the workspace bindings, create a TaskRun
// (generateName TASK-run-), print its name, and optionally follow it to the end. `rerun` ends the same way.
import { GROUP, LABEL_TASK, type TaskRun, TaskRunApiVersion, TaskRunKind, type TaskRunSpec } from "../../contract.ts";
import type { RunParam } from "../api.ts";
import { CliError, ExitCode } from "../errors.ts";
import { followRun } from "../follow.ts";
import { serialise, withoutManagedFields } from "../format.ts";
import { getTask } from "../lookup.ts";
import {
  parseAnnotations,
  parseParamFlags,
  parseRetries,
  typedParams,
  validateParams,
  validateTimeout,
} from "../params.ts";
import { readPodTemplate } from "../podtemplate.ts";
import type { Session } from "../session.ts";
import { parseWorkspaceFlags, validateWorkspaces } from "../workspaces.ts";

/** How `start` and `rerun` report the run they create. */
export interface CreateOptions {
  readonly follow?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
  readonly output?: "json" | "yaml" | "name" | undefined;
}

export interface StartOptions extends CreateOptions {
  readonly param?: readonly string[] | undefined;
  readonly workspace?: readonly string[] | undefined;
  readonly timeout?: string | undefined;
  readonly retries?: string | undefined;
  readonly podTemplate?: string | undefined;
  readonly serviceAccount?: string | undefined;
  readonly annotation?: readonly string[] | undefined;
  readonly label?: readonly string[] | undefined;
}

/** The parts of a TaskRun's spec that `start` sets from flags besides the params. */
export interface RunSettings {
  readonly timeout?: string | undefined;
  readonly serviceAccount?: string | undefined;
  readonly workspaces?: TaskRunSpec["workspaces"];
  readonly retries?: number | undefined;
  readonly podTemplate?: TaskRunSpec["podTemplate"];
}

/** The TaskRun `start` creates (also what --dry-run prints): only the fields given. */
export function buildTaskRun(
  task: string,
  namespace: string,
  o: RunSettings,
  params: readonly RunParam[],
  annotations: Record<string, string>,
  labels: Record<string, string>,
): TaskRun {
  const spec: TaskRunSpec = { taskRef: task };
  if (params.length > 0) spec.params = [...params];
  if (o.workspaces !== undefined && o.workspaces.length > 0) spec.workspaces = [...o.workspaces];
  if (o.timeout !== undefined) spec.timeout = o.timeout;
  if (o.retries !== undefined) spec.retries = o.retries;
  if (o.serviceAccount !== undefined) spec.serviceAccountName = o.serviceAccount;
  if (o.podTemplate !== undefined) spec.podTemplate = o.podTemplate;
  const metadata: NonNullable<TaskRun["metadata"]> = {
    generateName: `${task}-run-`,
    namespace,
    labels: { [LABEL_TASK]: task, ...labels },
  };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { apiVersion: TaskRunApiVersion, kind: TaskRunKind, metadata, spec };
}

/** The flag combinations `start` and `rerun` refuse. */
export function checkCreateOptions(o: CreateOptions): void {
  if (o.dryRun && o.follow) throw new CliError("--dry-run and --follow cannot be used together");
  if (o.follow && o.output !== undefined) throw new CliError("--output cannot be used with --follow");
  if (o.dryRun && o.output === "name") throw new CliError("--dry-run prints the run as yaml or json (-o yaml|json)");
}

export async function start(session: Session, task: string, o: StartOptions): Promise<number> {
  const params = parseParamFlags(o.param ?? []);
  const workspaces = parseWorkspaceFlags(o.workspace ?? []);
  const annotations = parseAnnotations(o.annotation ?? []);
  const labels = parseAnnotations(o.label ?? []);
  if (o.timeout !== undefined) validateTimeout(o.timeout);
  const retries = o.retries === undefined ? undefined : parseRetries(o.retries);
  const podTemplate = o.podTemplate === undefined ? undefined : readPodTemplate(o.podTemplate);
  checkCreateOptions(o);

  const { term } = session;
  const api = session.api;
  term.progress(`checking task ${task}…`);
  const t = await getTask(api, task);
  validateParams(t, params);
  validateWorkspaces(t, workspaces);
  const settings: RunSettings = {
    timeout: o.timeout,
    serviceAccount: o.serviceAccount,
    workspaces,
    retries,
    podTemplate,
  };
  const run = buildTaskRun(task, api.namespace, settings, typedParams(t, params), annotations, labels);
  term.progress(`creating a run of task ${task}…`);
  return createRun(session, run, o);
}

/** Creates `run` (or dry-runs it) and reports it as -o, --follow or neither asks. */
export async function createRun(session: Session, run: TaskRun, o: CreateOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  if (o.dryRun) {
    // The server validates it too (schema, CEL rules), without storing anything.
    await api.taskRuns().create(run, { dryRun: true });
    term.done();
    term.out(serialise(run, o.output === "json" ? "json" : "yaml"));
    return ExitCode.Ok;
  }

  const created = await api.taskRuns().create(run);
  term.done();
  const name = created.metadata?.name ?? "";
  if (o.output === "json" || o.output === "yaml") {
    term.out(serialise(withoutManagedFields(created), o.output));
    return ExitCode.Ok;
  }
  if (o.output === "name") {
    term.line(`taskrun.${GROUP}/${name}`);
    return ExitCode.Ok;
  }
  if (!o.follow) {
    term.line(name);
    if (term.stderrIsTTY) {
      term.errLine(term.ce.dim(`Follow it with: kubectl task logs ${name} -f -n ${api.namespace}`));
    }
    return ExitCode.Ok;
  }
  term.line(`${term.stdoutIsTTY ? term.c.bold("taskrun ") : "taskrun "}${term.c.bold(name)} created`);
  const interrupted = new AbortController();
  const off = session.io.onInterrupt(() => interrupted.abort(new DOMException("interrupted", "AbortError")));
  try {
    return await followRun(session, created, { signal: interrupted.signal });
  } finally {
    off();
  }
}
