// The workqueue benchmark workloads on our side. bench/peers/workqueue/main.go runs the same workloads against
// client-go; keep the two in step (keys, delays, worker loops, what is counted).

import {
  type Clock,
  newDelayingQueue,
  newPriorityQueue,
  newQueue,
  type Queue,
  realClock,
  type Timer,
} from "@minitask/workqueue";

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

// The producer yields to the workers every BATCH adds (Go's producer runs in parallel with its workers instead).
const BATCH = 128;

async function produce(queue: Queue<string>, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    queue.add(keys[i]!);
    if (i % BATCH === BATCH - 1) await null;
  }
}

/** Workload 1: add → get → done with `workers` concurrent async workers. Returns items/s. */
export async function cycle(keys: readonly string[], workers: number): Promise<number> {
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
  await produce(queue, keys);
  queue.shutDown();
  await Promise.all(loops);
  const elapsed = performance.now() - start;
  if (processed !== keys.length) throw new Error(`cycle: processed ${processed} of ${keys.length}`);
  return keys.length / (elapsed / 1000);
}

/** Workload 1 through the `for await` helper (ours only). Returns items/s. */
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
  await produce(queue, keys);
  queue.shutDown();
  await Promise.all(loops);
  const elapsed = performance.now() - start;
  if (processed !== keys.length) throw new Error(`cycleForAwait: processed ${processed} of ${keys.length}`);
  return keys.length / (elapsed / 1000);
}

/**
 * Workload 2: like `cycle`, but a worker re-adds the key it holds three times before `done` the first time it sees
 * it (one re-queue, two collapsed adds), so every key is processed twice. Returns queue calls (add+get+done)/s.
 */
export async function dedupe(keys: readonly string[], index: ReadonlyMap<string, number>, workers: number) {
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
  await produce(queue, keys);
  await finished;
  queue.shutDown();
  await Promise.all(loops);
  return (8 * keys.length) / (elapsed / 1000);
}

/** Workload 1 on a priority queue (ours only): every 10th key is a "live event" with priority 10. Items/s. */
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
  for (let i = 0; i < keys.length; i++) {
    queue.addWithOptions(keys[i]!, { priority: i % 10 === 0 ? 10 : 0 });
    if (i % BATCH === BATCH - 1) await null;
  }
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
