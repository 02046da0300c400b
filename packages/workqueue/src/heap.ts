// A binary min-heap of delayed entries ordered by ready time (ties: insertion order), with an index per entry so a
// duplicate `addAfter` can move an entry earlier in O(log n).

/** @internal */
export interface DelayEntry<K, T> {
  readonly key: K;
  item: T;
  readyAt: number;
  seq: number;
  index: number;
  priority: number;
}

/** @internal */
export class DelayHeap<K, T> {
  readonly #entries: DelayEntry<K, T>[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /** The earliest entry; the caller checks `size` first. */
  peek(): DelayEntry<K, T> {
    return this.#entries[0]!;
  }

  push(entry: DelayEntry<K, T>): void {
    entry.index = this.#entries.length;
    this.#entries.push(entry);
    this.#up(entry.index);
  }

  /** Removes and returns the earliest entry; the caller checks `size` first. */
  pop(): DelayEntry<K, T> {
    const entries = this.#entries;
    const top = entries[0]!;
    const last = entries.pop()!;
    if (entries.length > 0) {
      entries[0] = last;
      last.index = 0;
      this.#down(0);
    }
    top.index = -1;
    return top;
  }

  /** Restores the order after `entry.readyAt` decreased. */
  decreased(entry: DelayEntry<K, T>): void {
    this.#up(entry.index);
  }

  clear(): void {
    for (const e of this.#entries) e.index = -1;
    this.#entries.length = 0;
  }

  #less(a: DelayEntry<K, T>, b: DelayEntry<K, T>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #up(i: number): void {
    const entries = this.#entries;
    const entry = entries[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = entries[parentIndex]!;
      if (!this.#less(entry, parent)) break;
      entries[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    entries[i] = entry;
    entry.index = i;
  }

  #down(i: number): void {
    const entries = this.#entries;
    const n = entries.length;
    const entry = entries[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      let childEntry = entries[left]!;
      if (right < n) {
        const r = entries[right]!;
        if (this.#less(r, childEntry)) {
          child = right;
          childEntry = r;
        }
      }
      if (!this.#less(childEntry, entry)) break;
      entries[i] = childEntry;
      childEntry.index = i;
      i = child;
    }
    entries[i] = entry;
    entry.index = i;
  }
}
