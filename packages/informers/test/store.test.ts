import type { KubeObject } from "@minitask/client";
import { describe, expect, it, vi } from "vitest";
import {
  DeletedFinalStateUnknown,
  deletionHandlingMetaNamespaceKeyFunc,
  IndexedCache,
  labelSelectorMatcher,
  metaNamespaceKeyFunc,
  NAMESPACE_INDEX,
  newLister,
  SelectorParseError,
  splitMetaNamespaceKey,
} from "../src/index.ts";
import { cm } from "./memory-lw.ts";

interface Labeled extends KubeObject {
  spec?: { owners?: string[] };
}

function obj(
  name: string,
  ns: string | undefined,
  rv = "1",
  labels?: Record<string, string>,
  owners?: string[],
): Labeled {
  return {
    metadata: { name, ...(ns ? { namespace: ns } : {}), resourceVersion: rv, ...(labels ? { labels } : {}) },
    ...(owners ? { spec: { owners } } : {}),
  };
}

describe("keys", () => {
  it("keys namespaced objects as namespace/name and cluster-scoped ones as name", () => {
    expect(metaNamespaceKeyFunc({ metadata: { name: "a", namespace: "n" } })).toBe("n/a");
    expect(metaNamespaceKeyFunc({ metadata: { name: "a" } })).toBe("a");
    expect(() => metaNamespaceKeyFunc({ metadata: {} })).toThrow(TypeError);
    expect(splitMetaNamespaceKey("n/a")).toEqual({ namespace: "n", name: "a" });
    expect(splitMetaNamespaceKey("a")).toEqual({ name: "a" });
    expect(() => splitMetaNamespaceKey("a/b/c")).toThrow(TypeError);
    const t = new DeletedFinalStateUnknown("n/x", obj("x", "n"));
    expect(deletionHandlingMetaNamespaceKeyFunc(t)).toBe("n/x");
    expect(deletionHandlingMetaNamespaceKeyFunc(obj("x", "n"))).toBe("n/x");
  });
});

