// Read-your-writes: the mutation cache with a fake clock, and with an in-memory informer.
import type { KubeObject } from "@minitask/client";
import { FakeClock } from "@minitask/workqueue";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DeletedFinalStateUnknown, MutationCache, newLister, SharedIndexInformer, silentLogger } from "../src/index.ts";
import { MemoryLW } from "./memory-lw.ts";

interface Run extends KubeObject {
  status?: { phase?: string };
}

function run(rv: string, uid = "u1", phase?: string, name = "r"): Run {
  return {
    apiVersion: "v1",
    kind: "Run",
    metadata: { name, namespace: "ns", uid, resourceVersion: rv },
    ...(phase ? { status: { phase } } : {}),
  };
}

function setup(ttlMs = 5_000) {
  const clock = new FakeClock(1_000);
  const writes = new MutationCache<Run>({ clock, ttlMs });
  return { clock, writes };
}

describe("MutationCache", () => {
  it("prefers our write while the cache is older, and the cache once it has caught up", () => {
    const { writes } = setup();
    const ours = run("11", "u1", "Running");
    writes.record(ours);
    const stale = run("10");
    expect(writes.isBehind("ns/r", stale)).toBe(true);
    expect(writes.newer("ns/r", stale)).toBe(ours);
    expect(writes.size).toBe(1);
    // The cache reaches our version: the write is forgotten.
    const caught = run("11", "u1", "Running");
    expect(writes.newer("ns/r", caught)).toBe(caught);
    expect(writes.size).toBe(0);
    expect(writes.isBehind("ns/r", stale)).toBe(false);
  });

  it("counts a larger resource version and another incarnation (uid) as caught up", () => {
    const { writes } = setup();
    writes.record(run("11"));
    expect(writes.isBehind("ns/r", run("12"))).toBe(false);
    expect(writes.size).toBe(0);
    writes.record(run("20"));
    // Deleted and created again since our write: the new object is not behind our write of the old one.
    expect(writes.isBehind("ns/r", run("5", "u2"))).toBe(false);
    expect(writes.size).toBe(0);
    // Numbers, not strings: "9" is older than "10".
    writes.record(run("10"));
    expect(writes.isBehind("ns/r", run("9"))).toBe(true);
  });

  it("treats an object missing from the cache as deleted, and forgets the write", () => {
    const { writes } = setup();
    writes.record(run("11"));
    expect(writes.isBehind("ns/r", undefined)).toBe(false);
    expect(writes.newer("ns/r", undefined)).toBeUndefined();
    expect(writes.size).toBe(0);
  });

  it("with includeAdds, answers with our create until the cache holds it or has seen past it", () => {
    const clock = new FakeClock(1_000);
    let cacheRv = "10";
    const writes = new MutationCache<Run>({ clock, includeAdds: true, cacheResourceVersion: () => cacheRv });
    const created = run("11", "u1", undefined, "p");
    writes.record(created);
    // Not in the cache yet, and the cache has not reached the create: our object.
    expect(writes.newer("ns/p", undefined)).toBe(created);
    expect(writes.isBehind("ns/p", undefined)).toBe(true);
    // The cache holds it: the cache's copy, and the write is forgotten.
    const seen = run("11", "u1", undefined, "p");
    expect(writes.newer("ns/p", seen)).toBe(seen);
    expect(writes.size).toBe(0);
    // Created again; the cache then sees past it without holding it (deleted since): never brought back.
    writes.record(run("20", "u2", undefined, "p"));
    cacheRv = "19";
    expect(writes.newer("ns/p", undefined)?.metadata?.uid).toBe("u2");
    cacheRv = "25";
    expect(writes.newer("ns/p", undefined)).toBeUndefined();
    expect(writes.size).toBe(0);
    // And the TTL bounds it as well (resource versions that are not numbers never count as reached).
    cacheRv = "opaque";
    writes.record(run("x1", "u3", undefined, "p"));
    expect(writes.newer("ns/p", undefined)?.metadata?.uid).toBe("u3");
    clock.advance(5_001);
    expect(writes.newer("ns/p", undefined)).toBeUndefined();
  });

  it("refuses includeAdds without a cache resource version", () => {
    expect(() => new MutationCache<Run>({ includeAdds: true })).toThrow(/cacheResourceVersion/);
  });

  it("trusts the cache again after the TTL, also with resource versions that are not numbers", () => {
    const { clock, writes } = setup(5_000);
    writes.record(run("b-2"));
    expect(writes.isBehind("ns/r", run("a-1"))).toBe(true);
    clock.advance(5_000);
    expect(writes.isBehind("ns/r", run("a-1"))).toBe(true);
    clock.advance(1);
    expect(writes.isBehind("ns/r", run("a-1"))).toBe(false);
    expect(writes.size).toBe(0);
  });

  it("expires old entries as it is used, oldest first, with no timer", () => {
    const { clock, writes } = setup(5_000);
    writes.record(run("1", "u", undefined, "a"));
    clock.advance(2_000);
    writes.record(run("1", "u", undefined, "b"));
    clock.advance(2_000);
    writes.record(run("2", "u", undefined, "a")); // re-recorded: a moves behind b
    expect(writes.size).toBe(2);
    clock.advance(3_001); // b is 5,001 ms old, a 3,001 ms
    expect(writes.size).toBe(1);
    expect(writes.isBehind("ns/a", run("1", "u", undefined, "a"))).toBe(true);
    clock.advance(2_000);
    writes.record(run("1", "u", undefined, "c")); // recording sweeps too: a goes
    expect(writes.size).toBe(1);
    expect(writes.isBehind("ns/c", run("0", "u", undefined, "c"))).toBe(true);
    expect(clock.timersCreated()).toBe(0);
  });

  it("keeps the newest of two writes, and ignores objects without a resource version", () => {
    const { writes } = setup();
    const second = run("12", "u1", "Succeeded");
    writes.record(second);
    writes.record(run("11", "u1", "Running")); // a slower, older response
    expect(writes.newer("ns/r", run("10"))).toBe(second);
    const third = run("13");
    writes.record(third);
    expect(writes.newer("ns/r", run("10"))).toBe(third);
    const { writes: other } = setup();
    other.record({ metadata: { name: "r", namespace: "ns", uid: "u1" } });
    expect(other.size).toBe(0);
  });

  it("uses the key function it was given", () => {
    const writes = new MutationCache<Run>({ clock: new FakeClock(), keyFunc: (o) => `k:${o.metadata?.name}` });
    writes.record(run("11"));
    expect(writes.isBehind("k:r", run("10"))).toBe(true);
    expect(writes.isBehind("ns/r", run("10"))).toBe(false);
  });

  it("its event handler forgets writes the cache caught up with, and deleted objects", () => {
    const { writes } = setup();
    const h = writes.eventHandler;
    writes.record(run("11"));
    h.onUpdate?.(run("9"), run("10"));
    expect(writes.size).toBe(1);
    h.onUpdate?.(run("10"), run("11"));
    expect(writes.size).toBe(0);
    writes.record(run("12"));
    h.onAdd?.(run("12"), false);
    expect(writes.size).toBe(0);
    // Deleted: the same incarnation, or a tombstone of it.
    writes.record(run("13"));
    h.onDelete?.(run("12"));
    expect(writes.size).toBe(0);
    writes.record(run("14"));
    h.onDelete?.(new DeletedFinalStateUnknown<Run>("ns/r", run("10")));
    expect(writes.size).toBe(0);
    // The late delete of an older incarnation does not forget our write of the newer one.
    writes.record(run("30", "u2"));
    h.onDelete?.(run("20", "u1"));
    expect(writes.size).toBe(1);
    h.onDelete?.(run("31", "u0"));
    expect(writes.size).toBe(0);
  });
});

