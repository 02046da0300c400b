import { describe, expect, it } from "vitest";
import {
  BucketRateLimiter,
  DEFAULT_MAX_DELAY_MS,
  defaultControllerRateLimiter,
  defaultItemBasedRateLimiter,
  FakeClock,
  newBucketRateLimiter,
  newItemExponentialFailureRateLimiter,
  newItemFastSlowRateLimiter,
  newMaxOfRateLimiter,
  newWithMaxWaitRateLimiter,
  type RateLimiter,
} from "../src/index.ts";

function whens<T>(limiter: RateLimiter<T>, item: T, times: number): number[] {
  return Array.from({ length: times }, () => limiter.when(item));
}

describe("ItemExponentialFailureRateLimiter", () => {
  it("doubles from the base delay per failure of an item, up to the cap", () => {
    const limiter = newItemExponentialFailureRateLimiter<string>(1, 1000);
    expect(whens(limiter, "a", 12)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000]);
    expect(limiter.numRequeues("a")).toBe(12);
  });

  it("defaults to client-go's 5 ms base and 1000 s cap", () => {
    const limiter = newItemExponentialFailureRateLimiter<string>();
    expect(whens(limiter, "a", 3)).toEqual([5, 10, 20]);
    for (let i = 0; i < 2000; i++) limiter.when("a"); // 2^2000 overflows to Infinity
    expect(limiter.when("a")).toBe(1_000_000);
    expect(DEFAULT_MAX_DELAY_MS).toBe(1_000_000);
  });

  it("tracks items separately and forget resets one item", () => {
    const limiter = newItemExponentialFailureRateLimiter<string>(5, 1000);
    whens(limiter, "a", 3);
    whens(limiter, "b", 1);
    expect(limiter.numRequeues("a")).toBe(3);
    expect(limiter.numRequeues("b")).toBe(1);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(5);
    expect(limiter.when("b")).toBe(10);
  });

  it("counts object items by keyOf", () => {
    const limiter = newItemExponentialFailureRateLimiter<{ id: string }>(1, 100, { keyOf: (x) => x.id });
    limiter.when({ id: "a" });
    expect(limiter.when({ id: "a" })).toBe(2);
    expect(limiter.numRequeues({ id: "a" })).toBe(2);
    limiter.forget({ id: "a" });
    expect(limiter.numRequeues({ id: "a" })).toBe(0);
  });

  it("defaultItemBasedRateLimiter starts at 1 ms", () => {
    expect(whens(defaultItemBasedRateLimiter<string>(), "a", 3)).toEqual([1, 2, 4]);
  });
});

describe("BucketRateLimiter", () => {
  it("allows a burst, then spaces items at 1/qps, and refills over time", () => {
    const clock = new FakeClock();
    const limiter = newBucketRateLimiter<string>(10, 3, clock);
    expect(whens(limiter, "x", 3)).toEqual([0, 0, 0]);
    // The bucket goes into debt: each further item waits one more token.
    expect(limiter.when("y")).toBeCloseTo(100);
    expect(limiter.when("z")).toBeCloseTo(200);
    clock.advance(1000); // 10 tokens accrue, 2 pay the debt, capped at the burst of 3
    expect(whens(limiter, "x", 3)).toEqual([0, 0, 0]);
    expect(limiter.when("x")).toBeCloseTo(100);
  });

  it("is shared by all items and has no per-item state", () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>(1, 1, clock);
    expect(limiter.when("a")).toBe(0);
    expect(limiter.when("b")).toBeCloseTo(1000);
    expect(limiter.numRequeues("a")).toBe(0);
    limiter.forget("a");
    expect(limiter.when("c")).toBeCloseTo(2000);
  });

  it("defaults to client-go's 10 qps with a burst of 100", () => {
    const clock = new FakeClock();
    const limiter = newBucketRateLimiter<number>(undefined, undefined, clock);
    for (let i = 0; i < 100; i++) expect(limiter.when(i)).toBe(0);
    expect(limiter.when(100)).toBeCloseTo(100);
  });

  it("never allows anything with a burst below one, and everything with infinite qps", () => {
    const clock = new FakeClock();
    expect(new BucketRateLimiter<string>(10, 0, clock).when("a")).toBe(Number.POSITIVE_INFINITY);
    const unlimited = new BucketRateLimiter<string>(Number.POSITIVE_INFINITY, 0, clock);
    expect(whens(unlimited, "a", 5)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe("ItemFastSlowRateLimiter", () => {
  it("uses the fast delay for the first attempts, then the slow one", () => {
    const limiter = newItemFastSlowRateLimiter<string>(5, 10_000, 3);
    expect(whens(limiter, "a", 5)).toEqual([5, 5, 5, 10_000, 10_000]);
    expect(limiter.numRequeues("a")).toBe(5);
    expect(limiter.when("b")).toBe(5);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(5);
  });
});

describe("MaxOfRateLimiter", () => {
  it("returns the longest delay, records the failure in every limiter and forgets in all", () => {
    const fastSlow = newItemFastSlowRateLimiter<string>(5, 3000, 3);
    const exp = newItemExponentialFailureRateLimiter<string>(1, 1000);
    const limiter = newMaxOfRateLimiter(fastSlow, exp);
    expect(whens(limiter, "a", 5)).toEqual([5, 5, 5, 3000, 3000]);
    expect(exp.numRequeues("a")).toBe(5);
    expect(limiter.numRequeues("a")).toBe(5);
    limiter.forget("a");
    expect(fastSlow.numRequeues("a")).toBe(0);
    expect(exp.numRequeues("a")).toBe(0);
  });
});

describe("WithMaxWaitRateLimiter", () => {
  it("caps the delay of the wrapped limiter and passes forget/numRequeues through", () => {
    const inner = newItemExponentialFailureRateLimiter<string>(100, 1_000_000);
    const limiter = newWithMaxWaitRateLimiter(inner, 500);
    expect(whens(limiter, "a", 5)).toEqual([100, 200, 400, 500, 500]);
    expect(limiter.numRequeues("a")).toBe(5);
    limiter.forget("a");
    expect(inner.numRequeues("a")).toBe(0);
  });
});

describe("defaultControllerRateLimiter", () => {
  it("is the larger of 5 ms exponential per item and a 10 qps / 100 burst bucket", () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>({ clock });
    // Per-item backoff dominates while the bucket has tokens.
    expect(whens(limiter, "a", 4)).toEqual([5, 10, 20, 40]);
    // Use up the bucket (96 tokens left) with distinct items: their own backoff is 5 ms.
    for (let i = 0; i < 96; i++) expect(limiter.when(`k${i}`)).toBe(5);
    // Then the bucket dominates for a fresh item.
    expect(limiter.when("fresh")).toBeCloseTo(100);
    expect(limiter.numRequeues("a")).toBe(4);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
  });
});
