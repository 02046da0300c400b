// An in-memory ListerWatcher for unit tests: lists return what the test put there; watch streams are
// driven by the test (push events, end, fail). No HTTP, no timers.
import type { KubeList, KubeObject, ListOptions, ObjectWatchEvent, WatchOptions, WatchStream } from "@minitask/client";
import type { ListerWatcher } from "../src/index.ts";

export class TestStream<T> implements WatchStream<T> {
  readonly options: WatchOptions;
  #queue: (ObjectWatchEvent<T> | { end: true } | { error: unknown })[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  resourceVersion: string | undefined;

  constructor(options: WatchOptions) {
    this.options = options;
    options.signal?.addEventListener("abort", () => this.fail(options.signal?.reason));
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(event: ObjectWatchEvent<T>): void {
    this.#queue.push(event);
    this.#wake?.();
  }

  end(): void {
    this.#queue.push({ end: true });
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.#queue.push({ error });
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ObjectWatchEvent<T>> {
    try {
      for (;;) {
        const item = this.#queue.shift();
        if (item === undefined) {
          await new Promise<void>((r) => {
            this.#wake = r;
          });
          this.#wake = undefined;
          continue;
        }
        if ("end" in item) return;
        if ("error" in item) throw item.error;
        yield item;
      }
    } finally {
      this.#closed = true;
    }
  }
}

export class MemoryLW<T extends KubeObject> implements ListerWatcher<T> {
  items: T[] = [];
  rv = "10";
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  readonly streams: TestStream<T>[] = [];
  /** Errors thrown by the next calls, in order. */
  readonly listErrors: unknown[] = [];
  readonly watchErrors: unknown[] = [];
  #waiters: (() => void)[] = [];

  async list(options: ListOptions): Promise<KubeList<T>> {
    this.listCalls.push(options);
    const err = this.listErrors.shift();
    if (err !== undefined) throw err;
    return { metadata: { resourceVersion: this.rv }, items: this.items.map((o) => structuredClone(o)) };
  }

  async watch(options: WatchOptions): Promise<WatchStream<T>> {
    this.watchCalls.push(options);
    const err = this.watchErrors.shift();
    if (err !== undefined) throw err;
    const s = new TestStream<T>(options);
    this.streams.push(s);
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
    return s;
  }

  /** The latest stream (waits for it to open when `count` streams have not been opened yet). */
  async stream(count = this.streams.length || 1): Promise<TestStream<T>> {
    while (this.streams.length < count) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.streams[count - 1]!;
  }
}

export function cm(name: string, rv: string, extra: Record<string, unknown> = {}, ns = "ns"): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, resourceVersion: rv }, ...extra };
}
