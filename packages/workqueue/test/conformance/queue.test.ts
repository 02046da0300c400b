// Conformance: client-go `util/workqueue/queue_test.go`, test by test (same names), in our own words. Goroutines
// become async tasks that yield to the event loop where the Go test sleeps; the invariants checked are the same.
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { newQueue, type Queue } from "../../src/index.ts";
import { itemOf, peek } from "../helpers.ts";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

type ShutDownFn = (q: Queue<unknown>) => unknown;
const shutDowns: [string, ShutDownFn][] = [
  ["ShutDown", (q) => q.shutDown()],
  ["ShutDownWithDrain", (q) => q.shutDownWithDrain()],
];

/** One consumer: gets until shutdown, checking no item is handed to two consumers at once. */
async function consume(q: Queue<unknown>, inFlight: Set<unknown>, body: (item: unknown) => Promise<void>) {
  for (;;) {
    const r = await q.get();
    if (r.shutdown) return;
    expect(inFlight.has(r.item), `${String(r.item)} handed out twice at once`).toBe(false);
    inFlight.add(r.item);
    await body(r.item);
    inFlight.delete(r.item);
    q.done(r.item);
  }
}

describe("client-go util/workqueue/queue_test.go", () => {
  it.each(shutDowns)("TestBasic (%s)", async (_name, shutDown) => {
    const q = newQueue<unknown>();
    const producers = Array.from({ length: 50 }, async (_, i) => {
      for (let j = 0; j < 50; j++) {
        q.add(i);
        await tick();
      }
    });
    const inFlight = new Set<unknown>();
    const seen: unknown[] = [];
    const consumers = Array.from({ length: 10 }, () =>
      consume(q, inFlight, async (item) => {
        seen.push(item);
        expect(item).not.toBe("added after shutdown!");
        await tick();
        await tick();
      }),
    );
    await Promise.all(producers);
    void shutDown(q);
    q.add("added after shutdown!");
    await Promise.all(consumers);
    expect(q.len()).toBe(0);
    expect(new Set(seen).size).toBe(50);
  });

  it.each(shutDowns)("TestAddWhileProcessing (%s)", async (_name, shutDown) => {
    const q = newQueue<unknown>();
    const producers = Array.from({ length: 50 }, async (_, i) => {
      await tick();
      q.add(i);
    });
    const inFlight = new Set<unknown>();
    const counters = new Map<unknown, number>();
    const consumers = Array.from({ length: 10 }, () =>
      consume(q, inFlight, async (item) => {
        const n = (counters.get(item) ?? 0) + 1;
        counters.set(item, n);
        if (n < 2) q.add(item); // re-added while processing: handed out again after done, not at once
        await tick();
      }),
    );
    await Promise.all(producers);
    // Let the consumers work off the re-adds before shutting down (the Go test races here; we make it deterministic).
    while (q.len() > 0 || [...counters.values()].some((n) => n < 2) || inFlight.size > 0) await tick();
    void shutDown(q);
    await Promise.all(consumers);
    expect(q.len()).toBe(0);
    expect([...counters.values()].every((n) => n === 2)).toBe(true);
    expect(counters.size).toBe(50);
  });

  it("TestLen", () => {
    const q = newQueue<string>();
    q.add("foo");
    expect(q.len()).toBe(1);
    q.add("bar");
    expect(q.len()).toBe(2);
    q.add("foo"); // should not increase the queue length
    expect(q.len()).toBe(2);
  });

  it("TestReinsert", async () => {
    const q = newQueue<string>();
    q.add("foo");
    const i = itemOf(await q.get());
    expect(i).toBe("foo");
    q.add(i);
    q.done(i);
    const again = itemOf(await q.get());
    expect(again).toBe("foo");
    q.done(again);
    expect(q.len()).toBe(0);
  });

  // Upstream also checks that the second add "touches" the item in the underlying queue (a hook of client-go's
  // pluggable `Queue`); we have no pluggable queue, so the observable part is checked: one item, handed out once.
  it("TestCollapse", async () => {
    const q = newQueue<string>();
    q.add("bar");
    q.add("bar");
    expect(q.len()).toBe(1);
    const i = itemOf(await q.get());
    expect(i).toBe("bar");
    q.done(i);
    expect(q.len()).toBe(0);
  });

  it("TestCollapseWhileProcessing", async () => {
    const q = newQueue<string>();
    q.add("foo");
    const i = itemOf(await q.get());
    expect(i).toBe("foo");
    q.add("foo");
    q.add("foo");
    // A second worker must wait until the first is done with "foo".
    const second = q.get();
    await tick();
    expect((await peek(second)).state).toBe("pending");
    expect(q.len()).toBe(0);
    q.done("foo");
    const again = itemOf(await second);
    expect(again).toBe("foo");
    q.done(again);
    expect(q.len()).toBe(0);
  });

  it("TestQueueDrainageUsingShutDownWithDrain", async () => {
    const q = newQueue<string>();
    q.add("foo");
    q.add("bar");
    const first = itemOf(await q.get());
    const second = itemOf(await q.get());
    const drained = q.shutDownWithDrain();
    expect((await q.get()).shutdown).toBe(true);
    expect((await peek(drained)).state).toBe("pending");
    q.done(first);
    expect((await peek(drained)).state).toBe("pending");
    q.done(second);
    await drained;
  });

  it("TestNoQueueDrainageUsingShutDown", async () => {
    const q = newQueue<string>();
    q.add("foo");
    q.add("bar");
    await q.get();
    await q.get();
    q.shutDown(); // returns at once although two items are still being processed
    expect(q.shuttingDown()).toBe(true);
    expect((await q.get()).shutdown).toBe(true);
  });

  it("TestForceQueueShutdownUsingShutDown", async () => {
    const q = newQueue<string>();
    q.add("foo");
    q.add("bar");
    await q.get();
    await q.get();
    const drained = q.shutDownWithDrain();
    expect((await q.get()).shutdown).toBe(true);
    expect((await peek(drained)).state).toBe("pending");
    q.shutDown(); // forces the drain to end although the items are not done
    await drained;
  });

  it("TestQueueDrainageUsingShutDownWithDrainWithDirtyItem", async () => {
    const q = newQueue<string>();
    q.add("foo");
    const gotten = itemOf(await q.get());
    q.add("foo");
    const drained = q.shutDownWithDrain();
    // While "foo" is processed and dirty, get reports shutdown (nothing is ready)...
    expect((await q.get()).shutdown).toBe(true);
    q.done(gotten);
    // ...and once it is done, the dirty item is handed out again before the queue reports shutdown.
    const again = await q.get();
    expect(again.shutdown).toBe(false);
    q.done(itemOf(again));
    expect((await q.get()).shutdown).toBe(true);
    await drained;
  });

  it("TestGarbageCollection", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    let collected = false;
    const registry = new FinalizationRegistry<string>(() => {
      collected = true;
    });
    const q = newQueue<{ data: string }>();
    await (async () => {
      const big = { data: "hello" };
      registry.register(big, "big");
      q.add(big);
      const o = itemOf(await q.get());
      q.done(o);
    })();
    for (let i = 0; i < 50 && !collected; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(collected, "a finished item is still referenced by the queue").toBe(true);
    expect(q.len()).toBe(0); // keep the queue alive until here
  });
});
