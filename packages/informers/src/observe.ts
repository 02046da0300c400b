// What an operator can see: counters every informer keeps, and an observer interface the controller
// package adapts to Prometheus (this package has no metrics dependency).

import type { Logger } from "./logger.ts";

/** Identifies an informer in observations (bounded cardinality: no object names). */
export interface InformerLabels {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** `""` for all namespaces or a cluster-scoped resource. */
  readonly namespace: string;
  readonly labelSelector: string;
  readonly fieldSelector: string;
}

/** Watch event types counted per informer. */
export type CountedEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

/** Where a failure happened. */
export type ReflectorPhase = "list" | "watch" | "watch-list";

/** What the reflector does about a failure. */
export type RecoveryAction =
  /** List again (after a 410, or because the initial state is not known yet). */
  | "relist"
  /** Watch again from the last resource version. */
  | "rewatch"
  /** Give up on watch-list streaming for this attempt (or for good, in `"auto"` mode) and list. */
  | "fallback-to-list"
  /** Skip one bad event and keep watching. */
  | "skip-event"
  /** Nothing: the informer is stopping. */
  | "stop";

/** Given to the watch-error hook for every failure; the informer never gives up silently. */
export interface WatchErrorInfo {
  readonly labels: InformerLabels;
  readonly error: unknown;
  readonly phase: ReflectorPhase;
  readonly action: RecoveryAction;
  /** How long the reflector waits before acting (0 = at once). */
  readonly retryInMs: number;
  /** Failures in a row without a healthy period in between. */
  readonly consecutiveFailures: number;
}

/** A snapshot of one informer's counters. */
export interface InformerCounters {
  /** Completed lists (all pages of one list count once). */
  readonly lists: number;
  /** Pages fetched. */
  readonly listPages: number;
  /** Full (unpaginated) lists after a continue token expired. */
  readonly fullListsAfterExpiredContinue: number;
  /** Watch requests that the server accepted. */
  readonly watchesStarted: number;
  /** Watch-list streams that delivered their initial state. */
  readonly watchListsCompleted: number;
  /** Times watch-list streaming fell back to list + watch. */
  readonly watchListFallbacks: number;
  /** Lists (or watch-lists) after the first, because the watch could not resume (410 …). */
  readonly relists: number;
  readonly events: Readonly<Record<CountedEventType, number>>;
  /** Failures reported to the watch-error hook (list, watch and decode errors, watchdog timeouts …). */
  readonly watchErrors: number;
  /** Watches aborted by the inactivity watchdog. */
  readonly watchdogTimeouts: number;
  /** Events skipped because their object was not what this informer watches. */
  readonly skippedEvents: number;
  /** Errors thrown (or rejected) by event handlers. */
  readonly handlerErrors: number;
  /** Resource version of the last list, event or bookmark applied. */
  readonly lastSyncResourceVersion: string;
  /** Wall-clock time (ms since the epoch) of the last sync (list or watch-list) completed; 0 = none. */
  readonly lastListTime: number;
  readonly synced: boolean;
  /** Objects in the cache. */
  readonly storeSize: number;
  /** Notifications waiting in handler buffers (sum over handlers). */
  readonly pendingNotifications: number;
}

/**
 * Observation hooks, all optional and called synchronously: keep them cheap. An observer that throws
 * is ignored (and logged once).
 */
export interface InformerObserver {
  onListCompleted?(e: {
    readonly labels: InformerLabels;
    readonly items: number;
    readonly pages: number;
    readonly durationMs: number;
    readonly resourceVersion: string;
    /** The resource version asked for (`"0"`, `""` or the last synced one). */
    readonly requestedResourceVersion: string;
  }): void;
  onWatchStarted?(e: {
    readonly labels: InformerLabels;
    readonly resourceVersion: string;
    readonly watchList: boolean;
  }): void;
  onWatchEnded?(e: {
    readonly labels: InformerLabels;
    readonly events: number;
    readonly durationMs: number;
    readonly outcome: "closed" | "error" | "aborted";
  }): void;
  onRelist?(e: { readonly labels: InformerLabels; readonly reason: string }): void;
  onEvent?(e: { readonly labels: InformerLabels; readonly type: CountedEventType }): void;
  onWatchError?(e: WatchErrorInfo): void;
  onSynced?(e: {
    readonly labels: InformerLabels;
    readonly resourceVersion: string;
    readonly durationMs: number;
  }): void;
  onHandlerError?(e: { readonly labels: InformerLabels; readonly handler: string; readonly error: unknown }): void;
}

/** Mutable counters behind `InformerCounters`. */
export class Counters {
  lists = 0;
  listPages = 0;
  fullListsAfterExpiredContinue = 0;
  watchesStarted = 0;
  watchListsCompleted = 0;
  watchListFallbacks = 0;
  relists = 0;
  readonly events: Record<CountedEventType, number> = { ADDED: 0, MODIFIED: 0, DELETED: 0, BOOKMARK: 0 };
  watchErrors = 0;
  watchdogTimeouts = 0;
  skippedEvents = 0;
  handlerErrors = 0;
  lastListTime = 0;
}

/** Calls an observer hook, swallowing (and logging once) what it throws. */
export function safeObserve<E>(
  observer: InformerObserver | undefined,
  hook: keyof InformerObserver,
  event: E,
  logger: Logger,
): void {
  const fn = observer?.[hook] as ((e: E) => void) | undefined;
  if (fn === undefined) return;
  try {
    fn.call(observer, event);
  } catch (err) {
    if (!warnedObservers.has(observer as object)) {
      warnedObservers.add(observer as object);
      logger.warn(
        { hook, error: String(err) },
        "an informer observer threw; further errors of this observer are not logged",
      );
    }
  }
}

const warnedObservers = new WeakSet<object>();
