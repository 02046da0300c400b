// The delay heap: a 4-ary min-heap of delay nodes ordered by ready time (ties: by the nodes' `seq`). Ready times and tie
// breakers live in typed arrays beside the node array, so sifting compares contiguous numbers instead of chasing
// node pointers (the heap of 100k delayed keys is far larger than the CPU caches). Nodes carry no heap index: a
// duplicate `addAfter` with an earlier time pushes a new node and leaves the old one behind, stale; the queue skips
// stale nodes when they come out.

import type { DelayNode } from "./ready.ts";

/** @internal */
export class DelayHeap<T> {
  #nodes: (DelayNode<T> | undefined)[] = [];
  #at = new Float64Array(64);
  #seq = new Float64Array(64);
  #size = 0;

  /** Number of nodes in the heap, stale ones included. */
  get size(): number {
    return this.#size;
  }

  /** Ready time of the earliest node; the caller checks `size` first. */
  peekAt(): number {
    return this.#at[0]!;
  }

  /** The earliest node; the caller checks `size` first. */
  peek(): DelayNode<T> {
    return this.#nodes[0]!;
  }

  push(node: DelayNode<T>): void {
    if (this.#size === this.#at.length) this.#grow();
    const at = node.readyAt;
    const seq = node.seq;
    const nodes = this.#nodes;
    const ats = this.#at;
    const seqs = this.#seq;
    // Sift the hole up from the end, then drop the node into it.
    let i = this.#size++;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pa = ats[parent]!;
      if (pa < at || (pa === at && seqs[parent]! < seq)) break;
      ats[i] = pa;
      seqs[i] = seqs[parent]!;
      nodes[i] = nodes[parent];
      i = parent;
    }
    ats[i] = at;
    seqs[i] = seq;
    nodes[i] = node;
  }

  /** Removes and returns the earliest node; the caller checks `size` first. */
  pop(): DelayNode<T> {
    const nodes = this.#nodes;
    const ats = this.#at;
    const seqs = this.#seq;
    const top = nodes[0]!;
    const n = --this.#size;
    const lastNode = nodes[n]!;
    const lastAt = ats[n]!;
    const lastSeq = seqs[n]!;
    nodes[n] = undefined;
    if (n > 0) {
      // Sift the hole down from the root, then drop the last node into it.
      let i = 0;
      for (;;) {
        const first = 4 * i + 1;
        if (first >= n) break;
        let best = first;
        let bestAt = ats[first]!;
        let bestSeq = seqs[first]!;
        const end = Math.min(first + 4, n);
        for (let c = first + 1; c < end; c++) {
          const ca = ats[c]!;
          if (ca < bestAt || (ca === bestAt && seqs[c]! < bestSeq)) {
            best = c;
            bestAt = ca;
            bestSeq = seqs[c]!;
          }
        }
        if (lastAt < bestAt || (lastAt === bestAt && lastSeq < bestSeq)) break;
        ats[i] = bestAt;
        seqs[i] = bestSeq;
        nodes[i] = nodes[best];
        i = best;
      }
      ats[i] = lastAt;
      seqs[i] = lastSeq;
      nodes[i] = lastNode;
    }
    return top;
  }

  /** Keeps only the nodes for which `live` is true (rebuilding the heap). */
  retain(live: (node: DelayNode<T>) => boolean): void {
    const nodes = this.clear().filter(live);
    for (const node of nodes) this.push(node);
  }

  /** Removes every node, returning them (stale ones included, in no particular order). */
  clear(): DelayNode<T>[] {
    const out = this.#nodes.slice(0, this.#size) as DelayNode<T>[];
    this.#nodes = [];
    this.#size = 0;
    return out;
  }

  #grow(): void {
    const at = new Float64Array(this.#at.length * 2);
    at.set(this.#at);
    this.#at = at;
    const seq = new Float64Array(this.#seq.length * 2);
    seq.set(this.#seq);
    this.#seq = seq;
  }
}
