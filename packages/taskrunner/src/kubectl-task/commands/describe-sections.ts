// The parts of `kubectl task describe` that Tekton-style runs add: workspaces (declared and bound), results,
// sidecars (with their containers' states), attempts (status.retriesStatus and the current one) and the pod
// template. Pure: each takes what describe read and returns its block, or "" when the run has nothing of it.
import { attemptOf, isFinished, type Task, type TaskRun } from "../../contract.ts";
import type { ContainerStatus, Pod } from "../api.ts";
import { age, parseTime, runDuration, table, truncate } from "../format.ts";
import { podOf, sidecarsOfPod } from "../lookup.ts";
import type { Styles } from "../term.ts";
import { bindingText, mountedReadOnly, mountPathOf } from "../workspaces.ts";
import { phaseReasonCell } from "./list.ts";

/** What a section is drawn from. */
export interface DescribeContext {
  readonly run: TaskRun;
  /** The run's Task, when it still exists. */
  readonly task: Task | undefined;
  /** The run's (current) pod, when it exists and could be read. */
  readonly pod: Pod | undefined;
  readonly now: number;
  readonly c: Styles;
}

export function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((l) => (l.length > 0 ? by + l : l))
    .join("\n");
}

function section(c: Styles, title: string, body: string): string {
  return `\n\n${c.bold(title)}\n${body}`;
}

export function workspacesSection({ run, task, c }: DescribeContext): string {
  const declared = task?.spec?.workspaces ?? [];
  const bound = run.spec?.workspaces ?? [];
  if (declared.length === 0 && bound.length === 0) return "";
  const rows: string[][] = declared.map((w) => {
    const b = bound.find((x) => x.name === w.name);
    if (b === undefined) {
      return [w.name, "-", w.optional ? c.gray("(optional, not bound)") : c.red("(not bound)")];
    }
    return [w.name, bindingText(b), `${mountPathOf(w)}${mountedReadOnly(w, b) ? " (read-only)" : ""}`];
  });
  for (const b of bound) {
    if (declared.some((w) => w.name === b.name)) continue;
    const why = task === undefined ? "" : ` ${c.yellow("(not declared by the task)")}`;
    rows.push([b.name, bindingText(b), `-${why}`]);
  }
  return section(c, "Workspaces:", indent(table(["NAME", "BINDING", "MOUNT PATH"], rows)));
}

/** A result value on one line: the first line, and how many more there are. */
export function resultCell(value: string, c: Styles, max = 80): string {
  const lines = value.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const first = truncate(lines[0] ?? "", max);
  return lines.length > 1
    ? `${first} ${c.gray(`(+${lines.length - 1} more line${lines.length > 2 ? "s" : ""})`)}`
    : first;
}

export function resultsSection({ run, task, c }: DescribeContext): string {
  const declared = task?.spec?.results ?? [];
  const values = run.status?.results ?? [];
  if (declared.length === 0 && values.length === 0) return "";
  const rows: string[][] = values.map((r) => [r.name, resultCell(r.value, c)]);
  for (const d of declared) {
    if (values.some((v) => v.name === d.name)) continue;
    rows.push([d.name, c.gray(isFinished(run) ? "(not written)" : "(when the run finishes)")]);
  }
  return section(c, "Results:", indent(table(["NAME", "VALUE"], rows)));
}

/** A container's state in a word or three: `Running`, `Terminated (exit 0, Completed)`, `Waiting (reason)`. */
export function containerStateCell(s: ContainerStatus | undefined, c: Styles, now: number): string {
  const st = s?.state;
  if (st?.running)
    return `${c.cyan("Running")}${st.running.startedAt ? ` (for ${age(st.running.startedAt, now)})` : ""}`;
  if (st?.terminated) {
    const t = st.terminated;
    const why = [t.exitCode !== undefined ? `exit ${t.exitCode}` : "", t.reason ?? ""].filter((x) => x).join(", ");
    return `Terminated${why ? ` (${why})` : ""}`;
  }
  if (st?.waiting) return `${c.yellow("Waiting")}${st.waiting.reason ? ` (${st.waiting.reason})` : ""}`;
  return "-";
}

