// Rate-limited re-adds (client-go's rate limiting queue), the factories, and the priority variant.

import { DelayingWorkQueue } from "./delaying.ts";
import type { AddOptions, DelayingQueue, Queue, QueueOptions } from "./queue.ts";
import { WorkQueue } from "./queue.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiters.ts";

/** client-go's `workqueue.TypedRateLimitingInterface`. */
export interface RateLimitingQueue<T> extends DelayingQueue<T> {
  /** Adds `item` after the delay its rate limiter gives (which records one more failure of it). */
  addRateLimited(item: T): void;
  /**
   * Clears the item's failure history in the rate limiter, so its next `addRateLimited` starts from the base delay.
   * Call it when the item was processed successfully. It does not remove the item from the queue.
   */
  forget(item: T): void;
  /** How many times the item has been rate-limited since it was last forgotten. */
  numRequeues(item: T): number;
}

/**
 * A rate limiting queue whose items carry a priority: higher priorities are handed out first, FIFO among equal
 * priorities (the idea of controller-runtime's priority queue, e.g. to put the adds of an initial list behind live
 * events).
 */
export interface PriorityQueue<T> extends RateLimitingQueue<T> {
  /** Adds `item` with options; `add(item)` is `addWithOptions(item, {})` (priority 0, no delay). */
  addWithOptions(item: T, options: AddOptions): void;
}

/** Options of a rate limiting queue. */
export interface RateLimitingQueueOptions<T> extends QueueOptions<T> {
  /**
   * Delays of `addRateLimited`; defaults to {@link defaultControllerRateLimiter} (keyed with the queue's `keyOf`, on
   * the queue's clock).
   */
  readonly rateLimiter?: RateLimiter<T>;
}

/** A delaying queue with rate-limited adds. Create it with {@link newRateLimitingQueue} or {@link newPriorityQueue}. */
export class RateLimitingWorkQueue<T> extends DelayingWorkQueue<T> implements PriorityQueue<T> {
  /** The rate limiter consulted by `addRateLimited`, `forget` and `numRequeues`. */
  readonly rateLimiter: RateLimiter<T>;

  constructor(options: RateLimitingQueueOptions<T> = {}) {
    super(options);
    this.rateLimiter =
      options.rateLimiter ??
      defaultControllerRateLimiter<T>(
        options.keyOf === undefined ? { clock: this.clock } : { clock: this.clock, keyOf: options.keyOf },
      );
  }

  addRateLimited(item: T): void {
    // Unlike client-go, a queue that is shutting down does not count a failure for the item.
    if (this.shuttingDown()) return;
    this.addAfter(item, this.rateLimiter.when(item));
  }

  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  addWithOptions(item: T, options: AddOptions): void {
    const priority = options.priority ?? 0;
    if (options.rateLimited === true) {
      if (this.shuttingDown()) return;
      this.addAfterWithPriority(item, this.rateLimiter.when(item), priority);
    } else if (options.after !== undefined) {
      this.addAfterWithPriority(item, options.after, priority);
    } else {
      this.addWithPriority(item, priority);
    }
  }
}

/** A plain work queue: `add`, `get`, `done`, shutdown (client-go's `NewTypedWithConfig`). */
export function newQueue<T = string>(options: QueueOptions<T> = {}): WorkQueue<T> {
  return new WorkQueue<T>(options);
}

/** A work queue with `addAfter` (client-go's `NewTypedDelayingQueueWithConfig`). */
export function newDelayingQueue<T = string>(options: QueueOptions<T> = {}): DelayingWorkQueue<T> {
  return new DelayingWorkQueue<T>(options);
}

/** A work queue with `addAfter` and `addRateLimited` (client-go's `NewTypedRateLimitingQueueWithConfig`). */
export function newRateLimitingQueue<T = string>(options: RateLimitingQueueOptions<T> = {}): RateLimitingWorkQueue<T> {
  return new RateLimitingWorkQueue<T>(options);
}

/** A rate limiting queue that hands out higher priorities first (see {@link PriorityQueue}). */
export function newPriorityQueue<T = string>(
  options: Omit<RateLimitingQueueOptions<T>, "priority"> = {},
): RateLimitingWorkQueue<T> {
  return new RateLimitingWorkQueue<T>({ ...options, priority: true });
}

/** True when `queue` supports `addRateLimited`/`forget`. */
export function isRateLimitingQueue<T>(queue: Queue<T>): queue is RateLimitingQueue<T> {
  const q = queue as Partial<RateLimitingQueue<T>>;
  return typeof q.addRateLimited === "function" && typeof q.forget === "function";
}
