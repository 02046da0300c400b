// Object keys (`namespace/name`, or `name` for cluster-scoped objects) and the tombstone handed to
// delete handlers when an object vanished without us seeing its DELETE event.
import type { DeepReadonly } from "@minitask/client";

/** Anything with object metadata (a `KubeObject`, or a read-only view of one). */
export interface HasMetadata {
  readonly metadata?: { readonly name?: string | undefined; readonly namespace?: string | undefined } | undefined;
}

/** The key of an object in a store: `namespace/name`, or `name` when it has no namespace. */
export function metaNamespaceKeyFunc(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const meta = obj.metadata;
  const name = meta?.name;
  if (name === undefined || name === "") {
    throw new TypeError("object has no metadata.name: it cannot be keyed");
  }
  const ns = meta?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Splits a key made by {@link metaNamespaceKeyFunc}. Throws on a key with more than one `/`. */
export function splitMetaNamespaceKey(key: string): { namespace?: string; name: string } {
  const parts = key.split("/");
  if (parts.length === 1) return { name: key };
  if (parts.length === 2) {
    const [namespace, name] = parts as [string, string];
    return namespace === "" ? { name } : { namespace, name };
  }
  throw new TypeError(`unexpected key format: ${JSON.stringify(key)}`);
}

/** A key function: the store's identity of an object. */
export type KeyFunc = (obj: HasMetadata) => string;

/**
 * Given to `onDelete` when the informer learned of a deletion by relisting (the watch missed the DELETE
 * event, e.g. after a 410): `obj` is the last state we had, which may be stale.
 */
export class DeletedFinalStateUnknown<T> {
  readonly key: string;
  readonly obj: DeepReadonly<T>;

  constructor(key: string, obj: DeepReadonly<T>) {
    this.key = key;
    this.obj = obj;
  }
}

/** True for a tombstone. */
export function isDeletedFinalStateUnknown<T>(value: unknown): value is DeletedFinalStateUnknown<T> {
  return value instanceof DeletedFinalStateUnknown;
}

/** The key of an object or of a tombstone (client-go's `DeletionHandlingMetaNamespaceKeyFunc`). */
export function deletionHandlingMetaNamespaceKeyFunc(obj: HasMetadata | DeletedFinalStateUnknown<unknown>): string {
  if (obj instanceof DeletedFinalStateUnknown) return obj.key;
  return metaNamespaceKeyFunc(obj as { metadata?: { name?: string; namespace?: string } });
}

/** The object of a delete notification, unwrapping a tombstone. */
export function finalStateOf<T>(obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>): DeepReadonly<T> {
  return obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
}
