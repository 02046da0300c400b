// The Events of one run, for its page: the controller's (about the TaskRun, by uid) and the scheduler's and
// kubelet's (about each of its pods, by name), each kept by a small informer of its own on a field selector —
// opened when the first browser shows the run and stopped when the last one leaves. No apiserver traffic for
// runs nobody is looking at, and none per browser.
import { builtinResources, type DeepReadonly, type KubeClient, type KubeObject } from "@minitask/client";
import { type Logger, newSharedIndexInformer, type SharedIndexInformer, silentLogger } from "@minitask/informers";

/** The fields of a core/v1 Event the page shows. */
export interface CoreEvent extends KubeObject {
  involvedObject?: { kind?: string; name?: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  source?: { component?: string };
  reportingComponent?: string;
}

/** One row of the run page's events table. */
export interface EventView {
  readonly uid: string;
  /** `Normal` or `Warning`. */
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  /** `TaskRun` or `Pod <name>`. */
  readonly object: string;
  readonly source: string;
  readonly count: number;
  /** When it last happened (RFC 3339). */
  readonly time: string;
}

/** The newest this many events of a run are shown. */
export const MAX_EVENTS = 200;

export function eventView(e: DeepReadonly<CoreEvent>): EventView {
  const kind = e.involvedObject?.kind ?? "";
  return {
    uid: e.metadata?.uid ?? e.metadata?.name ?? "",
    type: e.type ?? "",
    reason: e.reason ?? "",
    message: e.message ?? "",
    object: kind === "Pod" ? `Pod ${e.involvedObject?.name ?? ""}` : kind,
    source: e.reportingComponent || e.source?.component || "",
    count: e.series?.count ?? e.count ?? 1,
    time:
      e.series?.lastObservedTime ||
      e.lastTimestamp ||
      e.eventTime ||
      e.firstTimestamp ||
      e.metadata?.creationTimestamp ||
      "",
  };
}

/** Keeps only what {@link eventView} reads. */
function trimEvent(e: CoreEvent): CoreEvent {
  const { involvedObject: o, metadata: m } = e;
  return {
    metadata: {
      ...(m?.name !== undefined ? { name: m.name } : {}),
      ...(m?.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m?.uid !== undefined ? { uid: m.uid } : {}),
      ...(m?.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m?.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
    },
    involvedObject: { ...(o?.kind ? { kind: o.kind } : {}), ...(o?.name ? { name: o.name } : {}) },
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    ...(e.message !== undefined ? { message: e.message } : {}),
    ...(e.type !== undefined ? { type: e.type } : {}),
    ...(e.count !== undefined ? { count: e.count } : {}),
    ...(e.firstTimestamp ? { firstTimestamp: e.firstTimestamp } : {}),
    ...(e.lastTimestamp ? { lastTimestamp: e.lastTimestamp } : {}),
    ...(e.eventTime ? { eventTime: e.eventTime } : {}),
    ...(e.series ? { series: e.series } : {}),
    ...(e.source?.component ? { source: { component: e.source.component } } : {}),
    ...(e.reportingComponent ? { reportingComponent: e.reportingComponent } : {}),
  };
}

/** Makes the informer of one field selector (tests pass a fake). */
export type EventInformerFactory = (namespace: string, fieldSelector: string) => SharedIndexInformer<CoreEvent>;

/** Informers over the apiserver's core/v1 Events (the store events.k8s.io/v1 writes to, too). */
export function apiEventInformers(client: KubeClient, logger: Logger = silentLogger): EventInformerFactory {
  return (namespace, fieldSelector) =>
    newSharedIndexInformer<CoreEvent>(client, builtinResources.events, {
      namespace,
      fieldSelector,
      transform: trimEvent,
      logger,
    });
}

interface Feed {
  readonly informer: SharedIndexInformer<CoreEvent>;
  readonly abort: AbortController;
}

/** The events of one run: its own and its pods'. `onChange` is called (often) when any of them changes. */
export class RunEvents {
  readonly #namespace: string;
  readonly #factory: EventInformerFactory;
  readonly #onChange: () => void;
  readonly #feeds = new Map<string, Feed>();
  #closed = false;

  constructor(namespace: string, runUid: string, factory: EventInformerFactory, onChange: () => void) {
    this.#namespace = namespace;
    this.#factory = factory;
    this.#onChange = onChange;
    this.#add(`involvedObject.uid=${runUid}`);
  }

  /** Follows the events of these pods too (the run's pods, as attempts are made). */
  addPods(pods: readonly string[]): void {
    for (const pod of pods) this.#add(`involvedObject.kind=Pod,involvedObject.name=${pod}`);
  }

  /** The events, oldest first, the newest {@link MAX_EVENTS}. */
  list(): EventView[] {
    const seen = new Map<string, EventView>();
    for (const f of this.#feeds.values()) {
      for (const e of f.informer.getIndexer().list()) {
        const v = eventView(e);
        seen.set(v.uid, v);
      }
    }
    const at = (v: EventView) => Date.parse(v.time) || 0;
    return [...seen.values()].sort((a, b) => at(a) - at(b)).slice(-MAX_EVENTS);
  }

  close(): void {
    this.#closed = true;
    for (const f of this.#feeds.values()) f.abort.abort();
    this.#feeds.clear();
  }

  #add(fieldSelector: string): void {
    if (this.#closed || this.#feeds.has(fieldSelector)) return;
    const informer = this.#factory(this.#namespace, fieldSelector);
    const changed = () => this.#onChange();
    informer.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
    const abort = new AbortController();
    this.#feeds.set(fieldSelector, { informer, abort });
    void informer.run(abort.signal).catch(() => {});
  }
}
