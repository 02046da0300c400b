// Injectable time. Every structure in this package reads time and arms timers through a `Clock`, so tests can
// replace real time with a `FakeClock` and run hours of backoff without waiting.

/** A one-shot timer armed by a {@link Clock}. */
export interface Timer {
  /** Cancels the timer; a no-op when it already fired or was stopped. */
  stop(): void;
  /** Lets the process exit while this timer is pending (real clock only; a no-op elsewhere). */
  unref(): void;
}

/** The source of time for queues and rate limiters. */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences between two readings are meaningful. */
  now(): number;
  /** Calls `callback` once, `delayMs` milliseconds from now (at the earliest). */
  setTimer(callback: () => void, delayMs: number): Timer;
}

// Node turns any delay above 2^31-1 ms into 1 ms; longer waits are re-armed by the callers.
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

class RealTimer implements Timer {
  readonly #handle: ReturnType<typeof setTimeout>;
  constructor(handle: ReturnType<typeof setTimeout>) {
    this.#handle = handle;
  }
  stop(): void {
    clearTimeout(this.#handle);
  }
  unref(): void {
    this.#handle.unref();
  }
}

/** Real time: `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(callback, delayMs) {
    // Node truncates fractional delays; round up so a timer never fires before the time asked for.
    const ms = Math.min(Math.max(0, Math.ceil(delayMs)), MAX_TIMER_DELAY_MS);
    return new RealTimer(setTimeout(callback, ms));
  },
};

interface FakeTimerEntry {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  active: boolean;
}

/**
 * A clock that only moves when told to. Timers fire synchronously inside {@link FakeClock.advance} (in due-time
 * order, ties in arming order); {@link FakeClock.advanceAsync} additionally lets promise continuations run between
 * timers, so async code that re-arms timers while time moves is exercised as it would be with real time.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimerEntry[] = [];
  #created = 0;

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): Timer {
    const entry: FakeTimerEntry = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      callback,
      active: true,
    };
    this.#created++;
    // Keep #timers sorted by (at, seq); tests hold few timers, so a linear insert is fine.
    let i = this.#timers.length;
    while (i > 0) {
      const prev = this.#timers[i - 1]!;
      if (prev.at <= entry.at) break;
      i--;
    }
    this.#timers.splice(i, 0, entry);
    return {
      stop: () => {
        if (!entry.active) return;
        entry.active = false;
        const idx = this.#timers.indexOf(entry);
        if (idx >= 0) this.#timers.splice(idx, 1);
      },
      unref: () => {},
    };
  }

  /** Number of armed timers that have not fired or been stopped. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Total number of timers ever armed on this clock (to check "one timer per structure"). */
  timersCreated(): number {
    return this.#created;
  }

  /** When the next armed timer is due, or `undefined` when none is armed. */
  nextTimerAt(): number | undefined {
    return this.#timers[0]?.at;
  }

  /** Moves time forward by `ms`, firing every timer that becomes due (including ones armed by callbacks). */
  advance(ms: number): number {
    if (ms < 0) throw new RangeError("FakeClock cannot go backwards");
    return this.#runUntil(this.#now + ms);
  }

  /** Moves time to `timeMs` (which must not be in the past), firing timers as {@link FakeClock.advance}. */
  setTime(timeMs: number): number {
    if (timeMs < this.#now) throw new RangeError("FakeClock cannot go backwards");
    return this.#runUntil(timeMs);
  }

  /**
   * Like {@link FakeClock.advance}, but lets pending promise continuations run before and after each timer, so a
   * chain of `await sleep(...)` calls advances as far as the target time allows. Resolves with the number of timers
   * fired.
   */
  async advanceAsync(ms: number): Promise<number> {
    if (ms < 0) throw new RangeError("FakeClock cannot go backwards");
    const target = this.#now + ms;
    let fired = 0;
    await flushPromises();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      next.active = false;
      this.#now = next.at;
      next.callback();
      fired++;
      await flushPromises();
    }
    this.#now = target;
    return fired;
  }

  #runUntil(target: number): number {
    let fired = 0;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      next.active = false;
      this.#now = next.at;
      next.callback();
      fired++;
    }
    this.#now = target;
    return fired;
  }
}

/** Lets every already-queued promise continuation (and those they queue) run, using a macrotask boundary. */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves after `ms` on `clock`; rejects with `signal.reason` when the signal aborts first. The timer is released
 * on abort.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.stop();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