export function sidecarsSection({ run, task, pod, now, c }: DescribeContext): string {
  const fromPod = pod === undefined ? [] : sidecarsOfPod(pod);
  const declared = task?.spec?.sidecars ?? [];
  if (declared.length === 0 && fromPod.length === 0) return "";
  const names = [...declared.map((s) => s.name), ...fromPod.map((s) => s.name)].filter(
    (n, i, all) => all.indexOf(n) === i,
  );
  const rows = names.map((n) => {
    const inPod = fromPod.find((s) => s.name === n);
    const image = declared.find((s) => s.name === n)?.image ?? inPod?.image ?? "-";
    const state =
      pod === undefined
        ? c.gray(run.status?.podName ? "(pod gone)" : "(no pod yet)")
        : inPod
          ? containerStateCell(inPod.status, c, now)
          : "-";
    return [n, image, state];
  });
  return section(c, "Sidecars:", indent(table(["NAME", "IMAGE", "STATE"], rows)));
}

interface AttemptRow {
  readonly pod: string;
  readonly phase: string | undefined;
  readonly reason: string | undefined;
  readonly started: string | undefined;
  readonly finished: string | undefined;
  readonly message: string;
}

/** Each attempt of a run, oldest first: those in status.retriesStatus, then the current one. */
export function attemptsOf(run: TaskRun): AttemptRow[] {
  const st = run.status;
  const rows: AttemptRow[] = (st?.retriesStatus ?? []).map((a) => ({
    pod: a.podName,
    phase: a.phase,
    reason: a.reason,
    started: a.startTime,
    finished: a.finishTime,
    message: a.message ?? "",
  }));
  const earlier = rows.length > 0;
  rows.push({
    pod: st?.phase === undefined ? "-" : podOf(run),
    phase: st?.phase,
    reason: st?.reason,
    // status.startTime is when the run's first step started; the current attempt's is its own first step's.
    started: earlier ? st?.steps?.[0]?.startedAt : st?.startTime,
    finished: isFinished(run) ? st?.finishTime : undefined,
    message: st?.message ?? "",
  });
  return rows;
}

export function attemptsSection({ run, now, c }: DescribeContext): string {
  if ((run.spec?.retries ?? 0) === 0 && attemptOf(run) === 0) return "";
  const rows = attemptsOf(run).map((a, i, all) => {
    const start = parseTime(a.started);
    const end = parseTime(a.finished);
    const current = i === all.length - 1 && !isFinished(run);
    return [
      String(i + 1),
      a.pod,
      phaseReasonCell(a.phase, a.reason, c),
      a.started ? `${age(a.started, now)} ago` : "-",
      start === undefined
        ? "-"
        : `${runDuration((end ?? now) - start)}${end === undefined && current ? " (running)" : ""}`,
      truncate(a.message, 80) || "-",
    ];
  });
  return section(c, "Attempts:", indent(table(["ATTEMPT", "POD", "PHASE", "STARTED", "DURATION", "MESSAGE"], rows)));
}

/** `2 (1 used)`: spec.retries and how many of them the run has taken. */
export function retriesCell(run: TaskRun): string | undefined {
  const retries = run.spec?.retries;
  const used = attemptOf(run);
  if (retries === undefined && used === 0) return undefined;
  return `${retries ?? 0}${used > 0 ? ` (${used} used)` : ""}`;
}

/** The pod template in one line: `nodeSelector (disk=ssd), tolerations (2), priorityClassName=high`. */
export function podTemplateCell(run: TaskRun): string | undefined {
  const t = run.spec?.podTemplate;
  if (t === undefined) return undefined;
  const parts = Object.entries(t).map(([k, v]) => {
    if (typeof v === "string") return `${k}=${v}`;
    if (k === "nodeSelector") {
      return `${k} (${Object.entries(v as Record<string, string>)
        .map(([a, b]) => `${a}=${b}`)
        .join(", ")})`;
    }
    if (k === "imagePullSecrets") return `${k} (${(v as { name: string }[]).map((s) => s.name).join(", ")})`;
    if (Array.isArray(v)) return `${k} (${v.length})`;
    if (typeof v === "object" && v !== null) return `${k} (${Object.keys(v).join(", ")})`;
    return k;
  });
  return parts.join(", ") || "{}";
}
