// Conformance: client-go `util/workqueue/delaying_queue_test.go`, test by test (same names), in our own words. The
// fake clock fires the queue's timer synchronously inside `advance`, so upstream's polling waits become plain checks.
import { describe, expect, it } from "vitest";
import { FakeClock, newDelayingQueue } from "../../src/index.ts";
import { itemOf } from "../helpers.ts";

describe("client-go util/workqueue/delaying_queue_test.go", () => {
  it("TestSimpleQueue", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("foo", 50);
    expect(q.len()).toBe(0);
    clock.advance(60);
    expect(q.len()).toBe(1);
    q.done(itemOf(await q.get()));
    clock.advance(10_000);
    expect(q.len()).toBe(0); // not added again
  });

  it("TestDeduping", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("foo", 50);
    q.addAfter("foo", 70); // later: the earlier time is kept
    expect(q.len()).toBe(0);
    clock.advance(60);
    expect(q.len()).toBe(1);
    q.done(itemOf(await q.get()));
    clock.advance(20); // past the 70 ms of the duplicate: it was dropped, not kept as a second add
    expect(q.len()).toBe(0);

    q.addAfter("foo", 50);
    q.addAfter("foo", 30); // earlier: the earlier time replaces the later one
    expect(q.len()).toBe(0);
    clock.advance(40);
    expect(q.len()).toBe(1);
    q.done(itemOf(await q.get()));
    clock.advance(20); // past the 50 ms: not added a second time
    expect(q.len()).toBe(0);
  });

  it("TestAddTwoFireEarly", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("foo", 1000);
    q.addAfter("bar", 50);
    expect(q.len()).toBe(0);
    clock.advance(60);
    expect(q.len()).toBe(1);
    expect(itemOf(await q.get())).toBe("bar");
    q.addAfter("baz", 2000);
    clock.advance(1000);
    expect(q.len()).toBe(1);
    expect(itemOf(await q.get())).toBe("foo");
    clock.advance(2000);
    expect(q.len()).toBe(1);
    expect(itemOf(await q.get())).toBe("baz");
  });

  it("TestCopyShifting", async () => {
    const clock = new FakeClock();
    const q = newDelayingQueue<string>({ clock });
    q.addAfter("foo", 1000);
    q.addAfter("bar", 500);
    q.addAfter("baz", 250);
    expect(q.len()).toBe(0);
    clock.advance(2000);
    expect(q.len()).toBe(3);
    // Handed out in ready-time order, not in the order of the addAfter calls.
    expect(itemOf(await q.get())).toBe("baz");
    expect(itemOf(await q.get())).toBe("bar");
    expect(itemOf(await q.get())).toBe("foo");
  });
});
