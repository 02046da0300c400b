// Conformance: client-go `tools/cache/the_real_fifo_test.go` — the delivery rules of the RealFIFO that shared
// informers use since Kubernetes 1.33 — as far as our informer has an equivalent. We have no FIFO between the
// reflector and the cache: each watch event (and each relist, as one step) is applied to the cache and handed to the
// handlers in order. So every test here drives a whole informer over an in-memory lister-watcher: upstream's
// `f.Add/Update/Delete` are watch events, `f.Replace` is a relist (a 410 on the watch, then a list), `f.Resync` is a
// handler's resync period, and "popped deltas" are the notifications a handler receives. Upstream names are kept;
// the differences are listed in the README.
import { GoneError, type KubeObject } from "@minitask/client";
import { FakeClock } from "@minitask/workqueue";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DeletedFinalStateUnknown,
  deletionHandlingMetaNamespaceKeyFunc,
  type Logger,
  SharedIndexInformer,
  type SharedIndexInformerOptions,
} from "../../src/index.ts";
import { type Recorded, recorder } from "../helpers.ts";
import { cm, MemoryLW, type TestStream } from "../memory-lw.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silent,
};

const obj = (name: string, rv: number, extra: Record<string, unknown> = {}) => cm(name, String(rv), extra) as ConfigMap;

/** An informer over a MemoryLW, with a recording handler, started and synced; and the verbs of the FIFO tests. */
async function fifo(
  known: ConfigMap[] = [],
  options: SharedIndexInformerOptions<ConfigMap> & {
    resyncPeriodMs?: number;
    transform?: (o: ConfigMap) => ConfigMap;
  } = {},
) {
  const lw = new MemoryLW<ConfigMap>();
  lw.items = known;
  const informer = new SharedIndexInformer<ConfigMap>(lw, {
    watchList: false,
    logger: silent,
    onWatchError: () => {},
    ...options,
  });
  if (options.transform) informer.setTransform(options.transform);
  const rec = recorder<ConfigMap>();
  informer.addEventHandler(rec, { resyncPeriodMs: options.resyncPeriodMs ?? 0 });
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  stops.push(async () => {
    ac.abort();
    await running;
  });
  expect(await informer.waitForCacheSync()).toBe(true);
  let streams = 1;
  let stream: TestStream<ConfigMap> = await lw.stream(streams);
  let rv = 1000;
  const initial = known.length;
  return {
    lw,
    informer,
    rec,
    ac,
    running,
    /** Notifications after the initial list, as [type, name, rv, tombstone?]. */
    async seen(): Promise<[string, string, string, boolean?][]> {
      await informer.handlersIdle();
      return rec.events.slice(initial).map(short);
    },
    add: (o: ConfigMap) => stream.push({ type: "ADDED", object: o }),
    update: (o: ConfigMap) => stream.push({ type: "MODIFIED", object: o }),
    delete: (o: ConfigMap) => stream.push({ type: "DELETED", object: o }),
    bookmark: (v: string) => stream.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: v } } }),
    /** A relist returning `items`: the watch ends in 410, the informer lists again and watches anew. */
    async replace(items: ConfigMap[]) {
      const lists = informer.counters().lists;
      // An event in between makes the 410 relist at once (two 410s in a row back off).
      stream.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: String(++rv) } } });
      await vi.waitFor(() => expect(informer.lastSyncResourceVersion()).toBe(String(rv)));
      lw.items = items;
      lw.rv = String(++rv);
      stream.fail(new GoneError({ kind: "Status", code: 410, reason: "Expired", message: "too old" }));
      await vi.waitFor(() => expect(informer.counters().lists).toBe(lists + 1));
      streams++;
      stream = await lw.stream(streams);
    },
    /** Waits until the informer has applied every event pushed so far. */
    async applied() {
      const v = String(++rv);
      stream.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: v } } });
      await vi.waitFor(() => expect(informer.lastSyncResourceVersion()).toBe(v));
      await informer.handlersIdle();
    },
  };
}

