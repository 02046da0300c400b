// Active-active replicas that share a controller's keys through Leases — knative's bucketed leader election,
// with fair shares. Keys hash into B buckets; each bucket is a Lease that at most one replica holds. Every
// replica also renews a member Lease, so all of them know how many replicas are alive, and each holds its
// share: ⌊B/n⌋ buckets, or ⌈B/n⌉ for the first B mod n members in identity order. A replica
//   - reconciles only keys of buckets it holds (`owns`), and re-reads every key of a bucket it acquires;
//   - stops working a bucket it could not renew for the renew deadline, which is shorter than the lease
//     duration, so it has stopped before anyone else may take the Lease over (client-go's leader rules,
//     per bucket: a Lease is expired when its record has not changed for a lease duration, by the
//     observer's own clock);
//   - gives a bucket up (a replica joined, or it is stopping) only after the reconciles in flight for it
//     have finished, renewing it meanwhile; then the next holder starts at once.
// Decisions are `planShards` (pure); the coordinator performs them, one round per retry period.
import { createHash } from "node:crypto";
import {
  builtinResources,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeClient,
  type ResourceClient,
} from "@minitask/client";
import { type Clock, realClock } from "@minitask/workqueue";
import type { Counter, Gauge } from "prom-client";
import { defaultIdentity, type Lease, microTime } from "./leaderelection.ts";
import { type Logger, silentLogger } from "./logging.ts";
import type { Runnable } from "./manager.ts";
import { pause } from "./sleep.ts";

/** Labels on every Lease of a shard group: which group, and whether it is a `member` or a `bucket`. */
export const SHARD_GROUP_LABEL = "sharding.minitask.dev/group";
export const SHARD_ROLE_LABEL = "sharding.minitask.dev/role";

/** The bucket of a key: FNV-1a (32 bit) of its UTF-8 bytes, modulo `buckets`. Stable across processes. */
export function bucketOf(key: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % buckets;
}

/** How much `member` wants `bucket` (rendezvous hashing): replicas prefer different buckets, so rarely race. */
function affinity(member: string, bucket: number): number {
  return createHash("sha256").update(`${member}/${bucket}`).digest().readUInt32BE(0);
}

/** `me`'s fair share of `buckets` among `members` (which include `me`): the shares add up to `buckets`. */
export function shareOf(me: string, members: readonly string[], buckets: number): number {
  const sorted = [...new Set([...members, me])].sort();
  const base = Math.floor(buckets / sorted.length);
  return base + (sorted.indexOf(me) < buckets % sorted.length ? 1 : 0);
}

/** What one replica knows at the start of a round. */
export interface ShardView {
  readonly me: string;
  readonly buckets: number;
  /** The live members' identities (`me` among them). */
  readonly members: readonly string[];
  /** Per bucket, the holder of its Lease as last seen, `""` when released, undefined when there is none yet. */
  readonly holders: readonly (string | undefined)[];
  /** Per bucket: its Lease's record has not changed for a lease duration (by our clock). */
  readonly expired: readonly boolean[];
  /** The buckets this replica holds (draining ones included). */
  readonly held: ReadonlySet<number>;
  /** Held buckets already being given up. */
  readonly draining: ReadonlySet<number>;
}

/** What to do this round. */
export interface ShardPlan {
  /** Free buckets to take (no Lease, released, or expired). */
  readonly acquire: readonly number[];
  /** Held buckets to give up, once their reconciles have finished. */
  readonly release: readonly number[];
}

/** Takes free buckets up to this replica's share, or gives up the ones above it (the least wanted first). */
export function planShards(v: ShardView): ShardPlan {
  const share = shareOf(v.me, v.members, v.buckets);
  const keeping = [...v.held].filter((b) => !v.draining.has(b));
  if (keeping.length > share) {
    const leastWanted = keeping.sort((a, b) => affinity(v.me, a) - affinity(v.me, b));
    return { acquire: [], release: leastWanted.slice(0, keeping.length - share) };
  }
  if (v.held.size >= share) return { acquire: [], release: [] };
  const free: number[] = [];
  for (let b = 0; b < v.buckets; b++) {
    if (v.held.has(b)) continue;
    const holder = v.holders[b];
    if (holder === undefined || holder === "" || v.expired[b]) free.push(b);
  }
  free.sort((a, b) => affinity(v.me, b) - affinity(v.me, a));
  return { acquire: free.slice(0, share - v.held.size), release: [] };
}

