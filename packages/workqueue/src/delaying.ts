// Delayed adds (client-go's delaying queue). All delayed items live in one min-heap ordered by ready time, and a
// single timer is armed for the earliest one — never a timer per item. A duplicate `addAfter` of an item that is
// still waiting for its delay keeps the earlier ready time. The machinery lives in WorkQueue (delays hang off the
// same per-key records); this class exposes it.

import { type DelayingQueue, WorkQueue } from "./queue.ts";

/** A work queue with `addAfter` (client-go's delaying queue). Create it with {@link newDelayingQueue}. */
export class DelayingWorkQueue<T> extends WorkQueue<T> implements DelayingQueue<T> {
  addAfter(item: T, delayMs: number): void {
    this.addAfterWithPriority(item, delayMs, 0);
  }

  /** Number of items waiting for their delay to pass. */
  delayedLen(): number {
    return this.delayedCount();
  }

  /** How many timers this queue has armed so far (a diagnostic; see the benchmark). */
  timersArmed(): number {
    return this.timerCount();
  }
}
