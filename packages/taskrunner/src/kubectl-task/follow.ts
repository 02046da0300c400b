// Following a run: watch the TaskRun, announce each step as it starts and ends, stream each step's log
// with a `[step]` prefix, and report the outcome. Steps run one after another, so their logs are shown
// one after another too.
import { isGone, isNetworkError } from "@minitask/client";
import { attemptOf, isFinished, type StepStatus, type TaskRun } from "../contract.ts";
import type { Api } from "./api.ts";
import { CliError, describeError, ExitCode } from "./errors.ts";
import { parseTime, runDuration } from "./format.ts";
import { stepColor, streamLog } from "./logs.ts";
import { podOf, podOrNothing, sidecarsOfPod } from "./lookup.ts";
import type { Session } from "./session.ts";

/** The latest state of one TaskRun, kept current by a watch; `until` waits for a condition on it. */
export class RunWatcher {
  readonly #api: Api;
  readonly #name: string;
  #latest: TaskRun;
  #failure: unknown;
  readonly #waiters = new Set<() => void>();
  readonly #onFail: ((err: unknown) => void) | undefined;

  /** `onFail` hears of a watch failure at once (e.g. to end a log stream that would otherwise hang on). */
  constructor(api: Api, initial: TaskRun, onFail?: (err: unknown) => void) {
    this.#api = api;
    this.#latest = initial;
    this.#name = initial.metadata?.name ?? "";
    this.#onFail = onFail;
  }

  get latest(): TaskRun {
    return this.#latest;
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  #update(run: TaskRun): void {
    this.#latest = run;
    this.#notify();
  }

  #fail(err: unknown): void {
    this.#failure ??= err;
    this.#onFail?.(err);
    this.#notify();
  }

  /** Resolves with the run once `pred` holds (checked now and on every change). */
  until(pred: (run: TaskRun) => boolean, signal: AbortSignal): Promise<TaskRun> {
    return new Promise<TaskRun>((resolve, reject) => {
      const check = (): void => {
        if (signal.aborted) {
          done();
          reject(signal.reason);
        } else if (pred(this.#latest)) {
          done();
          resolve(this.#latest);
        } else if (this.#failure !== undefined) {
          done();
          reject(this.#failure);
        }
      };
      const done = (): void => {
        this.#waiters.delete(check);
        signal.removeEventListener("abort", check);
      };
      this.#waiters.add(check);
      signal.addEventListener("abort", check);
      check();
    });
  }

  /** Watches until the run is finished or `signal` aborts; resolves either way, failures go to waiters. */
  async run(signal: AbortSignal): Promise<void> {
    let rv = this.#latest.metadata?.resourceVersion;
    let networkFailures = 0;
    while (!signal.aborted && !isFinished(this.#latest)) {
      try {
        const stream = await this.#api.taskRuns().watch({
          fieldSelector: `metadata.name=${this.#name}`,
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: 300,
          signal,
        });
        for await (const ev of stream) {
          networkFailures = 0;
          if (ev.type === "DELETED") {
            throw new CliError(`taskrun "${this.#name}" was deleted while following it`);
          }
          if (ev.type === "ADDED" || ev.type === "MODIFIED") {
            this.#update(ev.object);
            if (isFinished(ev.object)) break;
          }
        }
        rv = stream.resourceVersion ?? rv;
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err)) {
          const fresh = await this.#api
            .taskRuns()
            .get(this.#name, { signal })
            .catch((e: unknown) => e);
          if (fresh instanceof Error) {
            this.#fail(fresh);
            return;
          }
          rv = (fresh as TaskRun).metadata?.resourceVersion;
          this.#update(fresh as TaskRun);
          continue;
        }
        if (isNetworkError(err) && ++networkFailures <= 3) continue;
        this.#fail(err);
        return;
      }
    }
  }
}

export interface FollowOptions {
  readonly signal: AbortSignal;
  /** Only this step's log, without a prefix. */
  readonly step?: string | undefined;
  /** Lines start with the kubelet's timestamps. */
  readonly timestamps?: boolean | undefined;
  /** After the steps, each sidecar's log (to its end: the kubelet stops sidecars after the last step). */
  readonly sidecars?: boolean | undefined;
}

/** The pod of the run's attempt `attempt` (an earlier one's is in status.retriesStatus). */
function podOfAttempt(run: TaskRun, attempt: number): string {
  return attempt < attemptOf(run) ? (run.status?.retriesStatus?.[attempt]?.podName ?? podOf(run)) : podOf(run);
}

