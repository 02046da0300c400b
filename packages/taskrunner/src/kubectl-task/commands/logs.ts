// kubectl task logs RUN [-f] [--step NAME]: the step logs in order, through the pod log API.
import { isNotFound } from "@minitask/client";
import { isFinished, type TaskRun } from "../../contract.ts";
import type { Pod } from "../api.ts";
import { CliError, describeError, ExitCode } from "../errors.ts";
import { followRun } from "../follow.ts";
import { stepColor, streamLog } from "../logs.ts";
import { getRun, podOf, type StepRef, stepsOf, stepsOfPod } from "../lookup.ts";
import type { Session } from "../session.ts";

export interface LogsOptions {
  readonly follow?: boolean | undefined;
  readonly step?: string | undefined;
}

function phaseText(run: TaskRun): string {
  const s = run.status;
  if (s?.phase === undefined) return "not picked up by the controller yet";
  return [s.phase, s.reason && s.reason !== s.phase ? s.reason : "", s.message ?? ""].filter((x) => x).join(": ");
}

export async function logs(session: Session, name: string, o: LogsOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  const run = await getRun(api, name);

  if (o.follow) {
    const interrupted = new AbortController();
    const off = session.io.onInterrupt(() => interrupted.abort(new DOMException("interrupted", "AbortError")));
    try {
      return await followRun(session, run, { signal: interrupted.signal, step: o.step });
    } finally {
      off();
    }
  }

  const pod = podOf(run);
  let steps: StepRef[] = stepsOf(run);
  if (steps.length === 0) {
    // No per-step status (yet): the pod's containers say which steps there are.
    const p = await api
      .pods()
      .get(pod)
      .catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    if (p === undefined) {
      if (isFinished(run)) {
        term.errLine(`taskrun ${name} ran no steps (${phaseText(run)})`);
        return ExitCode.Ok;
      }
      throw new CliError(
        `taskrun "${name}" has not started yet (${phaseText(run)}); follow it with: kubectl task logs ${name} -f -n ${api.namespace}`,
      );
    }
    steps = stepsOfPod(p as Pod);
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
  const failed: { step: string; err: unknown }[] = [];
  let shown = 0;
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
    const index = all.indexOf(s);
    const prefix = prefixed ? `${stepColor(term.c, index)(`[${s.name}]`)} ` : "";
    try {
      await streamLog(api, { pod, container: s.container, follow: false, prefix, write: (t) => term.out(t) });
      shown++;
    } catch (err) {
      if (isNotFound(err)) {
        throw new CliError(`the pod ${pod} of taskrun "${name}" no longer exists, so its logs are gone`);
      }
      failed.push({ step: s.name, err });
    }
  }
  const first = failed[0];
  if (first !== undefined) {
    const which = failed.map((f) => f.step).join(", ");
    throw new CliError(
      `cannot get the logs of step${failed.length > 1 ? "s" : ""} ${which}: ${describeError(first.err)}`,
    );
  }
  if (shown === 0 && o.step === undefined) {
    term.errLine(`taskrun ${name} has no step logs yet (${phaseText(run)})`);
  }
  return ExitCode.Ok;
}
