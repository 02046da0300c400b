// Event filters (controller-runtime's `predicate` package): decide, per informer event, whether it is
// worth a reconcile. A predicate answers for create (the informer's add), update and delete; an answer
// left out means "yes". Combine them with `and`, `or`, `not`, and put them in front of an event handler
// with `filterEvents` (the builder's `withPredicates` does that for every watch).
import type { DeepReadonly, KubeObject } from "@minitask/client";
import type { DeletedFinalStateUnknown, ResourceEventHandler } from "@minitask/informers";
import { unwrapTombstone } from "./enqueue.ts";

/** Decides which informer events pass. A missing method passes every event of its kind. */
export interface Predicate<T = KubeObject> {
  create?(obj: DeepReadonly<T>): boolean;
  update?(oldObj: DeepReadonly<T>, newObj: DeepReadonly<T>): boolean;
  delete?(obj: DeepReadonly<T>): boolean;
}

type Meta = { readonly metadata?: DeepReadonly<KubeObject["metadata"]> };

function sameRecord(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined) {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

/** Passes every event whose `filter` holds, for creates, updates (new object) and deletes alike. */
export function predicate<T>(filter: (obj: DeepReadonly<T>) => boolean): Predicate<T> {
  return { create: filter, update: (_old, obj) => filter(obj), delete: filter };
}

/** Updates that changed `metadata.generation` (the spec, for resources with a status subresource). */
export const generationChanged: Predicate<Meta> = {
  update: (o, n) => o.metadata?.generation !== n.metadata?.generation,
};

/** Updates that changed the labels. */
export const labelsChanged: Predicate<Meta> = {
  update: (o, n) => !sameRecord(o.metadata?.labels, n.metadata?.labels),
};

/** Updates that changed the annotations. */
export const annotationsChanged: Predicate<Meta> = {
  update: (o, n) => !sameRecord(o.metadata?.annotations, n.metadata?.annotations),
};

/** Updates that changed the resourceVersion: drops the resync re-deliveries of an unchanged object. */
export const resourceVersionChanged: Predicate<Meta> = {
  update: (o, n) => o.metadata?.resourceVersion !== n.metadata?.resourceVersion,
};

type Verb = keyof Predicate;
const VERBS: readonly Verb[] = ["create", "update", "delete"];

function combine<T>(preds: readonly Predicate<T>[], every: boolean): Predicate<T> {
  const out: Predicate<T> = {};
  for (const verb of VERBS) {
    const answer = (p: Predicate<T>, args: DeepReadonly<T>[]) => {
      const fn = p[verb] as ((...a: DeepReadonly<T>[]) => boolean) | undefined;
      return fn ? fn.apply(p, args) : true;
    };
    const fn = (...args: DeepReadonly<T>[]) =>
      every ? preds.every((p) => answer(p, args)) : preds.some((p) => answer(p, args));
    (out as Record<Verb, unknown>)[verb] = fn;
  }
  return out;
}

/** Passes an event only when every predicate passes it. */
export function and<T>(...preds: readonly Predicate<T>[]): Predicate<T> {
  return combine(preds, true);
}

/** Passes an event when any predicate passes it. */
export function or<T>(...preds: readonly Predicate<T>[]): Predicate<T> {
  return combine(preds, false);
}

/** Passes exactly the events `pred` drops. */
export function not<T>(pred: Predicate<T>): Predicate<T> {
  return {
    create: (obj) => !(pred.create?.(obj) ?? true),
    update: (o, n) => !(pred.update?.(o, n) ?? true),
    delete: (obj) => !(pred.delete?.(obj) ?? true),
  };
}

/**
 * `handler`, receiving only the events every predicate passes. A delete that arrives as a tombstone is
 * judged on the tombstone's last known object.
 */
export function filterEvents<T>(
  handler: ResourceEventHandler<T>,
  ...preds: readonly Predicate<T>[]
): ResourceEventHandler<T> {
  if (preds.length === 0) return handler;
  const p = and(...preds);
  return {
    onAdd: (obj, initial) => (p.create?.(obj) ? handler.onAdd?.(obj, initial) : undefined),
    onUpdate: (o, n) => (p.update?.(o, n) ? handler.onUpdate?.(o, n) : undefined),
    onDelete: (obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>) =>
      p.delete?.(unwrapTombstone(obj)) ? handler.onDelete?.(obj) : undefined,
  };
}
