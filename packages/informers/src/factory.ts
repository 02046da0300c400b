// SharedInformerFactory: one informer per resource + namespace + selectors, shared by everyone who asks,
// started and stopped together.
import type { KubeClient, KubeObject, ResourceDescriptor } from "@minitask/client";
import type { Clock } from "@minitask/workqueue";
import { newSharedIndexInformer, type SharedIndexInformer } from "./informer.ts";
import { consoleLogger, type Logger } from "./logger.ts";
import type { InformerCounters, InformerLabels, InformerObserver, WatchErrorInfo } from "./observe.ts";
import type { ReflectorOptions, WatchListMode } from "./reflector.ts";

/** Options of a {@link SharedInformerFactory}: defaults of every informer it makes. */
export interface SharedInformerFactoryOptions {
  /** Default namespace of informers (default: all namespaces). */
  readonly namespace?: string;
  /** Default resync period of handlers (0 = none). */
  readonly resyncPeriodMs?: number;
  /** Watch-list streaming for initial state: `"auto"` (default), `true` or `false`. */
  readonly watchList?: WatchListMode;
  /** Default label selector of informers. */
  readonly labelSelector?: string;
  /** Default field selector of informers. */
  readonly fieldSelector?: string;
  /** Default transform (default: strip managedFields). */
  readonly transform?: (obj: KubeObject) => KubeObject;
  /** Observation hooks of every informer (the runtime's Prometheus adapter is one). */
  readonly observer?: InformerObserver;
  /** Where informers log (default: {@link consoleLogger}). */
  readonly logger?: Logger;
  /** Called for every list/watch failure of every informer (default: log a warning). */
  readonly watchErrorHandler?: (info: WatchErrorInfo) => void;
  /** Time source of every informer (tests pass a `FakeClock`). */
  readonly clock?: Clock;
  /** Reflector tuning passed to every informer (page size, watchdog, timeouts, backoff …). */
  readonly reflector?: Omit<
    ReflectorOptions,
    "labels" | "labelSelector" | "fieldSelector" | "watchList" | "observer" | "logger" | "onWatchError" | "clock"
  >;
}

/** Which informer `forResource` returns: the factory's defaults unless given here. */
export interface ForResourceOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

interface Entry {
  readonly informer: SharedIndexInformer<KubeObject>;
  run: Promise<void> | undefined;
}

/**
 * Shares one informer per resource, namespace and selectors among everyone who asks (`forResource`),
 * and starts, syncs and stops them together (client-go's `SharedInformerFactory`).
 */
export class SharedInformerFactory {
  readonly #client: KubeClient;
  readonly #options: SharedInformerFactoryOptions;
  readonly #informers = new Map<string, Entry>();
  readonly #stop = new AbortController();
  #shutdown = false;

  constructor(
    client: KubeClient,
    options: {
      namespace?: string;
      resyncPeriodMs?: number;
      watchList?: boolean | "auto";
    } & SharedInformerFactoryOptions = {},
  ) {
    this.#client = client;
    this.#options = options;
  }

  /**
   * The shared informer of a resource: one per resource, namespace and selectors, whoever asks (created on
   * first use; started by the next `start()`). Cluster-scoped resources ignore `namespace`.
   */
  forResource<T extends KubeObject>(
    resource: ResourceDescriptor,
    opts: ForResourceOptions = {},
  ): SharedIndexInformer<T> {
    if (this.#shutdown) throw new Error("the informer factory has been shut down");
    const namespace = resource.namespaced === false ? "" : (opts.namespace ?? this.#options.namespace ?? "");
    const labelSelector = opts.labelSelector ?? this.#options.labelSelector ?? "";
    const fieldSelector = opts.fieldSelector ?? this.#options.fieldSelector ?? "";
    const key = [resource.group, resource.version, resource.resource, namespace, labelSelector, fieldSelector].join(
      "\u0000",
    );
    let entry = this.#informers.get(key);
    if (entry === undefined) {
      const o = this.#options;
      const informer = newSharedIndexInformer<KubeObject>(this.#client, resource, {
        ...o.reflector,
        namespace: namespace || undefined,
        labelSelector,
        fieldSelector,
        ...(o.watchList !== undefined ? { watchList: o.watchList } : {}),
        ...(o.resyncPeriodMs !== undefined ? { resyncPeriodMs: o.resyncPeriodMs } : {}),
        ...(o.transform !== undefined ? { transform: o.transform } : {}),
        ...(o.observer !== undefined ? { observer: o.observer } : {}),
        ...(o.logger !== undefined ? { logger: o.logger } : {}),
        ...(o.watchErrorHandler !== undefined ? { onWatchError: o.watchErrorHandler } : {}),
        ...(o.clock !== undefined ? { clock: o.clock } : {}),
      });
      entry = { informer, run: undefined };
      this.#informers.set(key, entry);
    }
    return entry.informer as unknown as SharedIndexInformer<T>;
  }

  /** Starts every informer not started yet (call again after asking for more informers). */
  start(): void {
    if (this.#shutdown) throw new Error("the informer factory has been shut down");
    for (const entry of this.#informers.values()) {
      if (entry.run !== undefined) continue;
      entry.run = entry.informer.run(this.#stop.signal).catch((err: unknown) => {
        (this.#options.logger ?? consoleLogger).error(
          { error: String(err) },
          `informer ${entry.informer.labels.resource} stopped with an error`,
        );
      });
    }
  }

  /** Resolves true once every started informer has synced; false if `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const started = [...this.#informers.values()].filter((e) => e.run !== undefined);
    const results = await Promise.all(started.map((e) => e.informer.waitForCacheSync(signal)));
    return results.every(Boolean);
  }

  /** Per-informer sync state (client-go's `WaitForCacheSync` map). */
  syncStatus(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const e of this.#informers.values()) out.set(labelsKey(e.informer.labels), e.informer.hasSynced());
    return out;
  }

  /** Counters of every informer. */
  metrics(): { readonly labels: InformerLabels; readonly counters: InformerCounters }[] {
    return [...this.#informers.values()].map((e) => ({ labels: e.informer.labels, counters: e.informer.counters() }));
  }

  /** Stops every informer and waits for them to finish. No new informers afterwards. */
  async shutdown(): Promise<void> {
    this.#shutdown = true;
    this.#stop.abort();
    await Promise.all([...this.#informers.values()].map((e) => e.run));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

function labelsKey(l: InformerLabels): string {
  const gvr = l.group ? `${l.group}/${l.version}/${l.resource}` : `${l.version}/${l.resource}`;
  let s = l.namespace ? `${gvr} in ${l.namespace}` : gvr;
  if (l.labelSelector) s += ` labels(${l.labelSelector})`;
  if (l.fieldSelector) s += ` fields(${l.fieldSelector})`;
  return s;
}
