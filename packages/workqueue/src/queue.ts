// The work queue: client-go's `util/workqueue` contract in single-threaded TypeScript.
//
// Three sets of keys make "never two workers on one key" and "never lose a key" true:
//   dirty      — keys that need processing (waiting, or re-added while being processed), with their latest item;
//   ready      — the keys of `dirty` that are not being processed, in hand-out order (FIFO, or by priority);
//   processing — keys handed out by `get` and not yet `done`.
// A key re-added while it is processing only lands in `dirty`; `done` moves it to `ready`. A key already in `dirty`
// is not added twice. Workers waiting in `get` are served directly when an item becomes ready.

import { type Clock, realClock, type Timer } from "./clock.ts";
import {
  createQueueMetrics,
  type MetricsProvider,
  type QueueMetrics,
  UNFINISHED_WORK_UPDATE_PERIOD_MS,
} from "./metrics.ts";
import {
  Entry,
  FifoStore,
  FREE,
  IDLE,
  nextSeq,
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
  items(signal?: AbortSignal): AsyncGenerator<T, void, undefined>;
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
/** Up to this many records in flight, `done` finds its record by scanning them instead of hashing the key. */
const ACTIVE_SCAN_LIMIT = 8;
/** How many done records (the most recent) stay in the key map, idle. */
const IDLE_KEEP = 1024;
/** Idle records are forgotten in batches of this many (tight loops over the map are much cheaper). */
const IDLE_EVICT_BATCH = 64;

const SHUTDOWN: GetResult<never> = Object.freeze({ shutdown: true as const });
const SHUTDOWN_PROMISE: Promise<GetResult<never>> = Promise.resolve(SHUTDOWN);

interface Waiter<T> {
  resolve: (result: GetResult<T>) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
}

/** The basic work queue (client-go's `workqueue.Typed`). Create it with {@link newQueue}. */
export class WorkQueue<T> implements Queue<T> {
  readonly #keyOf: KeyFunction<T> | null;
  /** A record for every key that is queued or processing, and for up to IDLE_KEEP keys done recently. */
  readonly #entries = new Map<unknown, Entry<T>>();
  /** The records in state PROCESSING or PROCESSING_DIRTY (each knows its index). */
  readonly #active: Entry<T>[] = [];
  /** Records in state IDLE (done, not dirty), still in `#entries`. */
  #idle = 0;
  /** Positions of idle records, oldest first, with the `seq` each had when it became idle. */
  readonly #idleEntries = new Ring<Entry<T>>();
  readonly #idleSeqs = new Ring<number>();
  /** Recycled records: a steady stream of adds and dones allocates none. */
  readonly #pool: Entry<T>[] = [];
  readonly #ready: ReadyStore<T>;
  #waiters = new Ring<Waiter<T>>();
  /** Waiters in `#waiters` whose signal aborted (skipped when serving, compacted when they pile up). */
  #abortedWaiters = 0;
  #shuttingDown = false;
  #drainWaiters: (() => void)[] = [];
  readonly #metrics: QueueMetrics | null;
  readonly #addTimes: Map<unknown, number> | null;
  readonly #startTimes: Map<unknown, number> | null;
  #metricsTimer: Timer | null = null;
  /** The clock of this queue. */
  readonly clock: Clock;

  constructor(options: QueueOptions<T> = {}) {
    this.#keyOf = options.keyOf ?? null;
    this.clock = options.clock ?? realClock;
    this.#ready = options.priority === true ? new PriorityStore<T>() : new FifoStore<T>();
    this.#metrics = createQueueMetrics(options.metricsProvider, options.name ?? "");
    this.#addTimes = this.#metrics === null ? null : new Map();
    this.#startTimes = this.#metrics === null ? null : new Map();
    if (this.#metrics !== null) this.#scheduleUnfinishedWorkUpdate();
  }

  /** @internal The metrics of this queue, or null. */
  protected get metrics(): QueueMetrics | null {
    return this.#metrics;
  }

  /** @internal */
  protected keyOf(item: T): unknown {
    return this.#keyOf === null ? item : this.#keyOf(item);
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
      const pool = this.#pool;
      let created: Entry<T>;
      if (pool.length > 0) {
        created = pool.pop()!;
        created.key = key;
        created.item = item;
        created.state = QUEUED;
        created.priority = priority;
      } else {
        created = new Entry<T>(key, item, QUEUED, priority);
      }
      this.#entries.set(key, created);
      if (this.#metrics !== null) this.#metricsAdd(key);
      this.#makeReady(created);
      return;
    }
    if (entry.state === IDLE) {
      entry.state = QUEUED;
      entry.item = item;
      entry.priority = priority;
      this.#idle--;
      if (this.#metrics !== null) this.#metricsAdd(key);
      this.#makeReady(entry);
      return;
    }
    const state = entry.state;
    if (state === PROCESSING) {
      // Re-added while being processed: remember it, `done` makes it ready again.
      entry.state = PROCESSING_DIRTY;
      entry.item = item;
      entry.priority = priority;
      if (this.#metrics !== null) this.#metricsAdd(key);
      return;
    }
    // Already waiting (QUEUED or PROCESSING_DIRTY): collapse into it; the newest item wins, priority only rises.
    entry.item = item;
    if (priority > entry.priority) {
      entry.priority = priority;
      if (state === QUEUED) this.#ready.raise(entry);
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
    // Few items are processed at once (one per worker), so a scan of them usually finds the record without
    // hashing the key; the map answers otherwise (many in flight, or keys `===` cannot match, such as NaN).
    const active = this.#active;
    let entry: Entry<T> | undefined;
    if (active.length <= ACTIVE_SCAN_LIMIT) {
      for (let i = 0; i < active.length; i++) {
        const e = active[i]!;
        if (e.key === key) {
          entry = e;
          break;
        }
      }
    }
    if (entry === undefined) {
      entry = this.#entries.get(key);
      // Not being processed (unknown, waiting, or already done): nothing to finish.
      if (entry === undefined || entry.state < PROCESSING) return;
    }
    const last = active.pop()!;
    if (last !== entry) {
      active[entry.activeIndex] = last;
      last.activeIndex = entry.activeIndex;
    }
    entry.activeIndex = -1;
    if (this.#metrics !== null) this.#metricsDone(key);
    if (entry.state === PROCESSING_DIRTY) {
      entry.state = QUEUED;
      this.#makeReady(entry);
      if (active.length === 0 && this.#drainWaiters.length > 0) this.#resolveDrain();
      return;
    }
    // The record stays in the map, idle, until IDLE_KEEP newer records are idle: deleting every key from a Map as
    // soon as it is done makes V8 shrink and regrow the table whenever the number of keys swings, which costs more
    // than the rest of the queue. An idle record is also reused as is when its key is added again.
    entry.state = IDLE;
    entry.item = undefined as T;
    const seq = nextSeq();
    entry.seq = seq;
    this.#idleEntries.push(entry);
    this.#idleSeqs.push(seq);
    if (++this.#idle > IDLE_KEEP + IDLE_EVICT_BATCH || this.#idleEntries.size > 2 * IDLE_KEEP) this.#evictIdle();
    if (active.length === 0 && this.#drainWaiters.length > 0) this.#resolveDrain();
  }

  shutDown(): void {
    this.#shutDown();
    this.#resolveDrain();
  }

  shutDownWithDrain(): Promise<void> {
    this.#shutDown();
    if (this.#active.length === 0) {
      this.#resolveDrain();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async *items(signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const result = await this.get(signal);
      if (result.shutdown) return;
      try {
        yield result.item;
      } finally {
        this.done(result.item);
      }
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this.items();
  }

  /** `await using queue = newQueue()` shuts the queue down when the scope ends. */
  [Symbol.asyncDispose](): Promise<void> {
    this.shutDown();
    return Promise.resolve();
  }

  /** @internal Called once when the queue starts shutting down; subclasses release their timers here. */
  protected onShutDown(): void {}

  #shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#metricsTimer?.stop();
    this.#metricsTimer = null;
    this.onShutDown();
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

  /** Forgets the oldest idle records until at most IDLE_KEEP remain (and drops stale positions on the way). */
  #evictIdle(): void {
    const entries = this.#idleEntries;
    const seqs = this.#idleSeqs;
    while (this.#idle > IDLE_KEEP || entries.size > 2 * IDLE_KEEP) {
      const entry = entries.shift();
      const seq = seqs.shift();
      // A position is stale when its record was reused since (added again, or recycled for another key).
      if (entry.state !== IDLE || entry.seq !== seq) continue;
      this.#entries.delete(entry.key);
      this.#idle--;
      entry.state = FREE;
      entry.key = undefined;
      if (this.#pool.length < ENTRY_POOL_SIZE) this.#pool.push(entry);
    }
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
    entry.activeIndex = this.#active.length;
    this.#active.push(entry);
    if (this.#metrics !== null) this.#metricsGet(entry.key);
  }

  #metricsAdd(key: unknown): void {
    const metrics = this.#metrics!;
    metrics.adds.inc();
    metrics.depth.inc();
    if (!this.#addTimes!.has(key)) this.#addTimes!.set(key, this.clock.now());
  }

  #metricsGet(key: unknown): void {
    const metrics = this.#metrics!;
    const now = this.clock.now();
    metrics.depth.dec();
    this.#startTimes!.set(key, now);
    const added = this.#addTimes!.get(key);
    if (added !== undefined) {
      metrics.latency.observe((now - added) / 1000);
      this.#addTimes!.delete(key);
    }
  }

  #metricsDone(key: unknown): void {
    const start = this.#startTimes!.get(key);
    if (start !== undefined) {
      this.#metrics!.workDuration.observe((this.clock.now() - start) / 1000);
      this.#startTimes!.delete(key);
    }
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
    for (const start of this.#startTimes!.values()) {
      const age = (now - start) / 1000;
      total += age;
      if (age > oldest) oldest = age;
    }
    metrics.unfinishedWork.set(total);
    metrics.longestRunning.set(oldest);
  }
}
