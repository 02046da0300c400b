// Event → key mappings for informer event handlers: an object's own key, the controller owner of a
// child, and an index lookup. Tombstones (DeletedFinalStateUnknown) are unwrapped everywhere.
import type { DeepReadonly, KubeObject } from "@minitask/client";
import {
  DeletedFinalStateUnknown,
  type Indexer,
  metaNamespaceKeyFunc,
  type ResourceEventHandler,
} from "@minitask/informers";

/** Where keys go: a work queue (only `add` is needed). */
export interface KeySink {
  add(key: string): void;
}

/** The object itself, whether it came live or as a tombstone after a missed delete. */
export function unwrapTombstone<T>(obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>): DeepReadonly<T> {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}

/** Maps objects to zero or more keys. */
export type KeyMapper<T> = (obj: DeepReadonly<T>) => readonly string[];

/** An event handler that adds the keys `map` gives for every add, update (old and new) and delete. */
export function enqueueMapped<T>(queue: KeySink, map: KeyMapper<T>): ResourceEventHandler<T> {
  const add = (obj: DeepReadonly<T>) => {
    for (const k of map(obj)) queue.add(k);
  };
  return {
    onAdd: (obj) => add(obj),
    onUpdate: (oldObj, newObj) => {
      add(newObj);
      // A changed owner/index value must also wake the previous target.
      const before = map(oldObj);
      const after = new Set(map(newObj));
      for (const k of before) if (!after.has(k)) queue.add(k);
    },
    onDelete: (obj) => add(unwrapTombstone(obj)),
  };
}

/** The object's own `namespace/name` key (client-go's `EnqueueRequestForObject`). */
export function enqueueObject<T extends KubeObject>(queue: KeySink): ResourceEventHandler<T> {
  return enqueueMapped<T>(queue, (obj) => [
    metaNamespaceKeyFunc(obj as { metadata?: { name?: string; namespace?: string } }),
  ]);
}

/** Which owner references count: the controller owner of this kind and API group. */
export interface OwnerMatch {
  /** The owner's kind, e.g. `TaskRun`. */
  readonly kind: string;
  /** The owner's API group (`""` for core); matched against the group part of `apiVersion`. */
  readonly group: string;
}

/** The key of the object's controller owner of the given kind, if any (same namespace). */
export function controllerOwnerKey(
  obj: { readonly metadata?: DeepReadonly<KubeObject["metadata"]> },
  owner: OwnerMatch,
): string | undefined {
  const refs = obj.metadata?.ownerReferences ?? [];
  for (const ref of refs) {
    if (ref.controller !== true || ref.kind !== owner.kind) continue;
    const slash = ref.apiVersion.indexOf("/");
    const group = slash < 0 ? "" : ref.apiVersion.slice(0, slash);
    if (group !== owner.group) continue;
    const ns = obj.metadata?.namespace;
    return ns ? `${ns}/${ref.name}` : ref.name;
  }
  return undefined;
}

/**
 * Enqueues the controller owner of a child (controller-runtime's `EnqueueRequestForOwner` with
 * `OnlyControllerOwner`): the owner reference with `controller: true` of the given kind — never a
 * bare label.
 */
export function enqueueOwner<T extends KubeObject>(queue: KeySink, owner: OwnerMatch): ResourceEventHandler<T> {
  return enqueueMapped<T>(queue, (obj) => {
    const key = controllerOwnerKey(obj as { metadata?: DeepReadonly<KubeObject["metadata"]> }, owner);
    return key ? [key] : [];
  });
}

/**
 * Enqueues the objects of another informer's indexer whose index `indexName` holds the value `indexValueOf`
 * gives for the event's object — e.g. every TaskRun whose `taskRef` index equals a Task's
 * `namespace/name`.
 */
export function enqueueByIndex<T, R extends KubeObject>(
  queue: KeySink,
  indexer: Indexer<R>,
  indexName: string,
  indexValueOf: (obj: DeepReadonly<T>) => string | undefined,
): ResourceEventHandler<T> {
  return enqueueMapped<T>(queue, (obj) => {
    const value = indexValueOf(obj);
    return value === undefined ? [] : indexer.indexKeys(indexName, value);
  });
}
