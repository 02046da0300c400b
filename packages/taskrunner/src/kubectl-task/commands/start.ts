// kubectl task start TASK: check the Task and the params, create a TaskRun (generateName TASK-run-),
// print its name, and optionally follow it to the end.
import { GROUP, LABEL_TASK, type TaskRun, TaskRunApiVersion, TaskRunKind } from "../../contract.ts";
import type { RunParam } from "../api.ts";
import { CliError, ExitCode } from "../errors.ts";
import { followRun } from "../follow.ts";
import { serialise, withoutManagedFields } from "../format.ts";
import { getTask } from "../lookup.ts";
import { parseAnnotations, parseParamFlags, validateParams, validateTimeout } from "../params.ts";
import type { Session } from "../session.ts";

export interface StartOptions {
  readonly param?: readonly string[] | undefined;
  readonly timeout?: string | undefined;
  readonly serviceAccount?: string | undefined;
  readonly follow?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
  readonly output?: "json" | "yaml" | "name" | undefined;
  readonly annotation?: readonly string[] | undefined;
  readonly label?: readonly string[] | undefined;
}

/** The TaskRun `start` creates (also what --dry-run prints). */
export function buildTaskRun(
  task: string,
  namespace: string,
  o: Pick<StartOptions, "timeout" | "serviceAccount">,
  params: readonly RunParam[],
  annotations: Record<string, string>,
  labels: Record<string, string>,
): TaskRun {
  const spec: NonNullable<TaskRun["spec"]> = { taskRef: task };
  if (params.length > 0) spec.params = [...params];
  if (o.timeout !== undefined) spec.timeout = o.timeout;
  if (o.serviceAccount !== undefined) spec.serviceAccountName = o.serviceAccount;
  const metadata: NonNullable<TaskRun["metadata"]> = {
    generateName: `${task}-run-`,
    namespace,
    labels: { [LABEL_TASK]: task, ...labels },
  };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return { apiVersion: TaskRunApiVersion, kind: TaskRunKind, metadata, spec };
}

export async function start(session: Session, task: string, o: StartOptions): Promise<number> {
  const params = parseParamFlags(o.param ?? []);
  const annotations = parseAnnotations(o.annotation ?? []);
  const labels = parseAnnotations(o.label ?? []);
  if (o.timeout !== undefined) validateTimeout(o.timeout);
  if (o.dryRun && o.follow) throw new CliError("--dry-run and --follow cannot be used together");
  if (o.follow && o.output !== undefined) throw new CliError("--output cannot be used with --follow");
  if (o.dryRun && o.output === "name") throw new CliError("--dry-run prints the run as yaml or json (-o yaml|json)");

  const { term } = session;
  const api = session.api;
  term.progress(`checking task ${task}…`);
  const t = await getTask(api, task);
  validateParams(t, params);
  const run = buildTaskRun(task, api.namespace, o, params, annotations, labels);

  if (o.dryRun) {
    // The server validates it too (schema, CEL rules), without storing anything.
    await api.taskRuns().create(run, { dryRun: true });
    term.done();
    term.out(serialise(run, o.output === "json" ? "json" : "yaml"));
    return ExitCode.Ok;
  }

  term.progress(`creating a run of task ${task}…`);
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
  return followFromStart(session, created);
}

async function followFromStart(session: Session, run: TaskRun): Promise<number> {
  const interrupted = new AbortController();
  const off = session.io.onInterrupt(() => interrupted.abort(new DOMException("interrupted", "AbortError")));
  try {
    return await followRun(session, run, { signal: interrupted.signal });
  } finally {
    off();
  }
}
