// Read-your-writes on top of an informer's cache (client-go's `tools/cache/mutation_cache.go`). A write
// returns the object as stored; the informer's copy catches up only when the watch event arrives, and a
// reconcile that runs in between would act on the older copy (and conflict). The mutation cache keeps,
// per key, the last object our own writes returned, and answers for a cached object: is the cache behind
// our write, and which of the two is newer. Entries go when the cache catches up, on delete, or after a
// TTL. It holds no timer: expired entries are dropped as it is used.
import type { DeepReadonly } from "@minitask/client";
import { type Clock, realClock } from "@minitask/workqueue";
import type { ResourceEventHandler } from "./handler-buffers.ts";
import { DeletedFinalStateUnknown, type KeyFunc, metaNamespaceKeyFunc } from "./keys.ts";

/** An object a {@link MutationCache} can compare: it has a key, a uid and a resource version. */
export interface VersionedObject {
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly namespace?: string | undefined;
        readonly uid?: string | undefined;
        readonly resourceVersion?: string | undefined;
      }
    | undefined;
}

/** Options of a {@link MutationCache}. */
export interface MutationCacheOptions {
  /**
   * The longest a recorded write is preferred over the cache: after this the cache's copy is trusted
   * again even if it still looks older (a write whose event never came, resource versions that are not
   * numbers). Default 5 s.
   */
  readonly ttlMs?: number;
  /** Where time comes from (`realClock`, a `FakeClock` in tests; only `now()` is read). Default `realClock`. */
  readonly clock?: Pick<Clock, "now">;
  /** The key of an object; must be the one the informer's cache uses. Default `metaNamespaceKeyFunc`. */
  readonly keyFunc?: KeyFunc;
  /**
   * Also answer for objects the cache does not hold (client-go's `includeAdds`): an object we created is
   * returned by `newer` (and `isBehind` is true) until the cache holds it, or until the cache has provably
   * seen past the create — its resource version (`cacheResourceVersion`) reached the created object's — so
   * that an object deleted since is never brought back. Needs `cacheResourceVersion`. Default false: an
   * object missing from the cache counts as deleted.
   */
  readonly includeAdds?: boolean;
  /**
   * The resource version the cache reflects: an informer's `lastSyncResourceVersion` (the last list, event or
   * bookmark applied — the cache holds every change up to it, and watch events of a resource come in
   * resource-version order). Read only for objects missing from the cache, with `includeAdds`.
   */
  readonly cacheResourceVersion?: () => string;
}

interface Written<T> {
  readonly obj: DeepReadonly<T>;
  readonly uid: string;
  readonly rv: string;
  readonly at: number;
}

const DIGITS = /^\d+$/;

/**
 * The caching side of read-your-writes: remembers the object each of our writes returned until the
 * informer's cache has caught up with it, so that a reconcile does not act on (and conflict with) the
 * older copy the cache still holds.
 *
 * A cached object has caught up with our write when it is another incarnation (another `uid`: the object
 * was deleted and created again since), has the same `resourceVersion`, or a larger one (resource
 * versions are opaque, but the apiserver's are etcd revisions: numbers that only grow). An object absent
 * from the cache counts as deleted: like client-go's default (`includeAdds: false`), a create is not
 * remembered until the cache has seen it — unless `includeAdds` is set, and then only until the cache's
 * resource version has reached the create's. Entries are forgotten once the cache has caught up, when the
 * object is deleted, and after `ttlMs`.
 *
 * One structure per resource (and key function); no timer.
 *
 * @example A reconciler that waits for its own status write to reach the cache:
 * ```ts
 * const writes = new MutationCache<TaskRun>({ ttlMs: 5_000 });
 * informer.addEventHandler(writes.eventHandler); // optional: forgets entries as soon as events arrive
 *
 * async function reconcile(key: string): Promise<Result> {
 *   const cached = lister.get(key);
 *   if (writes.isBehind(key, cached)) return { requeueAfterMs: 1000 }; // its event requeues us sooner
 *   if (!cached) return {};
 *   const updated = await client.inNamespace(ns).updateStatus({ ...cached, status });
 *   writes.record(updated);
 *   return {};
 * }
 * ```
 * Or act on the newer of the two at once: `const run = writes.newer(key, lister.get(key))`.
 */
export class MutationCache<T extends VersionedObject> {
  readonly #ttlMs: number;
  readonly #clock: Pick<Clock, "now">;
  readonly #keyFunc: KeyFunc;
  readonly #cacheResourceVersion: (() => string) | undefined;
  /** key → our last write; in the order written (re-recording moves a key to the end), oldest first. */
  readonly #written = new Map<string, Written<T>>();

  /** An empty mutation cache; see {@link MutationCacheOptions} for the TTL, the clock and the key function. */
  constructor(options: MutationCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 5_000;
    this.#clock = options.clock ?? realClock;
    this.#keyFunc = options.keyFunc ?? (metaNamespaceKeyFunc as KeyFunc);
    if (options.includeAdds && options.cacheResourceVersion === undefined) {
      throw new TypeError("MutationCache: includeAdds needs cacheResourceVersion");
    }
    this.#cacheResourceVersion = options.includeAdds ? options.cacheResourceVersion : undefined;
  }

