import { describe, expect, it } from "vitest";
import { flushPromises, newQueue, type WorkQueue } from "../src/index.ts";
import { itemOf, peek } from "./helpers.ts";

async function drain<T>(queue: WorkQueue<T>): Promise<T[]> {
  const out: T[] = [];
  while (queue.len() > 0) {
    const item = itemOf(await queue.get());
    out.push(item);
    queue.done(item);
  }
  return out;
}

describe("WorkQueue basics", () => {
  it("hands items out first-in, first-out", async () => {
    const q = newQueue<string>();
    for (const k of ["a", "b", "c", "d"]) q.add(k);
    expect(q.len()).toBe(4);
    expect(await drain(q)).toEqual(["a", "b", "c", "d"]);
    expect(q.len()).toBe(0);
  });

  it("collapses many adds of a waiting item into one, keeping its place", async () => {
    const q = newQueue<string>();
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("a");
    q.add("c");
    q.add("b");
    expect(q.len()).toBe(3);
    expect(await drain(q)).toEqual(["a", "b", "c"]);
  });

  it("re-queues an item added while it is processed only when done is called", async () => {
    const q = newQueue<string>();
    q.add("a");
    const a = itemOf(await q.get());
    q.add("a");
    q.add("a");
    // Not handed out again while processing: the queue looks empty.
    expect(q.len()).toBe(0);
    const second = q.get();
    expect((await peek(second)).state).toBe("pending");
    q.done(a);
    expect(await peek(second)).toEqual({ state: "fulfilled", value: { item: "a", shutdown: false } });
    q.done("a");
    expect(q.len()).toBe(0);
    expect((await peek(q.get())).state).toBe("pending");
  });

  it("never hands one item to two workers at once", async () => {
    const q = newQueue<string>();
    q.add("x");
    const w1 = q.get();
    const w2 = q.get();
    expect(itemOf(await w1)).toBe("x");
    q.add("x");
    expect((await peek(w2)).state).toBe("pending");
    q.add("y");
    expect(itemOf(await w2)).toBe("y");
    q.done("x");
    expect(itemOf(await q.get())).toBe("x");
  });

  it("a waiting get resolves with the next added item, in the order the gets were made", async () => {
    const q = newQueue<string>();
    const g1 = q.get();
    const g2 = q.get();
    await flushPromises();
    q.add("first");
    q.add("second");
    expect(itemOf(await g1)).toBe("first");
    expect(itemOf(await g2)).toBe("second");
  });

  it("ignores done for items that are not being processed", async () => {
    const q = newQueue<string>();
    q.done("never-added");
    q.add("a");
    q.done("a"); // waiting, not processing: must not drop or duplicate it
    expect(q.len()).toBe(1);
    const a = itemOf(await q.get());
    q.done(a);
    q.done(a); // second done: no effect
    expect(q.len()).toBe(0);
    q.add("a");
    expect(await drain(q)).toEqual(["a"]);
  });

  it("len counts only items ready to be handed out", async () => {
    const q = newQueue<string>();
    q.add("a");
    q.add("b");
    const a = itemOf(await q.get());
    expect(q.len()).toBe(1);
    q.add(a); // dirty while processing: not ready yet
    expect(q.len()).toBe(1);
    q.done(a);
    expect(q.len()).toBe(2);
  });

  it("dedupes object items through keyOf, handing out the newest item", async () => {
    interface Req {
      namespace: string;
      name: string;
      version: number;
    }
    const q = newQueue<Req>({ keyOf: (r) => `${r.namespace}/${r.name}` });
    q.add({ namespace: "ns", name: "a", version: 1 });
    q.add({ namespace: "ns", name: "b", version: 1 });
    q.add({ namespace: "ns", name: "a", version: 2 });
    expect(q.len()).toBe(2);
    const first = itemOf(await q.get());
    expect(first).toEqual({ namespace: "ns", name: "a", version: 2 });
    // Re-added while processing, with a newer version: that version is handed out after done.
    q.add({ namespace: "ns", name: "a", version: 3 });
    q.done({ namespace: "ns", name: "a", version: 0 }); // done matches by key, not identity
    const second = itemOf(await q.get());
    expect(second.name).toBe("b");
    const third = itemOf(await q.get());
    expect(third).toEqual({ namespace: "ns", name: "a", version: 3 });
  });

  it("compares items without keyOf by SameValueZero (NaN, 0 and -0)", async () => {
    const q = newQueue<number>();
    q.add(Number.NaN);
    q.add(Number.NaN);
    q.add(0);
    q.add(-0);
    expect(q.len()).toBe(2);
    const nan = itemOf(await q.get());
    expect(nan).toBeNaN();
    q.add(Number.NaN);
    q.done(Number.NaN);
    expect(q.len()).toBe(2);
  });

  it("keeps its guarantees across thousands of keys and re-used records", async () => {
    const q = newQueue<string>();
    const n = 5000;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < n; i++) q.add(`k${i}`);
      for (let i = 0; i < n; i += 2) q.add(`k${i}`); // collapsed
      const counts = new Map<string, number>();
      const held: string[] = [];
      // Hold 20 items at once (beyond the done() scan limit), re-add every 7th key once while held.
      while (q.len() > 0 || held.length > 0) {
        while (held.length < 20 && q.len() > 0) {
          const item = itemOf(await q.get());
          expect(held).not.toContain(item);
          held.push(item);
          counts.set(item, (counts.get(item) ?? 0) + 1);
        }
        const item = held.shift()!;
        if (Number(item.slice(1)) % 7 === 0 && counts.get(item) === 1) q.add(item);
        q.done(item);
      }
      expect(counts.size).toBe(n);
      for (const [k, c] of counts) expect(c).toBe(Number(k.slice(1)) % 7 === 0 ? 2 : 1);
    }
  });
});

