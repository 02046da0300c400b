// The reflector: keeps a sink (the informer's store) in step with the apiserver by listing and then
// watching, following client-go's resource-version rules. It runs the state machine of
// `reflector-machine.ts`, where the states (Empty, Listing, InitialWatch, Synced, Watching) and the table of
// transitions are; this file is the I/O around that table: each state's request or stream read, the effects
// of each transition (sink calls, counters, observer, reports), the watch-list guard's timer, and the
// backoff, which happens in the run loop between steps. Every failure is reported to the watch-error hook
// (and the observer) with what happens next; nothing is retried silently and nothing gives up.
import {
  isTooManyRequests,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type ObjectWatchEvent,
  type WatchOptions,
  type WatchStream,
} from "@minitask/client";
import { type Clock, realClock, sleep, type Timer } from "@minitask/workqueue";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import {
  Counters,
  type InformerLabels,
  type InformerObserver,
  type RecoveryAction,
  type ReflectorPhase,
  safeObserve,
  type WatchErrorInfo,
} from "./observe.ts";
import {
  describe,
  type Effect,
  type Empty,
  type InitialWatch,
  type Listing,
  listRequest,
  type MachineConfig,
  type Observation,
  type OpenWatch,
  type QuietGuard,
  type ReflectorState,
  recover,
  restart,
  START,
  type Synced,
  type Transition,
  transition,
  type Watching,
  watchRequest,
} from "./reflector-machine.ts";

export {
  isTooLargeResourceVersion,
  MissingInitialEventsEndError,
  ShortWatchError,
  UnexpectedObjectError,
} from "./reflector-machine.ts";

/** The two calls a reflector needs (a `ResourceClient` is one). */
export interface ListerWatcher<T> {
  list(options: ListOptions): Promise<KubeList<T>>;
  watch(options: WatchOptions): Promise<WatchStream<T>>;
}

/** Where the reflector puts what it learns (the informer). Calls happen in arrival order. */
export interface ReflectorSink<T> {
  /**
   * The complete state as of `resourceVersion` (after a list, or a watch-list's initial events).
   * `prepared`: the items already went through `prepare`.
   */
  replace(items: T[], resourceVersion: string, prepared?: boolean): void;
  /**
   * What the sink does to each object before keeping it (the informer's transform). When present, a
   * watch-list's initial events are prepared as they arrive, so that only prepared objects accumulate
   * until the initial-events-end bookmark rather than every object as decoded.
   */
  prepare?(obj: T): T;
  added(obj: T): void;
  modified(obj: T): void;
  deleted(obj: T): void;
}

/** Whether to use watch-list streaming for the initial state (and relists). */
export type WatchListMode = boolean | "auto";

/** How a {@link Reflector} lists and watches; every field has a default. */
export interface ReflectorOptions {
  readonly labels?: Partial<InformerLabels>;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** Page size of lists. Default 500. */
  readonly pageSize?: number;
  /**
   * Serve the first list from the apiserver's watch cache (`resourceVersion=0`, as client-go does;
   * the cache ignores `limit`). `false`: a consistent, paginated list. Default true.
   */
  readonly listFromWatchCache?: boolean;
  /**
   * Watch-list streaming (`sendInitialEvents`). `"auto"` (default): use it, and stop using it once the
   * server shows it does not support it. `true`: always try first. `false`: list + watch.
   */
  readonly watchList?: WatchListMode;
  /** Watch timeouts are drawn uniformly from [min, max) seconds. Default 300–600 (5–10 minutes). */
  readonly minWatchTimeoutSeconds?: number;
  readonly maxWatchTimeoutSeconds?: number;
  /**
   * Inactivity watchdog: a watch that receives no bytes for this long is aborted and re-opened from the
   * last resource version. Default 180 s (the apiserver sends a bookmark about every minute); 0 disables.
   */
  readonly watchIdleTimeoutMs?: number;
  /**
   * Watch-list guard: when no event arrives for this long before the initial-events-end bookmark, the
   * server is assumed not to support watch-list and the reflector falls back to list + watch.
   * Default 30 s.
   */
  readonly initialEventsEndTimeoutMs?: number;
  /** A watch that ends cleanly this soon with no event counts as a failure (backs off). Default 1 s. */
  readonly minWatchDurationMs?: number;
  readonly backoff?: BackoffOptions;
  /** Kind of the watched objects (`ConfigMap`); events carrying another kind are skipped and reported. */
  readonly expectedKind?: string | undefined;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly observer?: InformerObserver | undefined;
  readonly logger?: Logger;
  /** Called for every failure, with what happens next. Default: log a warning. */
  readonly onWatchError?: ((info: WatchErrorInfo) => void) | undefined;
}

