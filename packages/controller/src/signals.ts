// Graceful shutdown on SIGTERM/SIGINT: the first signal aborts `stop` (take no new work, finish what is
// in flight); after the grace period `force` aborts too (in-flight reconciles are cancelled); a second
// signal exits at once.
/** The two signals of a graceful shutdown. */
export interface ShutdownSignals {
  /** Aborted on the first SIGTERM/SIGINT (or `trigger()`). */
  readonly stop: AbortSignal;
  /** Aborted when the grace period after `stop` runs out. */
  readonly force: AbortSignal;
  /** Starts a shutdown as if a signal arrived (e.g. leadership lost, fatal error). */
  trigger(reason: string): void;
  /** Removes the signal listeners. */
  dispose(): void;
}

/** The grace period and hooks of {@link handleShutdownSignals}. */
export interface ShutdownOptions {
  /** Grace period for in-flight work after the first signal. */
  readonly shutdownTimeoutMs: number;
  /** Called with the reason when shutdown starts. */
  readonly onShutdown?: (reason: string) => void;
  /** Called before exiting on a second signal. Default: process.exit(130). */
  readonly onForceExit?: (signal: NodeJS.Signals) => void;
}

/** Turns SIGTERM/SIGINT into a graceful shutdown: `stop` at once, `force` after the grace period. */
export function handleShutdownSignals(opts: ShutdownOptions): ShutdownSignals {
  const stop = new AbortController();
  const force = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const trigger = (reason: string) => {
    if (stop.signal.aborted) return;
    opts.onShutdown?.(reason);
    stop.abort(new Error(reason));
    timer = setTimeout(() => force.abort(new Error("shutdown timeout")), opts.shutdownTimeoutMs);
    timer.unref();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      (opts.onForceExit ?? (() => process.exit(130)))(signal);
      return;
    }
    trigger(`received ${signal}`);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    stop: stop.signal,
    force: force.signal,
    trigger,
    dispose() {
      clearTimeout(timer);
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}
