// Workload 4 of the workqueue benchmark, run in a child process started with --expose-gc by workqueue.ts:
// heap bytes per queued key (n keys added and waiting), and per key waiting in the delay heap.
//   node --expose-gc --conditions=minitask-source bench/src/_workqueue_memory.ts N RUNS
// Prints one JSON object: { samples: number[], delayedSamples: number[] }.

import { newDelayingQueue, newQueue } from "@minitask/workqueue";
import { makeKeys } from "./_workqueue_workloads.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const n = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 3);
const keys = makeKeys(n);

function queued(): number {
  const before = heapUsed();
  const queue = newQueue<string>();
  for (const k of keys) queue.add(k);
  const after = heapUsed();
  if (queue.len() !== n) throw new Error("memory: wrong length");
  queue.shutDown();
  return (after - before) / n;
}

function delayed(): number {
  const before = heapUsed();
  const queue = newDelayingQueue<string>();
  for (const k of keys) queue.addAfter(k, 3_600_000);
  const after = heapUsed();
  if (queue.delayedLen() !== n) throw new Error("memory: wrong delayed length");
  queue.shutDown();
  return (after - before) / n;
}

const samples: number[] = [];
const delayedSamples: number[] = [];
for (let r = 0; r < runs; r++) {
  samples.push(queued());
  delayedSamples.push(delayed());
}
process.stdout.write(`${JSON.stringify({ samples, delayedSamples })}\n`);
