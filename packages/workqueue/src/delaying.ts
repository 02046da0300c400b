// Delayed adds (client-go's delaying queue). All delayed items live in one min-heap ordered by ready time, and a
// single timer is armed for the earliest one — never a timer per item. A duplicate `addAfter` of an item that is
// still waiting for its delay keeps the earlier ready time.

import type { Timer } from "./clock.ts";
import { type DelayEntry, DelayHeap } from "./heap.ts";
import { type DelayingQueue, WorkQueue } from "./queue.ts";

/** A work queue with `addAfter` (client-go's delaying queue). Create it with {@link newDelayingQueue}. */
export class DelayingWorkQueue<T> extends WorkQueue<T> implements DelayingQueue<T> {
  readonly #heap = new DelayHeap<unknown, T>();
  readonly #waiting = new Map<unknown, DelayEntry<unknown, T>>();
  #seq = 0;
  #timer: Timer | null = null;
  /** Ready time the armed timer was set for (Infinity when none is armed). */
  #timerAt = Number.POSITIVE_INFINITY;
  #timersArmed = 0;

  addAfter(item: T, delayMs: number): void {
    this.addAfterWithPriority(item, delayMs, 0);
  }

  /** Number of items waiting for their delay to pass. */
  delayedLen(): number {
    return this.#heap.size;
  }

  /** How many timers this queue has armed so far (a diagnostic; see the benchmark). */
  timersArmed(): number {
    return this.#timersArmed;
  }

  /** @internal */
  protected addAfterWithPriority(item: T, delayMs: number, priority: number): void {
    if (this.shuttingDown()) return;
    this.metrics?.retries.inc();
    // `!(delayMs > 0)` also sends NaN to the immediate path.
    if (!(delayMs > 0)) {
      this.addWithPriority(item, priority);
      return;
    }
    const key = this.keyOf(item);
    const readyAt = this.clock.now() + delayMs;
    const existing = this.#waiting.get(key);
    if (existing !== undefined) {
      existing.item = item;
      if (priority > existing.priority) existing.priority = priority;
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt;
        this.#heap.decreased(existing);
      } else {
        return;
      }
    } else {
      const entry: DelayEntry<unknown, T> = { key, item, readyAt, seq: this.#seq++, index: -1, priority };
      this.#waiting.set(key, entry);
      this.#heap.push(entry);
    }
    if (readyAt < this.#timerAt) this.#arm(readyAt);
  }

  protected override onShutDown(): void {
    // client-go stops its waiting loop on shutdown: delayed items are dropped.
    this.#timer?.stop();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#heap.clear();
    this.#waiting.clear();
  }

  #arm(readyAt: number): void {
    this.#timer?.stop();
    this.#timerAt = readyAt;
    this.#timersArmed++;
    this.#timer = this.clock.setTimer(this.#onTimer, readyAt - this.clock.now());
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.shuttingDown()) return;
    const heap = this.#heap;
    const now = this.clock.now();
    while (heap.size > 0 && heap.peek().readyAt <= now) {
      const entry = heap.pop();
      this.#waiting.delete(entry.key);
      this.addWithPriority(entry.item, entry.priority);
    }
    // Real timers may fire a little early; the remaining head simply gets the next timer.
    if (heap.size > 0) this.#arm(heap.peek().readyAt);
  };
}
