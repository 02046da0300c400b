// Finalizers (controller-runtime's `controllerutil.AddFinalizer`/`RemoveFinalizer` plus the
// `finalizer.Finalizers` pattern): keep an object from disappearing until the controller has cleaned up
// what it made outside the cluster's garbage collection. Writes are optimistic updates of the finalizer
// list, retried on a conflict against a fresh read, so they never overwrite someone else's change.
import {
  type DeepReadonly,
  isConflict,
  isNotFound,
  type KubeObject,
  type ResourceClient,
  type Writable,
} from "@minitask/client";

/** The verbs the helper needs, on the object's namespace. */
export type FinalizerClient<T extends KubeObject> = Pick<ResourceClient<T>, "get" | "update">;

/** Options of the finalizer helpers. */
export interface FinalizerOptions {
  readonly signal?: AbortSignal;
  /** Conflicts retried before giving up (the error is thrown). Default 5. */
  readonly retries?: number;
}

/** Whether the object carries the finalizer. */
export function hasFinalizer(obj: { readonly metadata?: DeepReadonly<KubeObject["metadata"]> }, name: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(name);
}

async function editFinalizers<T extends KubeObject>(
  client: FinalizerClient<T>,
  name: string,
  edit: (finalizers: readonly string[], current: T) => readonly string[] | undefined,
  options: FinalizerOptions,
): Promise<T | undefined> {
  const signal = options.signal;
  for (let attempt = 0; ; attempt++) {
    let current: T;
    try {
      current = await client.get(name, signal ? { signal } : {});
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const next = edit(current.metadata?.finalizers ?? [], current);
    if (next === undefined) return current; // nothing to change
    try {
      return await client.update(
        { ...current, metadata: { ...current.metadata, finalizers: [...next] } } as Writable<T>,
        signal ? { signal } : {},
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      if (!isConflict(err) || attempt >= (options.retries ?? 5)) throw err;
    }
  }
}

/**
 * Adds `finalizer` to the object named `name` unless it is there already or the object is being deleted
 * (the apiserver refuses new finalizers then). Resolves with the stored object; undefined if it is gone.
 */
export function addFinalizer<T extends KubeObject>(
  client: FinalizerClient<T>,
  name: string,
  finalizer: string,
  options: FinalizerOptions = {},
): Promise<T | undefined> {
  return editFinalizers(
    client,
    name,
    (list, current) =>
      list.includes(finalizer) || current.metadata?.deletionTimestamp != null ? undefined : [...list, finalizer],
    options,
  );
}

/** Removes `finalizer` from the object named `name`. Resolves with the stored object; undefined if it is gone. */
export function removeFinalizer<T extends KubeObject>(
  client: FinalizerClient<T>,
  name: string,
  finalizer: string,
  options: FinalizerOptions = {},
): Promise<T | undefined> {
  return editFinalizers(
    client,
    name,
    (list) => (list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined),
    options,
  );
}

/** What {@link reconcileFinalizer} did. */
export type FinalizerOutcome =
  /** The object is live and carries the finalizer: go on reconciling it. */
  | "live"
  /** The object is being deleted: cleanup ran and the finalizer is gone. Stop here. */
  | "finalized"
  /** The object is being deleted but does not carry our finalizer (or is gone): nothing to do. */
  | "ignored";

/**
 * The finalizer step at the top of a reconcile: on a live object, make sure it carries `finalizer`; on an
 * object with `deletionTimestamp` set, run `cleanup` (which must be idempotent: it may run again after a
 * crash) and then remove the finalizer so the deletion completes. A `cleanup` that throws leaves the
 * finalizer in place, and the reconcile's error is retried with backoff.
 */
export async function reconcileFinalizer<T extends KubeObject>(
  client: FinalizerClient<T>,
  obj: DeepReadonly<T>,
  finalizer: string,
  cleanup: (obj: DeepReadonly<T>) => Promise<void>,
  options: FinalizerOptions = {},
): Promise<FinalizerOutcome> {
  const name = obj.metadata?.name ?? "";
  if (obj.metadata?.deletionTimestamp == null) {
    if (!hasFinalizer(obj, finalizer)) await addFinalizer(client, name, finalizer, options);
    return "live";
  }
  if (!hasFinalizer(obj, finalizer)) return "ignored";
  await cleanup(obj);
  await removeFinalizer(client, name, finalizer, options);
  return "finalized";
}
