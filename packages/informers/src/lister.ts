// Typed listers: read-only views over an informer's indexer, as client-go's generated listers.
import type { DeepReadonly, KubeObject } from "@minitask/client";
import { type LabelSelector, labelSelectorMatcher } from "./selector.ts";
import { type Indexer, NAMESPACE_INDEX } from "./store.ts";

/** Lists and gets objects of one resource from the cache. */
export interface Lister<T> {
  /** Every cached object matching the label selector (all when omitted). */
  list(selector?: string | Record<string, string>): readonly DeepReadonly<T>[];
  /** A cluster-scoped object by name, or any object by its store key (`namespace/name`). */
  get(name: string): DeepReadonly<T> | undefined;
  /** The objects of one namespace. */
  namespace(ns: string): NamespaceLister<T>;
}

/** Lists and gets the objects of one namespace. */
export interface NamespaceLister<T> {
  list(selector?: string | Record<string, string>): readonly DeepReadonly<T>[];
  get(name: string): DeepReadonly<T> | undefined;
}

function filter<T extends KubeObject>(
  items: readonly DeepReadonly<T>[],
  selector: LabelSelector | undefined,
): readonly DeepReadonly<T>[] {
  const m = labelSelectorMatcher(selector);
  if (m.empty) return items;
  const out: DeepReadonly<T>[] = [];
  for (const o of items) {
    if (m.matches((o as DeepReadonly<KubeObject>).metadata?.labels as Readonly<Record<string, string>> | undefined)) {
      out.push(o);
    }
  }
  return out;
}

/** A lister over an indexer (which must have the built-in namespace index, as every informer's has). */
export function newLister<T extends KubeObject>(indexer: Indexer<T>): Lister<T> {
  return {
    list: (selector) => filter<T>(indexer.list(), selector),
    get: (name) => indexer.getByKey(name),
    namespace: (ns) => ({
      list: (selector) => filter<T>(indexer.byIndex(NAMESPACE_INDEX, ns), selector),
      get: (name) => indexer.getByKey(`${ns}/${name}`),
    }),
  };
}
