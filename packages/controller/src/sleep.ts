import { type Clock, realClock, sleep } from "@minitask/workqueue";

/**
 * Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects): the pause between
 * retries of a loop that checks `signal` itself.
 */
export function pause(ms: number, signal: AbortSignal, clock: Clock = realClock): Promise<void> {
  return sleep(clock, ms, signal).catch(() => {});
}
