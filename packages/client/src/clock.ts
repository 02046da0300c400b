// Time, injectable so that tests can run backoff and rate limiting without waiting.

/** A cancellable timer. */
export interface TimerHandle {
  cancel(): void;
}

/** The clock the client reads and schedules on. */
export interface Clock {
  /** Milliseconds, monotonic enough for measuring latency and spacing requests. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds unless cancelled. */
  setTimer(callback: () => void, ms: number): TimerHandle;
}

/**
 * The real clock (`performance.now()` and `setTimeout`). Timers keep the process alive: a request
 * waiting to be retried is pending work.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const t = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** Waits `ms` on `clock`; rejects with the signal's reason when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0 && signal === undefined) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
