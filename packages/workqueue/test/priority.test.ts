import { describe, expect, it } from "vitest";
import { FakeClock, newItemExponentialFailureRateLimiter, newPriorityQueue, newQueue } from "../src/index.ts";
import { itemOf } from "./helpers.ts";

async function takeAll(q: { len(): number; get(): Promise<unknown>; done(item: string): void }): Promise<string[]> {
  const out: string[] = [];
  while (q.len() > 0) {
    const item = itemOf((await q.get()) as { item: string; shutdown: false });
    out.push(item);
    q.done(item);
  }
  return out;
}

describe("priority queue", () => {
  it("hands out higher priorities first, FIFO among equal priorities", async () => {
    const q = newPriorityQueue<string>();
    q.addWithOptions("low1", { priority: -100 });
    q.add("mid1");
    q.addWithOptions("high1", { priority: 10 });
    q.addWithOptions("low2", { priority: -100 });
    q.add("mid2");
    q.addWithOptions("high2", { priority: 10 });
    expect(q.len()).toBe(6);
    expect(await takeAll(q)).toEqual(["high1", "high2", "mid1", "mid2", "low1", "low2"]);
  });

  it("raises the priority of a waiting item, never lowers it", async () => {
    const q = newPriorityQueue<string>();
    q.addWithOptions("a", { priority: -100 });
    q.addWithOptions("b", { priority: -100 });
    q.add("c");
    q.addWithOptions("b", { priority: 5 }); // raised above c
    q.addWithOptions("c", { priority: -200 }); // not lowered
    expect(q.len()).toBe(3);
    expect(await takeAll(q)).toEqual(["b", "c", "a"]);
    expect(q.len()).toBe(0);
  });

  it("an item re-added while processing comes back with the highest priority it was given", async () => {
    const q = newPriorityQueue<string>();
    q.add("a");
    const a = itemOf(await q.get());
    q.addWithOptions("a", { priority: -5 });
    q.addWithOptions("a", { priority: 7 });
    q.add("b");
    q.done(a);
    expect(await takeAll(q)).toEqual(["a", "b"]);
  });

  it("keeps priorities through delays and rate limiting", async () => {
    const clock = new FakeClock();
    const q = newPriorityQueue<string>({ clock, rateLimiter: newItemExponentialFailureRateLimiter(10, 1000) });
    q.addWithOptions("late-high", { after: 20, priority: 3 });
    q.addWithOptions("limited", { rateLimited: true, priority: 1 });
    q.add("now");
    clock.advance(20);
    expect(q.numRequeues("limited")).toBe(1);
    expect(await takeAll(q)).toEqual(["late-high", "limited", "now"]);
  });

  it("a re-used record does not resurrect an old position", async () => {
    const q = newPriorityQueue<string>();
    q.addWithOptions("a", { priority: 0 });
    q.addWithOptions("a", { priority: 5 }); // stale position left in bucket 0
    expect(await takeAll(q)).toEqual(["a"]);
    q.add("b");
    q.addWithOptions("a", { priority: 0 }); // new position behind b
    expect(await takeAll(q)).toEqual(["b", "a"]);
  });

  it("a FIFO queue ignores priorities", async () => {
    const q = newQueue<string>();
    q.add("a");
    q.add("b");
    expect(await takeAll(q)).toEqual(["a", "b"]);
  });

  it("orders many distinct priorities, over several rounds", async () => {
    const q = newPriorityQueue<string>();
    for (let round = 0; round < 3; round++) {
      const keys = Array.from({ length: 40 }, (_, i) => `r${round}-k${i}`);
      for (const [i, k] of keys.entries()) q.addWithOptions(k, { priority: (i * 7) % 20 });
      const out = await takeAll(q);
      const expected = [...keys].sort((a, b) => {
        const pa = (Number(a.split("-k")[1]) * 7) % 20;
        const pb = (Number(b.split("-k")[1]) * 7) % 20;
        return pb - pa || Number(a.split("-k")[1]) - Number(b.split("-k")[1]);
      });
      expect(out).toEqual(expected);
    }
  });
});
