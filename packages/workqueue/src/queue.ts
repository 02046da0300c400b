// The work queue: client-go's `util/workqueue` contract in single-threaded TypeScript.
//
// Each key that is in use has one record (Entry) in a Map, with a state:
//   QUEUED           — waiting in the ready store (FIFO, or by priority) to be handed out;
//   PROCESSING       — handed out by `get`, not `done` yet;
//   PROCESSING_DIRTY — processing, and added again meanwhile: `done` makes it QUEUED again;
//   IDLE             — done (or only waiting for a delay).
// So a key is never handed to two workers at once, many adds of a waiting key collapse into one, and a key added
// while it is processed is not lost. Workers waiting in `get` are served directly when a key becomes ready.
// Delayed adds live in one min-heap of nodes hanging off the records, behind a single timer.
//
// Performance notes (see bench/README.md): `get` touches no Map (the record comes out of the ready store); `done`
// finds the record by scanning the few records in flight; done records of primitive keys (strings, numbers) stay in
// the Map, idle, and are dropped in bulk by rebuilding the Map, because deleting keys one by one makes V8 shrink and
// regrow the table. Done records of object keys leave the Map at once, so a finished object is not kept alive.

import { type Clock, MAX_TIMER_DELAY_MS, realClock, type Timer } from "./clock.ts";
import { DelayHeap } from "./heap.ts";
import {
  createQueueMetrics,
  type MetricsProvider,
  type QueueMetrics,
  UNFINISHED_WORK_UPDATE_PERIOD_MS,
} from "./metrics.ts";
import {
  type DelayNode,
  Entry,
  FifoStore,
  FREE,
  IDLE,
  PROCESSING,
  PROCESSING_DIRTY,
  PriorityStore,
  QUEUED,
  type ReadyStore,
} from "./ready.ts";
import { Ring } from "./ring.ts";

/** What `get` resolves to: an item to process, or the signal that the queue is shut down and empty. */
export type GetResult<T> =
  | { readonly item: T; readonly shutdown: false }
  | { readonly item?: undefined; readonly shutdown: true };

/** Maps an item to the value it is deduplicated by (compared with `SameValueZero`, like `Map` keys). */
export type KeyFunction<T> = (item: T) => unknown;

/** Options of every queue. */
export interface QueueOptions<T> {
  /**
   * Name of the queue: the `name` label of its metrics. Metrics are recorded only when both `name` and
   * `metricsProvider` are set (as in client-go).
   */
  readonly name?: string;
  /** Receives the queue's metrics. */
  readonly metricsProvider?: MetricsProvider;
  /** Time source for delays, rate limiting and metrics; defaults to real time. */
  readonly clock?: Clock;
  /**
   * Deduplication key of an item. Without it, items are compared by value themselves (`SameValueZero`), which is
   * right for strings and numbers; objects then dedupe only by identity. When an item is added again while an
   * equal-keyed item is waiting, the newer item replaces the older one (the position in the queue is kept).
   */
  readonly keyOf?: KeyFunction<T>;
  /**
   * Hand out higher-priority items first (FIFO among equal priorities), in the style of controller-runtime's
   * priority queue. Off by default: the queue is then strictly FIFO and slightly faster.
   */
  readonly priority?: boolean;
}

