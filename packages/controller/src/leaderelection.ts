// Leader election over coordination.k8s.io/v1 Leases, with client-go's rules: a candidate takes the
// lease only when its holder has not renewed it for a full lease duration (as observed by the candidate's
// own clock), every write is an optimistic update on the lease's resourceVersion, and the leader gives up
// — aborting its leadership signal — once it has failed to renew for the renew deadline, which is
// shorter than the lease duration. So there are never two active leaders.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  builtinResources,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeClient,
  type KubeObject,
  type ResourceClient,
} from "@minitask/client";
import { type Clock, realClock, type Timer } from "@minitask/workqueue";
import type { Gauge } from "prom-client";
import { type Logger, silentLogger } from "./logging.ts";
import { pause } from "./sleep.ts";

/** A `coordination.k8s.io/v1` Lease. */
export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The Lease verbs the elector uses (a `ResourceClient<Lease>` of the Lease's namespace). */
export type LeaseClient = Pick<ResourceClient<Lease>, "get" | "create" | "update" | "watch">;

/** The Lease, this candidate, its timings and its callbacks. */
export interface LeaderElectionOptions {
  /** The client for the Lease (ignored when `leases` is given). */
  readonly client?: KubeClient;
  /** The Lease verbs directly (tests: an in-memory Lease). Default: `client`'s leases in `namespace`. */
  readonly leases?: LeaseClient;
  readonly namespace: string;
  readonly name: string;
  /** Default: hostname + "_" + random suffix. */
  readonly identity?: string;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s; must be shorter than the lease duration. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
  /** Give the lease up when stopped while leading, so a successor takes over at once. Default true. */
  readonly releaseOnCancel?: boolean;
  /** Called once leadership is acquired; `signal` aborts when it is lost or the elector stops. */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost or released). */
  readonly onStoppedLeading?: () => void;
  /** Called when a different holder is observed. */
  readonly onNewLeader?: (identity: string) => void;
  readonly logger?: Logger;
  /** `leader_election_master_status{name}` gauge. */
  readonly metric?: Gauge<"name">;
  /** Measures the lease duration, renew deadline and retry period. Default: real time. */
  readonly clock?: Clock;
  /** Jitter source for the retry period (0 ≤ x < 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** A candidate identity: the hostname (the pod name, in a cluster) and a random suffix. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString("hex")}`;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  // toISOString always ends in ".sssZ": append three zero digits of microseconds.
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

/** Campaigns for a Lease and leads while it holds it, with client-go's timing rules (see the file header). */
export class LeaderElector {
  readonly identity: string;
  readonly #o: LeaderElectionOptions;
  readonly #leases: LeaseClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #retryMs: number;
  /** The last lease record seen and when (our clock) it last changed. */
  #observed: Lease | undefined;
  #observedAt = 0;
  #leading = false;
  #running = false;
  #lastLeader = "";

  constructor(opts: LeaderElectionOptions) {
    this.#o = opts;
    this.identity = opts.identity ?? defaultIdentity();
    this.#leaseMs = opts.leaseDurationMs ?? 15_000;
    this.#renewMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.#renewMs >= this.#leaseMs) throw new RangeError("renew deadline must be shorter than the lease duration");
    if (this.#retryMs * 1.2 >= this.#renewMs)
      throw new RangeError("retry period (×1.2 jitter) must be shorter than the renew deadline");
    if (opts.leases) this.#leases = opts.leases;
    else if (opts.client) this.#leases = opts.client.resource<Lease>(builtinResources.leases, opts.namespace);
    else throw new TypeError("LeaderElector needs a client or a lease client");
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? silentLogger).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: this.identity,
    });
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** True while `run` is active (campaigning or leading): part of readiness. */
  isRunning(): boolean {
    return this.#running;
  }

  /** The holder last observed on the lease. */
  get leader(): string {
    return this.#lastLeader;
  }

  /**
   * Campaigns until leader, leads until leadership is lost or `signal` aborts, then releases the lease
   * (if configured) and resolves. To campaign again after a loss, call `run` again.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.#running = true;
    this.#o.metric?.set({ name: this.#o.name }, 0);
    try {
      if (!(await this.#acquire(signal))) return;
      await this.#lead(signal);
    } finally {
      this.#running = false;
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#log.info("campaigning for leadership");
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) {
        this.#log.info("acquired leadership");
        return true;
      }
      // Wake early when the holder releases the lease (holderIdentity emptied) via a short watch.
      await this.#waitRetry(signal);
    }
    return false;
  }

  async #waitRetry(signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const onAbort = () => wake.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const watching = this.#watchForRelease(wake.signal).then(() => wake.abort());
    await pause(this.#retryMs * (1 + (this.#o.random ?? Math.random)() * 0.2), wake.signal, this.#clock);
    wake.abort();
    signal.removeEventListener("abort", onAbort);
    await watching;
  }

  /** Resolves when the lease's holder becomes empty (released), or when `signal` aborts. */
  async #watchForRelease(signal: AbortSignal): Promise<void> {
    const rv = this.#observed?.metadata?.resourceVersion;
    if (!rv) return new Promise((r) => signal.addEventListener("abort", () => r(), { once: true }));
    try {
      const stream = await this.#leases.watch({
        fieldSelector: `metadata.name=${this.#o.name}`,
        resourceVersion: rv,
        timeoutSeconds: Math.ceil(this.#retryMs / 1000) + 1,
        signal,
      });
      for await (const ev of stream) {
        if (ev.type === "MODIFIED" || ev.type === "DELETED") {
          const holder = (ev.object as Lease).spec?.holderIdentity ?? "";
          if (ev.type === "DELETED" || holder === "") return;
        }
      }
    } catch {
      // aborted or failed: fall back to the retry period
    }
    if (!signal.aborted) await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
  }

  async #lead(signal: AbortSignal): Promise<void> {
    const leadership = new AbortController();
    const onAbort = () => leadership.abort(new Error("elector stopped"));
    signal.addEventListener("abort", onAbort, { once: true });
    this.#setLeading(true);
    let lastRenew = this.#clock.now();
    // The leader's work runs alongside the renew loop; it must stop when `leadership` aborts.
    const work = Promise.resolve()
      .then(() => this.#o.onStartedLeading(leadership.signal))
      .catch((err: unknown) => this.#log.error({ err }, "onStartedLeading failed"));
    const deadlineTimer = (): Timer => {
      const remaining = lastRenew + this.#renewMs - this.#clock.now();
      return this.#clock.setTimer(
        () => {
          if (!leadership.signal.aborted) {
            this.#log.error(
              { renewDeadlineMs: this.#renewMs },
              "failed to renew the lease within the renew deadline; stepping down",
            );
            leadership.abort(new Error("leadership lost"));
          }
        },
        Math.max(0, remaining),
      );
    };
    let timer = deadlineTimer();
    try {
      while (!leadership.signal.aborted) {
        await pause(this.#retryMs, leadership.signal, this.#clock);
        if (leadership.signal.aborted) break;
        const ok = await this.#tryAcquireOrRenew(leadership.signal);
        if (ok) {
          lastRenew = this.#clock.now();
          timer.stop();
          timer = deadlineTimer();
        } else if (this.#lastLeader !== this.identity) {
          this.#log.error({ holder: this.#lastLeader }, "lease taken by another candidate; stepping down");
          leadership.abort(new Error("leadership lost"));
        }
      }
    } finally {
      timer.stop();
      signal.removeEventListener("abort", onAbort);
      this.#setLeading(false);
      await work;
      if (signal.aborted && (this.#o.releaseOnCancel ?? true)) await this.#release();
      this.#o.onStoppedLeading?.();
    }
  }

  #setLeading(v: boolean): void {
    this.#leading = v;
    this.#o.metric?.set({ name: this.#o.name }, v ? 1 : 0);
  }

  async #get(signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.#leases.get(this.#o.name, { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #observe(lease: Lease): void {
    const prev = this.#observed?.spec;
    const cur = lease.spec;
    if (
      !prev ||
      prev.holderIdentity !== cur?.holderIdentity ||
      prev.renewTime !== cur?.renewTime ||
      prev.leaseTransitions !== cur?.leaseTransitions
    ) {
      this.#observedAt = this.#clock.now();
    }
    this.#observed = lease;
    const holder = cur?.holderIdentity ?? "";
    if (holder !== this.#lastLeader) {
      this.#lastLeader = holder;
      if (holder) {
        this.#log.info({ holder }, "new leader observed");
        this.#o.onNewLeader?.(holder);
      }
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    // Wall time goes into the Lease (what kubectl shows); expiry is judged by our own clock (#observedAt).
    const wall = Date.now();
    const now = this.#clock.now();
    const spec = (holder: string, acquireTime: string | undefined, transitions: number) => ({
      holderIdentity: holder,
      leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
      acquireTime: acquireTime ?? microTime(wall),
      renewTime: microTime(wall),
      leaseTransitions: transitions,
    });
    try {
      const current = await this.#get(signal);
      if (!current) {
        const created = await this.#leases.create({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.#o.name, namespace: this.#o.namespace },
          spec: spec(this.identity, undefined, 0),
        });
        this.#observe(created);
        return true;
      }
      this.#observe(current);
      const holder = current.spec?.holderIdentity ?? "";
      const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
      if (holder && holder !== this.identity && this.#observedAt + durationMs > now) {
        return false; // held by someone else and not expired (by our own clock)
      }
      const mine = holder === this.identity;
      const transitions = (current.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1);
      const updated = await this.#leases.update({
        ...current,
        spec: spec(this.identity, mine ? current.spec?.acquireTime : undefined, transitions),
      });
      this.#observe(updated);
      return true;
    } catch (err) {
      if (!signal.aborted && !isConflict(err) && !isAlreadyExists(err)) {
        this.#log.warn({ err }, "lease acquire/renew failed");
      }
      return false;
    }
  }

  /** Empties the holder so a successor need not wait out the lease duration. */
  async #release(): Promise<void> {
    const current = this.#observed;
    if (!current || current.spec?.holderIdentity !== this.identity) return;
    try {
      const now = Date.now();
      await this.#leases.update({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: microTime(now),
          acquireTime: microTime(now),
        },
      });
      this.#log.info("released the lease");
    } catch (err) {
      this.#log.warn({ err }, "failed to release the lease");
    }
  }
}
