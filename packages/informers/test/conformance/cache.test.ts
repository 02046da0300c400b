// Conformance: client-go `tools/cache/store_test.go`, `index_test.go` and `thread_safe_store_test.go`, test by test
// (same names), in our own words, against `IndexedCache` (client-go's Store, Indexer and ThreadSafeStore in one).
// Tests of things we do not have (FIFO and Undelta stores, transactions, KeyError, store metrics, the store's own
// resource version) are listed in the README.
import type { DeepReadonly } from "@minitask/client";
import { describe, expect, it } from "vitest";
import { IndexedCache, type IndexFunc, type KeyFunc, metaNamespaceKeyFunc } from "../../src/index.ts";

/** client-go's testStoreObject: an id (the key) and a value (indexed by `by_val`). */
interface TestObject {
  readonly metadata?: { readonly name?: string };
  readonly id: string;
  readonly val: string;
}
const mkObj = (id: string, val: string): TestObject => ({ id, val });
const testStoreKeyFunc = ((o: TestObject) => o.id) as unknown as KeyFunc;
const byVal: IndexFunc<TestObject> = (o) => [o.val];

function doTestStore(store: IndexedCache<TestObject>): void {
  store.upsert(mkObj("foo", "bar"));
  expect(store.get(mkObj("foo", ""))?.val).toBe("bar");
  store.upsert(mkObj("foo", "baz"));
  expect(store.get(mkObj("foo", ""))?.val).toBe("baz");
  store.deleteKey(store.keyOf(mkObj("foo", "")));
  expect(store.get(mkObj("foo", ""))).toBeUndefined();

  store.upsert(mkObj("a", "b"));
  store.upsert(mkObj("c", "d"));
  store.upsert(mkObj("e", "e"));
  expect(
    store
      .list()
      .map((o) => o.val)
      .sort(),
  ).toEqual(["b", "d", "e"]);

  store.replace([mkObj("foo", "foo"), mkObj("bar", "bar")]);
  expect(
    store
      .list()
      .map((o) => o.val)
      .sort(),
  ).toEqual(["bar", "foo"]);
}

function doTestIndex(indexer: IndexedCache<TestObject>): void {
  const expected: Record<string, string[]> = { b: ["a", "c"], f: ["e"], h: ["g"] };
  indexer.upsert(mkObj("a", "b"));
  indexer.upsert(mkObj("c", "b"));
  indexer.upsert(mkObj("e", "f"));
  indexer.upsert(mkObj("g", "h"));
  for (const [val, ids] of Object.entries(expected)) {
    expect(
      indexer
        .index("by_val", mkObj("", val))
        .map((o) => o.id)
        .sort(),
      val,
    ).toEqual(ids);
  }
}

describe("client-go tools/cache/store_test.go", () => {
  it("TestCache", () => {
    doTestStore(new IndexedCache<TestObject>({ keyFunc: testStoreKeyFunc }));
  });

  it("TestIndex", () => {
    doTestIndex(new IndexedCache<TestObject>({ keyFunc: testStoreKeyFunc, indexers: { by_val: byVal } }));
  });
});

