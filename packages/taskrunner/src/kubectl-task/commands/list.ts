// kubectl task list (Tasks) and kubectl task runs (TaskRuns, newest first).
import { GROUP, isFinished, Reasons, type Task, type TaskRun } from "../../contract.ts";
import { ExitCode } from "../errors.ts";
import { age, ago, listOf, parseTime, runDuration, serialise, table, truncate } from "../format.ts";
import type { Session } from "../session.ts";
import type { Styles } from "../term.ts";

export type ListFormat = "json" | "yaml" | "wide" | "name";

export interface ListOptions {
  readonly output?: ListFormat | undefined;
  readonly allNamespaces?: boolean | undefined;
  readonly selector?: string | undefined;
}

function paramsCell(task: Task): string {
  const params = task.spec?.params ?? [];
  if (params.length === 0) return "-";
  return params.map((p) => (p.default === undefined ? p.name : `${p.name}=${p.default}`)).join(", ");
}

export async function listTasks(session: Session, o: ListOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  const res = await api.tasks(o.allNamespaces === true).listAll({ labelSelector: o.selector });
  const items = [...res.items].sort(
    (a, b) =>
      (a.metadata?.namespace ?? "").localeCompare(b.metadata?.namespace ?? "") ||
      (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
  );
  if (o.output === "json" || o.output === "yaml") {
    term.out(serialise(listOf(items), o.output));
    return ExitCode.Ok;
  }
  if (o.output === "name") {
    for (const t of items) term.line(`task.${GROUP}/${t.metadata?.name ?? ""}`);
    return ExitCode.Ok;
  }
  if (items.length === 0) {
    term.errLine(o.allNamespaces ? "No tasks found." : `No tasks found in namespace ${api.namespace}.`);
    return ExitCode.Ok;
  }
  const wide = o.output === "wide";
  const now = term.now();
  const header = [
    ...(o.allNamespaces ? ["NAMESPACE"] : []),
    "NAME",
    "STEPS",
    "PARAMS",
    "AGE",
    ...(wide ? ["STEP NAMES", "DESCRIPTION"] : []),
  ];
  const rows = items.map((t) => {
    const steps = t.spec?.steps ?? [];
    return [
      ...(o.allNamespaces ? [t.metadata?.namespace ?? ""] : []),
      t.metadata?.name ?? "",
      String(steps.length),
      wide ? paramsCell(t) : truncate(paramsCell(t), 50),
      age(t.metadata?.creationTimestamp, now),
      ...(wide ? [steps.map((s) => s.name).join(","), truncate(t.spec?.description ?? "", 80)] : []),
    ];
  });
  term.line(table(header, rows));
  return ExitCode.Ok;
}

export function phaseCell(run: TaskRun, c: Styles): string {
  return phaseReasonCell(run.status?.phase, run.status?.reason, c);
}

/**
 * `Failed (StepFailed)`, coloured by phase: the reason only where it says more (Failed, Pending, and a run
 * between two attempts: `Running (Retrying)`).
 */
export function phaseReasonCell(phase: string | undefined, reason: string | undefined, c: Styles): string {
  if (phase === undefined) return c.gray("-");
  const showReason =
    reason !== undefined &&
    reason !== "" &&
    reason !== phase &&
    (phase === "Failed" || phase === "Pending" || reason === Reasons.Retrying);
  const text = showReason ? `${phase} (${reason})` : phase;
  switch (phase) {
    case "Succeeded":
      return c.green(text);
    case "Failed":
      return c.red(text);
    case "Running":
      return c.cyan(text);
    default:
      return c.yellow(text);
  }
}

/** Started time, else creation time: the sort key (newest first). */
function sortKey(run: TaskRun): number {
  return parseTime(run.status?.startTime) ?? parseTime(run.metadata?.creationTimestamp) ?? 0;
}

export function sortNewestFirst(runs: readonly TaskRun[]): TaskRun[] {
  return [...runs].sort(
    (a, b) =>
      sortKey(b) - sortKey(a) ||
      (parseTime(b.metadata?.creationTimestamp) ?? 0) - (parseTime(a.metadata?.creationTimestamp) ?? 0) ||
      (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
  );
}

export function durationCell(run: TaskRun, now: number): string {
  const start = parseTime(run.status?.startTime);
  if (start === undefined) return "-";
  const end = parseTime(run.status?.finishTime);
  if (end !== undefined) return runDuration(end - start);
  return isFinished(run) ? "-" : runDuration(now - start);
}

export async function listRuns(session: Session, task: string | undefined, o: ListOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  const res = await api.taskRuns(o.allNamespaces === true).listAll({ labelSelector: o.selector });
  const items = sortNewestFirst(task === undefined ? res.items : res.items.filter((r) => r.spec?.taskRef === task));
  if (o.output === "json" || o.output === "yaml") {
    term.out(serialise(listOf(items), o.output));
    return ExitCode.Ok;
  }
  if (o.output === "name") {
    for (const r of items) term.line(`taskrun.${GROUP}/${r.metadata?.name ?? ""}`);
    return ExitCode.Ok;
  }
  if (items.length === 0) {
    const of = task === undefined ? "" : ` of task ${task}`;
    term.errLine(o.allNamespaces ? `No runs${of} found.` : `No runs${of} found in namespace ${api.namespace}.`);
    return ExitCode.Ok;
  }
  const wide = o.output === "wide";
  const now = term.now();
  const c = term.c;
  const header = [
    ...(o.allNamespaces ? ["NAMESPACE"] : []),
    "NAME",
    "TASK",
    "PHASE",
    "STARTED",
    "DURATION",
    ...(wide ? ["POD", "AGE", "MESSAGE"] : []),
  ];
  const rows = items.map((r) => [
    ...(o.allNamespaces ? [r.metadata?.namespace ?? ""] : []),
    r.metadata?.name ?? "",
    r.spec?.taskRef ?? "",
    phaseCell(r, c),
    ago(r.status?.startTime, now),
    durationCell(r, now),
    ...(wide
      ? [r.status?.podName || "-", age(r.metadata?.creationTimestamp, now), truncate(r.status?.message ?? "", 80)]
      : []),
  ]);
  term.line(table(header, rows));
  return ExitCode.Ok;
}
