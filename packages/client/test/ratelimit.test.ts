import { FakeClock as ManualClock } from "@minitask/workqueue";
import { describe, expect, it } from "vitest";
import { apiErrorFromStatus, NetworkError, TokenBucket } from "../src/index.ts";
import { backoffDelay, classifyFailure, defaultRetryOptions } from "../src/retry.ts";

const flush = () => new Promise((r) => setImmediate(r));

describe("TokenBucket", () => {
  it("lets a burst through, then spaces requests at qps, FIFO, with one timer", async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 10, burst: 2, clock });
    const done: number[] = [];
    const waits = [1, 2, 3, 4].map((i) => bucket.acquire().then(() => done.push(i)));
    await flush();
    expect(done).toEqual([1, 2]);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(99);
    await flush();
    expect(done).toEqual([1, 2]);
    clock.advance(1);
    await flush();
    expect(done).toEqual([1, 2, 3]);
    clock.advance(100);
    await Promise.all(waits);
    expect(done).toEqual([1, 2, 3, 4]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("refills up to the burst after a quiet period", () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 5, burst: 3, clock });
    for (let i = 0; i < 3; i++) expect(bucket.tryAcquire()).toBe(true);
    expect(bucket.tryAcquire()).toBe(false);
    clock.advance(10_000);
    expect(bucket.tokens).toBe(3);
  });

  it("removes an aborted waiter and rejects it with the reason", async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
    await bucket.acquire();
    const ac = new AbortController();
    const aborted = bucket.acquire(ac.signal);
    const next = bucket.acquire();
    ac.abort(new Error("gone"));
    await expect(aborted).rejects.toThrow("gone");
    clock.advance(1000);
    await expect(next).resolves.toBeUndefined();
  });

  it("validates its parameters", () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ qps: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe("retry policy", () => {
  it("grows exponentially up to the cap, with bounded jitter", () => {
    const o = { ...defaultRetryOptions, initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5].map((r) => backoffDelay(o, r, () => 0))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(o, 1, () => 0.999)).toBeLessThanOrEqual(150);
  });

  it("classifies statuses and network errors by idempotency", () => {
    const status = (code: number) => apiErrorFromStatus({ kind: "Status", code });
    expect(classifyFailure(status(429), false).retry).toBe(true);
    for (const code of [500, 502, 503, 504]) {
      expect(classifyFailure(status(code), true).retry).toBe(true);
      expect(classifyFailure(status(code), false).retry).toBe(false);
    }
    for (const code of [400, 401, 403, 404, 409, 410, 422])
      expect(classifyFailure(status(code), true).retry).toBe(false);
    const net = (code: string, beforeRequestSent = false) =>
      new NetworkError("x", { cause: null, code, beforeRequestSent });
    expect(classifyFailure(net("ECONNREFUSED", true), false).retry).toBe(true);
    expect(classifyFailure(net("ECONNRESET"), false).retry).toBe(false);
    expect(classifyFailure(net("ECONNRESET"), true).retry).toBe(true);
    expect(classifyFailure(net("UND_ERR_SOCKET"), true).retry).toBe(true);
    expect(classifyFailure(net("ECONNRESET", true), false).retry).toBe(true); // TLS handshake cut
    expect(classifyFailure(net("DEPTH_ZERO_SELF_SIGNED_CERT", true), true).retry).toBe(false);
    expect(classifyFailure(new Error("weird"), true).retry).toBe(false);
  });
});