interface Pod {
  readonly metadata: {
    readonly name: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
}

describe("client-go tools/cache/index_test.go", () => {
  it("TestGetIndexFuncValues", () => {
    const index = new IndexedCache<Pod>({
      keyFunc: metaNamespaceKeyFunc as KeyFunc,
      indexers: { testmodes: (pod) => [pod.metadata.labels?.foo ?? ""] },
    });
    index.upsert({ metadata: { name: "one", labels: { foo: "bar" } } });
    index.upsert({ metadata: { name: "two", labels: { foo: "bar" } } });
    index.upsert({ metadata: { name: "tre", labels: { foo: "biz" } } });
    expect([...index.listIndexFuncValues("testmodes")].sort()).toEqual(["bar", "biz"]);
  });

  it("TestMultiIndexKeys", () => {
    const byUser: IndexFunc<Pod> = (pod) => (pod.metadata.annotations?.users ?? "").split(",");
    const index = new IndexedCache<Pod>({ indexers: { byUser } });
    const pod1: Pod = { metadata: { name: "one", annotations: { users: "ernie,bert" } } };
    const pod2: Pod = { metadata: { name: "two", annotations: { users: "bert,oscar" } } };
    const pod3: Pod = { metadata: { name: "tre", annotations: { users: "ernie,elmo" } } };
    for (const p of [pod1, pod2, pod3]) index.upsert(p);
    const names = (user: string) =>
      index
        .byIndex("byUser", user)
        .map((p: DeepReadonly<Pod>) => p.metadata.name)
        .sort();
    expect(names("ernie")).toEqual(["one", "tre"]);
    expect(names("bert")).toEqual(["one", "two"]);
    expect(names("elmo")).toEqual(["tre"]);
    expect(names("oscar")).toEqual(["two"]);
    expect(names("elmo1")).toEqual([]);

    index.deleteKey(index.keyOf(pod3));
    expect(names("ernie")).toEqual(["one"]);
    expect(names("elmo")).toEqual([]);

    const copyOfPod2: Pod = { metadata: { ...pod2.metadata, annotations: { users: "oscar" } } };
    index.upsert(copyOfPod2);
    expect(names("bert")).toEqual(["one"]);
  });
});

/** client-go's thread-safe store tests add strings under explicit keys; ours are objects keyed by `id`. */
const strObj = (key: string, value: string): TestObject => ({ id: key, val: value });

describe("client-go tools/cache/thread_safe_store_test.go", () => {
  it("TestThreadSafeStoreDeleteRemovesEmptySetsFromIndex", () => {
    const store = new IndexedCache<TestObject>({ keyFunc: testStoreKeyFunc, indexers: { testIndexer: byVal } });
    store.upsert(strObj("testKey", "testKey"));
    expect(store.indexKeys("testIndexer", "testKey")).toHaveLength(1);
    store.deleteKey("testKey");
    // The emptied set is gone from the index, not left behind empty.
    expect(store.listIndexFuncValues("testIndexer")).not.toContain("testKey");
  });

  it("TestThreadSafeStoreAddKeepsNonEmptySetPostDeleteFromIndex", () => {
    const store = new IndexedCache<TestObject>({
      keyFunc: testStoreKeyFunc,
      indexers: { testIndexer: () => ["testIndex"] },
    });
    store.upsert(strObj("retain", "retain"));
    store.upsert(strObj("delete", "delete"));
    expect(store.indexKeys("testIndexer", "testIndex")).toHaveLength(2);
    store.deleteKey("delete");
    expect(store.listIndexFuncValues("testIndexer")).toContain("testIndex");
    expect(store.indexKeys("testIndexer", "testIndex")).toEqual(["retain"]);
  });

  it("TestThreadSafeStoreIndexingFunctionsWithMultipleValues", () => {
    const store = new IndexedCache<TestObject>({
      keyFunc: testStoreKeyFunc,
      indexers: { testIndexer: (o) => o.val.split(",") },
    });
    const keys = (value: string) => [...store.indexKeys("testIndexer", value)].sort();
    const expectIndex = (expected: Record<string, string[]>) => {
      for (const [value, k] of Object.entries(expected)) expect(keys(value), value).toEqual(k);
    };
    store.upsert(strObj("key1", "foo"));
    store.upsert(strObj("key2", "bar"));
    expectIndex({ foo: ["key1"], bar: ["key2"] });
    store.upsert(strObj("key2", "foo,bar"));
    expectIndex({ foo: ["key1", "key2"], bar: ["key2"] });
    store.upsert(strObj("key1", "foo,bar"));
    expectIndex({ foo: ["key1", "key2"], bar: ["key1", "key2"] });
    store.upsert(strObj("key3", "foo,bar,baz"));
    expectIndex({ foo: ["key1", "key2", "key3"], bar: ["key1", "key2", "key3"], baz: ["key3"] });
    store.upsert(strObj("key1", "foo"));
    expectIndex({ foo: ["key1", "key2", "key3"], bar: ["key2", "key3"], baz: ["key3"] });
    store.upsert(strObj("key2", "bar"));
    expectIndex({ foo: ["key1", "key3"], bar: ["key2", "key3"], baz: ["key3"] });
    store.deleteKey("key1");
    expectIndex({ foo: ["key3"], bar: ["key2", "key3"], baz: ["key3"] });
    store.deleteKey("key3");
    expectIndex({ foo: [], bar: ["key2"], baz: [] });
    expect([...store.listIndexFuncValues("testIndexer")]).toEqual(["bar"]);
  });
});
