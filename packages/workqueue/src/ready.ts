// The per-key record of a queue and the order in which ready records are handed out: plain FIFO (client-go), or
// highest priority first with FIFO among equal priorities (controller-runtime's priority queue).

import { Ring } from "./ring.ts";

/** @internal The record is in the pool of unused records. */
export const FREE = -1;
/** @internal Neither queued nor processing: the key was done (or is only waiting for a delay). */
export const IDLE = 0;
/** @internal The key is waiting in the ready store. */
export const QUEUED = 1;
/** @internal The key was handed out by `get` and is not `done` yet. */
export const PROCESSING = 2;
/** @internal The key is being processed and was added again meanwhile: it becomes ready on `done`. */
export const PROCESSING_DIRTY = 3;

/**
 * @internal A pending `addAfter` of a key: a node of the queue's delay heap. A node is live while its record's
 * `delay` points at it; a duplicate `addAfter` with an earlier time replaces it with a new node.
 */
export interface DelayNode<T> {
  readonly entry: Entry<T>;
  /** The item to add when the delay has passed (the newest one given). */
  item: T;
  readonly readyAt: number;
  /** Tie-breaker among equal ready times: the order of the key's first `addAfter` (kept by replacements). */
  readonly seq: number;
  priority: number;
}

/**
 * @internal The record of one key: in the queue's key map while the key is queued, processing, waiting for a delay,
 * or idle (done, kept until the map is next rebuilt, and reused as is when the key comes back).
 */
export class Entry<T> {
  key: unknown;
  /** The latest item added under this key (undefined while idle). */
  item: T;
  state: number;
  /** Highest priority the key was added with since it was last handed out (priority queues only). */
  priority: number;
  /** Generation of the record's current position in a priority store; positions with another number are stale. */
  seq: number;
  /** Neighbours in the queue's list of records being processed, oldest first (while PROCESSING*). */
  prev: Entry<T> | null;
  next: Entry<T> | null;
  /** The key's pending delay, if any. */
  delay: DelayNode<T> | null;
  /** When the key was added and handed out, for metrics (queues with metrics only). */
  times: { addedAt: number; startedAt: number } | null;

  constructor(key: unknown, item: T, state: number, priority: number) {
    this.key = key;
    this.item = item;
    this.state = state;
    this.priority = priority;
    this.seq = 0;
    this.prev = null;
    this.next = null;
    this.delay = null;
    this.times = null;
  }
}

let seqCounter = 0;

/** @internal A number never handed out before (in this process, for 2^53 calls). */
export function nextSeq(): number {
  return ++seqCounter;
}

/** @internal Storage of the records that are ready to be handed out; a record is in it at most once. */
export interface ReadyStore<T> {
  readonly size: number;
  /** Appends a record that is not in the store. */
  push(entry: Entry<T>): void;
  /** A record already in the store got a higher `priority`. */
  raise(entry: Entry<T>): void;
  /** Removes and returns the next record; the caller checks `size` first. */
  shift(): Entry<T>;
}

/** @internal */
export class FifoStore<T> implements ReadyStore<T> {
  readonly #ring = new Ring<Entry<T>>();
  get size(): number {
    return this.#ring.size;
  }
  push(entry: Entry<T>): void {
    this.#ring.push(entry);
  }
  raise(_entry: Entry<T>): void {}
  shift(): Entry<T> {
    return this.#ring.shift();
  }
}

interface Bucket<T> {
  readonly priority: number;
  readonly entries: Ring<Entry<T>>;
  readonly seqs: Ring<number>;
}

/**
 * @internal Buckets per priority (kept sorted, highest first), FIFO inside a bucket. Raising a record's priority
 * appends it to the higher bucket and leaves a stale position behind; the record's generation number tells live
 * positions from stale ones, so nothing is ever searched for or removed from the middle of a bucket.
 */
export class PriorityStore<T> implements ReadyStore<T> {
  #buckets: Bucket<T>[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(entry: Entry<T>): void {
    this.#size++;
    this.#place(entry);
  }

  raise(entry: Entry<T>): void {
    this.#place(entry);
  }

  shift(): Entry<T> {
    const buckets = this.#buckets;
    for (let i = 0; ; i++) {
      const bucket = buckets[i]!;
      while (bucket.entries.size > 0) {
        const entry = bucket.entries.shift();
        const seq = bucket.seqs.shift();
        if (entry.seq === seq) {
          entry.seq = -1;
          this.#size--;
          return entry;
        }
      }
      // Empty buckets are kept for the next key of their priority, unless there are many of them.
      if (buckets.length > MAX_IDLE_BUCKETS) {
        buckets.splice(i, 1);
        i--;
      }
    }
  }

  #place(entry: Entry<T>): void {
    const seq = nextSeq();
    entry.seq = seq;
    const bucket = this.#bucket(entry.priority);
    bucket.entries.push(entry);
    bucket.seqs.push(seq);
  }

  #bucket(priority: number): Bucket<T> {
    const buckets = this.#buckets;
    // Few distinct priorities are expected: a linear scan over the sorted buckets is the fastest lookup.
    let i = 0;
    for (; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (b.priority === priority) return b;
      if (b.priority < priority) break;
    }
    const bucket: Bucket<T> = { priority, entries: new Ring<Entry<T>>(), seqs: new Ring<number>() };
    buckets.splice(i, 0, bucket);
    return bucket;
  }
}

/** Empty priority buckets are dropped only while there are more buckets than this. */
const MAX_IDLE_BUCKETS = 8;