describe("MutationCache with an informer", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
  });

  it("a reconcile sees the cache behind its own write until the write's event arrives", async () => {
    const lw = new MemoryLW<Run>();
    lw.items = [run("10", "u1", "Pending")];
    const informer = new SharedIndexInformer<Run>(lw, { watchList: false, logger: silentLogger });
    const writes = new MutationCache<Run>();
    informer.addEventHandler(writes.eventHandler);
    const lister = newLister<Run>(informer.getIndexer());
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    stops.push(async () => {
      ac.abort();
      await running;
    });
    expect(await informer.waitForCacheSync()).toBe(true);

    // Our status write returned resource version 11; the cache still holds 10.
    const written = run("11", "u1", "Running");
    writes.record(written);
    expect(writes.isBehind("ns/r", lister.namespace("ns").get("r"))).toBe(true);
    expect(writes.newer("ns/r", lister.namespace("ns").get("r"))?.status?.phase).toBe("Running");

    const s = await lw.stream();
    s.push({ type: "MODIFIED", object: run("11", "u1", "Running") });
    await vi.waitFor(() => expect(writes.size).toBe(0)); // forgotten by the event handler
    expect(writes.isBehind("ns/r", lister.namespace("ns").get("r"))).toBe(false);
    expect(lister.namespace("ns").get("r")?.metadata?.resourceVersion).toBe("11");
  });
});
