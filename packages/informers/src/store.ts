// The cache behind an informer: objects by key plus any number of secondary indexes. One writer (the
// informer) mutates it through `IndexedCache`'s write methods; everyone else sees the read-only
// `Store`/`Indexer` interfaces and gets the cached objects themselves, typed `DeepReadonly`.
import type { DeepReadonly } from "@minitask/client";
import { type HasMetadata, type KeyFunc, metaNamespaceKeyFunc } from "./keys.ts";

/** Read access to cached objects. */
export interface Store<T> {
  /** The cached object with the same key as `obj`. */
  get(obj: T | DeepReadonly<T>): DeepReadonly<T> | undefined;
  getByKey(key: string): DeepReadonly<T> | undefined;
  list(): readonly DeepReadonly<T>[];
  listKeys(): readonly string[];
}

/** Computes the values an object is indexed under (none, one or many). */
export type IndexFunc<T> = (obj: DeepReadonly<T>) => readonly string[];

/** A store with secondary indexes. */
export interface Indexer<T> extends Store<T> {
  /** Objects whose index function `indexName` yields `value`. Throws for an unknown index. */
  byIndex(indexName: string, value: string): readonly DeepReadonly<T>[];
  /** Keys of those objects. */
  indexKeys(indexName: string, value: string): readonly string[];
  /** Every value the index currently holds. */
  listIndexFuncValues(indexName: string): readonly string[];
  /** Adds indexes; existing objects are indexed at once. Throws when a name is already taken. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void;
}

/** Name of the built-in index by namespace. */
export const NAMESPACE_INDEX = "namespace";

/** Indexes an object by its namespace (`""` for cluster-scoped objects), as client-go does. */
export function metaNamespaceIndexFunc(obj: HasMetadata): readonly string[] {
  return [obj.metadata?.namespace ?? ""];
}

/** Options of an {@link IndexedCache}. */
export interface IndexedCacheOptions<T> {
  /** Key of an object (default `metaNamespaceKeyFunc`: `namespace/name`). */
  readonly keyFunc?: KeyFunc;
  /** Indexes besides the namespace index (which is always present). */
  readonly indexers?: Record<string, IndexFunc<T>>;
  /** Called when an index function throws (the object is then not indexed under that index). */
  readonly onIndexError?: (indexName: string, key: string, err: unknown) => void;
}

/** What a write did, for turning into notifications. */
export type StoreChange<T> =
  | { readonly type: "add"; readonly key: string; readonly obj: DeepReadonly<T> }
  | { readonly type: "update"; readonly key: string; readonly old: DeepReadonly<T>; readonly obj: DeepReadonly<T> }
  | { readonly type: "delete"; readonly key: string; readonly obj: DeepReadonly<T> };

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * The indexed cache. Reads are plain map look-ups; `list()` returns a snapshot array that is reused
 * until the next write, so listers called in a loop allocate nothing.
 */
export class IndexedCache<T extends HasMetadata> implements Indexer<T> {
  readonly #keyFunc: KeyFunc;
  readonly #items = new Map<string, DeepReadonly<T>>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  readonly #onIndexError: (indexName: string, key: string, err: unknown) => void;
  #listSnapshot: readonly DeepReadonly<T>[] | undefined;
  #keysSnapshot: readonly string[] | undefined;

  constructor(options: IndexedCacheOptions<T> = {}) {
    this.#keyFunc = options.keyFunc ?? (metaNamespaceKeyFunc as KeyFunc);
    this.#onIndexError =
      options.onIndexError ??
      ((name, key, err) => {
        console.warn(`informers: index function ${JSON.stringify(name)} failed for ${key}:`, err);
      });
    this.#indexers.set(NAMESPACE_INDEX, metaNamespaceIndexFunc as IndexFunc<T>);
    this.#indices.set(NAMESPACE_INDEX, new Map());
    if (options.indexers) this.addIndexers(options.indexers);
  }

  /** The key of an object under this cache's key function. */
  keyOf(obj: HasMetadata): string {
    return this.#keyFunc(obj);
  }

  get size(): number {
    return this.#items.size;
  }

  // ---- reads

  get(obj: T | DeepReadonly<T>): DeepReadonly<T> | undefined {
    return this.#items.get(this.#keyFunc(obj as HasMetadata));
  }

  getByKey(key: string): DeepReadonly<T> | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  list(): readonly DeepReadonly<T>[] {
    this.#listSnapshot ??= Object.freeze([...this.#items.values()]);
    return this.#listSnapshot;
  }

  listKeys(): readonly string[] {
    this.#keysSnapshot ??= Object.freeze([...this.#items.keys()]);
    return this.#keysSnapshot;
  }

  /** Iterates over `[key, object]` without building an array. */
  entries(): IterableIterator<[string, DeepReadonly<T>]> {
    return this.#items.entries();
  }

