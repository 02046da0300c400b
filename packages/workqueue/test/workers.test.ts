import { describe, expect, it } from "vitest";
import {
  FakeClock,
  flushPromises,
  newItemExponentialFailureRateLimiter,
  newQueue,
  newRateLimitingQueue,
  runWorkers,
} from "../src/index.ts";

describe("runWorkers", () => {
  it("processes every item with the given concurrency and returns after shutdown", async () => {
    const q = newQueue<string>();
    let running = 0;
    let maxRunning = 0;
    const seen: string[] = [];
    const release: (() => void)[] = [];
    const done = runWorkers(
      q,
      async (item) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        seen.push(item);
        await new Promise<void>((resolve) => release.push(resolve));
        running--;
      },
      { concurrency: 3 },
    );
    for (const k of ["a", "b", "c", "d", "e"]) q.add(k);
    await flushPromises();
    expect(running).toBe(3);
    while (seen.length < 5 || release.length > 0) {
      release.shift()?.();
      await flushPromises();
    }
    q.shutDown();
    await done;
    expect(maxRunning).toBe(3);
    expect(seen.sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("re-queues failures with rate limiting and forgets successes", async () => {
    const clock = new FakeClock();
    const q = newRateLimitingQueue<string>({ clock, rateLimiter: newItemExponentialFailureRateLimiter(100, 10_000) });
    let attempts = 0;
    const errors: unknown[] = [];
    const done = runWorkers(
      q,
      () => {
        attempts++;
        if (attempts < 3) throw new Error(`fail ${attempts}`);
      },
      { onError: (e) => errors.push(e) },
    );
    q.add("a");
    await flushPromises();
    expect(attempts).toBe(1);
    expect(q.numRequeues("a")).toBe(1);
    await clock.advanceAsync(100);
    expect(attempts).toBe(2);
    await clock.advanceAsync(199);
    expect(attempts).toBe(2);
    await clock.advanceAsync(1);
    expect(attempts).toBe(3);
    expect(q.numRequeues("a")).toBe(0); // success forgot the backoff
    expect(errors.map((e) => (e as Error).message)).toEqual(["fail 1", "fail 2"]);
    q.shutDown();
    await done;
  });

  it("stops on abort without shutting the queue down, aborting the handlers' signal", async () => {
    const q = newQueue<string>();
    const controller = new AbortController();
    let handlerSignal: AbortSignal | undefined;
    const done = runWorkers(
      q,
      async (_item, signal) => {
        handlerSignal = signal;
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      },
      { concurrency: 2, signal: controller.signal },
    );
    q.add("a");
    await flushPromises();
    controller.abort();
    await done;
    expect(handlerSignal?.aborted).toBe(true);
    expect(q.shuttingDown()).toBe(false);
    q.add("a"); // "a" was marked done
    expect(q.len()).toBe(1);
  });

  it("rejects a bad concurrency", async () => {
    await expect(runWorkers(newQueue<string>(), () => {}, { concurrency: 0 })).rejects.toThrow(RangeError);
  });
});
