import { describe, expect, it } from "vitest";
import {
  FakeClock,
  isRateLimitingQueue,
  newItemExponentialFailureRateLimiter,
  newQueue,
  newRateLimitingQueue,
} from "../src/index.ts";
import { itemOf } from "./helpers.ts";

describe("RateLimitingWorkQueue", () => {
  it("addRateLimited delays by the limiter's backoff, growing per failure", async () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<string>({ clock, rateLimiter: newItemExponentialFailureRateLimiter(10, 1000) });
    q.addRateLimited("a");
    expect(q.numRequeues("a")).toBe(1);
    clock.advance(9);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    const a = itemOf(await q.get());
    q.addRateLimited(a); // fails again while processing: 20 ms
    q.done(a);
    clock.advance(19);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.numRequeues("a")).toBe(2);
  });

  it("forget resets the backoff so a success path starts again from the base delay", async () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<string>({ clock, rateLimiter: newItemExponentialFailureRateLimiter(10, 1000) });
    for (let i = 0; i < 5; i++) q.addRateLimited("a");
    expect(q.numRequeues("a")).toBe(5);
    clock.advance(10); // the earliest of the duplicates wins: ready after 10 ms
    const a = itemOf(await q.get());
    q.forget(a); // processed successfully
    q.done(a);
    expect(q.numRequeues("a")).toBe(0);
    q.addRateLimited("a");
    clock.advance(10);
    expect(q.len()).toBe(1);
  });

  it("forget does not remove the item from the queue", () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<string>({ clock });
    q.add("a");
    q.forget("a");
    expect(q.len()).toBe(1);
  });

  it("defaults to the controller rate limiter on the queue's clock", () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<string>({ clock });
    q.addRateLimited("a");
    expect(q.len()).toBe(0);
    clock.advance(5);
    expect(q.len()).toBe(1);
    // The bucket (10 qps, burst 100) runs on the fake clock too: "a" took a token and 5 ms refilled 0.05 of one;
    // 99 more items empty it, and the next waits 95 ms for its token.
    for (let i = 0; i < 99; i++) q.addRateLimited(`k${i}`);
    q.addRateLimited("late");
    clock.advance(94);
    expect(q.len()).toBe(100);
    clock.advance(2);
    expect(q.len()).toBe(101);
  });

  it("default limiter keys object items with the queue's keyOf", () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<{ id: string }>({ clock, keyOf: (x) => x.id });
    q.addRateLimited({ id: "a" });
    q.addRateLimited({ id: "a" });
    expect(q.numRequeues({ id: "a" })).toBe(2);
  });

  it("addRateLimited after shutdown neither adds nor counts a failure", () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<string>({ clock });
    q.shutDown();
    q.addRateLimited("a");
    expect(q.numRequeues("a")).toBe(0);
    clock.advance(1000);
    expect(q.len()).toBe(0);
  });

  it("isRateLimitingQueue tells rate limiting queues apart", () => {
    expect(isRateLimitingQueue(newRateLimitingQueue<string>())).toBe(true);
    expect(isRateLimitingQueue(newQueue<string>())).toBe(false);
  });
});
