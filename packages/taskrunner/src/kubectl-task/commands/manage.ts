// kubectl task cancel RUN, kubectl task delete RUN… [--all-finished].
import { isNotFound } from "@minitask/client";
import { isFinished, type TaskRun } from "../../contract.ts";
import { CliError, ExitCode, isMissingResourceType } from "../errors.ts";
import { getRun } from "../lookup.ts";
import type { Session } from "../session.ts";

export async function cancel(session: Session, name: string): Promise<number> {
  const { term } = session;
  const api = session.api;
  const run = await getRun(api, name);
  if (isFinished(run)) {
    const s = run.status;
    throw new CliError(
      `taskrun "${name}" has already finished (${s?.phase}${s?.reason && s.reason !== s.phase ? `: ${s.reason}` : ""}); nothing to cancel`,
    );
  }
  if (run.spec?.cancelled) {
    term.line(`taskrun ${name}: cancellation was already requested`);
    return ExitCode.Ok;
  }
  // Only spec.cancelled may change once a run exists (a CEL rule of the CRD); a merge patch sets just it.
  await api.taskRuns().patch(name, { spec: { cancelled: true } }, { type: "merge" });
  term.line(`taskrun ${name} cancelled`);
  return ExitCode.Ok;
}

export interface DeleteOptions {
  readonly allFinished?: boolean | undefined;
  readonly selector?: string | undefined;
  readonly task?: string | undefined;
}

export async function deleteRuns(session: Session, names: readonly string[], o: DeleteOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  if (o.allFinished && names.length > 0) throw new CliError("give run names or --all-finished, not both");
  if (!o.allFinished && names.length === 0) {
    throw new CliError("nothing to delete: give one or more run names, or --all-finished");
  }
  if (!o.allFinished && (o.selector !== undefined || o.task !== undefined)) {
    throw new CliError("--selector and --task only go with --all-finished");
  }

  let targets: string[];
  if (o.allFinished) {
    const list = await api.taskRuns().listAll({ labelSelector: o.selector });
    targets = list.items
      .filter((r: TaskRun) => isFinished(r) && (o.task === undefined || r.spec?.taskRef === o.task))
      .map((r) => r.metadata?.name ?? "")
      .sort();
    if (targets.length === 0) {
      term.errLine(`No finished runs${o.task ? ` of task ${o.task}` : ""} in namespace ${api.namespace}.`);
      return ExitCode.Ok;
    }
  } else {
    targets = [...new Set(names)];
  }

  const missing: string[] = [];
  for (const name of targets) {
    try {
      await api.taskRuns().delete(name, { propagationPolicy: "Background" });
      term.line(`taskrun ${name} deleted`);
    } catch (err) {
      // Gone already (another delete, or a TTL cleanup) is what --all-finished wanted anyway.
      if (isNotFound(err) && !isMissingResourceType(err)) {
        if (!o.allFinished) missing.push(name);
        continue;
      }
      throw err;
    }
  }
  if (missing.length > 0) {
    const quoted = missing.map((n) => `"${n}"`).join(", ");
    throw new CliError(`taskrun${missing.length > 1 ? "s" : ""} ${quoted} not found in namespace "${api.namespace}"`);
  }
  return ExitCode.Ok;
}
