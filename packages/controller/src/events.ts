// An event recorder writing events.k8s.io/v1 Events.
//
// Why events.k8s.io/v1 rather than core/v1: it is the current API (core/v1 Event is kept for
// compatibility), its `series` models repeats explicitly, and it carries `reportingController` /
// `reportingInstance`, which identify a controller replica. Both APIs read and write the same stored
// objects, so `kubectl describe` and `kubectl get events` show what we write.
//
// `record` never blocks and never throws: events go into a bounded buffer written by one background
// loop. Repeats of the same (object, type, reason, note) within the series window become one Event whose
// `series.count` is updated at most once per heartbeat interval, so a hot loop cannot flood the apiserver.
import { randomBytes } from "node:crypto";
import {
  builtinResources,
  type DeepReadonly,
  type KubeClient,
  type KubeObject,
  type ResourceClient,
} from "@minitask/client";
import type { Counter } from "prom-client";
import { microTime } from "./leaderelection.ts";
import { type Logger, silentLogger } from "./logging.ts";

/** `Normal` or `Warning`, as `kubectl describe` shows them. */
export type EventType = "Normal" | "Warning";

/** An `events.k8s.io/v1` Event. */
export interface EventV1 extends KubeObject {
  eventTime?: string;
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  note?: string;
  type?: string;
  regarding?: ObjectReference;
  series?: { count: number; lastObservedTime: string };
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** Who reports the events, and the buffer's limits. */
export interface EventRecorderOptions {
  readonly client: KubeClient;
  /** e.g. `minitask.myorg.dev/taskrun-controller`. */
  readonly reportingController: string;
  /** This replica, e.g. the pod name or leader-election identity. */
  readonly reportingInstance: string;
  /** Pending events beyond this are dropped (and counted). Default 1000. */
  readonly maxPending?: number;
  /** Repeats within this window join one series. Default 6 minutes (as client-go). */
  readonly seriesWindowMs?: number;
  /** How often a growing series is written back. Default 30 s (client-go's heartbeat). */
  readonly heartbeatMs?: number;
  readonly logger?: Logger;
  /** Counter of dropped events. */
  readonly dropped?: Counter;
}

interface Pending {
  readonly regarding: ObjectReference;
  readonly namespace: string;
  readonly type: EventType;
  readonly reason: string;
  readonly action: string;
  readonly note: string;
  readonly at: number;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  lastAt: number;
  /** count already written to the apiserver */
  written: number;
}

const MAX_NOTE = 1024;

/**
 * Writes `events.k8s.io/v1` Events without blocking the caller: a bounded buffer drained by one loop, repeats
 * within the series window folded into the first Event's `series.count` (client-go's rules).
 */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #events: ResourceClient<EventV1>;
  readonly #log: Logger;
  readonly #pending: Pending[] = [];
  readonly #series = new Map<string, Series>();
  #wake: (() => void) | undefined;
  #closed = false;
  /** Aborted when `close`'s deadline passes: pending events are dropped, the write in flight cancelled. */
  readonly #abandon = new AbortController();
  #loop: Promise<void>;
  #heartbeat: NodeJS.Timeout;
  #droppedCount = 0;
  #written = 0;
  readonly #namePrefix = randomBytes(4).toString("hex");
  #nameSeq = 0;

  constructor(opts: EventRecorderOptions) {
    this.#o = opts;
    this.#events = opts.client.resource<EventV1>(builtinResources.eventsV1);
    this.#log = (opts.logger ?? silentLogger).child({ component: "event-recorder" });
    this.#loop = this.#run();
    this.#heartbeat = setInterval(() => this.#kick(), opts.heartbeatMs ?? 30_000);
    this.#heartbeat.unref();
  }

  /** Number of events dropped because the buffer was full. */
  get dropped(): number {
    return this.#droppedCount;
  }

  /** Number of create/patch calls made. */
  get writes(): number {
    return this.#written;
  }