const DEFAULT_LABELS: InformerLabels = {
  group: "",
  version: "",
  resource: "",
  namespace: "",
  labelSelector: "",
  fieldSelector: "",
};

/**
 * Lists and watches one resource into a {@link ReflectorSink}, as client-go's `Reflector` does: the first
 * list from the watch cache, a relist "not older than" the last resource version after a 410, a
 * consistent read when that is refused too, bookmarks, watch-list streaming with a fallback, a watchdog,
 * and backoff between failures. Its state machine is in `reflector-machine.ts`.
 */
export class Reflector<T extends KubeObject> {
  readonly #lw: ListerWatcher<T>;
  readonly #sink: ReflectorSink<T>;
  readonly #labels: InformerLabels;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: Backoff;
  readonly #observer: InformerObserver | undefined;
  readonly #logger: Logger;
  readonly #onWatchError: ((info: WatchErrorInfo) => void) | undefined;
  readonly #machine: MachineConfig;
  readonly #pageSize: number;
  readonly #watchListMode: WatchListMode;
  readonly #minTimeout: number;
  readonly #maxTimeout: number;
  readonly #idleTimeoutMs: number;
  readonly #labelSelector: string | undefined;
  readonly #fieldSelector: string | undefined;
  readonly counters = new Counters();

  /** Where the reflector stands; the only holder of the resource version. */
  #state: ReflectorState<T> = START;
  /** `"auto"` mode: false once the server has shown it does not do watch-list. */
  #watchListUsable = true;
  #running = false;
  #startedAt = 0;
  #syncedOnce = false;

  constructor(lw: ListerWatcher<T>, sink: ReflectorSink<T>, options: ReflectorOptions = {}) {
    this.#lw = lw;
    this.#sink = sink;
    this.#labels = { ...DEFAULT_LABELS, ...options.labels };
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = new Backoff(options.backoff ?? {}, this.#clock, this.#random);
    this.#observer = options.observer;
    this.#logger = options.logger ?? consoleLogger;
    this.#onWatchError = options.onWatchError;
    this.#machine = {
      expectedKind: options.expectedKind,
      listFromWatchCache: options.listFromWatchCache ?? true,
      minWatchDurationMs: options.minWatchDurationMs ?? 1000,
      initialEventsEndTimeoutMs: options.initialEventsEndTimeoutMs ?? 30_000,
    };
    this.#pageSize = options.pageSize ?? 500;
    this.#watchListMode = options.watchList ?? "auto";
    this.#minTimeout = options.minWatchTimeoutSeconds ?? 300;
    this.#maxTimeout = Math.max(this.#minTimeout, options.maxWatchTimeoutSeconds ?? 600);
    this.#idleTimeoutMs = options.watchIdleTimeoutMs ?? 180_000;
    this.#labelSelector = options.labelSelector || undefined;
    this.#fieldSelector = options.fieldSelector || undefined;
  }

  get labels(): InformerLabels {
    return this.#labels;
  }

  /** Resource version of the last list, event or bookmark applied (`""` before the first sync). */
  lastSyncResourceVersion(): string {
    return this.#state.rv;
  }