  byIndex(indexName: string, value: string): readonly DeepReadonly<T>[] {
    const keys = this.#index(indexName).get(value);
    if (keys === undefined) return EMPTY;
    const out: DeepReadonly<T>[] = [];
    for (const k of keys) {
      const o = this.#items.get(k);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  indexKeys(indexName: string, value: string): readonly string[] {
    const keys = this.#index(indexName).get(value);
    return keys === undefined ? EMPTY : [...keys];
  }

  listIndexFuncValues(indexName: string): readonly string[] {
    return [...this.#index(indexName).keys()];
  }

  /** Objects sharing any value of index `indexName` with `obj` (client-go's `Index`). */
  index(indexName: string, obj: T | DeepReadonly<T>): readonly DeepReadonly<T>[] {
    const fn = this.#indexers.get(indexName);
    if (fn === undefined) throw new Error(`index ${JSON.stringify(indexName)} does not exist`);
    const values = fn(obj as DeepReadonly<T>);
    if (values.length === 1) return this.byIndex(indexName, values[0]!);
    const keys = new Set<string>();
    const idx = this.#index(indexName);
    for (const v of values) for (const k of idx.get(v) ?? []) keys.add(k);
    const out: DeepReadonly<T>[] = [];
    for (const k of keys) {
      const o = this.#items.get(k);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  /** Names of the indexes, the built-in namespace index included. */
  indexNames(): readonly string[] {
    return [...this.#indexers.keys()];
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    const names = Object.keys(indexers);
    for (const name of names) {
      if (this.#indexers.has(name)) throw new Error(`indexer conflict: ${JSON.stringify(name)} already exists`);
    }
    for (const name of names) {
      const fn = indexers[name]!;
      this.#indexers.set(name, fn);
      const idx = new Map<string, Set<string>>();
      this.#indices.set(name, idx);
      for (const [key, obj] of this.#items) this.#indexOne(name, fn, idx, key, obj);
    }
  }

  #index(indexName: string): Map<string, Set<string>> {
    const idx = this.#indices.get(indexName);
    if (idx === undefined) throw new Error(`index ${JSON.stringify(indexName)} does not exist`);
    return idx;
  }

  // ---- writes (the informer's alone)

  /** Inserts or replaces the object under its key; returns what changed. */
  upsert(obj: DeepReadonly<T>): StoreChange<T> {
    const key = this.#keyFunc(obj as HasMetadata);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#invalidate(old === undefined);
    if (old !== undefined) this.#unindex(key, old);
    this.#indexAll(key, obj);
    return old === undefined ? { type: "add", key, obj } : { type: "update", key, old, obj };
  }

  /** Removes the object with this key; returns it (undefined when absent). */
  deleteKey(key: string): DeepReadonly<T> | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#items.delete(key);
    this.#invalidate(true);
    this.#unindex(key, old);
    return old;
  }

  /**
   * Replaces the whole content. Returns the changes relative to the old content, in the order client-go's RealFIFO
   * delivers a relist: first deletes for keys that vanished (in the order of the old content), then adds for new
   * keys and updates for keys whose object changed (`changed(old, new)`, default: resourceVersion differs), in the
   * order of `items`.
   */
  replace(
    items: Iterable<DeepReadonly<T>>,
    changed: (oldObj: DeepReadonly<T>, newObj: DeepReadonly<T>) => boolean = (a, b) =>
      resourceVersionChanged(a as HasMetadataRV, b as HasMetadataRV),
  ): StoreChange<T>[] {
    const list = Array.isArray(items) ? (items as readonly DeepReadonly<T>[]) : [...items];
    const keys = new Array<string>(list.length);
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i++) {
      const key = this.#keyFunc(list[i] as HasMetadata);
      keys[i] = key;
      seen.add(key);
    }
    const changes: StoreChange<T>[] = [];
    for (const [key, obj] of this.#items) {
      if (!seen.has(key)) changes.push({ type: "delete", key, obj });
    }
    for (const c of changes) this.deleteKey(c.key);
    for (let i = 0; i < list.length; i++) {
      const obj = list[i]!;
      const key = keys[i]!;
      const old = this.#items.get(key);
      if (old !== undefined && !changed(old, obj)) {
        // Same version: keep the new copy (it went through the current transform) without notifying.
        this.#items.set(key, obj);
        this.#unindex(key, old);
        this.#indexAll(key, obj);
        continue;
      }
      changes.push(this.upsert(obj));
    }
    this.#invalidate(true);
    return changes;
  }

  #invalidate(keysChanged: boolean): void {
    this.#listSnapshot = undefined;
    if (keysChanged) this.#keysSnapshot = undefined;
  }

  #indexAll(key: string, obj: DeepReadonly<T>): void {
    for (const [name, fn] of this.#indexers) this.#indexOne(name, fn, this.#indices.get(name)!, key, obj);
  }

  #indexOne(name: string, fn: IndexFunc<T>, idx: Map<string, Set<string>>, key: string, obj: DeepReadonly<T>): void {
    let values: readonly string[];
    try {
      values = fn(obj);
    } catch (err) {
      this.#onIndexError(name, key, err);
      return;
    }
    for (const v of values) {
      let set = idx.get(v);
      if (set === undefined) {
        set = new Set();
        idx.set(v, set);
      }
      set.add(key);
    }
  }

  #unindex(key: string, old: DeepReadonly<T>): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indices.get(name)!;
      let values: readonly string[];
      try {
        values = fn(old);
      } catch {
        // It failed on insert too (reported then); fall back to a scan so no stale entry survives.
        for (const [v, set] of idx) {
          if (set.delete(key) && set.size === 0) idx.delete(v);
        }
        continue;
      }
      for (const v of values) {
        const set = idx.get(v);
        if (set?.delete(key) && set.size === 0) idx.delete(v);
      }
    }
  }
}

type HasMetadataRV = { readonly metadata?: { readonly resourceVersion?: string | undefined } | undefined };

/** Default "did it change" test of a relist: the resource versions differ (or one is missing). */
export function resourceVersionChanged(
  oldObj: { readonly metadata?: { readonly resourceVersion?: string | undefined } | undefined },
  newObj: { readonly metadata?: { readonly resourceVersion?: string | undefined } | undefined },
): boolean {
  const a = oldObj.metadata?.resourceVersion;
  const b = newObj.metadata?.resourceVersion;
  return a === undefined || b === undefined || a !== b;
}
