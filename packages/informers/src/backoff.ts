// Exponential backoff with jitter that forgets past failures after a healthy period — the reflector's
// retry policy (client-go: 800 ms → 30 s, reset after 2 minutes without failures).
import type { Clock } from "@minitask/workqueue";

/** The reflector's retry backoff: exponential with jitter, forgotten after a healthy period. */
export interface BackoffOptions {
  /** First wait. Default 800 ms. */
  readonly initialMs?: number;
  /** Longest wait. Default 30 s. */
  readonly maxMs?: number;
  /** Growth per failure. Default 2. */
  readonly factor?: number;
  /**
   * Up to this fraction of the wait is added at random (client-go uses 1.0). Default 1.0. The result
   * never exceeds `maxMs`.
   */
  readonly jitter?: number;
  /** Failures further apart than this start again from `initialMs`. Default 2 minutes. */
  readonly resetAfterMs?: number;
}

export const defaultBackoff: Required<BackoffOptions> = {
  initialMs: 800,
  maxMs: 30_000,
  factor: 2,
  jitter: 1.0,
  resetAfterMs: 120_000,
};

export class Backoff {
  readonly #o: Required<BackoffOptions>;
  readonly #clock: Clock;
  readonly #random: () => number;
  #failures = 0;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #healthySince: number | undefined;

  constructor(options: BackoffOptions, clock: Clock, random: () => number = Math.random) {
    this.#o = { ...defaultBackoff, ...options };
    this.#clock = clock;
    this.#random = random;
  }

  /** Failures counted in the current streak. */
  get failures(): number {
    return this.#failures;
  }

  /** Marks the start of a healthy period (a watch established, a list completed). */
  healthy(): void {
    this.#healthySince ??= this.#clock.now();
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    const now = this.#clock.now();
    const healthyFor = this.#healthySince === undefined ? 0 : now - this.#healthySince;
    if (now - this.#lastFailureAt >= this.#o.resetAfterMs || healthyFor >= this.#o.resetAfterMs) {
      this.#failures = 0;
    }
    this.#healthySince = undefined;
    this.#lastFailureAt = now;
    const base = Math.min(this.#o.maxMs, this.#o.initialMs * this.#o.factor ** this.#failures);
    this.#failures++;
    const jittered = base * (1 + this.#o.jitter * this.#random());
    return Math.round(Math.min(this.#o.maxMs, jittered));
  }

  /** Forgets the failures (e.g. after data arrived). */
  reset(): void {
    this.#failures = 0;
    this.#lastFailureAt = Number.NEGATIVE_INFINITY;
  }
}