  /** Whether the next sync will use watch-list streaming. */
  usesWatchList(): boolean {
    if (this.#watchListMode === false) return false;
    if (this.#watchListMode === "auto") return this.#watchListUsable;
    return true;
  }

  /** Runs until `signal` aborts. Never rejects because of API failures (they are reported). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error("reflector is already running");
    this.#running = true;
    this.#startedAt = this.#clock.now();
    this.#restart();
    try {
      while (!signal.aborted) {
        let wait: number;
        try {
          const state = this.#state;
          let seen: Observation<T>;
          if (state.kind === "Watching" || state.kind === "InitialWatch") {
            // A stream is read in the loop itself: one await per event (the hot path).
            try {
              seen = this.#read(state, await state.watch.events.next());
            } catch (error) {
              seen = this.#failed(error, signal);
            }
          } else {
            seen = await this.#request(state, signal);
          }
          wait = this.#enter(transition(state, seen, this.#machine));
        } catch (err) {
          if (signal.aborted) break;
          // Only a bug gets here (the steps turn API failures into observations): report it, start over.
          wait = this.#enter(recover(this.#state, err));
        }
        // The backoff: between steps, never inside one.
        if (wait > 0) await this.#sleep(wait, signal);
      }
    } finally {
      this.#restart();
      this.#running = false;
    }
  }

  /** Back to Empty at the same position (a run starts and ends there), closing any stream. */
  #restart(): void {
    this.#release(this.#state, undefined);
    this.#state = restart(this.#state);
  }

  // ---- the I/O of each state: what it observes

  /** The request of a state without a stream: a list page, a watch to open, or none. */
  #request(state: Empty | Listing<T> | Synced, signal: AbortSignal): Promise<Observation<T>> | Observation<T> {
    switch (state.kind) {
      case "Empty":
        return this.usesWatchList() ? this.#openWatch(state, signal) : { kind: "start", at: this.#clock.now() };
      case "Listing":
        return this.#listPage(state, signal);
      case "Synced":
        return this.#openWatch(state, signal);
    }
  }