/** Step `index` of the run's attempt `attempt` (an earlier one is in status.retriesStatus). */
function stepAt(run: TaskRun, index: number, attempt = attemptOf(run)): StepStatus | undefined {
  if (attempt < attemptOf(run)) return run.status?.retriesStatus?.[attempt]?.steps?.[index];
  return run.status?.steps?.[index];
}

function stepDuration(s: StepStatus): string {
  const a = parseTime(s.startedAt);
  const b = parseTime(s.finishedAt);
  return a !== undefined && b !== undefined ? ` (${runDuration(b - a)})` : "";
}

/** `retry 1 of 2 in pod P: attempt 1 Failed (StepFailed: …)`, for the line announcing a new attempt. */
function retryText(run: TaskRun, attempt: number): string {
  const prev = run.status?.retriesStatus?.[attempt - 1];
  const why = [prev?.reason, prev?.message].filter((x) => x).join(": ");
  const of = run.spec?.retries !== undefined ? ` of ${run.spec.retries}` : "";
  const pod = podOfAttempt(run, attempt);
  return `retry ${attempt}${of} in pod ${pod}: attempt ${attempt} ${prev?.phase ?? "ended"}${why ? ` (${why})` : ""}`;
}

/**
 * Follows a run to its end. Resolves with the exit code: 0 Succeeded, 1 Failed, 130 interrupted. The
 * outcome line is printed here (a failure on stderr, as the one-line error). A run with retries is followed
 * through every attempt: a new attempt (one more entry in status.retriesStatus) is announced and its steps
 * are shown from the first.
 */