describe("IndexedCache", () => {
  it("stores by key, reports changes, and keeps the namespace index current", () => {
    const c = new IndexedCache<Labeled>();
    expect(c.upsert(obj("a", "n1"))).toMatchObject({ type: "add", key: "n1/a" });
    expect(c.upsert(obj("b", "n2"))).toMatchObject({ type: "add", key: "n2/b" });
    const u = c.upsert(obj("a", "n1", "2"));
    expect(u.type).toBe("update");
    expect(u.type === "update" && u.old.metadata?.resourceVersion).toBe("1");
    expect(c.getByKey("n1/a")?.metadata?.resourceVersion).toBe("2");
    expect(c.get(obj("a", "n1"))?.metadata?.resourceVersion).toBe("2");
    expect(c.listKeys().toSorted()).toEqual(["n1/a", "n2/b"]);
    expect(c.byIndex(NAMESPACE_INDEX, "n1").map((o) => o.metadata?.name)).toEqual(["a"]);
    expect(c.listIndexFuncValues(NAMESPACE_INDEX).toSorted()).toEqual(["n1", "n2"]);
    expect(c.deleteKey("n2/b")?.metadata?.name).toBe("b");
    expect(c.deleteKey("n2/b")).toBeUndefined();
    expect(c.listIndexFuncValues(NAMESPACE_INDEX)).toEqual(["n1"]);
    expect(() => c.byIndex("nope", "x")).toThrow(/does not exist/);
  });

  it("supports multi-value custom indexes, moved values, and addIndexers that backfill", () => {
    const c = new IndexedCache<Labeled>();
    c.upsert(obj("a", "n", "1", undefined, ["x", "y"]));
    c.upsert(obj("b", "n", "1", undefined, ["y"]));
    c.addIndexers({ byOwner: (o) => o.spec?.owners ?? [] });
    expect(
      c
        .byIndex("byOwner", "y")
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(["a", "b"]);
    expect(c.indexKeys("byOwner", "x")).toEqual(["n/a"]);
    c.upsert(obj("a", "n", "2", undefined, ["z"]));
    expect(c.indexKeys("byOwner", "x")).toEqual([]);
    expect(c.listIndexFuncValues("byOwner").toSorted()).toEqual(["y", "z"]);
    expect(
      c
        .index("byOwner", obj("q", "n", "1", undefined, ["y", "z"]))
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(["a", "b"]);
    expect(() => c.addIndexers({ byOwner: () => [] })).toThrow(/conflict/);
    expect(() => c.addIndexers({ [NAMESPACE_INDEX]: () => [] })).toThrow(/conflict/);
  });

  it("survives an index function that throws", () => {
    const onIndexError = vi.fn();
    const c = new IndexedCache<Labeled>({
      onIndexError,
      indexers: {
        bad: (o) => {
          if (o.metadata?.name === "boom") throw new Error("no");
          return [o.metadata?.name ?? ""];
        },
      },
    });
    c.upsert(obj("boom", "n"));
    c.upsert(obj("fine", "n"));
    expect(onIndexError).toHaveBeenCalledTimes(1);
    expect(c.indexKeys("bad", "fine")).toEqual(["n/fine"]);
    c.deleteKey("n/boom");
    expect(c.size).toBe(1);
  });

  it("replace: deletes vanished ones first, then adds and updates only changed objects", () => {
    const c = new IndexedCache<Labeled>();
    c.upsert(obj("same", "n", "1"));
    c.upsert(obj("changed", "n", "1"));
    c.upsert(obj("gone", "n", "1"));
    const changes = c.replace([obj("same", "n", "1"), obj("changed", "n", "2"), obj("new", "n", "3")]);
    expect(changes.map((x) => [x.type, x.key])).toEqual([
      ["delete", "n/gone"],
      ["update", "n/changed"],
      ["add", "n/new"],
    ]);
    expect(c.listKeys().toSorted()).toEqual(["n/changed", "n/new", "n/same"]);
    expect(c.byIndex(NAMESPACE_INDEX, "n")).toHaveLength(3);
  });

  it("hands out one list snapshot until the next write", () => {
    const c = new IndexedCache<Labeled>();
    c.upsert(obj("a", "n"));
    const l1 = c.list();
    expect(c.list()).toBe(l1);
    expect(Object.isFrozen(l1)).toBe(true);
    c.upsert(obj("a", "n", "2"));
    expect(c.list()).not.toBe(l1);
    expect(l1[0]?.metadata?.resourceVersion).toBe("1");
  });
});

describe("label selectors and listers", () => {
  it("parses and matches the apiserver's selector syntax", () => {
    const m = (s: string, labels?: Record<string, string>) => labelSelectorMatcher(s).matches(labels);
    expect(m("", {})).toBe(true);
    expect(m("a=b", { a: "b" })).toBe(true);
    expect(m("a==b", { a: "c" })).toBe(false);
    expect(m("a!=b", {})).toBe(true);
    expect(m("a!=b", { a: "b" })).toBe(false);
    expect(m("a in (x, y)", { a: "y" })).toBe(true);
    expect(m("a notin (x,y)", { a: "y" })).toBe(false);
    expect(m("a notin (x,y)", {})).toBe(true);
    expect(m("a", { a: "" })).toBe(true);
    expect(m("!a", { a: "" })).toBe(false);
    expect(m("app.kubernetes.io/name=x, tier in (web)", { "app.kubernetes.io/name": "x", tier: "web" })).toBe(true);
    expect(() => labelSelectorMatcher("a in x")).toThrow(SelectorParseError);
    expect(() => labelSelectorMatcher("a=b=c")).toThrow(SelectorParseError);
    expect(labelSelectorMatcher({ a: "b" }).matches({ a: "b", c: "d" })).toBe(true);
  });

  it("lists across namespaces, per namespace, by selector, and gets by name or key", () => {
    const c = new IndexedCache<Labeled>();
    c.upsert(obj("a", "n1", "1", { app: "x" }));
    c.upsert(obj("b", "n1", "1", { app: "y" }));
    c.upsert(obj("a", "n2", "1", { app: "x" }));
    c.upsert(obj("node-1", undefined));
    const l = newLister<Labeled>(c);
    expect(l.list()).toHaveLength(4);
    expect(l.list("app=x")).toHaveLength(2);
    expect(l.list({ app: "y" }).map((o) => o.metadata?.name)).toEqual(["b"]);
    expect(l.namespace("n1").list()).toHaveLength(2);
    expect(l.namespace("n1").list("app=x")).toHaveLength(1);
    expect(l.namespace("n1").get("b")?.metadata?.labels?.app).toBe("y");
    expect(l.namespace("n3").get("b")).toBeUndefined();
    expect(l.get("node-1")?.metadata?.name).toBe("node-1");
    expect(l.get("n2/a")?.metadata?.namespace).toBe("n2");
  });

  it("types cached objects deep-readonly", () => {
    const c = new IndexedCache<Labeled>();
    c.upsert(cm("a", "1", { data: { k: "v" } }) as Labeled);
    const got = c.getByKey("ns/a");
    const mutate = (o: NonNullable<typeof got>): void => {
      // @ts-expect-error the cache hands out read-only objects
      o.metadata = {};
      // @ts-expect-error nested too
      o.metadata!.labels!.x = "y";
    };
    expect(typeof mutate).toBe("function");
    expect(got).toBeDefined();
  });
});
