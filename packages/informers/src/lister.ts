// Typed listers: read-only views over an informer's indexer, as client-go's generated listers, filtering by label
// selector and, beyond client-go, by field selector (evaluated on the cached objects).
import type { DeepReadonly, KubeObject } from "@minitask/client";
import { type FieldSelector, fieldSelectorMatcher, objectFieldValue } from "./fields.ts";
import { type LabelSelector, labelSelectorMatcher } from "./selector.ts";
import { type Indexer, NAMESPACE_INDEX } from "./store.ts";

/** Lists and gets objects of one resource from the cache. */
export interface Lister<T> {
  /**
   * Every cached object matching the label selector and the field selector (all when omitted). Throws
   * `SelectorParseError` for a selector the apiserver would reject.
   */
  list(selector?: LabelSelector, fieldSelector?: FieldSelector): readonly DeepReadonly<T>[];
  /** A cluster-scoped object by name, or any object by its store key (`namespace/name`). */
  get(name: string): DeepReadonly<T> | undefined;
  /** The objects of one namespace. */
  namespace(ns: string): NamespaceLister<T>;
}

/** Lists and gets the objects of one namespace. */
export interface NamespaceLister<T> {
  list(selector?: LabelSelector, fieldSelector?: FieldSelector): readonly DeepReadonly<T>[];
  get(name: string): DeepReadonly<T> | undefined;
}

function filter<T extends KubeObject>(
  items: readonly DeepReadonly<T>[],
  selector: LabelSelector | undefined,
  fieldSelector: FieldSelector | undefined,
): readonly DeepReadonly<T>[] {
  const m = labelSelectorMatcher(selector);
  const f = fieldSelectorMatcher(fieldSelector);
  if (m.empty && f.empty) return items;
  const out: DeepReadonly<T>[] = [];
  for (const o of items) {
    const labels = (o as DeepReadonly<KubeObject>).metadata?.labels as Readonly<Record<string, string>> | undefined;
    if (!m.matches(labels)) continue;
    if (!f.empty && !f.matches((path) => objectFieldValue(o, path))) continue;
    out.push(o);
  }
  return out;
}

/** A lister over an indexer (which must have the built-in namespace index, as every informer's has). */
export function newLister<T extends KubeObject>(indexer: Indexer<T>): Lister<T> {
  return {
    list: (selector, fieldSelector) => filter<T>(indexer.list(), selector, fieldSelector),
    get: (name) => indexer.getByKey(name),
    namespace: (ns) => ({
      list: (selector, fieldSelector) => filter<T>(indexer.byIndex(NAMESPACE_INDEX, ns), selector, fieldSelector),
      get: (name) => indexer.getByKey(`${ns}/${name}`),
    }),
  };
}
