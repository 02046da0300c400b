// The LeaderElector's timing rules on a fake clock, against an in-memory Lease with the apiserver's
// optimistic concurrency. Its behaviour against the real apiserver (two replicas, failover) is in the
// operations cluster test and the fault suite.
import { apiErrorFromStatus } from "@minitask/client";
import { FakeClock } from "@minitask/workqueue";
import { describe, expect, it } from "vitest";
import { LeaderElector, type Lease } from "../src/index.ts";
import { MemoryResource } from "./support/memory-resource.ts";

const LEASE = 15_000;
const RENEW = 10_000;
const RETRY = 2_000;

function elector(leases: MemoryResource<Lease>, clock: FakeClock, identity: string) {
  const events: string[] = [];
  let leading: AbortSignal | undefined;
  const e = new LeaderElector({
    leases,
    namespace: "ns",
    name: "lock",
    identity,
    leaseDurationMs: LEASE,
    renewDeadlineMs: RENEW,
    retryPeriodMs: RETRY,
    clock,
    random: () => 0,
    onStartedLeading: async (signal) => {
      events.push("started");
      leading = signal;
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
      events.push(`leadership ended: ${(signal.reason as Error).message}`);
    },
    onStoppedLeading: () => events.push("stopped"),
    onNewLeader: (id) => events.push(`leader ${id}`),
  });
  return { e, events, leading: () => leading };
}

const serverError = () =>
  apiErrorFromStatus({ apiVersion: "v1", kind: "Status", status: "Failure", code: 500, message: "etcd down" });

describe("LeaderElector (fake clock)", () => {
  it("acquires a missing lease at once, renews every retry period, and releases it on shutdown", async () => {
    const clock = new FakeClock(1_000_000);
    const leases = new MemoryResource<Lease>();
    const { e, events } = elector(leases, clock, "me");
    const stop = new AbortController();
    const run = e.run(stop.signal);
    await clock.advanceAsync(0);
    expect(e.isLeader()).toBe(true);
    expect(events).toEqual(["leader me", "started"]);
    expect(leases.peek("lock")?.spec).toMatchObject({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });

    await clock.advanceAsync(3 * RETRY);
    expect(leases.writes.filter((w) => w.verb === "update")).toHaveLength(3);
    expect(e.isLeader()).toBe(true);

    stop.abort();
    await run;
    expect(e.isLeader()).toBe(false);
    expect(events.slice(2)).toEqual(["leadership ended: elector stopped", "stopped"]);
    expect(leases.peek("lock")?.spec?.holderIdentity).toBe("");
  });

  it("steps down once renewals have failed for the renew deadline — before the lease can expire", async () => {
    const clock = new FakeClock(0);
    const leases = new MemoryResource<Lease>();
    const { e, events, leading } = elector(leases, clock, "me");
    const stop = new AbortController();
    const run = e.run(stop.signal);
    await clock.advanceAsync(0);
    expect(e.isLeader()).toBe(true);
    const acquiredAt = clock.now();

    leases.beforeWrite = () => {
      throw serverError();
    };
    await clock.advanceAsync(RENEW - 1);
    expect(leading()?.aborted).toBe(false);
    await clock.advanceAsync(1);
    expect(leading()?.aborted).toBe(true);
    expect(clock.now() - acquiredAt).toBeLessThan(LEASE);
    await run; // run resolves after a loss: the caller decides whether to campaign again
    expect(events).toContain("leadership ended: leadership lost");
    expect(e.isLeader()).toBe(false);
    stop.abort();
  });

  it("steps down at once when another candidate holds the lease", async () => {
    const clock = new FakeClock(0);
    const leases = new MemoryResource<Lease>();
    const { e, leading } = elector(leases, clock, "me");
    const stop = new AbortController();
    const run = e.run(stop.signal);
    await clock.advanceAsync(0);
    leases.mutate("lock", (l) => {
      l.spec = { ...l.spec, holderIdentity: "other", renewTime: "2026-01-01T00:00:00.000000Z" };
    });
    await clock.advanceAsync(RETRY);
    expect(leading()?.aborted).toBe(true);
    await run;
    expect(e.leader).toBe("other");
    stop.abort();
  });

  it("takes another holder's lease only after a full lease duration without renewal, by its own clock", async () => {
    const clock = new FakeClock(0);
    const leases = new MemoryResource<Lease>();
    leases.seed({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "lock", namespace: "ns" },
      // A renewTime far in the future by the wall clock must not matter: expiry is judged by observation.
      spec: {
        holderIdentity: "old",
        leaseDurationSeconds: 15,
        renewTime: "2099-01-01T00:00:00.000000Z",
        leaseTransitions: 4,
      },
    });
    const { e, events } = elector(leases, clock, "me");
    const stop = new AbortController();
    const run = e.run(stop.signal);
    await clock.advanceAsync(0);
    expect(events).toEqual(["leader old"]);

    // The holder renews once, 6 s in: the wait starts again from there.
    await clock.advanceAsync(6_000);
    leases.mutate("lock", (l) => {
      l.spec = { ...l.spec, renewTime: "2099-01-01T00:00:06.000000Z" };
    });
    await clock.advanceAsync(LEASE - 1);
    expect(e.isLeader()).toBe(false);
    await clock.advanceAsync(2 * RETRY);
    expect(e.isLeader()).toBe(true);
    expect(leases.peek("lock")?.spec).toMatchObject({ holderIdentity: "me", leaseTransitions: 5 });
    stop.abort();
    await run;
  });

  it("rejects timings that could allow two leaders", () => {
    const leases = new MemoryResource<Lease>();
    const base = { leases, namespace: "ns", name: "l", onStartedLeading: () => {} };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      /renew deadline/,
    );
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/retry period/);
  });
});