export async function followRun(session: Session, initial: TaskRun, opts: FollowOptions): Promise<number> {
  const { term } = session;
  const api = session.api;
  const name = initial.metadata?.name ?? "";
  const stop = new AbortController();
  const signal = AbortSignal.any([opts.signal, stop.signal]);
  const watcher = new RunWatcher(api, initial, (err) => stop.abort(err));
  const watching = watcher.run(signal);
  const c = term.c;
  const tty = term.stdoutIsTTY;
  const mark = {
    start: tty ? c.cyan("▶") : "===",
    ok: tty ? c.green("✔") : "===",
    fail: tty ? c.red("✘") : "===",
    skip: tty ? c.gray("○") : "===",
    retry: tty ? c.yellow("↻") : "===",
  };

  try {
    let announcedWaiting = "";
    const showWaiting = (run: TaskRun): void => {
      const s = run.status;
      const text =
        s?.phase === undefined
          ? `waiting for the controller to pick up taskrun ${name}…`
          : `${s.phase}${s.reason && s.reason !== s.phase ? ` (${s.reason})` : ""}${s.message ? `: ${s.message}` : ""}`;
      if (text !== announcedWaiting) {
        announcedWaiting = text;
        term.progress(text);
      }
    };

    // The attempt being shown; its steps are read from status.retriesStatus once the run has moved on.
    let attempt = attemptOf(initial);
    const retried = (r: TaskRun): boolean => attemptOf(r) > attempt;
    for (let i = 0; ; i++) {
      const run = await watcher.until((r) => {
        const s = stepAt(r, i, attempt);
        if (retried(r) || isFinished(r) || (s !== undefined && s.state !== "Waiting")) return true;
        showWaiting(r);
        return false;
      }, signal);
      const s = stepAt(run, i, attempt);
      if (s === undefined) {
        if (!retried(run)) break;
        // This attempt is over: announce the next one and show its steps from the first (one attempt at a
        // time: an attempt that came and went while we watched is shown from status.retriesStatus).
        term.done();
        attempt++;
        // With --step, stdout is that step's log alone.
        if (opts.step === undefined) term.line(`${mark.retry} ${retryText(run, attempt)}`);
        else term.errLine(term.ce.dim(retryText(run, attempt)));
        i = -1;
        continue;
      }
      if (opts.step !== undefined && s.name !== opts.step) continue;
      if (s.state === "Skipped" || s.state === "Waiting") {
        if (opts.step === undefined) term.line(`${mark.skip} step ${c.bold(s.name)} ${c.gray("skipped")}`);
        continue;
      }
      term.done();
      announcedWaiting = "";
      const container = s.container || `step-${s.name}`;
      if (opts.step === undefined) term.line(`${mark.start} step ${c.bold(s.name)}`);
      const color = stepColor(c, i);
      const prefix = opts.step === undefined ? `${color(`[${s.name}]`)} ` : "";
      try {
        await streamLog(api, {
          pod: podOfAttempt(run, attempt),
          container,
          follow: true,
          timestamps: opts.timestamps,
          prefix,
          write: (t) => term.out(t),
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        term.errLine(term.ce.dim(`${prefix}logs unavailable: ${describeError(err)}`));
      }
      const after = await watcher.until((r) => {
        const st = stepAt(r, i, attempt)?.state;
        return retried(r) || isFinished(r) || st === "Succeeded" || st === "Failed";
      }, signal);
      const end = stepAt(after, i, attempt) ?? s;
      if (end.state === "Succeeded") {
        if (opts.step === undefined)
          term.line(`${mark.ok} step ${c.bold(end.name)} ${c.green("succeeded")}${stepDuration(end)}`);
      } else if (end.state === "Failed") {
        const why = [end.exitCode !== undefined ? `exit code ${end.exitCode}` : "", end.reason ?? "", end.message ?? ""]
          .filter((x) => x !== "")
          .join(", ");
        if (opts.step === undefined) {
          term.line(
            `${mark.fail} step ${c.bold(end.name)} ${c.red("failed")}${why ? `: ${why}` : ""}${stepDuration(end)}`,
          );
        }
      } else if (opts.step === undefined) {
        // The attempt ended around a running step (cancelled, timed out, pod deleted).
        const rs = retried(after) ? after.status?.retriesStatus?.[attempt] : after.status;
        term.line(
          `${mark.fail} step ${c.bold(end.name)} ${c.red("stopped")}: the run ${rs?.phase ?? "ended"}${rs?.reason ? ` (${rs.reason})` : ""}`,
        );
      }
      if (opts.step !== undefined) {
        // Only one step was asked for: its outcome is the answer (a failure once no retry can follow).
        if (end.state === "Succeeded") return ExitCode.Ok;
        if (end.state === "Failed" && (after.spec?.retries ?? 0) <= attempt) return ExitCode.Failed;
      }
    }

    if (opts.step !== undefined) {
      const final = watcher.latest;
      const known = (final.status?.steps ?? []).map((s) => s.name);
      if (!known.includes(opts.step)) {
        throw new CliError(
          `taskrun "${name}" has no step "${opts.step}"; its steps: ${known.join(", ") || "(none yet)"}`,
        );
      }
      const st = stepAt(final, known.indexOf(opts.step))?.state;
      if (st === "Succeeded") return ExitCode.Ok;
      if (st === "Failed") return ExitCode.Failed;
      throw new CliError(`step "${opts.step}" of taskrun "${name}" did not run`);
    }

    const final = await watcher.until(isFinished, signal);
    term.done();
    if (opts.sidecars) await followSidecars(session, final, opts.timestamps, signal);
    const st = final.status;
    const started = parseTime(st?.startTime ?? final.metadata?.creationTimestamp);
    const finished = parseTime(st?.finishTime);
    const took = started !== undefined && finished !== undefined ? ` in ${runDuration(finished - started)}` : "";
    const tries = attemptOf(final);
    const after = tries > 0 ? ` (after ${tries} ${tries > 1 ? "retries" : "retry"})` : "";
    if (st?.phase === "Succeeded") {
      term.line(`${tty ? `${c.green("✔")} ` : ""}taskrun ${c.bold(name)} ${c.green("succeeded")}${took}${after}`);
      return ExitCode.Ok;
    }
    const reason = st?.reason ? `${st.reason}` : "Failed";
    throw new CliError(`taskrun "${name}" failed${took}${after}: ${reason}${st?.message ? `: ${st.message}` : ""}`);
  } catch (err) {
    term.done();
    if (opts.signal.aborted) {
      const ns = api.namespace;
      term.errLine(
        `stopped following; taskrun ${name} keeps running. Resume with: kubectl task logs ${name} -f -n ${ns}`,
      );
      return ExitCode.Interrupted;
    }
    throw err;
  } finally {
    stop.abort();
    await watching;
  }
}

/** The sidecars' logs of a finished run's pod, each to its end, prefixed `[sidecar-NAME]`. */
async function followSidecars(
  session: Session,
  run: TaskRun,
  timestamps: boolean | undefined,
  signal: AbortSignal,
): Promise<void> {
  const { term } = session;
  const api = session.api;
  const pod = await podOrNothing(api, run);
  if (pod === undefined) {
    term.errLine(term.ce.dim(`sidecar logs unavailable: the pod ${podOf(run)} no longer exists`));
    return;
  }
  const steps = run.status?.steps?.length ?? 0;
  for (const [i, s] of sidecarsOfPod(pod).entries()) {
    const prefix = `${stepColor(term.c, steps + i)(`[${s.container}]`)} `;
    try {
      await streamLog(api, {
        pod: podOf(run),
        container: s.container,
        follow: true,
        timestamps,
        prefix,
        write: (t) => term.out(t),
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      term.errLine(term.ce.dim(`${prefix}logs unavailable: ${describeError(err)}`));
    }
  }
}
