// The controller builder (controller-runtime's `builder.ControllerManagedBy(m).For().Owns().Watches()`):
// names the primary resource, the resources it owns and any other resource whose changes should wake it,
// registers their shared informers with the Manager's factory, wires event handlers that map each event
// to primary keys, and adds the finished Controller to the Manager.
//
//   controllerFor(manager, TaskRunResource)
//     .owns(builtinResources.pods, { labelSelector: "app.kubernetes.io/managed-by=me" })
//     .watches(TaskResource, (task) => runsOf(task))
//     .withPredicates(resourceVersionChanged)
//     .complete(reconcile);
import type { DeepReadonly, KubeObject, ResourceDescriptor } from "@minitask/client";
import type { ForResourceOptions, HandlerRegistration, SharedIndexInformer } from "@minitask/informers";
import { Controller, type ControllerOptions, type ReconcileFunc, type Syncable } from "./controller.ts";
import { enqueueMapped, enqueueObject, enqueueOwner, type KeyMapper, type OwnerMatch } from "./enqueue.ts";
import type { Manager } from "./manager.ts";
import { filterEvents, type Predicate } from "./predicates.ts";
import { bucketOf } from "./sharding.ts";

/** Which objects of a watched resource to cache and what to do with them before they are stored. */
export interface WatchOptions<T extends KubeObject> extends ForResourceOptions {
  /** Trims objects before the cache stores them (set once per shared informer, before the Manager starts). */
  readonly transform?: (obj: T) => T;
  /** Events of this watch that pass every predicate reach the queue. */
  readonly predicates?: readonly Predicate<T>[];
}

/** Controller settings the builder does not derive. */
export type BuilderControllerOptions = Omit<ControllerOptions, "reconcile" | "waitFor" | "logger" | "metrics">;

interface Watch {
  readonly resource: ResourceDescriptor;
  readonly options: WatchOptions<KubeObject>;
  /** Makes the handler given the queue and the primary's owner identity. */
  readonly handler: (sink: Controller["queue"], owner: OwnerMatch) => ReturnType<typeof enqueueObject>;
}

/** Builds one controller; see {@link controllerFor}. */
export class ControllerBuilder<T extends KubeObject> {
  readonly #manager: Manager;
  readonly #primary: ResourceDescriptor & { readonly kind: string };
  readonly #watches: Watch[] = [];
  readonly #filters: Predicate<KubeObject>[] = [];
  #options: Partial<BuilderControllerOptions> = {};

  constructor(manager: Manager, primary: ResourceDescriptor, options: WatchOptions<T> = {}) {
    if (!primary.kind) throw new TypeError(`controllerFor: the resource ${primary.resource} needs its kind`);
    this.#manager = manager;
    this.#primary = primary as ResourceDescriptor & { readonly kind: string };
    this.#watches.push({
      resource: primary,
      options: options as unknown as WatchOptions<KubeObject>,
      handler: (sink) => enqueueObject<KubeObject>(sink),
    });
  }

  /**
   * Also watch a resource the primary creates and controls: each event enqueues the object's controller
   * owner (the owner reference with `controller: true` of the primary's kind and group) — never a label.
   */
  owns<C extends KubeObject>(resource: ResourceDescriptor, options: WatchOptions<C> = {}): this {
    this.#watches.push({
      resource,
      options: options as unknown as WatchOptions<KubeObject>,
      handler: (sink, owner) => enqueueOwner<KubeObject>(sink, owner),
    });
    return this;
  }

  /** Also watch another resource: each event enqueues the primary keys `map` returns for the object. */
  watches<W extends KubeObject>(resource: ResourceDescriptor, map: KeyMapper<W>, options: WatchOptions<W> = {}): this {
    this.#watches.push({
      resource,
      options: options as unknown as WatchOptions<KubeObject>,
      handler: (sink) => enqueueMapped<KubeObject>(sink, map as unknown as KeyMapper<KubeObject>),
    });
    return this;
  }

  /** Predicates applied to the events of every watch (controller-runtime's `WithEventFilter`). */
  withPredicates(...preds: readonly Predicate<KubeObject>[]): this {
    this.#filters.push(...preds);
    return this;
  }

  /** Name (default: the primary's kind, lower-cased), workers, reconcile timeout, queue … */
  withOptions(options: Partial<BuilderControllerOptions>): this {
    this.#options = { ...this.#options, ...options };
    return this;
  }

  /** Creates the controller, wires the watches and adds it to the Manager. */
  complete(reconcile: ReconcileFunc): Controller {
    const m = this.#manager;
    const name = this.#options.name ?? this.#primary.kind.toLowerCase();
    const informers: SharedIndexInformer<KubeObject>[] = [];
    for (const w of this.#watches) {
      const { transform, predicates: _p, ...select } = w.options;
      const informer = m.informers.forResource<KubeObject>(w.resource, select);
      if (transform) informer.setTransform(transform);
      informers.push(informer);
    }
    const registrations: HandlerRegistration[] = [];
    const controller = new Controller({
      ...this.#options,
      name,
      reconcile,
      // The caches, and each handler's initial adds: nothing is reconciled before the first full view.
      waitFor: [...informers, { hasSynced: () => registrations.every((r) => r.hasSynced()) } satisfies Syncable],
      logger: m.logger,
      metrics: m.metrics.controller,
      queueMetrics: this.#options.queueMetrics ?? m.metrics.workqueue,
      ...(m.shards ? { shards: m.shards } : {}),
    });
    const shards = m.shards;
    if (shards) {
      // The primary informer (the first watch) has every key: a bucket acquired is re-read whole.
      const primary = informers[0] as SharedIndexInformer<KubeObject>;
      const inBucket = (b: number) => (key: string) => bucketOf(key, shards.buckets) === b;
      shards.addListener({
        acquired: (b) => {
          for (const key of primary.getStore().listKeys()) if (inBucket(b)(key)) controller.queue.add(key);
        },
        drained: (b) => controller.whenIdle(inBucket(b)),
      });
    }
    const owner: OwnerMatch = { kind: this.#primary.kind, group: this.#primary.group };
    this.#watches.forEach((w, i) => {
      const handler = filterEvents(
        w.handler(controller.queue, owner),
        ...this.#filters,
        ...(w.options.predicates ?? []),
      );
      registrations.push((informers[i] as SharedIndexInformer<KubeObject>).addEventHandler(handler));
    });
    m.add(controller);
    return controller;
  }
}

/**
 * Starts building a controller for `primary` (controller-runtime's `ControllerManagedBy(m).For(obj)`):
 * its own events enqueue the object's `namespace/name`.
 */
export function controllerFor<T extends KubeObject>(
  manager: Manager,
  primary: ResourceDescriptor,
  options: WatchOptions<T> = {},
): ControllerBuilder<T> {
  return new ControllerBuilder<T>(manager, primary, options);
}

/** The primary's key for an object (its `namespace/name`), for map functions. */
export function objectKey(obj: DeepReadonly<KubeObject>): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}
