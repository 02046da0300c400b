// kubectl task describe RUN (or --last [TASK]): spec, params, workspaces, results, per-step states, sidecars,
// attempts, conditions and events (of the run and of its pod).
import { isForbidden, type KubeList } from "@minitask/client";
import { GROUP, type Task, type TaskRun } from "../../contract.ts";
import type { Api, CoreEvent, Pod } from "../api.ts";
import { ExitCode } from "../errors.ts";
import { age, parseTime, runDuration, serialise, table, withoutManagedFields } from "../format.ts";
import { podOf, podOrNothing, runFromArgs } from "../lookup.ts";
import type { Session } from "../session.ts";
import type { Styles } from "../term.ts";
import {
  attemptsSection,
  type DescribeContext,
  indent,
  podTemplateCell,
  resultsSection,
  retriesCell,
  sidecarsSection,
  workspacesSection,
} from "./describe-sections.ts";
import { phaseCell } from "./list.ts";

export interface DescribeOptions {
  readonly output?: "json" | "yaml" | "name" | undefined;
  readonly last?: boolean | undefined;
}

function eventTime(e: CoreEvent): string | undefined {
  return (
    e.series?.lastObservedTime ||
    e.lastTimestamp ||
    e.eventTime ||
    e.firstTimestamp ||
    e.metadata?.creationTimestamp ||
    undefined
  );
}

