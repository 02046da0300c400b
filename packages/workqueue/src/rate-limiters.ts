// Rate limiters (client-go's `default_rate_limiters.go`): small objects that say how long an item should wait
// before it is retried. All durations are milliseconds.

import { type Clock, realClock } from "./clock.ts";
import type { KeyFunction } from "./queue.ts";

/** Decides how long an item waits before it is retried. */
export interface RateLimiter<T> {
  /** The delay before `item` may be retried; records one more failure for per-item limiters. */
  when(item: T): number;
  /** Clears the failure history of `item` (call it when the item was processed successfully). */
  forget(item: T): void;
  /** How many times `item` has failed since it was last forgotten. */
  numRequeues(item: T): number;
}

/** Options of the per-item rate limiters. */
export interface ItemRateLimiterOptions<T> {
  /** Key of an item, to count failures of object items by value; items are their own key by default. */
  readonly keyOf?: KeyFunction<T>;
}

/** `baseDelayMs * 2^failures`, capped at `maxDelayMs`, per item (client-go's ItemExponentialFailureRateLimiter). */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  readonly #failures = new Map<unknown, number>();
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #keyOf: KeyFunction<T> | null;

  constructor(baseDelayMs: number, maxDelayMs: number, options: ItemRateLimiterOptions<T> = {}) {
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
    this.#keyOf = options.keyOf ?? null;
  }

  when(item: T): number {
    const key = this.#keyOf === null ? item : this.#keyOf(item);
    const exp = this.#failures.get(key) ?? 0;
    this.#failures.set(key, exp + 1);
    const backoff = this.#baseDelayMs * 2 ** exp;
    // Huge exponents overflow to Infinity, which the cap absorbs.
    return Math.min(backoff, this.#maxDelayMs);
  }

  forget(item: T): void {
    this.#failures.delete(this.#keyOf === null ? item : this.#keyOf(item));
  }

  numRequeues(item: T): number {
    return this.#failures.get(this.#keyOf === null ? item : this.#keyOf(item)) ?? 0;
  }
}

/**
 * A token bucket shared by all items (client-go's BucketRateLimiter over golang.org/x/time/rate): `burst` tokens,
 * refilled at `qps` per second; each `when` takes one token, and when none is left it returns the time until its
 * token will exist (the bucket goes into debt, so consecutive calls get increasing delays).
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_item: T): number {
    if (this.#qps === Number.POSITIVE_INFINITY) return 0;
    // A bucket that can never hold one token never allows the item (x/time/rate: an infinite delay).
    if (this.#burst < 1) return Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    let tokens = this.#tokens;
    if (now > this.#last) {
      tokens = Math.min(this.#burst, tokens + ((now - this.#last) * this.#qps) / 1000);
      this.#last = now;
    }
    tokens -= 1;
    this.#tokens = tokens;
    return tokens >= 0 ? 0 : (-tokens * 1000) / this.#qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** `fastDelayMs` for the first `maxFastAttempts` failures of an item, `slowDelayMs` after that. */
export class ItemFastSlowRateLimiter<T> implements RateLimiter<T> {
  readonly #failures = new Map<unknown, number>();
  readonly #fastDelayMs: number;
  readonly #slowDelayMs: number;
  readonly #maxFastAttempts: number;
  readonly #keyOf: KeyFunction<T> | null;

  constructor(
    fastDelayMs: number,
    slowDelayMs: number,
    maxFastAttempts: number,
    options: ItemRateLimiterOptions<T> = {},
  ) {
    this.#fastDelayMs = fastDelayMs;
    this.#slowDelayMs = slowDelayMs;
    this.#maxFastAttempts = maxFastAttempts;
    this.#keyOf = options.keyOf ?? null;
  }

  when(item: T): number {
    const key = this.#keyOf === null ? item : this.#keyOf(item);
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    return failures <= this.#maxFastAttempts ? this.#fastDelayMs : this.#slowDelayMs;
  }

  forget(item: T): void {
    this.#failures.delete(this.#keyOf === null ? item : this.#keyOf(item));
  }

  numRequeues(item: T): number {
    return this.#failures.get(this.#keyOf === null ? item : this.#keyOf(item)) ?? 0;
  }
}