/** The Lease verbs the coordinator uses, in its namespace. */
export type ShardLeaseClient = Pick<ResourceClient<Lease>, "list" | "create" | "update" | "delete">;

/** Told when this replica starts working a bucket, and asked to finish its work before it is given up. */
export interface ShardListener {
  /** The bucket is ours now: enqueue its keys. */
  acquired(bucket: number): void;
  /** Resolve once no reconcile of the bucket's keys is in flight (new ones are not admitted any more). */
  drained(bucket: number): Promise<void>;
}

/** `shard_*` metrics (see `createRuntimeMetrics`). */
export interface ShardMetrics {
  /** `shard_buckets_held{group}`. */
  readonly bucketsHeld: Gauge<"group">;
  /** `shard_members{group}`: live replicas this one sees. */
  readonly members: Gauge<"group">;
  /** `shard_bucket_transitions_total{group,event}`: acquired, released, lost. */
  readonly transitions: Counter<"group" | "event">;
  /** `shard_reconciles_total{group,bucket}`: keys admitted for reconcile. */
  readonly reconciles: Counter<"group" | "bucket">;
}

export interface ShardingOptions {
  /** Names the Leases (`<group>-bucket-<i>-of-<B>`, `<group>-member-…`) and labels them. */
  readonly group: string;
  /** Fixed for a deployment: changing it moves every key. */
  readonly buckets: number;
  /** The Leases' namespace. */
  readonly namespace: string;
  readonly client?: KubeClient;
  /** The Lease verbs directly (tests). Default: `client`'s leases in `namespace`. */
  readonly leases?: ShardLeaseClient;
  /** Default: hostname + random suffix. */
  readonly identity?: string;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s; shorter than the lease duration. */
  readonly renewDeadlineMs?: number;
  /** One round (list, renew, plan) per retry period. Default 2 s. */
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  /** Jitter of the retry period (0 ≤ x < 1). Default `Math.random`. */
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly metrics?: ShardMetrics;
}

interface Observed {
  readonly lease: Lease;
  /** When (our clock) its record last changed. */
  readonly since: number;
}

/**
 * Holds this replica's share of a group's buckets (see the file header). A Manager runnable that runs on every
 * replica; controllers ask {@link ShardCoordinator.admit} before each reconcile.
 */
export class ShardCoordinator implements Runnable {
  readonly needLeaderElection = false;
  readonly name: string;
  readonly identity: string;
  readonly group: string;
  readonly buckets: number;
  readonly #o: ShardingOptions;
  readonly #leases: ShardLeaseClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #retryMs: number;
  readonly #listeners: ShardListener[] = [];
  /** Held bucket → our last successful write of its Lease (our clock) and that Lease. */
  readonly #held = new Map<number, { renewedAt: number; lease: Lease }>();
  /** Buckets being given up → the wait for their reconciles. */
  readonly #draining = new Map<number, Promise<void>>();
  readonly #drained = new Set<number>();
  readonly #observed = new Map<string, Observed>();
  #member: Lease | undefined;
  #running = false;
  #members: string[] = [];