async function eventsOf(api: Api, run: TaskRun): Promise<CoreEvent[]> {
  const uid = run.metadata?.uid;
  const queries: Promise<KubeList<CoreEvent>>[] = [];
  if (uid !== undefined) queries.push(api.events().list({ fieldSelector: `involvedObject.uid=${uid}` }));
  // The current pod's events, and those of the pods of earlier attempts (spec.retries).
  const pods = new Set([podOf(run), ...(run.status?.retriesStatus ?? []).map((a) => a.podName)]);
  for (const pod of pods) {
    queries.push(api.events().list({ fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}` }));
  }
  const lists = await Promise.allSettled(queries);
  const seen = new Set<string>();
  const out: CoreEvent[] = [];
  for (const l of lists) {
    if (l.status !== "fulfilled") continue;
    for (const e of l.value.items) {
      const key = e.metadata?.uid ?? e.metadata?.name ?? "";
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(e);
    }
  }
  return out.sort((a, b) => (parseTime(eventTime(a)) ?? 0) - (parseTime(eventTime(b)) ?? 0));
}

function stateCell(state: string | undefined, c: Styles): string {
  switch (state) {
    case "Succeeded":
      return c.green(state);
    case "Failed":
      return c.red(state);
    case "Running":
      return c.cyan(state);
    case "Skipped":
      return c.gray(state);
    default:
      return state ?? "-";
  }
}

/** The run's pod for the sidecar states; describe goes on without it (gone, or pods not readable). */
async function podForDescribe(api: Api, run: TaskRun): Promise<Pod | undefined> {
  if (!run.status?.podName) return undefined;
  return podOrNothing(api, run).catch((err: unknown) => {
    if (isForbidden(err)) return undefined;
    throw err;
  });
}

export async function describe(session: Session, arg: string | undefined, o: DescribeOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  const run = await runFromArgs(api, "describe", arg, o.last);
  if (o.output === "name") {
    term.line(`taskrun.${GROUP}/${run.metadata?.name ?? ""}`);
    return ExitCode.Ok;
  }
  if (o.output !== undefined) {
    term.out(serialise(withoutManagedFields(run), o.output));
    return ExitCode.Ok;
  }
  const c = term.c;
  const now = term.now();
  const [task, events, pod] = await Promise.all([
    api
      .tasks()
      .get(run.spec?.taskRef ?? "")
      .catch(() => undefined as Task | undefined),
    eventsOf(api, run),
    podForDescribe(api, run),
  ]);
  const ctx: DescribeContext = { run, task, pod, now, c };
  const spec = run.spec;
  const st = run.status;
  const lines: [string, string][] = [];
  const add = (k: string, v: string | undefined): void => {
    if (v !== undefined && v !== "") lines.push([k, v]);
  };
  const when = (t: string | null | undefined): string | undefined => (t ? `${t} (${age(t, now)} ago)` : undefined);
  add("Name:", run.metadata?.name);
  add("Namespace:", run.metadata?.namespace);
  add("Task:", `${spec?.taskRef ?? ""}${task === undefined ? c.yellow(" (not found)") : ""}`);
  add("Phase:", phaseCell(run, c));
  add("Message:", st?.message);
  add("Pod:", st?.podName ? podOf(run) : undefined);
  add("Service account:", spec?.serviceAccountName);
  add("Timeout:", spec?.timeout ?? "1h");
  add("Retries:", retriesCell(run));
  add("Pod template:", podTemplateCell(run));
  if (spec?.cancelled) add("Cancelled:", "requested");
  add("Created:", when(run.metadata?.creationTimestamp));
  add("Started:", when(st?.startTime));
  add("Finished:", when(st?.finishTime));
  const start = parseTime(st?.startTime);
  const end = parseTime(st?.finishTime);
  if (start !== undefined)
    add("Duration:", runDuration((end ?? now) - start) + (end === undefined ? " (running)" : ""));
  const labels = Object.entries(run.metadata?.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  add("Labels:", labels.join(", "));
  const annotations = Object.entries(run.metadata?.annotations ?? {})
    .filter(([k]) => k !== "kubectl.kubernetes.io/last-applied-configuration")
    .map(([k, v]) => `${k}=${v}`);
  add("Annotations:", annotations.join(", "));
  const keyWidth = Math.max(...lines.map(([k]) => k.length));
  let out = lines.map(([k, v]) => `${c.bold(k.padEnd(keyWidth))} ${v}`).join("\n");

  // Params: the ones set, plus the task's defaults that apply.
  const given = spec?.params ?? [];
  const paramRows: string[][] = given.map((p) => [p.name, paramText(p.value)]);
  for (const p of task?.spec?.params ?? []) {
    if (!given.some((g) => g.name === p.name) && p.default !== undefined) {
      paramRows.push([p.name, `${paramText(p.default)} ${c.gray("(default)")}`]);
    }
  }
  out += `\n\n${c.bold("Params:")}\n`;
  out += paramRows.length === 0 ? "  <none>" : indent(table(["NAME", "VALUE"], paramRows));
  out += workspacesSection(ctx);
  out += resultsSection(ctx);

  const steps = st?.steps ?? [];
  out += `\n\n${c.bold("Steps:")}\n`;
  if (steps.length === 0) {
    const planned = task?.spec?.steps ?? [];
    out +=
      planned.length === 0
        ? "  <none yet>"
        : indent(
            table(
              ["NAME", "STATE"],
              planned.map((s) => [s.name, c.gray("(not started)")]),
            ),
          );
  } else {
    out += indent(
      table(
        ["NAME", "STATE", "EXIT", "STARTED", "DURATION", "REASON"],
        steps.map((s) => {
          const a = parseTime(s.startedAt);
          const b = parseTime(s.finishedAt);
          return [
            s.name,
            stateCell(s.state, c),
            s.exitCode === undefined ? "-" : String(s.exitCode),
            s.startedAt ? `${age(s.startedAt, now)} ago` : "-",
            a === undefined ? "-" : runDuration((b ?? now) - a),
            [s.reason, s.message].filter((x) => x).join(": ") || "-",
          ];
        }),
      ),
    );
  }

  out += sidecarsSection(ctx);
  out += attemptsSection(ctx);

  const conditions = st?.conditions ?? [];
  if (conditions.length > 0) {
    out += `\n\n${c.bold("Conditions:")}\n`;
    out += indent(
      table(
        ["TYPE", "STATUS", "REASON", "SINCE"],
        conditions.map((k) => [k.type, k.status, k.reason, age(k.lastTransitionTime, now)]),
      ),
    );
  }

  out += `\n\n${c.bold("Events:")}\n`;
  out +=
    events.length === 0
      ? "  <none>"
      : indent(
          table(
            ["AGE", "TYPE", "REASON", "OBJECT", "FROM", "MESSAGE"],
            events.map((e) => [
              age(eventTime(e), now),
              e.type === "Warning" ? c.yellow(e.type) : (e.type ?? ""),
              e.reason ?? "",
              `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
              e.reportingComponent || e.source?.component || "",
              (e.message ?? "").replace(/\s*\n\s*/g, " ") +
                ((e.series?.count ?? e.count ?? 1) > 1 ? c.gray(` (x${e.series?.count ?? e.count})`) : ""),
            ]),
          ),
        );
  term.line(out);
  return ExitCode.Ok;
}

/** A param's value as describe shows it: a string as it is, an array param's list as JSON (["a", "b"]). */
function paramText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}
