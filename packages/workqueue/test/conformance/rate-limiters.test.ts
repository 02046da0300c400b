// Conformance: client-go `util/workqueue/default_rate_limiters_test.go`, test by test (same names), in our own
// words. Durations are milliseconds here.
import { describe, expect, it } from "vitest";
import {
  newItemExponentialFailureRateLimiter,
  newItemFastSlowRateLimiter,
  newMaxOfRateLimiter,
  newWithMaxWaitRateLimiter,
  type RateLimiter,
} from "../../src/index.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe("client-go util/workqueue/default_rate_limiters_test.go", () => {
  it("TestItemExponentialFailureRateLimiter", () => {
    const limiter = newItemExponentialFailureRateLimiter<string>(1, SECOND);
    expect([1, 2, 3, 4, 5].map(() => limiter.when("one"))).toEqual([1, 2, 4, 8, 16]);
    expect(limiter.numRequeues("one")).toBe(5);
    expect([limiter.when("two"), limiter.when("two")]).toEqual([1, 2]);
    expect(limiter.numRequeues("two")).toBe(2);
    limiter.forget("one");
    expect(limiter.numRequeues("one")).toBe(0);
    expect(limiter.when("one")).toBe(1);
  });

  it("TestItemExponentialFailureRateLimiterOverFlow", () => {
    let limiter = newItemExponentialFailureRateLimiter<string>(1, 1000 * SECOND);
    for (let i = 0; i < 5; i++) limiter.when("one");
    expect(limiter.when("one")).toBe(32);
    for (let i = 0; i < 1000; i++) limiter.when("overflow1");
    expect(limiter.when("overflow1")).toBe(1000 * SECOND);

    limiter = newItemExponentialFailureRateLimiter<string>(MINUTE, 1000 * HOUR);
    for (let i = 0; i < 2; i++) limiter.when("two");
    expect(limiter.when("two")).toBe(4 * MINUTE);
    for (let i = 0; i < 1000; i++) limiter.when("overflow2");
    expect(limiter.when("overflow2")).toBe(1000 * HOUR);
    // Beyond what a double can hold (2^1024 overflows to Infinity): still the cap, never Infinity or NaN.
    for (let i = 0; i < 100; i++) limiter.when("overflow2");
    expect(limiter.when("overflow2")).toBe(1000 * HOUR);
  });

  it("TestItemFastSlowRateLimiter", () => {
    const limiter = newItemFastSlowRateLimiter<string>(5, 10 * SECOND, 3);
    expect([1, 2, 3, 4, 5].map(() => limiter.when("one"))).toEqual([5, 5, 5, 10 * SECOND, 10 * SECOND]);
    expect(limiter.numRequeues("one")).toBe(5);
    expect([limiter.when("two"), limiter.when("two")]).toEqual([5, 5]);
    expect(limiter.numRequeues("two")).toBe(2);
    limiter.forget("one");
    expect(limiter.numRequeues("one")).toBe(0);
    expect(limiter.when("one")).toBe(5);
  });

  it("TestMaxOfRateLimiter", () => {
    const limiter = newMaxOfRateLimiter<string>(
      newItemFastSlowRateLimiter(5, 3 * SECOND, 3),
      newItemExponentialFailureRateLimiter(1, SECOND),
    );
    expect([1, 2, 3, 4, 5].map(() => limiter.when("one"))).toEqual([5, 5, 5, 3 * SECOND, 3 * SECOND]);
    expect(limiter.numRequeues("one")).toBe(5);
    expect([limiter.when("two"), limiter.when("two")]).toEqual([5, 5]);
    expect(limiter.numRequeues("two")).toBe(2);
    limiter.forget("one");
    expect(limiter.numRequeues("one")).toBe(0);
    expect(limiter.when("one")).toBe(5);
  });

  it("TestWithMaxWaitRateLimiter", () => {
    // A limiter whose delay steps from base to max after `threshold` calls, whatever the item.
    const step = (baseMs: number, maxMs: number, threshold: number): RateLimiter<number> => {
      let count = 0;
      return { when: () => (++count <= threshold ? baseMs : maxMs), forget: () => {}, numRequeues: () => 0 };
    };
    const limiter = newWithMaxWaitRateLimiter(step(5, 1000 * SECOND, 100), 500 * SECOND);
    for (let i = 0; i < 100; i++) expect(limiter.when(i)).toBe(5);
    for (let i = 100; i < 200; i++) expect(limiter.when(i)).toBe(500 * SECOND);
  });
});