  /** Records an event about `obj`. Never blocks, never throws. */
  record(
    obj: KubeObject | DeepReadonly<KubeObject>,
    type: EventType,
    reason: string,
    note: string,
    action = "Reconcile",
  ): void {
    if (this.#closed) return;
    const meta = obj.metadata;
    if (!meta?.name) return;
    if (this.#pending.length >= (this.#o.maxPending ?? 1000)) {
      this.#droppedCount++;
      this.#o.dropped?.inc();
      return;
    }
    this.#pending.push({
      regarding: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      namespace: meta.namespace ?? "default",
      type,
      reason,
      action,
      note: note.length > MAX_NOTE ? `${note.slice(0, MAX_NOTE - 1)}…` : note,
      at: Date.now(),
    });
    this.#kick();
  }

  /**
   * Writes what is pending (including series counts) and stops. When `deadline` aborts first (e.g. the
   * shutdown grace period ran out), what is still pending is dropped (and counted) and the write in
   * flight is cancelled, so that a slow or unreachable apiserver cannot hold up the shutdown.
   */
  async close(deadline?: AbortSignal): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    const abandon = () => {
      const n = this.#pending.length;
      this.#pending.length = 0;
      this.#droppedCount += n;
      if (n > 0) this.#o.dropped?.inc(n);
      if (n > 0) this.#log.warn({ dropped: n }, "shutdown deadline: dropping pending events");
      this.#abandon.abort();
      this.#kick();
    };
    if (deadline?.aborted) abandon();
    else deadline?.addEventListener("abort", abandon, { once: true });
    this.#kick();
    try {
      await this.#loop;
    } finally {
      deadline?.removeEventListener("abort", abandon);
    }
  }

  #kick(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async #run(): Promise<void> {
    for (;;) {
      while (this.#pending.length > 0) {
        const p = this.#pending.shift() as Pending;
        await this.#write(p).catch((err: unknown) =>
          this.#log.warn({ err, reason: p.reason }, "failed to write event"),
        );
      }
      if (!this.#abandon.signal.aborted) await this.#flushSeries();
      if (this.#closed && this.#pending.length === 0) return;
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
  }

  async #write(p: Pending): Promise<void> {
    const key = `${p.regarding.uid ?? `${p.namespace}/${p.regarding.name}`}|${p.type}|${p.reason}|${p.note}`;
    const window = this.#o.seriesWindowMs ?? 6 * 60_000;
    const s = this.#series.get(key);
    if (s && p.at - s.lastAt < window) {
      s.count++;
      s.lastAt = p.at;
      return; // written by the heartbeat flush
    }
    // Forget stale series now and then so the map stays bounded by the live window.
    if (this.#series.size > 4096) {
      for (const [k, v] of this.#series) if (p.at - v.lastAt >= window) this.#series.delete(k);
    }
    // Unique per recorder without a call into the random source per event: 8 random hex digits per process and
    // recorder, then a counter (client-go appends the time in nanoseconds).
    const name = `${p.regarding.name}.${this.#namePrefix}${(this.#nameSeq++ >>> 0).toString(16).padStart(8, "0")}`;
    this.#written++;
    await this.#events.create(
      {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace: p.namespace },
        eventTime: microTime(p.at),
        reportingController: this.#o.reportingController,
        reportingInstance: this.#o.reportingInstance,
        action: p.action,
        reason: p.reason,
        note: p.note,
        type: p.type,
        regarding: p.regarding,
      },
      { signal: this.#abandon.signal },
    );
    const created: Series = { name, namespace: p.namespace, count: 1, firstAt: p.at, lastAt: p.at, written: 1 };
    this.#series.set(key, created);
  }

  async #flushSeries(): Promise<void> {
    for (const s of this.#series.values()) {
      if (this.#abandon.signal.aborted) return;
      if (s.count === s.written) continue;
      const count = s.count;
      try {
        this.#written++;
        await this.#events
          .inNamespace(s.namespace)
          .patch(
            s.name,
            { series: { count, lastObservedTime: microTime(s.lastAt) } },
            { type: "merge", signal: this.#abandon.signal },
          );
        s.written = count;
      } catch (err) {
        this.#log.warn({ err, event: s.name }, "failed to update event series");
        s.written = count; // do not retry forever; the next repeat will try again
      }
    }
  }
}