/** client-go's `workqueue.TypedInterface`. */
export interface Queue<T> extends AsyncIterable<T> {
  /** Marks `item` as needing processing. Ignored after shutdown; collapsed with an equal item already waiting. */
  add(item: T): void;
  /** Number of items ready to be handed out (not counting items being processed or delayed). */
  len(): number;
  /**
   * Resolves with the next item once one is ready — the caller owns it until it calls `done(item)` — or with
   * `{ shutdown: true }` once the queue is shut down and empty. Rejects with `signal.reason` when `signal` aborts
   * while waiting (the worker then owns nothing).
   */
  get(signal?: AbortSignal): Promise<GetResult<T>>;
  /** Ends the processing of `item`; if it was added again meanwhile it becomes ready again. */
  done(item: T): void;
  /** Stops accepting items; waiting `get` calls resolve with `{ shutdown: true }`; queued items are still handed out. */
  shutDown(): void;
  /** Like {@link Queue.shutDown}, and resolves once no item is being processed any more (or `shutDown` is called). */
  shutDownWithDrain(): Promise<void>;
  shuttingDown(): boolean;
  /**
   * Hands out items until the queue is shut down and empty (or `signal` aborts); each item is marked `done` when the
   * loop body finishes with it — also when it `break`s or throws. Several loops may run concurrently, one per worker.
   */
  items(signal?: AbortSignal): AsyncIterableIterator<T, void>;
}

/** client-go's `workqueue.TypedDelayingInterface`. */
export interface DelayingQueue<T> extends Queue<T> {
  /**
   * Adds `item` once `delayMs` has passed. While an item waits for its delay, another `addAfter` of it keeps the
   * earliest ready time. `delayMs <= 0` is `add(item)`.
   */
  addAfter(item: T, delayMs: number): void;
}

/** Per-call options of a priority queue's `addWithOptions`. */
export interface AddOptions {
  /** Higher is handed out first; default 0. An item waiting with a lower priority is raised, never lowered. */
  readonly priority?: number;
  /** Delay before the item becomes ready, as `addAfter`. */
  readonly after?: number;
  /** Delay computed by the queue's rate limiter, as `addRateLimited` (takes precedence over `after`). */
  readonly rateLimited?: boolean;
}

const ENTRY_POOL_SIZE = 1024;
/** `done` looks for its record among this many of the oldest records in flight before it asks the key map. */
const ACTIVE_SCAN_DEPTH = 4;
/** The key map is rebuilt without its idle records once there are more than this many of them... */
const IDLE_REBUILD_MIN = 1024;
/** ...and they outnumber the records in use this many times over. */
const IDLE_REBUILD_RATIO = 2;

/** The delay heap is compacted when it holds this many more stale nodes than live ones. */
const STALE_DELAY_NODES_MAX = 1024;

/** Whether a key is an object or function (which the key map would keep alive), not a primitive value. */
function isReference(key: unknown): boolean {
  return (typeof key === "object" && key !== null) || typeof key === "function";
}

const SHUTDOWN: GetResult<never> = Object.freeze({ shutdown: true as const });
const SHUTDOWN_PROMISE: Promise<GetResult<never>> = Promise.resolve(SHUTDOWN);

interface Waiter<T> {
  resolve: (result: GetResult<T>) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
}

/**
 * The work queue (client-go's `workqueue.Typed`), with the machinery of the delaying and rate limiting queues built
 * in; {@link DelayingWorkQueue} and {@link RateLimitingWorkQueue} expose it. Create it with {@link newQueue}.
 */
export class WorkQueue<T> implements Queue<T> {
  readonly #keyOf: KeyFunction<T> | null;
  /** Records of the keys in use, plus idle ones since the last rebuild. */
  #entries = new Map<unknown, Entry<T>>();
  /** The records in state PROCESSING or PROCESSING_DIRTY: a linked list, oldest first, and its length. */
  #activeHead: Entry<T> | null = null;
  #activeTail: Entry<T> | null = null;
  #processing = 0;
  /** Records that are IDLE without a pending delay: droppable at the next rebuild. */
  #idle = 0;
  /** Recycled records: a steady stream of adds and dones allocates none. */
  readonly #pool: Entry<T>[] = [];
  readonly #ready: ReadyStore<T>;
  #waiters = new Ring<Waiter<T>>();
  /** Waiters in `#waiters` whose signal aborted (skipped when serving, compacted when they pile up). */
  #abortedWaiters = 0;
  #shuttingDown = false;
  #drainWaiters: (() => void)[] = [];
  // Delays: one heap, one timer.
  readonly #heap = new DelayHeap<T>();
  /** Live nodes in the heap (the heap also holds stale ones). */
  #delayed = 0;
  #delaySeq = 0;
  #timer: Timer | null = null;
  /** Ready time the armed timer was set for (Infinity when none is armed). */
  #timerAt = Number.POSITIVE_INFINITY;
  #timersArmed = 0;
  // Metrics (all null without a name and a provider).
  readonly #metrics: QueueMetrics | null;
  #metricsTimer: Timer | null = null;
  /** The clock of this queue. */
  readonly clock: Clock;