function short(e: Recorded): [string, string, string, boolean?] {
  const name = e.key.split("/")[1]!;
  return e.type === "delete" && e.tombstone ? [e.type, name, e.rv, true] : [e.type, name, e.rv];
}

describe("client-go tools/cache/the_real_fifo_test.go", () => {
  it("TestRealFIFO_basic", async () => {
    const f = await fifo();
    // Two producers interleaved; each one's events arrive in its own order.
    for (let i = 0; i < 500; i++) {
      f.add(obj(`a-${i}`, 1 + 2 * i));
      f.add(obj(`b-${i}`, 2 + 2 * i));
    }
    await f.applied();
    const seen = await f.seen();
    expect(seen).toHaveLength(1000);
    for (const p of ["a", "b"]) {
      const rvs = seen.filter(([, n]) => n.startsWith(`${p}-`)).map(([, , rv]) => Number(rv));
      expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    }
  });

  it("TestRealFIFO_replaceWithDeleteDeltaIn", async () => {
    const f = await fifo([obj("foo", 1)]);
    f.delete(obj("foo", 1));
    await f.replace([obj("foo", 2)]);
    // The object that came back in the relist is not missed (kubernetes#83810).
    expect(await f.seen()).toEqual([
      ["delete", "foo", "1"],
      ["add", "foo", "2"],
    ]);
  });

  describe("TestRealFIFOW_ReplaceMakesDeletionsForObjectsOnlyInQueue", () => {
    const o = obj("foo", 2);
    const oV2 = obj("foo", 3);
    it("Added object should be deleted on Replace", async () => {
      const f = await fifo();
      f.add(o);
      await f.replace([]);
      expect(await f.seen()).toEqual([
        ["add", "foo", "2"],
        ["delete", "foo", "2", true],
      ]);
    });
    it("Deleted object should have only a single Delete", async () => {
      const f = await fifo();
      f.add(o);
      f.delete(o);
      await f.replace([]);
      expect(await f.seen()).toEqual([
        ["add", "foo", "2"],
        ["delete", "foo", "2"],
      ]);
    });
    it("Synced objects should have a single delete", async () => {
      const f = await fifo();
      f.add(o);
      await f.replace([o]);
      await f.replace([o]);
      await f.replace([]);
      // Upstream's two Replaced deltas of the unchanged object reach only resyncing handlers; ours notify nobody.
      expect(await f.seen()).toEqual([
        ["add", "foo", "2"],
        ["delete", "foo", "2", true],
      ]);
    });
    it("Added objects should have a single delete on multiple Replaces", async () => {
      const f = await fifo();
      f.add(o);
      await f.replace([]);
      await f.replace([]);
      expect(await f.seen()).toEqual([
        ["add", "foo", "2"],
        ["delete", "foo", "2", true],
      ]);
    });
    it("Added and deleted and added object should be deleted", async () => {
      const f = await fifo();
      f.add(o);
      f.delete(o);
      f.add(oV2);
      await f.replace([]);
      expect(await f.seen()).toEqual([
        ["add", "foo", "2"],
        ["delete", "foo", "2"],
        ["add", "foo", "3"],
        ["delete", "foo", "3", true],
      ]);
    });
    it("Bookmark object should not be added without atomic", async () => {
      const f = await fifo();
      f.bookmark("123");
      await f.replace([]);
      await f.replace([]);
      expect(await f.seen()).toEqual([]);
    });
  });

  it("TestRealFIFO_addUpdate", async () => {
    const f = await fifo();
    f.add(obj("foo", 10));
    f.update(obj("foo", 12));
    f.delete(obj("foo", 15));
    await f.applied();
    // Nothing is collapsed, and the delete carries the final state from the event.
    expect(await f.seen()).toEqual([
      ["add", "foo", "10"],
      ["update", "foo", "12"],
      ["delete", "foo", "15"],
    ]);
  });

  it("TestRealFIFO_transformer", async () => {
    // Each object is transformed exactly once; a tombstone carries the transformed object, not transformed again.
    const transform = (o: ConfigMap): ConfigMap => ({
      ...o,
      data: { xfrm: String(Number(o.data?.xfrm ?? "0") + 1) },
    });
    const f = await fifo([], { transform });
    f.add(obj("foo", 10));
    f.add(obj("bar", 11));
    f.update(obj("foo", 12));
    f.delete(obj("foo", 15));
    await f.replace([]);
    f.add(obj("bar", 16));
    await f.replace([]);
    expect(await f.seen()).toEqual([
      ["add", "foo", "10"],
      ["add", "bar", "11"],
      ["update", "foo", "12"],
      ["delete", "foo", "15"],
      ["delete", "bar", "11", true],
      ["add", "bar", "16"],
      ["delete", "bar", "16", true],
    ]);
    expect(f.rec.events.every((e) => (e.obj as ConfigMap).data?.xfrm === "1")).toBe(true);
  });

  it("TestRealFIFO_enqueueingNoLister", async () => {
    const f = await fifo();
    f.add(obj("foo", 10));
    f.update(obj("bar", 15)); // an update of an unknown object is an add
    f.add(obj("qux", 17));
    f.delete(obj("qux", 18));
    f.delete(obj("baz", 20)); // upstream delivers this delete of a never-seen object; we do not (README)
    await f.applied();
    expect((await f.seen()).map(([, , rv]) => Number(rv))).toEqual([10, 15, 17, 18]);
  });

  it("TestRealFIFO_enqueueingWithLister", async () => {
    const f = await fifo([obj("foo", 5), obj("bar", 6), obj("baz", 7)]);
    f.add(obj("foo", 10));
    f.update(obj("bar", 15));
    f.delete(obj("baz", 20));
    await f.applied();
    expect(await f.seen()).toEqual([
      ["update", "foo", "10"],
      ["update", "bar", "15"],
      ["delete", "baz", "20"],
    ]);
  });

  it("TestRealFIFO_addReplace", async () => {
    const f = await fifo();
    f.add(obj("foo", 10));
    await f.replace([obj("foo", 15)]);
    expect(await f.seen()).toEqual([
      ["add", "foo", "10"],
      ["update", "foo", "15"],
    ]);
  });

  it("TestRealFIFO_ResyncNonExisting", async () => {
    const clock = new FakeClock();
    const f = await fifo([obj("foo", 5)], { clock, resyncPeriodMs: 1000 });
    f.delete(obj("foo", 10));
    await f.applied();
    await clock.advanceAsync(1000);
    // The deleted object is not resynced.
    expect(await f.seen()).toEqual([["delete", "foo", "10"]]);
  });

  it("TestRealFIFO_Resync", async () => {
    const clock = new FakeClock();
    const f = await fifo([obj("foo", 5)], { clock, resyncPeriodMs: 1000 });
    await clock.advanceAsync(1000);
    expect(await f.seen()).toEqual([["update", "foo", "5"]]);
    const sync = f.rec.events[1]!;
    expect(sync.type === "update" && sync.old === sync.obj).toBe(true); // a resync: the same cached object twice
  });

  it("TestRealFIFO_DeleteExistingNonPropagated", async () => {
    const f = await fifo();
    f.add(obj("foo", 5));
    f.delete(obj("foo", 6));
    await f.applied();
    expect(await f.seen()).toEqual([
      ["add", "foo", "5"],
      ["delete", "foo", "6"],
    ]);
  });

  describe("TestRealFIFO_ReplaceMakesDeletions", () => {
    const known = () => [obj("foo", 5), obj("bar", 6), obj("baz", 7)];
    it("a watch delete, then a relist without it", async () => {
      const f = await fifo(known());
      f.delete(obj("baz", 10));
      await f.replace([obj("foo", 5)]);
      expect(await f.seen()).toEqual([
        ["delete", "baz", "10"],
        ["delete", "bar", "6", true],
      ]);
    });
    it("a watch add of a known object, then a relist without it", async () => {
      const f = await fifo(known());
      f.add(obj("baz", 10));
      await f.replace([obj("foo", 5)]);
      expect(await f.seen()).toEqual([
        ["update", "baz", "10"],
        ["delete", "bar", "6", true],
        ["delete", "baz", "10", true],
      ]);
    });
    it("a delete and a re-add, then a relist without it", async () => {
      const f = await fifo(known());
      f.delete(obj("bar", 6));
      f.add(obj("bar", 100));
      await f.replace([obj("foo", 5)]);
      expect(await f.seen()).toEqual([
        ["delete", "bar", "6"],
        ["add", "bar", "100"],
        ["delete", "baz", "7", true], // tombstones in cache order (README)
        ["delete", "bar", "100", true],
      ]);
    });
    it("two relists", async () => {
      const f = await fifo(known());
      await f.replace([obj("bar", 100), obj("foo", 5)]);
      await f.replace([obj("foo", 5)]);
      expect(await f.seen()).toEqual([
        ["delete", "baz", "7", true], // deletes first
        ["update", "bar", "100"],
        ["delete", "bar", "100", true],
      ]);
    });
    it("no known objects", async () => {
      const f = await fifo();
      f.add(obj("baz", 10));
      await f.replace([obj("foo", 5)]);
      expect(await f.seen()).toEqual([
        ["add", "baz", "10"],
        ["delete", "baz", "10", true],
        ["add", "foo", "5"],
      ]);
    });
  });

  it("TestRealFIFO_ReplaceMakesDeletionsReplaced", async () => {
    const f = await fifo([obj("foo", 5), obj("bar", 6), obj("baz", 7)]);
    f.delete(obj("baz", 10));
    await f.replace([obj("foo", 6)]);
    expect(await f.seen()).toEqual([
      ["delete", "baz", "10"],
      ["delete", "bar", "6", true],
      ["update", "foo", "6"],
    ]);
  });

  it("TestRealFIFO_UpdateResyncRace", async () => {
    const clock = new FakeClock();
    const f = await fifo([obj("foo", 5)], { clock, resyncPeriodMs: 1000 });
    f.update(obj("foo", 6));
    await f.applied();
    await clock.advanceAsync(1000);
    // Upstream skips the resync of a key still queued; ours resyncs from the cache, so it is never stale either.
    expect(await f.seen()).toEqual([
      ["update", "foo", "6"],
      ["update", "foo", "6"],
    ]);
  });

  it("TestRealFIFO_HasSyncedCorrectOnDeletion", async () => {
    // Upstream: the first Replace's deletions and adds all count as the initial list. Our first list can only add;
    // a handler's registration is synced once it has processed every initial add, each marked initial.
    const lw = new MemoryLW<ConfigMap>();
    lw.items = [obj("foo", 5), obj("bar", 6), obj("baz", 7)];
    const informer = new SharedIndexInformer<ConfigMap>(lw, { watchList: false, logger: silent });
    const gates: (() => void)[] = [];
    const initial: boolean[] = [];
    const reg = informer.addEventHandler({
      onAdd: (_o, isInInitialList) => {
        initial.push(isInInitialList);
        return new Promise<void>((resolve) => gates.push(resolve));
      },
    });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    stops.push(async () => {
      ac.abort();
      for (const g of gates) g();
      await running;
    });
    await informer.waitForCacheSync();
    for (let i = 0; i < 3; i++) {
      await vi.waitFor(() => expect(gates).toHaveLength(i + 1));
      expect(reg.hasSynced()).toBe(false);
      gates[i]!();
    }
    await informer.handlersIdle();
    expect(reg.hasSynced()).toBe(true);
    expect(initial).toEqual([true, true, true]);
  });

  it("TestRealFIFO_detectLineJumpers", async () => {
    const f = await fifo();
    f.add(obj("foo", 10));
    f.add(obj("bar", 1));
    f.add(obj("foo", 11));
    f.add(obj("foo", 13));
    f.add(obj("zab", 30));
    f.add(obj("foo", 14)); // foo does not jump back in line
    await f.applied();
    expect((await f.seen()).map(([, , rv]) => Number(rv))).toEqual([10, 1, 11, 13, 30, 14]);
  });

  it("TestRealFIFO_KeyOf", () => {
    expect(deletionHandlingMetaNamespaceKeyFunc({ metadata: { name: "A" } })).toBe("A");
    expect(deletionHandlingMetaNamespaceKeyFunc(new DeletedFinalStateUnknown("B", { metadata: { name: "x" } }))).toBe(
      "B",
    );
  });

  describe("TestRealFIFO_HasSynced", () => {
    it("no list yet: not synced", () => {
      const informer = new SharedIndexInformer<ConfigMap>(new MemoryLW<ConfigMap>(), {
        watchList: false,
        logger: silent,
      });
      expect(informer.hasSynced()).toBe(false);
    });
    it("an empty first list: synced", async () => {
      const f = await fifo([]);
      expect(f.informer.hasSynced()).toBe(true);
    });
    it("a first list of two objects: a handler is synced once it has processed both", async () => {
      const lw = new MemoryLW<ConfigMap>();
      lw.items = [obj("a", 1), obj("b", 2)];
      const informer = new SharedIndexInformer<ConfigMap>(lw, { watchList: false, logger: silent });
      const gates: (() => void)[] = [];
      const reg = informer.addEventHandler({ onAdd: () => new Promise<void>((resolve) => gates.push(resolve)) });
      const ac = new AbortController();
      const running = informer.run(ac.signal);
      stops.push(async () => {
        ac.abort();
        for (const g of gates) g();
        await running;
      });
      await informer.waitForCacheSync();
      // The informer is synced once the list is in the cache (upstream: once its items are popped into the store)...
      expect(informer.hasSynced()).toBe(true);
      await vi.waitFor(() => expect(gates).toHaveLength(1));
      expect(reg.hasSynced()).toBe(false);
      gates[0]!();
      await vi.waitFor(() => expect(gates).toHaveLength(2));
      expect(reg.hasSynced()).toBe(false);
      gates[1]!();
      await informer.handlersIdle();
      expect(reg.hasSynced()).toBe(true); // ...a handler once it has processed its initial adds
    });
    it("a first list with one key twice: an initial add and an update, synced", async () => {
      const f = await fifo([obj("a", 1), obj("a", 2)]);
      expect(f.informer.hasSynced()).toBe(true);
      await f.informer.handlersIdle();
      expect(f.rec.events.map(short)).toEqual([
        ["add", "a", "1"],
        ["update", "a", "2"],
      ]);
      expect(f.rec.events[0]).toMatchObject({ initial: true });
      expect(f.informer.getStore().getByKey("ns/a")?.metadata?.resourceVersion).toBe("2");
    });
  });

  it("TestRealFIFO_PopShouldUnblockWhenClosed", async () => {
    const lw = new MemoryLW<ConfigMap>();
    lw.listErrors.push(new Error("never lists")); // stays unsynced, retrying with backoff
    const informer = new SharedIndexInformer<ConfigMap>(lw, {
      watchList: false,
      logger: silent,
      onWatchError: () => {},
    });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    const waiting = Array.from({ length: 10 }, () => informer.waitForCacheSync());
    ac.abort();
    await running;
    expect(await Promise.all(waiting)).toEqual(Array(10).fill(false));
  });

  // Upstream's atomic mode hands the informer one ReplacedAll delta that swaps the store in one step. Our relist is
  // always that: when a handler hears the first notification of a relist, the cache already holds all of it.
  it("TestRealFIFO_ReplaceAtomic", async () => {
    const f = await fifo([obj("foo", 2)]);
    const snapshots: string[][] = [];
    f.informer.addEventHandler({
      onAdd: (_o, initial) => {
        if (!initial) snapshots.push([...f.informer.getStore().listKeys()].sort());
      },
      onDelete: () => void snapshots.push([...f.informer.getStore().listKeys()].sort()),
    });
    await f.replace([obj("a", 1), obj("b", 1)]);
    await f.informer.handlersIdle();
    expect(snapshots).toEqual([
      ["ns/a", "ns/b"],
      ["ns/a", "ns/b"],
      ["ns/a", "ns/b"],
    ]);
  });
});