describe("WorkQueue shutdown", () => {
  it("ignores adds after shutDown but still hands out queued items, then reports shutdown", async () => {
    const q = newQueue<string>();
    q.add("a");
    q.add("b");
    q.shutDown();
    expect(q.shuttingDown()).toBe(true);
    q.add("c");
    expect(q.len()).toBe(2);
    expect(itemOf(await q.get())).toBe("a");
    expect(itemOf(await q.get())).toBe("b");
    expect(await q.get()).toEqual({ shutdown: true });
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("resolves waiting gets with shutdown", async () => {
    const q = newQueue<string>();
    const g1 = q.get();
    const g2 = q.get();
    await flushPromises();
    q.shutDown();
    expect(await g1).toEqual({ shutdown: true });
    expect(await g2).toEqual({ shutdown: true });
  });

  it("re-queues an item that was re-added before shutdown when it is done", async () => {
    const q = newQueue<string>();
    q.add("a");
    const a = itemOf(await q.get());
    q.add("a");
    q.shutDown();
    q.done(a);
    expect(itemOf(await q.get())).toBe("a");
    q.done("a");
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("shutDownWithDrain resolves once every item being processed is done", async () => {
    const q = newQueue<string>();
    q.add("a");
    q.add("b");
    const a = itemOf(await q.get());
    const b = itemOf(await q.get());
    const drained = q.shutDownWithDrain();
    expect(q.shuttingDown()).toBe(true);
    expect((await peek(drained)).state).toBe("pending");
    q.done(a);
    expect((await peek(drained)).state).toBe("pending");
    q.done(b);
    expect((await peek(drained)).state).toBe("fulfilled");
  });

  it("shutDownWithDrain resolves at once when nothing is processing", async () => {
    const q = newQueue<string>();
    await expect(q.shutDownWithDrain()).resolves.toBeUndefined();
  });

  it("shutDown after shutDownWithDrain stops the wait", async () => {
    const q = newQueue<string>();
    q.add("a");
    await q.get();
    const drained = q.shutDownWithDrain();
    expect((await peek(drained)).state).toBe("pending");
    q.shutDown();
    expect((await peek(drained)).state).toBe("fulfilled");
  });

  it("await using shuts the queue down", async () => {
    let waiting: Promise<unknown>;
    {
      await using q = newQueue<string>();
      waiting = q.get();
    }
    expect(await waiting).toEqual({ shutdown: true });
  });
});

describe("WorkQueue get with an AbortSignal", () => {
  it("rejects with the signal's reason and does not swallow the next item", async () => {
    const q = newQueue<string>();
    const controller = new AbortController();
    const aborted = q.get(controller.signal);
    const other = q.get();
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    q.add("a");
    expect(itemOf(await other)).toBe("a");
    expect(q.len()).toBe(0);
  });

  it("rejects at once with an already aborted signal when nothing is ready", async () => {
    const q = newQueue<string>();
    await expect(q.get(AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
  });

  it("still hands out a ready item with an aborted signal (nothing is waited for)", async () => {
    const q = newQueue<string>();
    q.add("a");
    expect(itemOf(await q.get(AbortSignal.abort()))).toBe("a");
  });

  it("copes with many aborted waiters", async () => {
    const q = newQueue<string>();
    const controllers = Array.from({ length: 300 }, () => new AbortController());
    const gets = controllers.map((c) => q.get(c.signal).catch(() => "aborted"));
    const live = q.get();
    for (const c of controllers) c.abort();
    expect(await Promise.all(gets)).toEqual(controllers.map(() => "aborted"));
    q.add("a");
    expect(itemOf(await live)).toBe("a");
  });
});

describe("WorkQueue async iteration", () => {
  it("for await hands out items and marks each done after the loop body", async () => {
    const q = newQueue<string>();
    q.add("a");
    q.add("b");
    const seen: string[] = [];
    const loop = (async () => {
      for await (const item of q) {
        seen.push(item);
        if (seen.length === 1) q.add("a"); // re-added while processing: comes back after done
        if (seen.length === 3) q.shutDown();
      }
    })();
    await loop;
    expect(seen).toEqual(["a", "b", "a"]);
  });

  it("marks the item done when the loop breaks or throws", async () => {
    const q = newQueue<string>();
    q.add("a");
    for await (const item of q) {
      expect(item).toBe("a");
      break;
    }
    q.add("a");
    expect(q.len()).toBe(1); // "a" was done, so it is queued again right away
    await expect(
      (async () => {
        for await (const _ of q) throw new Error("boom");
      })(),
    ).rejects.toThrow("boom");
    q.add("a");
    expect(q.len()).toBe(1);
  });

  it("several concurrent loops never hold the same item", async () => {
    const q = newQueue<string>();
    const holding = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    const worker = async () => {
      for await (const item of q.items()) {
        if (holding.has(item)) overlaps++;
        holding.add(item);
        await flushPromises();
        if (processed++ < 30) q.add(item);
        holding.delete(item);
      }
    };
    for (const k of ["a", "b", "c"]) q.add(k);
    const workers = [worker(), worker(), worker(), worker()];
    while (processed < 33) await flushPromises();
    q.shutDown();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
  });
});
