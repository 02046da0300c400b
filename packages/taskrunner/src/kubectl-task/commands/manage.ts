// kubectl task cancel RUN (or --last [TASK]); kubectl task delete RUN… | --all-finished | --keep N |
// --older-than DURATION.
import { isNotFound } from "@minitask/client";
import { isFinished, type TaskRun } from "../../contract.ts";
import { parseDuration } from "../../duration.ts";
import { CliError, ExitCode, isMissingResourceType } from "../errors.ts";
import { parseTime } from "../format.ts";
import { runFromArgs } from "../lookup.ts";
import { parseCount } from "../params.ts";
import type { Session } from "../session.ts";
import { sortNewestFirst } from "./list.ts";

export async function cancel(session: Session, arg: string | undefined, o: { last?: boolean }): Promise<number> {
  const { term } = session;
  const api = session.api;
  const run = await runFromArgs(api, "cancel", arg, o.last);
  const name = run.metadata?.name ?? "";
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
  readonly keep?: string | undefined;
  readonly olderThan?: string | undefined;
}

/** What `delete` picks among finished runs: --keep N (the N newest stay), --older-than D (younger ones stay). */
export interface Retention {
  readonly keep?: number | undefined;
  readonly olderThanMs?: number | undefined;
}

/** When a run finished (else started, else was created): what --older-than measures from. */
function endedAt(run: TaskRun): number {
  return (
    parseTime(run.status?.finishTime) ??
    parseTime(run.status?.startTime) ??
    parseTime(run.metadata?.creationTimestamp) ??
    0
  );
}

/**
 * The finished runs to delete, sorted by name. A run is kept if either rule keeps it: it is among the `keep`
 * newest finished runs (newest as `kubectl task runs` lists them), or it ended less than `olderThanMs` ago.
 * Runs that have not finished are never picked.
 */
export function runsToDelete(runs: readonly TaskRun[], r: Retention, now: number): TaskRun[] {
  const finished = sortNewestFirst(runs.filter((x) => isFinished(x)));
  return finished
    .filter((_, i) => r.keep === undefined || i >= r.keep)
    .filter((run) => r.olderThanMs === undefined || now - endedAt(run) > r.olderThanMs)
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

function parseOlderThan(text: string): number {
  try {
    if (text.trim() !== text) throw new Error("spaces");
    return parseDuration(text);
  } catch {
    throw new CliError(`invalid --older-than "${text}": expected a duration such as 30m, 24h or 168h`);
  }
}

export async function deleteRuns(session: Session, names: readonly string[], o: DeleteOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  const retention: Retention = {
    keep: o.keep === undefined ? undefined : parseCount("--keep", o.keep, 0, Number.MAX_SAFE_INTEGER),
    olderThanMs: o.olderThan === undefined ? undefined : parseOlderThan(o.olderThan),
  };
  const bulk = o.allFinished || retention.keep !== undefined || retention.olderThanMs !== undefined;
  if (bulk && names.length > 0) {
    throw new CliError("give run names or --all-finished/--keep/--older-than, not both");
  }
  if (!bulk && names.length === 0) {
    throw new CliError(
      "nothing to delete: give one or more run names, or --all-finished, --keep N or --older-than DURATION",
    );
  }
  if (!bulk && (o.selector !== undefined || o.task !== undefined)) {
    throw new CliError("--selector and --task only go with --all-finished, --keep or --older-than");
  }

  let targets: string[];
  if (bulk) {
    const list = await api.taskRuns().listAll({ labelSelector: o.selector });
    const candidates = list.items.filter((r: TaskRun) => o.task === undefined || r.spec?.taskRef === o.task);
    targets = runsToDelete(candidates, retention, term.now()).map((r) => r.metadata?.name ?? "");
    if (targets.length === 0) {
      const of = o.task ? ` of task ${o.task}` : "";
      const finished = candidates.filter((r) => isFinished(r)).length;
      term.errLine(
        finished === 0
          ? `No finished runs${of} in namespace ${api.namespace}.`
          : `Nothing to delete: ${finished === 1 ? "the finished run" : `all ${finished} finished runs`}${of} in namespace ${api.namespace} ${finished === 1 ? "is" : "are"} kept.`,
      );
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
        if (!bulk) missing.push(name);
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