  constructor(options: QueueOptions<T> = {}) {
    this.#keyOf = options.keyOf ?? null;
    this.clock = options.clock ?? realClock;
    this.#ready = options.priority === true ? new PriorityStore<T>() : new FifoStore<T>();
    this.#metrics = createQueueMetrics(options.metricsProvider, options.name ?? "");
    if (this.#metrics !== null) this.#scheduleUnfinishedWorkUpdate();
  }

  add(item: T): void {
    this.addWithPriority(item, 0);
  }

  /** @internal `add` with a priority (ignored by FIFO queues). */
  protected addWithPriority(item: T, priority: number): void {
    if (this.#shuttingDown) return;
    const key = this.#keyOf === null ? item : this.#keyOf(item);
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      const created = this.#newEntry(key, item, QUEUED, priority);
      this.#entries.set(key, created);
      if (this.#metrics !== null) this.#metricsAdd(created);
      this.#makeReady(created);
    } else {
      this.#addTo(entry, item, priority);
    }
  }

  /** Adds `item` to the key of `entry` (which is in the key map). */
  #addTo(entry: Entry<T>, item: T, priority: number): void {
    const state = entry.state;
    if (state === IDLE) {
      if (entry.delay === null) this.#idle--;
      entry.state = QUEUED;
      entry.item = item;
      entry.priority = priority;
      if (this.#metrics !== null) this.#metricsAdd(entry);
      this.#makeReady(entry);
    } else if (state === PROCESSING) {
      // Re-added while being processed: remember it, `done` makes it ready again.
      entry.state = PROCESSING_DIRTY;
      entry.item = item;
      entry.priority = priority;
      if (this.#metrics !== null) this.#metricsAdd(entry);
    } else {
      // Already waiting (QUEUED or PROCESSING_DIRTY): collapse into it; the newest item wins, priority only rises.
      entry.item = item;
      if (priority > entry.priority) {
        entry.priority = priority;
        if (state === QUEUED) this.#ready.raise(entry);
      }
    }
  }

  len(): number {
    return this.#ready.size;
  }

  get(signal?: AbortSignal): Promise<GetResult<T>> {
    if (this.#ready.size > 0) {
      const entry = this.#ready.shift();
      this.#startProcessing(entry);
      return Promise.resolve({ item: entry.item, shutdown: false });
    }
    if (this.#shuttingDown) return SHUTDOWN_PROMISE;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<GetResult<T>>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal, onAbort: undefined, settled: false };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          if (waiter.settled) return;
          waiter.settled = true;
          this.#abortedWaiters++;
          if (this.#abortedWaiters > 64 && this.#abortedWaiters * 2 > this.#waiters.size) this.#compactWaiters();
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  done(item: T): void {
    const key = this.#keyOf === null ? item : this.#keyOf(item);
    // Items tend to finish in the order they started, so the record is usually among the oldest in flight: look at
    // a few of those first, which (unlike hashing the key into a possibly large map) touches no cold memory. A miss
    // costs a string comparison each, hence the bound; the map answers otherwise (and for NaN, which `===` misses).
    let entry: Entry<T> | null | undefined = this.#activeHead;
    for (let i = 1; entry !== null && entry.key !== key; i++) entry = i < ACTIVE_SCAN_DEPTH ? entry.next : null;
    if (entry === null) {
      entry = this.#entries.get(key);
      // Not being processed (unknown, waiting, or already done): nothing to finish.
      if (entry === undefined || entry.state < PROCESSING) return;
    }
    const prev = entry.prev;
    const next = entry.next;
    if (prev === null) this.#activeHead = next;
    else prev.next = next;
    if (next === null) this.#activeTail = prev;
    else next.prev = prev;
    entry.prev = null;
    entry.next = null;
    this.#processing--;
    if (this.#metrics !== null) this.#metricsDone(entry);
    if (entry.state === PROCESSING_DIRTY) {
      entry.state = QUEUED;
      this.#makeReady(entry);
    } else {
      entry.state = IDLE;
      entry.item = undefined as T;
      if (entry.delay === null && isReference(key)) {
        // An object key is the finished item itself (or part of it): drop the record now, so the queue holds no
        // reference to it (client-go's TestGarbageCollection). Primitive keys take the cheaper bulk rebuild below.
        this.#entries.delete(key);
        this.#recycle(entry);
      } else if (entry.delay === null) {
        const idle = ++this.#idle;
        if (idle > IDLE_REBUILD_MIN && idle > IDLE_REBUILD_RATIO * (this.#entries.size - idle)) this.#rebuild();
      }
    }
    if (this.#processing === 0 && this.#drainWaiters.length > 0) this.#resolveDrain();
  }

  /** @internal `addAfter` with a priority; see {@link DelayingQueue.addAfter}. */
  protected addAfterWithPriority(item: T, delayMs: number, priority: number): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retries.inc();
    // `!(delayMs > 0)` also sends NaN to the immediate path.
    if (!(delayMs > 0)) {
      this.addWithPriority(item, priority);
      return;
    }
    const key = this.#keyOf === null ? item : this.#keyOf(item);
    const readyAt = this.clock.now() + delayMs;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = this.#newEntry(key, undefined as T, IDLE, 0);
      this.#entries.set(key, entry);
    } else if (entry.state === IDLE && entry.delay === null) {
      this.#idle--; // waiting for a delay now: not droppable
    }
    const node = entry.delay;
    if (node !== null) {
      node.item = item;
      if (priority > node.priority) node.priority = priority;
      if (!(readyAt < node.readyAt)) return; // a duplicate keeps the earliest ready time
      // Earlier: a new node replaces the old one, which stays in the heap as a stale node.
      const earlier: DelayNode<T> = { entry, item, readyAt, seq: node.seq, priority: node.priority };
      entry.delay = earlier;
      this.#heap.push(earlier);
      // Stale nodes leave the heap when their (later) time comes; if they pile up meanwhile, drop them now.
      if (this.#heap.size > 2 * this.#delayed + STALE_DELAY_NODES_MAX) this.#heap.retain((n) => n.entry.delay === n);
    } else {
      const created: DelayNode<T> = { entry, item, readyAt, seq: this.#delaySeq++, priority };
      entry.delay = created;
      this.#delayed++;
      this.#heap.push(created);
    }
    if (readyAt < this.#timerAt) this.#arm(readyAt);
  }

  /** @internal Number of keys waiting for a delay. */
  protected delayedCount(): number {
    return this.#delayed;
  }

  /** @internal Number of timers armed for delays so far. */
  protected timerCount(): number {
    return this.#timersArmed;
  }

  /** @internal The metrics of this queue, or null. */
  protected get metrics(): QueueMetrics | null {
    return this.#metrics;
  }

  shutDown(): void {
    this.#shutDown();
    this.#resolveDrain();
  }

  shutDownWithDrain(): Promise<void> {
    this.#shutDown();
    if (this.#processing === 0) {
      this.#resolveDrain();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  items(signal?: AbortSignal): AsyncIterableIterator<T, void> {
    // A hand-written iterator rather than an async generator: a generator costs several promises per item.
    const queue = this;
    let holding = false;
    let current: T | undefined;
    let finished = false;
    const DONE: IteratorReturnResult<void> = { done: true, value: undefined };
    const release = (): void => {
      if (!holding) return;
      holding = false;
      const item = current as T;
      current = undefined;
      queue.done(item);
    };
    const onResult = (result: GetResult<T>): IteratorResult<T, void> => {
      if (result.shutdown) {
        finished = true;
        return DONE;
      }
      holding = true;
      current = result.item;
      return { done: false, value: result.item };
    };
    const iterator: AsyncIterableIterator<T, void> = {
      next(): Promise<IteratorResult<T, void>> {
        release();
        if (finished) return Promise.resolve(DONE);
        if (queue.#ready.size > 0) {
          const entry = queue.#ready.shift();
          queue.#startProcessing(entry);
          holding = true;
          current = entry.item;
          return Promise.resolve({ done: false, value: entry.item });
        }
        return queue.get(signal).then(onResult);
      },
      return(): Promise<IteratorResult<T, void>> {
        release();
        finished = true;
        return Promise.resolve(DONE);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T, void> {
    return this.items();
  }

  /** `await using queue = newQueue()` shuts the queue down when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    this.shutDown();
    return Promise.resolve();
  }

  #shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#metricsTimer?.stop();
    this.#metricsTimer = null;
    // client-go stops its delay loop on shutdown: delayed items are dropped.
    this.#timer?.stop();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    for (const node of this.#heap.clear()) {
      const entry = node.entry;
      if (entry.delay !== node) continue;
      entry.delay = null;
      if (entry.state === IDLE) this.#idle++;
    }
    this.#delayed = 0;
    // Waiters exist only while nothing is ready, so each of them gets `shutdown`.
    for (const w of this.#waiters.drain()) {
      if (w.settled) continue;
      w.settled = true;
      if (w.onAbort !== undefined) w.signal!.removeEventListener("abort", w.onAbort);
      w.resolve(SHUTDOWN);
    }
    this.#abortedWaiters = 0;
  }

  #compactWaiters(): void {
    const live = new Ring<Waiter<T>>();
    for (const w of this.#waiters.drain()) if (!w.settled) live.push(w);
    this.#waiters = live;
    this.#abortedWaiters = 0;
  }

  #resolveDrain(): void {
    const drainWaiters = this.#drainWaiters;
    if (drainWaiters.length === 0) return;
    this.#drainWaiters = [];
    for (const resolve of drainWaiters) resolve();
  }

  #newEntry(key: unknown, item: T, state: number, priority: number): Entry<T> {
    const entry = this.#pool.pop();
    if (entry === undefined) return new Entry<T>(key, item, state, priority);
    entry.key = key;
    entry.item = item;
    entry.state = state;
    entry.priority = priority;
    if (entry.times !== null) {
      entry.times.addedAt = Number.NaN;
      entry.times.startedAt = Number.NaN;
    }
    return entry;
  }

  /** Replaces the key map with one holding only the records in use; idle records go to the pool or are dropped. */
  #rebuild(): void {
    const next = new Map<unknown, Entry<T>>();
    for (const [key, entry] of this.#entries) {
      if (entry.state !== IDLE || entry.delay !== null) {
        next.set(key, entry);
      } else {
        this.#recycle(entry);
      }
    }
    this.#entries = next;
    this.#idle = 0;
  }

  /** Puts a record that left the key map into the pool (or lets it go when the pool is full). */
  #recycle(entry: Entry<T>): void {
    entry.key = undefined;
    entry.state = FREE;
    if (this.#pool.length < ENTRY_POOL_SIZE) this.#pool.push(entry);
  }

  /** `entry` is QUEUED: hand it to a waiting worker, or put it in the ready store. */
  #makeReady(entry: Entry<T>): void {
    const waiters = this.#waiters;
    while (waiters.size > 0) {
      const w = waiters.shift();
      if (w.settled) {
        this.#abortedWaiters--;
        continue;
      }
      w.settled = true;
      if (w.onAbort !== undefined) w.signal!.removeEventListener("abort", w.onAbort);
      this.#startProcessing(entry);
      w.resolve({ item: entry.item, shutdown: false });
      return;
    }
    this.#ready.push(entry);
  }

  #startProcessing(entry: Entry<T>): void {
    entry.state = PROCESSING;
    entry.priority = 0;
    const tail = this.#activeTail;
    entry.prev = tail;
    if (tail === null) this.#activeHead = entry;
    else tail.next = entry;
    this.#activeTail = entry;
    this.#processing++;
    if (this.#metrics !== null) this.#metricsGet(entry);
  }

  #arm(readyAt: number): void {
    this.#timer?.stop();
    this.#timerAt = readyAt;
    this.#timersArmed++;
    this.#timer = this.clock.setTimer(this.#onTimer, Math.min(readyAt - this.clock.now(), MAX_TIMER_DELAY_MS));
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#shuttingDown) return;
    const heap = this.#heap;
    const now = this.clock.now();
    while (heap.size > 0 && heap.peekAt() <= now) {
      const node = heap.pop();
      const entry = node.entry;
      if (entry.delay !== node) continue; // stale: replaced by an earlier node
      entry.delay = null;
      this.#delayed--;
      // The record is still in the key map (records with a delay are never dropped): no lookup needed. It counts
      // as idle-droppable only without a delay, so #addTo must not see the delay just cleared as "no delay".
      if (entry.state === IDLE) this.#idle++;
      this.#addTo(entry, node.item, node.priority);
    }
    // Drop stale nodes on top so the timer is armed for a live one.
    while (heap.size > 0 && heap.peek().entry.delay !== heap.peek()) heap.pop();
    // Real timers may fire a little early (or were capped): the remaining head simply gets the next timer.
    if (heap.size > 0) this.#arm(heap.peekAt());
  };

  #metricsAdd(entry: Entry<T>): void {
    const metrics = this.#metrics!;
    metrics.adds.inc();
    metrics.depth.inc();
    let times = entry.times;
    if (times === null) {
      times = { addedAt: Number.NaN, startedAt: Number.NaN };
      entry.times = times;
    }
    if (Number.isNaN(times.addedAt)) times.addedAt = this.clock.now();
  }

  #metricsGet(entry: Entry<T>): void {
    const metrics = this.#metrics!;
    const now = this.clock.now();
    metrics.depth.dec();
    let times = entry.times;
    if (times === null) {
      times = { addedAt: Number.NaN, startedAt: Number.NaN };
      entry.times = times;
    }
    times.startedAt = now;
    if (!Number.isNaN(times.addedAt)) {
      metrics.latency.observe((now - times.addedAt) / 1000);
      times.addedAt = Number.NaN;
    }
  }

  #metricsDone(entry: Entry<T>): void {
    const times = entry.times;
    if (times === null || Number.isNaN(times.startedAt)) return;
    this.#metrics!.workDuration.observe((this.clock.now() - times.startedAt) / 1000);
    times.startedAt = Number.NaN;
  }

  #scheduleUnfinishedWorkUpdate(): void {
    const timer = this.clock.setTimer(() => {
      if (this.#shuttingDown) return;
      this.#updateUnfinishedWork();
      this.#scheduleUnfinishedWorkUpdate();
    }, UNFINISHED_WORK_UPDATE_PERIOD_MS);
    timer.unref();
    this.#metricsTimer = timer;
  }

  #updateUnfinishedWork(): void {
    const metrics = this.#metrics!;
    const now = this.clock.now();
    let total = 0;
    let oldest = 0;
    for (let e = this.#activeHead; e !== null; e = e.next) {
      const start = e.times?.startedAt ?? Number.NaN;
      if (Number.isNaN(start)) continue;
      const age = (now - start) / 1000;
      total += age;
      if (age > oldest) oldest = age;
    }
    metrics.unfinishedWork.set(total);
    metrics.longestRunning.set(oldest);
  }
}
