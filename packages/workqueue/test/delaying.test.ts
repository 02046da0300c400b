import { describe, expect, it } from "vitest";
import { type Clock, FakeClock, newDelayingQueue } from "../src/index.ts";
import { itemOf, peek } from "./helpers.ts";

describe("DelayingWorkQueue.addAfter", () => {
  it("adds the item once the delay has passed", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("a", 50);
    expect(q.len()).toBe(0);
    expect(q.delayedLen()).toBe(1);
    clock.advance(49);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.delayedLen()).toBe(0);
    expect(itemOf(await q.get())).toBe("a");
  });

  it("wakes a waiting get when the delay passes", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    const waiting = q.get();
    q.addAfter("a", 10);
    expect((await peek(waiting)).state).toBe("pending");
    clock.advance(10);
    expect(itemOf(await waiting)).toBe("a");
  });

  it("treats a delay <= 0 (or NaN) as add", () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("zero", 0);
    q.addAfter("negative", -5);
    q.addAfter("nan", Number.NaN);
    expect(q.len()).toBe(3);
    expect(q.delayedLen()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("keeps the earliest ready time for a duplicate", () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("a", 100);
    q.addAfter("a", 30); // earlier: wins
    q.addAfter("a", 80); // later: ignored
    expect(q.delayedLen()).toBe(1);
    clock.advance(30);
    expect(q.len()).toBe(1);
    expect(q.delayedLen()).toBe(0);
    clock.advance(100);
    expect(q.len()).toBe(1); // not added a second time
  });

  it("releases items in ready-time order, ties in the order they were added", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("c", 30);
    q.addAfter("a", 10);
    q.addAfter("b1", 20);
    q.addAfter("b2", 20);
    q.addAfter("d", 40);
    clock.advance(35);
    const out: string[] = [];
    while (q.len() > 0) out.push(itemOf(await q.get()));
    expect(out).toEqual(["a", "b1", "b2", "c"]);
    clock.advance(5);
    expect(itemOf(await q.get())).toBe("d");
  });

  it("uses one timer for the whole delay heap, not one per item", () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    for (let i = 0; i < 1000; i++) q.addAfter(`k${i}`, 1000 + ((i * 7919) % 1000));
    expect(clock.pendingTimers()).toBe(1);
    // Adding later items never re-arms; adding an earlier one re-arms the single timer.
    const armed = q.timersArmed();
    expect(armed).toBeLessThan(20);
    q.addAfter("early", 5);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(5);
    clock.advance(5);
    expect(q.len()).toBe(1);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(2000);
    expect(q.len()).toBe(1001);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("an item waiting for its delay can also be added now (processed now and again later)", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("a", 10);
    q.add("a");
    const a = itemOf(await q.get());
    q.done(a);
    clock.advance(10);
    expect(q.len()).toBe(1);
  });

  it("a delayed item that comes due while the same item is processed is re-queued on done", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.add("a");
    const a = itemOf(await q.get());
    q.addAfter("a", 10);
    clock.advance(10);
    expect(q.len()).toBe(0);
    q.done(a);
    expect(q.len()).toBe(1);
  });

  it("dedupes delayed object items through keyOf and adds the newest item", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<{ id: string; v: number }>({ clock, keyOf: (x) => x.id });
    q.addAfter({ id: "a", v: 1 }, 50);
    q.addAfter({ id: "a", v: 2 }, 20);
    q.addAfter({ id: "a", v: 3 }, 90);
    clock.advance(20);
    expect(itemOf(await q.get())).toEqual({ id: "a", v: 3 });
  });

  it("drops delayed items and releases the timer on shutdown; addAfter after shutdown is ignored", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("a", 10);
    q.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    expect(q.delayedLen()).toBe(0);
    q.addAfter("b", 10);
    q.addAfter("c", 0);
    clock.advance(100);
    expect(q.len()).toBe(0);
    expect(await q.get()).toEqual({ shutdown: true });
  });

  it("shutDownWithDrain also stops the delay timer", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("a", 10);
    await q.shutDownWithDrain();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("re-arms when a timer fires before anything is due (real timers may fire early)", () => {
    const inner = new FakeClock();
    // A clock whose timers fire 1 ms early (but never sooner than 1 ms from now).
    const early: Clock = {
      now: () => inner.now(),
      setTimer: (callback, ms) => inner.setTimer(callback, Math.max(1, ms - 1)),
    };
    const q = newDelayingQueue<string>({ clock: early });
    q.addAfter("a", 10);
    inner.advance(9);
    expect(q.len()).toBe(0);
    expect(inner.pendingTimers()).toBe(1);
    inner.advance(1);
    expect(q.len()).toBe(1);
    expect(inner.pendingTimers()).toBe(0);
  });
});

describe("DelayingWorkQueue with many keys", () => {
  it("keeps pending delays while thousands of other keys come and go", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("late", 1000);
    q.add("busy");
    const busy = itemOf(await q.get());
    q.addAfter("busy", 500); // processing and delayed at once
    for (let i = 0; i < 5000; i++) {
      q.add(`k${i}`);
      q.done(itemOf(await q.get()));
    }
    expect(q.delayedLen()).toBe(2);
    q.done(busy);
    clock.advance(500);
    expect(itemOf(await q.get())).toBe("busy");
    q.done("busy");
    clock.advance(500);
    expect(itemOf(await q.get())).toBe("late");
    expect(q.delayedLen()).toBe(0);
  });

  it("drops stale heap nodes when many delays are moved earlier", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    // Each key is first delayed by an hour, then moved earlier 5 times: 5 stale nodes per key.
    for (let i = 0; i < 500; i++) {
      for (let d = 6; d >= 1; d--) q.addAfter(`k${i}`, d * 600_000 + i);
    }
    expect(q.delayedLen()).toBe(500);
    clock.advance(600_000 + 500);
    expect(q.len()).toBe(500);
    expect(q.delayedLen()).toBe(0);
    clock.advance(10 * 600_000);
    expect(q.len()).toBe(500); // the stale nodes added nothing
    expect(clock.pendingTimers()).toBe(0);
  });
});