/** The longest delay of several limiters (every limiter records the failure); `forget` forgets in all of them. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  readonly #limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const limiter of this.#limiters) {
      const delay = limiter.when(item);
      if (delay > max) max = delay;
    }
    return max;
  }

  forget(item: T): void {
    for (const limiter of this.#limiters) limiter.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const limiter of this.#limiters) {
      const n = limiter.numRequeues(item);
      if (n > max) max = n;
    }
    return max;
  }
}

/** Caps the delay of another limiter at `maxDelayMs`. */
export class WithMaxWaitRateLimiter<T> implements RateLimiter<T> {
  readonly #limiter: RateLimiter<T>;
  readonly #maxDelayMs: number;

  constructor(limiter: RateLimiter<T>, maxDelayMs: number) {
    this.#limiter = limiter;
    this.#maxDelayMs = maxDelayMs;
  }

  when(item: T): number {
    const delay = this.#limiter.when(item);
    return Math.min(delay, this.#maxDelayMs);
  }

  forget(item: T): void {
    this.#limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}

/** client-go's first delay of the per-item exponential limiter of controllers: 5 ms (doubling per failure). */
export const DEFAULT_BASE_DELAY_MS = 5;
/** client-go's cap of the per-item exponential limiter of controllers: 1000 s. */
export const DEFAULT_MAX_DELAY_MS = 1_000_000;
/** client-go's rate of the overall bucket of controllers: 10 qps. */
export const DEFAULT_QPS = 10;
/** client-go's burst of the overall bucket of controllers: 100. */
export const DEFAULT_BURST = 100;

/** Per-item exponential backoff; defaults are client-go's (5 ms base, 1000 s cap). */
export function newItemExponentialFailureRateLimiter<T>(
  baseDelayMs: number = DEFAULT_BASE_DELAY_MS,
  maxDelayMs: number = DEFAULT_MAX_DELAY_MS,
  options: ItemRateLimiterOptions<T> = {},
): ItemExponentialFailureRateLimiter<T> {
  return new ItemExponentialFailureRateLimiter(baseDelayMs, maxDelayMs, options);
}

/** An overall token bucket; defaults are client-go's (10 qps, burst 100). */
export function newBucketRateLimiter<T>(
  qps: number = DEFAULT_QPS,
  burst: number = DEFAULT_BURST,
  clock: Clock = realClock,
): BucketRateLimiter<T> {
  return new BucketRateLimiter(qps, burst, clock);
}

/** An {@link ItemFastSlowRateLimiter}: `fastDelayMs` for the first `maxFastAttempts` failures, then `slowDelayMs`. */
export function newItemFastSlowRateLimiter<T>(
  fastDelayMs: number,
  slowDelayMs: number,
  maxFastAttempts: number,
  options: ItemRateLimiterOptions<T> = {},
): ItemFastSlowRateLimiter<T> {
  return new ItemFastSlowRateLimiter(fastDelayMs, slowDelayMs, maxFastAttempts, options);
}

/** A {@link MaxOfRateLimiter}: the longest delay of `limiters`. */
export function newMaxOfRateLimiter<T>(...limiters: RateLimiter<T>[]): MaxOfRateLimiter<T> {
  return new MaxOfRateLimiter(...limiters);
}

/** A {@link WithMaxWaitRateLimiter}: `limiter` with its delay capped at `maxDelayMs`. */
export function newWithMaxWaitRateLimiter<T>(limiter: RateLimiter<T>, maxDelayMs: number): WithMaxWaitRateLimiter<T> {
  return new WithMaxWaitRateLimiter(limiter, maxDelayMs);
}

/** Options of {@link defaultControllerRateLimiter}. */
export interface DefaultControllerRateLimiterOptions<T> extends ItemRateLimiterOptions<T> {
  /** Clock of the token bucket. */
  readonly clock?: Clock;
}

/**
 * client-go's `DefaultControllerRateLimiter`: the larger of per-item exponential backoff (5 ms .. 1000 s) and an
 * overall token bucket (10 qps, burst 100).
 */
export function defaultControllerRateLimiter<T>(options: DefaultControllerRateLimiterOptions<T> = {}): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_DELAY_MS, options),
    new BucketRateLimiter<T>(DEFAULT_QPS, DEFAULT_BURST, options.clock ?? realClock),
  );
}

/** client-go's `DefaultItemBasedRateLimiter`: per-item exponential backoff from 1 ms up to 1000 s. */
export function defaultItemBasedRateLimiter<T>(options: ItemRateLimiterOptions<T> = {}): RateLimiter<T> {
  return new ItemExponentialFailureRateLimiter<T>(1, DEFAULT_MAX_DELAY_MS, options);
}
