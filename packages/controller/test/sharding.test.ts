// Sharding's decisions (pure) and its coordinators on a fake clock against in-memory Leases with the apiserver's
// optimistic concurrency. Real replicas on a real apiserver: taskrunner's sharding cluster test and the fault suite.
import { apiErrorFromStatus } from "@minitask/client";
import { FakeClock } from "@minitask/workqueue";
import { afterEach, describe, expect, it } from "vitest";
import { bucketOf, type Lease, planShards, ShardCoordinator, type ShardView, shareOf } from "../src/index.ts";
import { MemoryResource } from "./support/memory-resource.ts";

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;
const B = 12;

describe("bucketOf and shareOf", () => {
  it("hashes keys stably and evenly", () => {
    expect(bucketOf("ns/run-1", 16)).toBe(bucketOf("ns/run-1", 16));
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[bucketOf(`ns-${i % 7}/run-${i}`, 16)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it("gives shares that add up to the buckets, differing by at most one", () => {
    for (const n of [1, 2, 3, 5, 7, 12, 13]) {
      const members = Array.from({ length: n }, (_, i) => `r${i}`);
      const shares = members.map((m) => shareOf(m, members, B));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(B);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      expect(Math.max(...shares)).toBe(Math.ceil(B / n));
    }
  });
});

describe("planShards", () => {
  const view = (over: Partial<ShardView>): ShardView => ({
    me: "a",
    buckets: B,
    members: ["a"],
    holders: new Array(B).fill(undefined),
    expired: new Array(B).fill(false),
    held: new Set(),
    draining: new Set(),
    ...over,
  });

  it("takes free buckets (none, released or expired) up to its share, never one another replica renews", () => {
    const holders = new Array(B).fill("b") as (string | undefined)[];
    holders[0] = undefined;
    holders[1] = "";
    holders[2] = "c";
    const expired = new Array(B).fill(false);
    expired[2] = true;
    const plan = planShards(view({ members: ["a", "b"], holders, expired }));
    expect(plan.acquire.toSorted()).toEqual([0, 1, 2]);
    expect(plan.release).toEqual([]);
    const small = planShards(view({ members: ["a", "b", "c", "d", "e", "f"], holders, expired }));
    expect(small.acquire).toHaveLength(2);
  });

  it("gives up only what is above its share when replicas join, the least wanted first, and counts draining as given", () => {
    const held = new Set(Array.from({ length: B }, (_, i) => i));
    const plan = planShards(view({ members: ["a", "b", "c"], holders: new Array(B).fill("a"), held }));
    expect(plan.acquire).toEqual([]);
    expect(plan.release).toHaveLength(B - shareOf("a", ["a", "b", "c"], B));
    const again = planShards(
      view({ members: ["a", "b", "c"], holders: new Array(B).fill("a"), held, draining: new Set(plan.release) }),
    );
    expect(again).toEqual({ acquire: [], release: [] });
  });
});

/** A replica: its coordinator, running, with a log of what it was told. */
function replica(leases: MemoryResource<Lease>, clock: FakeClock, identity: string) {
  const c = new ShardCoordinator({
    group: "g",
    buckets: B,
    namespace: "ns",
    leases,
    identity,
    leaseDurationMs: LEASE,
    renewDeadlineMs: RENEW,
    retryPeriodMs: RETRY,
    clock,
    random: () => 0,
  });
  const acquired: number[] = [];
  const drained: number[] = [];
  c.addListener({
    acquired: (b) => acquired.push(b),
    drained: async (b) => {
      drained.push(b);
    },
  });
  const stop = new AbortController();
  const running = c.start(stop.signal);
  const halt = () => {
    stop.abort();
    return running;
  };
  return { c, acquired, drained, stop: halt, running };
}
type Replica = ReturnType<typeof replica>;

/** No bucket is worked by two replicas. */
function expectExclusive(replicas: readonly Replica[]): void {
  const seen = new Map<number, string>();
  for (const r of replicas) {
    for (const b of r.c.workingBuckets()) {
      expect(seen.get(b), `bucket ${b} worked by ${seen.get(b)} and ${r.c.identity}`).toBeUndefined();
      seen.set(b, r.c.identity);
    }
  }
}

/** Advances `ms` one retry period at a time, checking exclusivity after each step. */
async function advance(clock: FakeClock, ms: number, replicas: readonly Replica[]): Promise<void> {
  for (let t = 0; t < ms; t += RETRY / 2) {
    await clock.advanceAsync(RETRY / 2);
    expectExclusive(replicas);
  }
}

const running: Replica[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

describe("ShardCoordinator (fake clock)", () => {
  it("three replicas settle on fair, disjoint shares covering every bucket", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryResource<Lease>();
    const rs = ["a", "b", "c"].map((id) => replica(leases, clock, id));
    running.push(...rs);
    await advance(clock, 5 * RETRY, rs);
    const held = rs.map((r) => r.c.workingBuckets());
    expect(held.map((h) => h.length)).toEqual([4, 4, 4]);
    expect(held.flat().toSorted((x, y) => x - y)).toEqual(Array.from({ length: B }, (_, i) => i));
    for (const r of rs) {
      expect(r.c.members()).toEqual(["a", "b", "c"]);
      // Started together, they saw each other before taking any: nothing moved twice.
      expect(r.acquired.toSorted((x, y) => x - y)).toEqual(r.c.workingBuckets());
      expect(r.drained).toEqual([]);
    }
    // Every key has exactly one owner: the holder of its bucket.
    for (let i = 0; i < 200; i++) {
      const key = `ns/run-${i}`;
      const owners = rs.filter((r) => r.c.owns(key));
      expect(owners).toHaveLength(1);
      expect(owners[0]?.c.workingBuckets()).toContain(bucketOf(key, B));
    }
  });

  it("a joining replica takes only what the others give up, after their reconciles drained", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryResource<Lease>();
    const ab = ["a", "b"].map((id) => replica(leases, clock, id));
    running.push(...ab);
    await advance(clock, 5 * RETRY, ab);
    const before = ab.map((r) => new Set(r.c.workingBuckets()));
    expect(before.map((s) => s.size)).toEqual([6, 6]);
    const c = replica(leases, clock, "c");
    running.push(c);
    const all = [...ab, c];
    await advance(clock, 6 * RETRY, all);
    expect(all.map((r) => r.c.workingBuckets().length)).toEqual([4, 4, 4]);
    // a and b kept 4 of their 6 each: only the 4 buckets c needed moved, and each was drained before.
    ab.forEach((r, i) => {
      for (const b of r.c.workingBuckets()) expect(before[i]?.has(b)).toBe(true);
      expect(r.drained).toHaveLength(2);
    });
    expect(c.acquired.toSorted()).toEqual([...ab[0]!.drained, ...ab[1]!.drained].toSorted());
  });

  it("a replica stopping hands its buckets over at once (released, not left to expire)", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryResource<Lease>();
    const rs = ["a", "b", "c"].map((id) => replica(leases, clock, id));
    running.push(...rs);
    await advance(clock, 5 * RETRY, rs);
    const gone = rs[2] as Replica;
    const itsBuckets = gone.c.workingBuckets();
    await gone.stop();
    running.splice(running.indexOf(gone), 1);
    for (const b of itsBuckets) expect(leases.peek(gone.c.bucketLease(b))?.spec?.holderIdentity).toBe("");
    const left = rs.slice(0, 2);
    // Well within a lease duration: the member Lease is gone and the buckets are free.
    await advance(clock, 3 * RETRY, left);
    expect(left.map((r) => r.c.workingBuckets().length)).toEqual([6, 6]);
    expect(left.map((r) => r.c.members())).toEqual([
      ["a", "b"],
      ["a", "b"],
    ]);
  });

  it("a replica that cannot renew stops working before its Leases can expire; the others wait for the expiry", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryResource<Lease>();
    const rs = ["a", "b", "c"].map((id) => replica(leases, clock, id));
    running.push(...rs);
    await advance(clock, 5 * RETRY, rs);
    const cut = rs[2] as Replica;
    const itsBuckets = cut.c.workingBuckets();
    // c is cut off from the apiserver: every write of its Leases fails.
    leases.beforeWrite = (_verb, obj) => {
      if (obj.spec?.holderIdentity === "c") {
        throw apiErrorFromStatus({ apiVersion: "v1", kind: "Status", status: "Failure", code: 503, message: "cut" });
      }
    };
    const cutAt = clock.now();
    let stoppedAt: number | undefined;
    let takenAt: number | undefined;
    while (takenAt === undefined) {
      await advance(clock, RETRY / 2, rs);
      if (stoppedAt === undefined && cut.c.workingBuckets().length === 0) stoppedAt = clock.now();
      if (itsBuckets.every((b) => rs.slice(0, 2).some((r) => r.c.workingBuckets().includes(b)))) takenAt = clock.now();
    }
    expect(stoppedAt).toBeDefined();
    // c's last renewal was less than a retry period before the cut.
    expect((stoppedAt as number) - cutAt).toBeLessThanOrEqual(RENEW + RETRY);
    expect(takenAt - (stoppedAt as number)).toBeGreaterThan(0);
    expect(takenAt - cutAt).toBeGreaterThanOrEqual(LEASE - RETRY);
    expect(takenAt - cutAt).toBeLessThanOrEqual(LEASE + 2 * RETRY);
    expect(rs.slice(0, 2).map((r) => r.c.workingBuckets().length)).toEqual([6, 6]);
  });

  it("gives a bucket up only once its reconciles have finished, renewing it meanwhile", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryResource<Lease>();
    const a = replica(leases, clock, "a");
    running.push(a);
    await advance(clock, 3 * RETRY, [a]);
    expect(a.c.workingBuckets()).toHaveLength(B);
    // A second listener with a reconcile of every bucket in flight until `finish`.
    let finish = () => {};
    const inFlight = new Promise<void>((r) => {
      finish = r;
    });
    a.c.addListener({ acquired: () => {}, drained: () => inFlight });
    const b = replica(leases, clock, "b");
    running.push(b);
    await advance(clock, 3 * LEASE, [a, b]);
    // a stopped admitting the 6 it gives up, but still holds (and renews) their Leases: b has none of them.
    expect(a.c.workingBuckets()).toHaveLength(6);
    expect(b.c.workingBuckets()).toHaveLength(0);
    const renewed = leases.peek(a.c.bucketLease(a.drained[0] as number))?.spec?.renewTime;
    expect(Date.parse(renewed ?? "")).toBeGreaterThan(clock.now() - 2 * RETRY);
    finish();
    await advance(clock, 3 * RETRY, [a, b]);
    expect([a, b].map((r) => r.c.workingBuckets().length)).toEqual([6, 6]);
  });
});
