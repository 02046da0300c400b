// A growable FIFO ring buffer. `Array.prototype.shift` is O(n) on large arrays; this is O(1) for both ends and
// keeps the backing array packed (never holey) so V8 keeps its fast elements kind.

/** @internal */
export class Ring<V> {
  #buf: (V | undefined)[];
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.#buf = new Array<V | undefined>(cap).fill(undefined);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size;
  }

  push(value: V): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) & this.#mask] = value;
    this.#size++;
  }

  /** Removes and returns the oldest value; the caller checks `size` first. */
  shift(): V {
    const head = this.#head;
    const value = this.#buf[head] as V;
    this.#buf[head] = undefined;
    this.#head = (head + 1) & this.#mask;
    this.#size--;
    if (this.#size === 0) this.#head = 0;
    return value;
  }

  /** The oldest value without removing it; the caller checks `size` first. */
  peek(): V {
    return this.#buf[this.#head] as V;
  }

  /** Removes everything, returning the values oldest first. */
  drain(): V[] {
    const out: V[] = [];
    while (this.#size > 0) out.push(this.shift());
    return out;
  }

  #grow(): void {
    const old = this.#buf;
    const cap = old.length;
    const next = new Array<V | undefined>(cap * 2).fill(undefined);
    for (let i = 0; i < cap; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#buf = next;
    this.#head = 0;
    this.#mask = cap * 2 - 1;
  }
}
