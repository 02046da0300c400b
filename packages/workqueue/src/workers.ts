// Worker loops over a queue: the client-go `processNextWorkItem` pattern as a helper.

import type { Queue } from "./queue.ts";
import { isRateLimitingQueue } from "./rate-limiting.ts";

/** Processes one item; a rejection (or throw) counts as a failure of that item. */
export type WorkHandler<T> = (item: T, signal: AbortSignal) => unknown;

/** Options of {@link runWorkers}. */
export interface RunWorkersOptions<T> {
  /** Number of concurrent workers (default 1). A key is never processed by two of them at once. */
  readonly concurrency?: number;
  /**
   * Stops the workers: they take no new items, the handlers in progress see the signal aborted, and
   * `runWorkers` resolves once they have returned. The queue itself is not shut down.
   */
  readonly signal?: AbortSignal;
  /** Called with every handler failure (after the item was re-queued, when the queue rate-limits). */
  readonly onError?: (error: unknown, item: T) => void;
  /**
   * On a rate limiting queue, re-add a failed item with `addRateLimited` and `forget` a successful one (default
   * true). Without this, or on other queues, a failed item is only reported to `onError`.
   */
  readonly requeueOnError?: boolean;
}

/**
 * Runs `concurrency` workers that take items from `queue`, call `handler`, and mark the items done; resolves when
 * the queue is shut down and empty (or `signal` aborted) and every worker has returned.
 */
export async function runWorkers<T>(
  queue: Queue<T>,
  handler: WorkHandler<T>,
  options: RunWorkersOptions<T> = {},
): Promise<void> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const stop = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => stop.abort(outer?.reason);
  if (outer?.aborted) return;
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  const requeue = options.requeueOnError !== false && isRateLimitingQueue(queue) ? queue : null;

  const worker = async (): Promise<void> => {
    for (;;) {
      let result: Awaited<ReturnType<Queue<T>["get"]>>;
      try {
        result = await queue.get(stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return;
        throw error;
      }
      if (result.shutdown) return;
      const item = result.item;
      try {
        await handler(item, stop.signal);
        requeue?.forget(item);
      } catch (error) {
        requeue?.addRateLimited(item);
        options.onError?.(error, item);
      } finally {
        queue.done(item);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    outer?.removeEventListener("abort", onOuterAbort);
  }
}
