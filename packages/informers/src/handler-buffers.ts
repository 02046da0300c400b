// Event handlers and their buffers. Each handler gets its own unbounded FIFO of notifications drained by
// its own async loop, so a slow handler (sync or async) delays only itself, and a throwing one is logged
// and counted. Notifications reach every handler in the order the informer applied them to the store.
import type { DeepReadonly } from "@minitask/client";
import { Deque } from "./deque.ts";
import type { DeletedFinalStateUnknown } from "./keys.ts";

/** Callbacks for changes of cached objects. May be async: the next notification waits for the promise. */
export interface ResourceEventHandler<T> {
  /** A new object; `isInInitialList` for the initial sync (and the synthetic adds of a late handler). */
  onAdd?(obj: DeepReadonly<T>, isInInitialList: boolean): void | Promise<void>;
  /** A changed object (or a resync: `oldObj === newObj`). */
  onUpdate?(oldObj: DeepReadonly<T>, newObj: DeepReadonly<T>): void | Promise<void>;
  /** A deleted object: its final state, or a tombstone when a relist found it gone. */
  onDelete?(obj: DeepReadonly<T> | DeletedFinalStateUnknown<T>): void | Promise<void>;
}

/** Returned by `addEventHandler`; pass it to `removeEventHandler`. */
export interface HandlerRegistration {
  /** True once the informer has synced and this handler has processed its initial adds. */
  hasSynced(): boolean;
}

/** Counters of one handler (`informer.handlerStats(registration)`). */
export interface HandlerStats {
  /** Notifications handed to the handler. */
  readonly delivered: number;
  /** Waiting in this handler's buffer. */
  readonly pending: number;
  /** Largest the buffer has been. */
  readonly maxPending: number;
  /** Errors the handler threw or rejected with. */
  readonly errors: number;
}

/** Options of `addEventHandler`. */
export interface AddEventHandlerOptions {
  /** Resync period of this handler (0 = none); default: the informer's. Minimum 1 s. */
  readonly resyncPeriodMs?: number;
  /** Name used in logs and metrics. Default `handler-<n>`. */
  readonly name?: string;
}

export type Notification<T> =
  | { readonly kind: "add"; readonly obj: DeepReadonly<T>; readonly initial: boolean }
  | { readonly kind: "update"; readonly old: DeepReadonly<T>; readonly obj: DeepReadonly<T> }
  | { readonly kind: "delete"; readonly obj: DeepReadonly<T> | DeletedFinalStateUnknown<T> };

/** Hand the event loop back after this much uninterrupted handler work (ms). */
const YIELD_AFTER_MS = 20;

/** One handler with its buffer. Internal; exposed to callers only as a `HandlerRegistration`. */
export class HandlerListener<T> implements HandlerRegistration {
  readonly name: string;
  readonly handler: ResourceEventHandler<T>;
  readonly resyncPeriodMs: number;
  /** Next resync due time (clock ms), when resyncing. */
  nextResyncAt = Number.POSITIVE_INFINITY;
  readonly #buffer = new Deque<Notification<T>>();
  readonly #informerSynced: () => boolean;
  readonly #onError: (listener: HandlerListener<T>, err: unknown) => void;
  #draining = false;
  #stopped = false;
  #initialPending = 0;
  #delivered = 0;
  #maxPending = 0;
  #errors = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(
    handler: ResourceEventHandler<T>,
    name: string,
    resyncPeriodMs: number,
    informerSynced: () => boolean,
    onError: (listener: HandlerListener<T>, err: unknown) => void,
  ) {
    this.handler = handler;
    this.name = name;
    this.resyncPeriodMs = resyncPeriodMs;
    this.#informerSynced = informerSynced;
    this.#onError = onError;
  }

  hasSynced(): boolean {
    return this.#initialPending === 0 && this.#informerSynced();
  }

  stats(): HandlerStats {
    return {
      delivered: this.#delivered,
      pending: this.#buffer.length,
      maxPending: this.#maxPending,
      errors: this.#errors,
    };
  }

  get pending(): number {
    return this.#buffer.length;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  enqueue(n: Notification<T>): void {
    if (this.#stopped) return;
    if (n.kind === "add" && n.initial) this.#initialPending++;
    this.#buffer.push(n);
    if (this.#buffer.length > this.#maxPending) this.#maxPending = this.#buffer.length;
    if (!this.#draining) {
      this.#draining = true;
      queueMicrotask(() => void this.#drain());
    }
  }

  /** Stops delivering; pending notifications are dropped. */
  stop(): void {
    this.#stopped = true;
    this.#buffer.clear();
    this.#initialPending = 0;
    this.#wakeIdle();
  }

  /** Resolves once the buffer is empty and no notification is being handled. */
  idle(): Promise<void> {
    if (!this.#draining || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #drain(): Promise<void> {
    let sliceStart = performance.now();
    try {
      for (;;) {
        if (this.#stopped) break;
        const n = this.#buffer.shift();
        if (n === undefined) break;
        this.#delivered++;
        try {
          const r = this.#call(n);
          if (r !== undefined && typeof (r as PromiseLike<void>).then === "function") await r;
        } catch (err) {
          this.#errors++;
          try {
            this.#onError(this, err);
          } catch {
            // the error reporter itself failed: nothing more to do
          }
        } finally {
          if (n.kind === "add" && n.initial && this.#initialPending > 0) this.#initialPending--;
        }
        if (performance.now() - sliceStart > YIELD_AFTER_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
    } finally {
      this.#draining = false;
      // Something may have arrived while we were finishing.
      if (!this.#stopped && this.#buffer.length > 0) {
        this.#draining = true;
        queueMicrotask(() => void this.#drain());
      } else {
        this.#wakeIdle();
      }
    }
  }

  #call(n: Notification<T>): void | Promise<void> {
    const h = this.handler;
    switch (n.kind) {
      case "add":
        return h.onAdd?.(n.obj, n.initial);
      case "update":
        return h.onUpdate?.(n.old, n.obj);
      case "delete":
        return h.onDelete?.(n.obj);
    }
  }

  #wakeIdle(): void {
    const w = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const f of w) f();
  }
}