  async #listPage(state: Listing<T>, signal: AbortSignal): Promise<Observation<T>> {
    let list: KubeList<T>;
    try {
      list = await this.#lw.list({
        labelSelector: this.#labelSelector,
        fieldSelector: this.#fieldSelector,
        ...listRequest(state, this.#pageSize),
        signal,
        retry: false,
      });
    } catch (error) {
      return this.#failed(error, signal);
    }
    return { kind: "page", list, at: this.#clock.now() };
  }

  /** A watch-list from Empty, a watch from Synced. */
  async #openWatch(state: Empty | Synced, signal: AbortSignal): Promise<Observation<T>> {
    let stream: WatchStream<T>;
    try {
      stream = await this.#lw.watch({
        labelSelector: this.#labelSelector,
        fieldSelector: this.#fieldSelector,
        ...watchRequest(state),
        allowWatchBookmarks: true,
        timeoutSeconds: this.#watchTimeout(),
        idleTimeoutMs: this.#idleTimeoutMs > 0 ? this.#idleTimeoutMs : undefined,
        signal,
        retry: false,
      });
    } catch (error) {
      return this.#failed(error, signal);
    }
    const guard =
      state.kind === "Empty"
        ? new InitialEventsGuard(this.#clock, this.#machine.initialEventsEndTimeoutMs, () => stream.close())
        : undefined;
    const watch: OpenWatch<T> = {
      stream,
      events: stream[Symbol.asyncIterator](),
      startedAt: this.#clock.now(),
      guard,
    };
    return { kind: "opened", watch };
  }

  /** What the next item of a stream is: an event, or its end. */
  #read(state: InitialWatch<T> | Watching<T>, next: IteratorResult<ObjectWatchEvent<T>>): Observation<T> {
    const guard = state.kind === "InitialWatch" ? state.watch.guard : undefined;
    if (next.done) {
      const at = this.#clock.now();
      return guard?.fired ? { kind: "quiet", at } : { kind: "ended", at };
    }
    guard?.touch();
    return { kind: "event", event: next.value };
  }

  #failed(error: unknown, signal: AbortSignal): Observation<T> {
    const at = this.#clock.now();
    return signal.aborted ? { kind: "aborted", at } : { kind: "failed", error, at };
  }

  // ---- a transition: its effects, then the next state

  /** Carries out a transition; returns how long to back off before the next step (ms). */
  #enter(t: Transition<T>): number {
    let wait = 0;
    for (const effect of t.effects) {
      const w = this.#effect(effect);
      if (w > wait) wait = w;
    }
    this.#release(this.#state, t.next);
    this.#state = t.next;
    return wait;
  }

  /** Closes what `from` holds and `to` does not keep (its stream, the watch-list guard). */
  #release(from: ReflectorState<T>, to: ReflectorState<T> | undefined): void {
    if (from.kind !== "InitialWatch" && from.kind !== "Watching") return;
    const kept = to !== undefined && (to.kind === "InitialWatch" || to.kind === "Watching") ? to.watch : undefined;
    if (to?.kind !== "InitialWatch") from.watch.guard?.stop();
    if (kept !== from.watch) from.watch.stream.close();
  }

  #effect(e: Effect<T>): number {
    switch (e.type) {
      case "apply":
        this.#count(e.event);
        if (e.event === "ADDED") this.#sink.added(e.obj);
        else if (e.event === "MODIFIED") this.#sink.modified(e.obj);
        else this.#sink.deleted(e.obj);
        return 0;
      case "collect":
        this.#count(e.event);
        if (e.event === "DELETED") e.into.delete(e.key);
        else e.into.set(e.key, this.#sink.prepare ? this.#sink.prepare(e.obj) : e.obj);
        return 0;
      case "bookmark":
        this.#count("BOOKMARK");
        return 0;
      case "listed":
        this.counters.lists++;
        this.counters.listPages += e.pages;
        this.counters.lastListTime = Date.now();
        this.#sink.replace(e.items, e.rv);
        safeObserve(
          this.#observer,
          "onListCompleted",
          {
            labels: this.#labels,
            items: e.items.length,
            pages: e.pages,
            durationMs: e.durationMs,
            resourceVersion: e.rv,
            requestedResourceVersion: e.requested,
          },
          this.#logger,
        );
        return 0;
      case "initial-events-end":
        this.#replaceWithInitial(e.initial, e.rv);
        return 0;
      case "synced":
        this.#markSynced(e.rv);
        return 0;
      case "healthy":
        this.#backoff.healthy();
        return 0;
      case "watch-started":
        this.counters.watchesStarted++;
        safeObserve(
          this.#observer,
          "onWatchStarted",
          { labels: this.#labels, resourceVersion: e.rv, watchList: e.watchList },
          this.#logger,
        );
        return 0;
      case "watch-ended":
        safeObserve(
          this.#observer,
          "onWatchEnded",
          { labels: this.#labels, events: e.events, durationMs: e.durationMs, outcome: e.outcome },
          this.#logger,
        );
        return 0;
      case "relist":
        this.counters.relists++;
        safeObserve(this.#observer, "onRelist", { labels: this.#labels, reason: e.reason }, this.#logger);
        return 0;
      case "watchdog":
        this.counters.watchdogTimeouts++;
        return 0;
      case "expired-continue":
        this.counters.fullListsAfterExpiredContinue++;
        return 0;
      case "watch-list-unsupported":
        this.counters.watchListFallbacks++;
        if (this.#watchListMode === "auto") this.#watchListUsable = false;
        return 0;
      case "skipped":
        this.counters.skippedEvents++;
        return 0;
      case "report": {
        const wait = e.backoff ? this.#retryWait(e.error) : 0;
        this.#report(e.error, e.phase, e.action, wait);
        return wait;
      }
    }
  }

  /**
   * The end of a watch-list's initial events: the collected objects replace the cache's contents. (A
   * helper, and the map emptied: an async function suspended for the rest of the watch keeps whatever
   * its registers last held, and a local array of the initial objects once stayed reachable for the
   * whole watch — measured: 10,000 untrimmed pods, ~50 MB, behind a transform that builds new objects.)
   */
  #replaceWithInitial(initial: Map<string, T>, rv: string): void {
    const items = [...initial.values()];
    initial.clear();
    this.counters.watchListsCompleted++;
    this.counters.lastListTime = Date.now();
    this.#sink.replace(items, rv, this.#sink.prepare !== undefined);
  }

  #count(type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"): void {
    this.counters.events[type]++;
    if (this.#observer?.onEvent) safeObserve(this.#observer, "onEvent", { labels: this.#labels, type }, this.#logger);
  }

  #markSynced(rv: string): void {
    if (this.#syncedOnce) return;
    this.#syncedOnce = true;
    safeObserve(
      this.#observer,
      "onSynced",
      { labels: this.#labels, resourceVersion: rv, durationMs: this.#clock.now() - this.#startedAt },
      this.#logger,
    );
  }

  #watchTimeout(): number {
    return Math.floor(this.#minTimeout + this.#random() * (this.#maxTimeout - this.#minTimeout));
  }

  /** Backoff for a failure, honouring the server's Retry-After on 429. */
  #retryWait(err: unknown): number {
    const wait = this.#backoff.next();
    if (isTooManyRequests(err) && err.retryAfterSeconds !== undefined) {
      return Math.max(wait, err.retryAfterSeconds * 1000);
    }
    return wait;
  }

  #report(error: unknown, phase: ReflectorPhase, action: RecoveryAction, retryInMs: number): void {
    this.counters.watchErrors++;
    const info: WatchErrorInfo = {
      labels: this.#labels,
      error,
      phase,
      action,
      retryInMs,
      consecutiveFailures: this.#backoff.failures,
    };
    safeObserve(this.#observer, "onWatchError", info, this.#logger);
    if (this.#onWatchError !== undefined) {
      try {
        this.#onWatchError(info);
        return;
      } catch (err) {
        this.#logger.warn({ error: String(err) }, "the watch-error hook threw");
      }
    }
    this.#logger.warn(
      { retryInMs, consecutiveFailures: info.consecutiveFailures },
      `${resourceName(this.#labels)}: ${phase} failed (${describe(error)}); ${action}`,
    );
  }

  async #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0 || signal.aborted) return;
    try {
      await sleep(this.#clock, ms, signal);
    } catch {
      // aborted: the loop checks the signal
    }
  }
}

/**
 * The watch-list guard: when no event arrives for `quietMs` before the initial-events-end bookmark, it
 * closes the stream (the server is taken not to support watch-list). One timer per stream, not one per
 * event: when it fires it checks how long ago the last event came, and re-arms for the rest.
 */
class InitialEventsGuard implements QuietGuard {
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #onQuiet: () => void;
  #timer: Timer | undefined;
  #lastEventAt: number;
  #fired = false;

  constructor(clock: Clock, quietMs: number, onQuiet: () => void) {
    this.#clock = clock;
    this.#quietMs = quietMs;
    this.#onQuiet = onQuiet;
    this.#lastEventAt = clock.now();
    this.#arm(quietMs);
  }

  get fired(): boolean {
    return this.#fired;
  }

  touch(): void {
    this.#lastEventAt = this.#clock.now();
  }

  stop(): void {
    this.#timer?.stop();
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    this.#timer = this.#clock.setTimer(() => {
      const quiet = this.#clock.now() - this.#lastEventAt;
      if (quiet < this.#quietMs) {
        this.#arm(this.#quietMs - quiet);
        return;
      }
      this.#timer = undefined;
      this.#fired = true;
      this.#onQuiet();
    }, delayMs);
  }
}

function resourceName(l: InformerLabels): string {
  const gr = l.group ? `${l.resource}.${l.group}` : l.resource;
  return l.namespace ? `${gr} in ${l.namespace}` : gr;
}
