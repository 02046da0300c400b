// kubectl task logs RUN [-f] [--step NAME] [--sidecars] [--timestamps] (or --last [TASK]): the step logs in
// order, then with --sidecars each sidecar's, through the pod log API.
import { isNotFound } from "@minitask/client";
import { isFinished, type TaskRun } from "../../contract.ts";
import { CliError, describeError, ExitCode } from "../errors.ts";
import { followRun } from "../follow.ts";
import { stepColor, streamLog } from "../logs.ts";
import { podOf, podOrNothing, runFromArgs, type StepRef, sidecarsOfPod, stepsOf, stepsOfPod } from "../lookup.ts";
import type { Session } from "../session.ts";

export interface LogsOptions {
  readonly follow?: boolean | undefined;
  readonly step?: string | undefined;
  readonly last?: boolean | undefined;
  readonly sidecars?: boolean | undefined;
  readonly timestamps?: boolean | undefined;
}

function phaseText(run: TaskRun): string {
  const s = run.status;
  if (s?.phase === undefined) return "not picked up by the controller yet";
  return [s.phase, s.reason && s.reason !== s.phase ? s.reason : "", s.message ?? ""].filter((x) => x).join(": ");
}

/** How many logs were shown, and which could not be read (reported together at the end). */
interface Shown {
  shown: number;
  readonly failed: { what: string; err: unknown }[];
}

export async function logs(session: Session, arg: string | undefined, o: LogsOptions): Promise<number> {
  if (o.step !== undefined && o.sidecars) throw new CliError("--step and --sidecars cannot be used together");
  const { term } = session;
  const api = session.api;
  const run = await runFromArgs(api, "logs", arg, o.last);
  const name = run.metadata?.name ?? "";
  if (o.last && term.stderrIsTTY) term.errLine(term.ce.dim(`taskrun ${name}`));
  const retries = run.status?.retriesStatus ?? [];
  if (retries.length > 0) {
    // The logs are those of the current attempt; say where the earlier ones ran.
    term.errLine(
      term.ce.dim(
        `attempt ${retries.length + 1} of taskrun ${name}; earlier attempts ran in pod${retries.length > 1 ? "s" : ""} ${retries.map((a) => a.podName).join(", ")}`,
      ),
    );
  }

  if (o.follow) {
    const interrupted = new AbortController();
    const off = session.io.onInterrupt(() => interrupted.abort(new DOMException("interrupted", "AbortError")));
    try {
      return await followRun(session, run, {
        signal: interrupted.signal,
        step: o.step,
        timestamps: o.timestamps,
        sidecars: o.sidecars,
      });
    } finally {
      off();
    }
  }

  const pod = podOf(run);
  let steps: StepRef[] = stepsOf(run);
  // The pod says which steps there are when the status has none yet, and which sidecars run.
  const p = steps.length === 0 || o.sidecars ? await podOrNothing(api, run) : undefined;
  if (steps.length === 0) {
    if (p === undefined) {
      if (isFinished(run)) {
        term.errLine(`taskrun ${name} ran no steps (${phaseText(run)})`);
        return ExitCode.Ok;
      }
      throw new CliError(
        `taskrun "${name}" has not started yet (${phaseText(run)}); follow it with: kubectl task logs ${name} -f -n ${api.namespace}`,
      );
    }
    steps = stepsOfPod(p);
  }

  const all = steps;
  if (o.step !== undefined) {
    steps = all.filter((s) => s.name === o.step);
    if (steps.length === 0) {
      throw new CliError(
        `taskrun "${name}" has no step "${o.step}"; its steps: ${all.map((s) => s.name).join(", ") || "(none)"}`,
      );
    }
  }

  const prefixed = o.step === undefined;
  const result: Shown = { shown: 0, failed: [] };
  const show = async (what: string, container: string, prefix: string): Promise<void> => {
    try {
      await streamLog(api, {
        pod,
        container,
        follow: false,
        timestamps: o.timestamps,
        prefix,
        write: (t) => term.out(t),
      });
      result.shown++;
    } catch (err) {
      if (isNotFound(err)) {
        throw new CliError(`the pod ${pod} of taskrun "${name}" no longer exists, so its logs are gone`);
      }
      result.failed.push({ what, err });
    }
  };
  for (const s of steps) {
    const state = s.status?.state;
    if (state === "Waiting" || state === "Skipped") {
      if (o.step !== undefined) {
        throw new CliError(
          `step "${s.name}" of taskrun "${name}" ${state === "Skipped" ? "was skipped" : "has not started yet"}`,
        );
      }
      continue;
    }
    const prefix = prefixed ? `${stepColor(term.c, all.indexOf(s))(`[${s.name}]`)} ` : "";
    await show(`step ${s.name}`, s.container, prefix);
  }
  if (o.sidecars) {
    if (p === undefined)
      throw new CliError(`the pod ${pod} of taskrun "${name}" no longer exists, so its logs are gone`);
    const sidecars = sidecarsOfPod(p);
    if (sidecars.length === 0) term.errLine(`taskrun ${name} has no sidecars`);
    for (const [i, s] of sidecars.entries()) {
      if (s.status?.state?.waiting !== undefined || s.status === undefined) continue;
      await show(`sidecar ${s.name}`, s.container, `${stepColor(term.c, all.length + i)(`[${s.container}]`)} `);
    }
  }
  const first = result.failed[0];
  if (first !== undefined) {
    const which = result.failed.map((f) => f.what).join(", ");
    throw new CliError(`cannot get the logs of ${which}: ${describeError(first.err)}`);
  }
  if (result.shown === 0 && o.step === undefined) {
    term.errLine(`taskrun ${name} has no step logs yet (${phaseText(run)})`);
  }
  return ExitCode.Ok;
}