  /**
   * Records the object a write returned (create, update, patch, `updateStatus` …). The object is kept as
   * is, not copied: do not change it afterwards. An object without a resource version is not recorded;
   * one older than the write already recorded for its key (same uid, smaller resource version) neither.
   */
  record(written: T | DeepReadonly<T>): void {
    const now = this.#clock.now();
    this.#expire(now);
    const meta = metadataOf(written);
    const rv = meta?.resourceVersion ?? "";
    if (rv === "") return;
    const key = this.#keyFunc(written);
    const uid = meta?.uid ?? "";
    const previous = this.#written.get(key);
    if (previous !== undefined && previous.uid === uid && newerVersion(previous.rv, rv)) return;
    this.#written.delete(key);
    this.#written.set(key, { obj: written as DeepReadonly<T>, uid, rv, at: now });
  }

  /**
   * The newer of `cached` (what the informer's cache holds for `key`) and our last write for `key`:
   * `cached` once the cache has caught up (and the write is then forgotten), our written object while
   * the cache is behind it. `undefined` when the cache holds nothing (the object is gone, or not seen yet).
   */
  newer(key: string, cached: T | DeepReadonly<T> | undefined): DeepReadonly<T> | undefined {
    const w = this.#lookup(key, cached);
    return w === undefined ? (cached as DeepReadonly<T> | undefined) : w.obj;
  }

  /** Whether the cache's copy of `key` is older than our last write to it (then wait, or use {@link newer}). */
  isBehind(key: string, cached: T | DeepReadonly<T> | undefined): boolean {
    return this.#lookup(key, cached) !== undefined;
  }

  /** Forgets the write recorded for `key` (e.g. the object was deleted). */
  forget(key: string): void {
    this.#written.delete(key);
  }

  /** Writes remembered (expired ones are dropped first). */
  get size(): number {
    this.#expire(this.#clock.now());
    return this.#written.size;
  }

  /**
   * An informer event handler that forgets writes as soon as the cache catches up with them or the
   * object is deleted, instead of at the next look-up (client-go's `OnAddOrUpdate`/`OnDelete`). Optional.
   */
  readonly eventHandler: ResourceEventHandler<T> = {
    onAdd: (obj) => this.#observed(obj),
    onUpdate: (_old, obj) => this.#observed(obj),
    onDelete: (obj) => {
      const last = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
      const key = obj instanceof DeletedFinalStateUnknown ? obj.key : this.#keyFunc(last);
      const w = this.#written.get(key);
      if (w === undefined) return;
      const meta = metadataOf(last);
      // Our write is of the deleted incarnation, or older than the deletion: it is gone. (A write of a
      // newer incarnation, created after this deletion, stays.)
      const rv = meta?.resourceVersion ?? "";
      if ((meta?.uid ?? "") === w.uid || rv === w.rv || newerVersion(rv, w.rv)) this.#written.delete(key);
    },
  };

  #observed(obj: DeepReadonly<T>): void {
    const key = this.#keyFunc(obj);
    const w = this.#written.get(key);
    if (w !== undefined && caughtUp(obj, w)) this.#written.delete(key);
  }

  /** Our write for `key` when the cache is behind it; forgets it otherwise. */
  #lookup(key: string, cached: T | DeepReadonly<T> | undefined): Written<T> | undefined {
    const now = this.#clock.now();
    this.#expire(now);
    const w = this.#written.get(key);
    if (w === undefined) return undefined;
    if (cached === undefined ? !this.#addPending(w) : caughtUp(cached, w) || now - w.at > this.#ttlMs) {
      this.#written.delete(key);
      return undefined;
    }
    return w;
  }

  /**
   * With `includeAdds`, for an object the cache does not hold: whether our write of it is still ahead of
   * the cache (within the TTL, and the cache has not seen its resource version yet).
   */
  #addPending(w: Written<T>): boolean {
    const rv = this.#cacheResourceVersion?.();
    if (rv === undefined || this.#clock.now() - w.at > this.#ttlMs) return false;
    return !(rv === w.rv || newerVersion(rv, w.rv));
  }

  /** Drops the writes older than the TTL, oldest first (they are in the order recorded). */
  #expire(now: number): void {
    for (const [key, w] of this.#written) {
      if (now - w.at <= this.#ttlMs) return;
      this.#written.delete(key);
    }
  }
}

function metadataOf(obj: unknown): VersionedObject["metadata"] {
  return (obj as VersionedObject).metadata;
}

/** Whether the cached object has caught up with our write. */
function caughtUp(cached: unknown, w: Written<unknown>): boolean {
  const meta = metadataOf(cached);
  if ((meta?.uid ?? "") !== w.uid) return true; // another incarnation of the object
  const rv = meta?.resourceVersion ?? "";
  return rv === w.rv || newerVersion(rv, w.rv);
}

/** Whether resource version `a` is newer than `b`: both numbers (the apiserver's) and `a` larger. */
function newerVersion(a: string, b: string): boolean {
  return DIGITS.test(a) && DIGITS.test(b) && BigInt(a) > BigInt(b);
}
