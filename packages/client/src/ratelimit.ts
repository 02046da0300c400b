// Client-side rate limiting: a token bucket (client-go's `flowcontrol.NewTokenBucketRateLimiter`).
// Off by default — the apiserver's API Priority and Fairness protects it, and answers 429 when needed.
import { type Clock, realClock, type Timer } from "@minitask/workqueue";

/** Anything that can make a request wait for its turn. */
export interface RateLimiter {
  /** Resolves when the request may go; rejects with the signal's reason if it aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<void>;
}

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Sustained requests per second (> 0). */
  readonly qps: number;
  /** Requests that may go at once after a quiet period (≥ 1). */
  readonly burst: number;
  /** Time source (tests). */
  readonly clock?: Clock;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A token bucket with FIFO waiters and one timer for the whole bucket (never one per waiter).
 * Starts full.
 */
export class TokenBucket implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  readonly #waiters: Waiter[] = [];
  #timer: Timer | undefined;

  constructor(options: TokenBucketOptions) {
    if (!(options.qps > 0)) throw new RangeError(`qps must be > 0, got ${options.qps}`);
    if (!(options.burst >= 1)) throw new RangeError(`burst must be ≥ 1, got ${options.burst}`);
    this.#qps = options.qps;
    this.#burst = Math.floor(options.burst);
    this.#clock = options.clock ?? realClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  /** Tokens available right now (fractional). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes a token without waiting; false when none is available or others are already waiting. */
  tryAcquire(): boolean {
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i !== -1) this.#waiters.splice(i, 1);
          reject(signal.reason);
          this.#schedule();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#schedule();
    });
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#qps) / 1000);
  }

  #schedule(): void {
    this.#timer?.stop();
    this.#timer = undefined;
    this.#refill();
    while (this.#waiters.length > 0 && this.#tokens >= 1) {
      const w = this.#waiters.shift()!;
      this.#tokens -= 1;
      if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
      w.resolve();
    }
    if (this.#waiters.length > 0) {
      const wait = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#qps));
      this.#timer = this.#clock.setTimer(() => {
        this.#timer = undefined;
        this.#schedule();
      }, wait);
    }
  }
}
