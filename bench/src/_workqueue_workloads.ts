// The workqueue benchmark workloads on our side. bench/peers/workqueue/main.go runs the same workloads against
// client-go; keep the two in step (keys, delays, worker loops, what is counted).

import { type Clock, newDelayingQueue, newPriorityQueue, newQueue, realClock, type Timer } from "@minitask/workqueue";

/** `namespace-<i%100>/object-<i>`, flattened and hashed before any measurement (Go's Sprintf strings are flat). */
export function makeKeys(n: number): string[] {
  const keys = Array.from({ length: n }, (_, i) => `namespace-${i % 100}/object-${i}`);
  new Set(keys); // flattens the cons strings and caches their hashes
  return keys;
}

/** xorshift32 delays of 0-100 ms in whole microseconds: the same sequence as the Go peer. */
export function makeDelays(n: number): number[] {
  let x = 2463534242;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = (x % 100001) / 1000;
  }
  return out;
}

/**
 * How keys reach the queue in workloads 1 and 2:
 *  - "stream": in chunks of CHUNK keys; after each chunk the producer yields a macrotask (as events arriving on I/O
 *    callbacks do), so the workers drain the chunk first and the queue stays short. The Go peer's producer waits
 *    until the chunk is processed, which is the same schedule.
 *  - "backlog": all keys are added at once (an initial list), then the workers drain the queue.
 */
export type Regime = "stream" | "backlog";

export const CHUNK = 128;

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function feed(regime: Regime, keys: readonly string[], add: (key: string, i: number) => void): Promise<void> {
  if (regime === "backlog") {
    for (let i = 0; i < keys.length; i++) add(keys[i]!, i);
    return;
  }
  for (let start = 0; start < keys.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, keys.length);
    for (let i = start; i < end; i++) add(keys[i]!, i);
    await immediate();
  }
}

/** Workload 1: add → get → done of every key, `workers` concurrent async workers. Returns items/s. */
export async function cycle(keys: readonly string[], workers: number, regime: Regime): Promise<number> {
  const queue = newQueue<string>();
  let processed = 0;
  const start = performance.now();
  const loops: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    loops.push(
      (async () => {
        for (;;) {
          const r = await queue.get();
          if (r.shutdown) return;
          processed++;
          queue.done(r.item);
        }
      })(),
    );
  }
  await feed(regime, keys, (k) => queue.add(k));
  queue.shutDown();
  await Promise.all(loops);
  const elapsed = performance.now() - start;
  if (processed !== keys.length) throw new Error(`cycle: processed ${processed} of ${keys.length}`);
  return keys.length / (elapsed / 1000);
}

/** Workload 1 (stream) through the `for await` helper, which calls `done` itself (ours only). Returns items/s. */
export async function cycleForAwait(keys: readonly string[], workers: number): Promise<number> {
  const queue = newQueue<string>();
  let processed = 0;
  const start = performance.now();
  const loops: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    loops.push(
      (async () => {
        for await (const _ of queue) processed++;
      })(),
    );
  }
  await feed("stream", keys, (k) => queue.add(k));
  queue.shutDown();
  await Promise.all(loops);
  const elapsed = performance.now() - start;
  if (processed !== keys.length) throw new Error(`cycleForAwait: processed ${processed} of ${keys.length}`);
  return keys.length / (elapsed / 1000);
}

/**
 * Workload 2: like `cycle`, but the first time a worker gets a key it re-adds it three times before `done` (one
 * re-queue, two adds collapsed into it), so every key is processed twice. Returns queue calls (add+get+done)/s.
 */
export async function dedupe(
  keys: readonly string[],
  index: ReadonlyMap<string, number>,
  workers: number,
  regime: Regime,
): Promise<number> {
  const queue = newQueue<string>();
  const seen = new Uint8Array(keys.length);
  const want = 2 * keys.length;
  let dones = 0;
  let elapsed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const start = performance.now();
  const loops: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    loops.push(
      (async () => {
        for (;;) {
          const r = await queue.get();
          if (r.shutdown) return;
          const i = index.get(r.item)!;
          if (seen[i] === 0) {
            seen[i] = 1;
            queue.add(r.item);
            queue.add(r.item);
            queue.add(r.item);
          }
          queue.done(r.item);
          if (++dones === want) {
            elapsed = performance.now() - start;
            finish();
          }
        }
      })(),
    );
  }
  await feed(regime, keys, (k) => queue.add(k));
  await finished;
  queue.shutDown();
  await Promise.all(loops);
  // n adds by the producer, 3n re-adds, 2n gets, 2n dones.
  return (8 * keys.length) / (elapsed / 1000);
}

/** Workload 1 (stream) on the priority queue: every 10th key has priority 10, the rest 0 (ours only). Items/s. */
export async function priorityCycle(keys: readonly string[], workers: number): Promise<number> {
  const queue = newPriorityQueue<string>();
  let processed = 0;
  const start = performance.now();
  const loops: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    loops.push(
      (async () => {
        for (;;) {
          const r = await queue.get();
          if (r.shutdown) return;
          processed++;
          queue.done(r.item);
        }
      })(),
    );
  }
  await feed("stream", keys, (k, i) => queue.addWithOptions(k, { priority: i % 10 === 0 ? 10 : 0 }));
  queue.shutDown();
  await Promise.all(loops);
  const elapsed = performance.now() - start;
  if (processed !== keys.length) throw new Error(`priorityCycle: processed ${processed} of ${keys.length}`);
  return keys.length / (elapsed / 1000);
}

/** Real time, counting the timers armed through it. */
class CountingClock implements Clock {
  timers = 0;
  now(): number {
    return realClock.now();
  }
  setTimer(callback: () => void, delayMs: number): Timer {
    this.timers++;
    return realClock.setTimer(callback, delayMs);
  }
}

/**
 * Workload 3: `addAfter` of every key with its delay (0-100 ms), `workers` workers. Returns the ms from the first
 * `addAfter` until the last key is done, and the number of timers the queue armed.
 */
export async function delay(
  keys: readonly string[],
  delays: readonly number[],
  workers: number,
): Promise<{ ms: number; timers: number }> {
  const clock = new CountingClock();
  const queue = newDelayingQueue<string>({ clock });
  let processed = 0;
  let elapsed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const start = performance.now();
  const loops: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    loops.push(
      (async () => {
        for (;;) {
          const r = await queue.get();
          if (r.shutdown) return;
          queue.done(r.item);
          if (++processed === keys.length) {
            elapsed = performance.now() - start;
            finish();
          }
        }
      })(),
    );
  }
  for (let i = 0; i < keys.length; i++) queue.addAfter(keys[i]!, delays[i]!);
  await finished;
  queue.shutDown();
  await Promise.all(loops);
  return { ms: elapsed, timers: clock.timers };
}
