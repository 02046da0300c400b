// Conformance: client-go `util/workqueue/rate_limiting_queue_test.go` (same name), in our own words. Upstream reads
// the ready time of the queued wait entry; we observe it through the fake clock: the item becomes ready exactly then.
import { describe, expect, it } from "vitest";
import { FakeClock, newItemExponentialFailureRateLimiter, newRateLimitingQueue } from "../../src/index.ts";

describe("client-go util/workqueue/rate_limiting_queue_test.go", () => {
  it("TestRateLimitingQueue", () => {
    const clock = new FakeClock();
    const rateLimiter = newItemExponentialFailureRateLimiter<string>(1, 1000);
    const q = newRateLimitingQueue<string>({ clock, rateLimiter });
    /** The delay the last addRateLimited was given: the time until the item becomes ready (bounded search). */
    const readyIn = (): number => {
      const start = clock.now();
      for (let i = 0; q.len() === 0 && i < 10_000; i++) clock.advance(1);
      return clock.now() - start;
    };
    /** Hands the ready item out and finishes it (get takes it synchronously when one is ready). */
    const drain = (item: string) => {
      void q.get();
      q.done(item);
    };

    q.addRateLimited("one");
    expect(q.delayedLen()).toBe(1);
    expect(readyIn()).toBe(1);
    drain("one");
    q.addRateLimited("one");
    expect(readyIn()).toBe(2);
    drain("one");
    expect(q.numRequeues("one")).toBe(2);

    q.addRateLimited("two");
    expect(readyIn()).toBe(1);
    drain("two");
    q.addRateLimited("two");
    expect(readyIn()).toBe(2);
    drain("two");

    q.forget("one");
    expect(q.numRequeues("one")).toBe(0);
    q.addRateLimited("one");
    expect(readyIn()).toBe(1);
  });
});
