import { newItemExponentialFailureRateLimiter, newRateLimitingQueue } from "@minitask/workqueue";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Controller, type ReconcileFunc } from "../src/controller.ts";
import { createRuntimeMetrics } from "../src/metrics.ts";

/** Polls until `cond` holds (deadline 10 s). */
async function until(cond: () => boolean, what = "condition"): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const fastQueue = () =>
  newRateLimitingQueue<string>({ rateLimiter: newItemExponentialFailureRateLimiter<string>(1, 50) });

describe("Controller", () => {
  it("never reconciles one key on two workers at once, and loses no update, under load", async () => {
    const inFlight = new Set<string>();
    let overlaps = 0;
    const lastAdd = new Map<string, number>();
    const lastStart = new Map<string, number>();
    let seq = 0;
    let reconciles = 0;
    const reconcile: ReconcileFunc = async (key) => {
      if (inFlight.has(key)) overlaps++;
      inFlight.add(key);
      lastStart.set(key, ++seq);
      reconciles++;
      await new Promise((r) => setImmediate(r));
      inFlight.delete(key);
    };
    const c = new Controller({ name: "load", reconcile, workers: 8, queue: fastQueue() });
    const stop = new AbortController();
    const running = c.run(stop.signal);
    for (let round = 0; round < 40; round++) {
      for (let k = 0; k < 50; k++) {
        const key = `ns/k${k}`;
        lastAdd.set(key, ++seq);
        c.queue.add(key);
      }
      await new Promise((r) => setImmediate(r));
    }
    await until(() => c.queue.len() === 0 && c.activeReconciles === 0, "the queue to drain");
    stop.abort();
    await running;
    expect(overlaps).toBe(0);
    // Every key was reconciled after its last add (no lost update), and bursts were collapsed.
    for (const [key, added] of lastAdd) expect(lastStart.get(key) ?? 0).toBeGreaterThan(added);
    expect(reconciles).toBeLessThan(40 * 50);
    expect(reconciles).toBeGreaterThanOrEqual(50);
  });

  it("retries a failing key with growing backoff and resets it after success", async () => {
    let calls = 0;
    const requeuesSeen: number[] = [];
    const c = new Controller({
      name: "retry",
      workers: 1,
      queue: fastQueue(),
      reconcile: async (key) => {
        requeuesSeen.push(c.queue.numRequeues(key));
        calls++;
        if (calls <= 3) throw new Error(`boom ${calls}`);
      },
    });
    const stop = new AbortController();
    const running = c.run(stop.signal);
    c.queue.add("a");
    await until(() => calls === 4 && c.activeReconciles === 0, "four attempts");
    await until(() => c.queue.numRequeues("a") === 0, "forget after success");
    stop.abort();
    await running;
    expect(requeuesSeen).toEqual([0, 1, 2, 3]);
  });

  it("requeues after the requested delay", async () => {
    const times: number[] = [];
    const c = new Controller({
      name: "after",
      workers: 1,
      reconcile: async () => {
        times.push(performance.now());
        return times.length === 1 ? { requeueAfterMs: 30 } : {};
      },
    });
    const stop = new AbortController();
    const running = c.run(stop.signal);
    c.queue.add("x");
    await until(() => times.length === 2, "second reconcile");
    stop.abort();
    await running;
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(25);
  });

  it("a hanging reconcile times out without blocking its worker or running its key twice at once", async () => {
    const release = deferred();
    const seen: string[] = [];
    let hangActive = false;
    let overlap = false;
    const registry = new Registry();
    const metrics = createRuntimeMetrics({ registry, processMetrics: false });
    const c = new Controller({
      name: "hang",
      workers: 1,
      reconcileTimeoutMs: 30,
      queue: fastQueue(),
      metrics: metrics.controller,
      reconcile: async (key) => {
        seen.push(key);
        if (key === "hang") {
          if (hangActive) overlap = true;
          if (seen.filter((k) => k === "hang").length === 1) {
            hangActive = true;
            await release.promise; // ignores the abort signal on purpose
            hangActive = false;
          }
        }
      },
    });
    const stop = new AbortController();
    const running = c.run(stop.signal);
    c.queue.add("hang");
    await until(() => seen.includes("hang"), "hang to start");
    c.queue.add("other");
    c.queue.add("hang"); // must not start while the first one still runs
    await until(() => seen.includes("other"), "the single worker to move on");
    expect(seen.filter((k) => k === "hang")).toHaveLength(1);
    release.resolve();
    // Retried at least once (the rate-limited re-add and the add made while it ran may each run it).
    await until(() => seen.filter((k) => k === "hang").length >= 2, "hang to be retried once released");
    stop.abort();
    await running;
    expect(overlap).toBe(false);
    const text = await registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_timeouts_total\{controller="hang"\} 1/);
    expect(text).toMatch(/controller_runtime_reconcile_errors_total\{controller="hang"\} 1/);
  });

  it("with shards, reconciles only admitted keys and says when a set of keys has no reconcile in flight", async () => {
    const seen: string[] = [];
    const gate = deferred();
    const c = new Controller({
      name: "sharded",
      workers: 2,
      queue: fastQueue(),
      shards: { admit: (key) => key.startsWith("mine/") },
      reconcile: async (key) => {
        seen.push(key);
        if (key === "mine/slow") await gate.promise;
      },
    });
    const stop = new AbortController();
    const run = c.run(stop.signal);
    for (const k of ["theirs/a", "mine/a", "mine/slow", "theirs/b"]) c.queue.add(k);
    await until(() => seen.includes("mine/slow") && seen.includes("mine/a"), "the admitted keys");
    await until(() => c.queue.len() === 0, "an empty queue");
    let idle = false;
    const waiting = c
      .whenIdle((k) => k.startsWith("mine/"))
      .then(() => {
        idle = true;
      });
    await c.whenIdle((k) => k.startsWith("theirs/"));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    gate.resolve();
    await waiting;
    expect(seen.toSorted()).toEqual(["mine/a", "mine/slow"]);
    stop.abort();
    await run;
  });

  it("waits for caches to sync before the first reconcile", async () => {
    let synced = false;
    let reconciledBeforeSync = false;
    let reconciles = 0;
    let polls = 0;
    const c = new Controller({
      name: "sync",
      syncPollMs: 2,
      waitFor: [
        {
          hasSynced: () => {
            polls++;
            return synced;
          },
        },
      ],
      reconcile: async () => {
        if (!synced) reconciledBeforeSync = true;
        reconciles++;
      },
    });
    c.queue.add("a");
    const stop = new AbortController();
    const running = c.run(stop.signal);
    await until(() => polls >= 5, "the controller to poll the cache a few times");
    expect(reconciles).toBe(0);
    synced = true;
    await until(() => reconciles === 1, "the reconcile after sync");
    stop.abort();
    await running;
    expect(reconciledBeforeSync).toBe(false);
  });

  it("on stop takes no new key, lets the in-flight reconcile finish, then returns", async () => {
    const gate = deferred();
    const started: string[] = [];
    const finished: string[] = [];
    const c = new Controller({
      name: "drain",
      workers: 1,
      reconcile: async (key) => {
        started.push(key);
        if (key === "first") await gate.promise;
        finished.push(key);
      },
    });
    const stop = new AbortController();
    const running = c.run(stop.signal);
    c.queue.add("first");
    await until(() => started.length === 1, "first to start");
    c.queue.add("second");
    stop.abort();
    const order: string[] = [];
    const returned = running.then(() => order.push("run returned"));
    await new Promise((r) => setImmediate(r));
    order.push("gate released");
    gate.resolve();
    await returned;
    expect(order).toEqual(["gate released", "run returned"]);
    expect(finished).toEqual(["first"]);
    expect(started).toEqual(["first"]);
    expect(c.queue.shuttingDown()).toBe(true);
  });

  it("force-stop aborts the signal of in-flight reconciles", async () => {
    let aborted = false;
    const c = new Controller({
      name: "force",
      reconcile: (_key, { signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          });
        }),
    });
    const stop = new AbortController();
    const force = new AbortController();
    const running = c.run(stop.signal, force.signal);
    c.queue.add("k");
    await until(() => c.activeReconciles === 1, "the reconcile to start");
    stop.abort();
    force.abort();
    await running;
    expect(aborted).toBe(true);
  });

  it("counts reconciles by result in controller-runtime's metrics", async () => {
    const registry = new Registry();
    const metrics = createRuntimeMetrics({ registry, processMetrics: false });
    let n = 0;
    const c = new Controller({
      name: "m",
      metrics: metrics.controller,
      queueMetrics: metrics.workqueue,
      queue: undefined,
      reconcile: async () => {
        n++;
        if (n === 1) throw new Error("x");
        if (n === 2) return { requeue: true };
        return {};
      },
    });
    const stop = new AbortController();
    const running = c.run(stop.signal);
    c.queue.add("k");
    await until(() => n === 3 && c.activeReconciles === 0, "three reconciles");
    stop.abort();
    await running;
    const text = await registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="m",result="error"\} 1/);
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="m",result="requeue"\} 1/);
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="m",result="success"\} 1/);
    expect(text).toMatch(/workqueue_adds_total\{name="m"\} [1-9]/);
    expect(text).toMatch(/controller_runtime_reconcile_time_seconds_count\{controller="m"\} 3/);
  });
});