  constructor(opts: ShardingOptions) {
    if (!Number.isInteger(opts.buckets) || opts.buckets < 1) throw new RangeError("buckets must be a positive integer");
    this.#o = opts;
    this.group = opts.group;
    this.name = `sharding ${opts.group}`;
    this.buckets = opts.buckets;
    this.identity = opts.identity ?? defaultIdentity();
    this.#leaseMs = opts.leaseDurationMs ?? 15_000;
    this.#renewMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.#renewMs >= this.#leaseMs) throw new RangeError("renew deadline must be shorter than the lease duration");
    if (this.#retryMs * 1.2 >= this.#renewMs)
      throw new RangeError("retry period (×1.2 jitter) must be shorter than the renew deadline");
    if (opts.leases) this.#leases = opts.leases;
    else if (opts.client) this.#leases = opts.client.resource<Lease>(builtinResources.leases, opts.namespace);
    else throw new TypeError("ShardCoordinator needs a client or a lease client");
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? silentLogger).child({ shardGroup: opts.group, identity: this.identity });
  }

  /** The Lease name of bucket `b`. */
  bucketLease(b: number): string {
    return `${this.group}-bucket-${String(b).padStart(String(this.buckets - 1).length, "0")}-of-${this.buckets}`;
  }

  get #memberLease(): string {
    return `${this.group}-member-${createHash("sha256").update(this.identity).digest("hex").slice(0, 12)}`;
  }

  addListener(l: ShardListener): void {
    this.#listeners.push(l);
  }

  /** The buckets this replica works now (held, not being given up). */
  workingBuckets(): number[] {
    return [...this.#held.keys()].filter((b) => !this.#draining.has(b)).sort((a, b) => a - b);
  }

  /** The live replicas seen in the last round (this one included). */
  members(): readonly string[] {
    return this.#members;
  }

  /** Whether this replica works `key`'s bucket now. */
  owns(key: string): boolean {
    const b = bucketOf(key, this.buckets);
    return this.#held.has(b) && !this.#draining.has(b);
  }

  /** {@link ShardCoordinator.owns}, counting an admitted key in `shard_reconciles_total`. */
  admit(key: string): boolean {
    if (!this.owns(key)) return false;
    this.#o.metrics?.reconciles.inc({ group: this.group, bucket: String(bucketOf(key, this.buckets)) });
    return true;
  }

  /** True while `start` runs: part of readiness. */
  isRunning(): boolean {
    return this.#running;
  }

  /** Rounds until `stop`; then gives every bucket up (after its reconciles finish, or at `force`). */
  async start(stop: AbortSignal, force: AbortSignal = new AbortController().signal): Promise<void> {
    this.#running = true;
    // The renew deadline is kept by its own loop: a round stuck on an unreachable apiserver must not keep
    // this replica working buckets whose Leases are about to expire.
    const watchdog = (async () => {
      while (!stop.aborted) {
        this.#expireHeld();
        await pause(this.#retryMs / 4, stop, this.#clock);
      }
    })();
    try {
      let first = true;
      while (!stop.aborted) {
        await this.#round(first).catch((err: unknown) => this.#log.warn({ err }, "shard round failed"));
        first = false;
        const jitter = 1 + 0.2 * (this.#o.random ?? Math.random)();
        await pause(this.#retryMs * jitter, stop, this.#clock);
      }
      await watchdog;
      await this.#shutdown(force);
    } finally {
      this.#running = false;
    }
  }

  /** Stops working every held bucket not renewed for the renew deadline. */
  #expireHeld(): void {
    const now = this.#clock.now();
    for (const [b, h] of this.#held) if (now - h.renewedAt >= this.#renewMs) this.#lose(b, "renew deadline passed");
    this.#publish();
  }

  /**
   * One round: list the group's Leases, renew ours, release drained buckets, plan and acquire. The first
   * round only announces this member, so replicas started together see each other before taking buckets.
   */
  async #round(first: boolean): Promise<void> {
    const now = this.#clock.now();
    const listed = await this.#leases.list({ labelSelector: `${SHARD_GROUP_LABEL}=${this.group}` });
    const byName = new Map(listed.items.map((l) => [l.metadata?.name ?? "", l]));
    for (const [name, lease] of byName) {
      const prev = this.#observed.get(name);
      const changed = prev?.lease.metadata?.resourceVersion !== lease.metadata?.resourceVersion;
      this.#observed.set(name, { lease, since: changed ? now : (prev?.since ?? now) });
    }
    for (const name of this.#observed.keys()) if (!byName.has(name)) this.#observed.delete(name);
    const expired = (name: string) => {
      const o = this.#observed.get(name);
      return o !== undefined && now - o.since > this.#leaseMs;
    };

    await this.#renewMember(byName.get(this.#memberLease), now).catch((err: unknown) =>
      this.#log.warn({ err }, "could not renew the member lease"),
    );
    await Promise.all([...this.#held.keys()].map((b) => this.#renew(b, byName.get(this.bucketLease(b)), now)));
    await Promise.all([...this.#drained].map((b) => this.#release(b)));

    const members = new Set([this.identity]);
    for (const [name, o] of this.#observed) {
      const labels = o.lease.metadata?.labels ?? {};
      if (labels[SHARD_ROLE_LABEL] === "member" && !expired(name) && o.lease.spec?.holderIdentity) {
        members.add(o.lease.spec.holderIdentity);
      }
    }
    this.#members = [...members].sort();
    const holders: (string | undefined)[] = [];
    const expiredBuckets: boolean[] = [];
    for (let b = 0; b < this.buckets; b++) {
      const name = this.bucketLease(b);
      holders.push(this.#observed.get(name)?.lease.spec?.holderIdentity ?? (byName.has(name) ? "" : undefined));
      expiredBuckets.push(expired(name));
    }
    const plan = planShards({
      me: this.identity,
      buckets: this.buckets,
      members: this.#members,
      holders,
      expired: expiredBuckets,
      held: new Set(this.#held.keys()),
      draining: new Set(this.#draining.keys()),
    });
    for (const b of plan.release) this.#drain(b);
    await this.#collectGarbage(now);
    if (!first) await Promise.all(plan.acquire.map((b) => this.#acquire(b, byName.get(this.bucketLease(b)))));
    this.#publish();
  }

  /**
   * Deletes the member Leases of replicas gone for ten lease durations (crashed: a stopping one deletes its own)
   * and bucket Leases of another bucket count that nobody renews, each only if unchanged since seen.
   */
  async #collectGarbage(now: number): Promise<void> {
    const bucketNames = new Set(Array.from({ length: this.buckets }, (_, b) => this.bucketLease(b)));
    const stale = [...this.#observed].filter(([name, o]) => {
      if (now - o.since <= 10 * this.#leaseMs || name === this.#memberLease) return false;
      const role = o.lease.metadata?.labels?.[SHARD_ROLE_LABEL];
      return role === "member" || (role === "bucket" && !bucketNames.has(name));
    });
    for (const [name, o] of stale) {
      const rv = o.lease.metadata?.resourceVersion;
      await this.#leases.delete(name, rv ? { preconditions: { resourceVersion: rv } } : {}).then(
        () => this.#log.info({ lease: name }, "deleted a stale shard lease"),
        (err: unknown) => {
          if (!isConflict(err) && !isNotFound(err))
            this.#log.warn({ err, lease: name }, "could not delete a stale shard lease");
        },
      );
      this.#observed.delete(name);
    }
  }

  #spec(acquireTime: string, transitions: number): Lease["spec"] {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
      acquireTime,
      renewTime: microTime(this.#clock.now()),
      leaseTransitions: transitions,
    };
  }

  #labels(role: "member" | "bucket"): Record<string, string> {
    return { [SHARD_GROUP_LABEL]: this.group, [SHARD_ROLE_LABEL]: role };
  }

  async #renewMember(current: Lease | undefined, now: number): Promise<void> {
    try {
      if (!current) {
        this.#member = await this.#leases.create({
          metadata: { name: this.#memberLease, labels: this.#labels("member") },
          spec: this.#spec(microTime(now), 0),
        });
      } else {
        this.#member = await this.#leases.update({
          ...current,
          spec: { ...this.#spec(current.spec?.acquireTime ?? microTime(now), 0) },
        });
      }
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
    }
  }

  /** Renews a held bucket; stops working it when another replica holds it or the renew deadline passed. */
  async #renew(b: number, current: Lease | undefined, now: number): Promise<void> {
    const mine = this.#held.get(b);
    if (!mine) return;
    if (current?.spec?.holderIdentity !== this.identity) return this.#lose(b, "another replica holds it");
    try {
      const lease = await this.#leases.update({
        ...current,
        spec: { ...current.spec, ...this.#spec(current.spec?.acquireTime ?? "", current.spec?.leaseTransitions ?? 0) },
      });
      this.#held.set(b, { renewedAt: now, lease });
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return this.#lose(b, (err as Error).message);
      // The watchdog stops working it once the renew deadline passes.
      this.#log.warn({ err, bucket: b }, "could not renew a bucket; retrying");
    }
  }

  #lose(b: number, why: string): void {
    this.#held.delete(b);
    this.#draining.delete(b);
    this.#drained.delete(b);
    this.#o.metrics?.transitions.inc({ group: this.group, event: "lost" });
    this.#log.warn({ bucket: b, reason: why }, "lost a bucket; stopped working it");
  }

  async #acquire(b: number, current: Lease | undefined): Promise<void> {
    const now = microTime(this.#clock.now());
    try {
      const lease = current
        ? await this.#leases.update({ ...current, spec: this.#spec(now, (current.spec?.leaseTransitions ?? 0) + 1) })
        : await this.#leases.create({
            metadata: { name: this.bucketLease(b), labels: this.#labels("bucket") },
            spec: this.#spec(now, 0),
          });
      this.#held.set(b, { renewedAt: this.#clock.now(), lease });
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return; // another replica was faster
      throw err;
    }
    this.#o.metrics?.transitions.inc({ group: this.group, event: "acquired" });
    this.#log.info({ bucket: b }, "acquired a bucket");
    for (const l of this.#listeners) l.acquired(b);
  }

  /** Stops admitting the bucket's keys; once its reconciles have finished, the next round releases it. */
  #drain(b: number): void {
    if (this.#draining.has(b)) return;
    const done = Promise.all(this.#listeners.map((l) => l.drained(b))).then(() => {
      if (this.#draining.get(b) === done) this.#drained.add(b);
    });
    this.#draining.set(b, done);
  }

  /** Gives a drained bucket up: holder "", so the next holder need not wait for it to expire. */
  async #release(b: number): Promise<void> {
    const mine = this.#held.get(b);
    this.#held.delete(b);
    this.#draining.delete(b);
    this.#drained.delete(b);
    if (!mine) return;
    try {
      await this.#leases.update({
        ...mine.lease,
        spec: {
          ...mine.lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#clock.now()),
        },
      });
      this.#o.metrics?.transitions.inc({ group: this.group, event: "released" });
      this.#log.info({ bucket: b }, "released a bucket");
    } catch (err) {
      // Not ours any more, or unreachable: it expires on its own (we no longer work it either way).
      this.#log.warn({ err, bucket: b }, "could not release a bucket; it will expire");
    }
  }

  async #shutdown(force: AbortSignal): Promise<void> {
    for (const b of this.#held.keys()) this.#drain(b);
    const drains = Promise.all(this.#draining.values());
    await Promise.race([drains, new Promise((r) => force.addEventListener("abort", r, { once: true }))]);
    await Promise.all([...this.#held.keys()].map((b) => this.#release(b)));
    if (this.#member) {
      const rv = this.#member.metadata?.resourceVersion;
      await this.#leases
        .delete(this.#memberLease, rv ? { preconditions: { resourceVersion: rv } } : {})
        .catch((err: unknown) => this.#log.warn({ err }, "could not delete the member lease; it will expire"));
    }
    this.#publish();
  }

  #publish(): void {
    this.#o.metrics?.bucketsHeld.set({ group: this.group }, this.workingBuckets().length);
    this.#o.metrics?.members.set({ group: this.group }, this.#members.length);
  }
}
