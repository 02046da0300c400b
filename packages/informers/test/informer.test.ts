// The informer and its handlers without a cluster: an in-memory lister-watcher and a fake clock.
import { GoneError, type KubeObject } from "@minitask/client";
import { FakeClock, flushPromises } from "@minitask/workqueue";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Backoff } from "../src/backoff.ts";
import {
  DeletedFinalStateUnknown,
  type Logger,
  MissingInitialEventsEndError,
  NAMESPACE_INDEX,
  SharedIndexInformer,
  type SharedIndexInformerOptions,
  type WatchErrorInfo,
} from "../src/index.ts";
import { recorder } from "./helpers.ts";
import { cm, MemoryLW } from "./memory-lw.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function quietLogger(): Logger & { errors: unknown[][] } {
  const errors: unknown[][] = [];
  const logger: Logger & { errors: unknown[][] } = {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (...a: unknown[]) => errors.push(a),
    child: () => logger,
  };
  return logger;
}

function setup(options: SharedIndexInformerOptions<ConfigMap> = {}, items: KubeObject[] = []) {
  const lw = new MemoryLW<ConfigMap>();
  lw.items = items as ConfigMap[];
  const errors: WatchErrorInfo[] = [];
  const logger = quietLogger();
  const informer = new SharedIndexInformer<ConfigMap>(lw, {
    watchList: false,
    logger,
    onWatchError: (e) => errors.push(e),
    ...options,
  });
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  const start = () => {
    running = informer.run(ac.signal);
  };
  stops.push(async () => {
    ac.abort();
    await running;
  });
  return { lw, informer, errors, logger, start };
}

describe("SharedInformer (in memory)", () => {
  it("applies watch events in order and notifies with old and new objects", async () => {
    const { lw, informer, start } = setup({}, [cm("a", "1")]);
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    start();
    expect(await informer.waitForCacheSync()).toBe(true);
    const s = await lw.stream();
    expect(s.options.resourceVersion).toBe("10");
    s.push({ type: "MODIFIED", object: cm("a", "11", { data: { v: "2" } }) as ConfigMap });
    s.push({ type: "ADDED", object: cm("b", "12") as ConfigMap });
    s.push({ type: "DELETED", object: cm("a", "13") as ConfigMap });
    s.push({ type: "DELETED", object: cm("never-seen", "14") as ConfigMap });
    s.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "20" } } });
    await vi.waitFor(() => expect(informer.lastSyncResourceVersion()).toBe("20"));
    await informer.handlersIdle();
    expect(rec.events.map((e) => [e.type, e.key, e.rv])).toEqual([
      ["add", "ns/a", "1"],
      ["update", "ns/a", "11"],
      ["add", "ns/b", "12"],
      ["delete", "ns/a", "13"],
    ]);
    expect(rec.events[1]).toMatchObject({ oldRv: "1" });
    expect(informer.getStore().listKeys()).toEqual(["ns/b"]);
    expect(informer.counters().events).toEqual({ ADDED: 1, MODIFIED: 1, DELETED: 2, BOOKMARK: 1 });
  });

  it("keeps handlers independent: a slow one and a throwing one hold up nobody", async () => {
    const { lw, informer, logger, start } = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowSeen: string[] = [];
    const fast = recorder<ConfigMap>();
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      informer.addEventHandler({
        async onAdd(o) {
          await gate;
          slowSeen.push(o.metadata?.name ?? "");
        },
      });
      const thrower = informer.addEventHandler({
        onAdd(o) {
          if (o.metadata?.name === "b") throw new Error("sync boom");
        },
        async onUpdate() {
          throw new Error("async boom");
        },
      });
      informer.addEventHandler(fast);
      start();
      await informer.waitForCacheSync();
      const s = await lw.stream();
      for (const n of ["a", "b", "c"]) s.push({ type: "ADDED", object: cm(n, "2") as ConfigMap });
      s.push({ type: "MODIFIED", object: cm("a", "3") as ConfigMap });
      await vi.waitFor(() => expect(fast.events).toHaveLength(4));
      expect(slowSeen).toEqual([]);
      await vi.waitFor(() => expect(informer.counters().handlerErrors).toBe(2));
      expect(informer.handlerStats(thrower)).toMatchObject({ errors: 2, delivered: 4 });
      expect(logger.errors).toHaveLength(2);
      release();
      await informer.handlersIdle();
      expect(slowSeen).toEqual(["a", "b", "c"]);
      await flushPromises();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });

  it("gives late handlers the current content as initial adds; registrations sync on their own", async () => {
    const { informer, start } = setup({}, [cm("a", "1"), cm("b", "1")]);
    const early = recorder<ConfigMap>();
    const earlyReg = informer.addEventHandler(early);
    expect(earlyReg.hasSynced()).toBe(false);
    start();
    await informer.waitForCacheSync();
    await vi.waitFor(() => expect(earlyReg.hasSynced()).toBe(true));
    expect(early.events.every((e) => e.type === "add" && e.initial)).toBe(true);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const late = recorder<ConfigMap>();
    const lateReg = informer.addEventHandler({
      async onAdd(o, initial) {
        await gate;
        late.onAdd?.(o, initial);
      },
    });
    expect(lateReg.hasSynced()).toBe(false);
    release();
    await vi.waitFor(() => expect(lateReg.hasSynced()).toBe(true));
    expect(late.events.map((e) => [e.key, e.type === "add" && e.initial])).toEqual([
      ["ns/a", true],
      ["ns/b", true],
    ]);
    informer.removeEventHandler(lateReg);
    expect(informer.handlerStats(lateReg)).toBeUndefined();
  });

  it("relists after a 410 and turns the difference into updates and tombstones", async () => {
    const { lw, informer, errors, start } = setup({}, [cm("keep", "1"), cm("change", "1"), cm("vanish", "1")]);
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    start();
    await informer.waitForCacheSync();
    const s = await lw.stream();
    lw.items = [cm("keep", "1"), cm("change", "5"), cm("new", "6")] as ConfigMap[];
    lw.rv = "30";
    s.fail(new GoneError({ kind: "Status", code: 410, reason: "Expired", message: "too old" }));
    await vi.waitFor(() => expect(informer.counters().lists).toBe(2));
    await informer.handlersIdle();
    expect(lw.listCalls[1]).toMatchObject({ resourceVersion: "10", resourceVersionMatch: "NotOlderThan" });
    const after = rec.events.slice(3);
    // Deletes first, then adds and updates in list order (client-go's RealFIFO Replace).
    expect(after.map((e) => [e.type, e.key])).toEqual([
      ["delete", "ns/vanish"],
      ["update", "ns/change"],
      ["add", "ns/new"],
    ]);
    expect(after[0]).toMatchObject({ tombstone: true });
    expect(after[2]).toMatchObject({ initial: false });
    expect(errors).toMatchObject([{ phase: "watch", action: "relist", retryInMs: 0 }]);
    expect(informer.counters().relists).toBe(1);
    const next = await lw.stream(2);
    expect(next.options.resourceVersion).toBe("30");
  });

  it("delivers tombstones as DeletedFinalStateUnknown with the last known object", async () => {
    const { lw, informer, start } = setup({}, [cm("x", "1", { data: { last: "state" } })]);
    const seen: unknown[] = [];
    informer.addEventHandler({ onDelete: (o) => void seen.push(o) });
    start();
    await informer.waitForCacheSync();
    const s = await lw.stream();
    lw.items = [];
    s.fail(new GoneError({ kind: "Status", code: 410, reason: "Gone" }));
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    const t = seen[0] as DeletedFinalStateUnknown<ConfigMap>;
    expect(t).toBeInstanceOf(DeletedFinalStateUnknown);
    expect(t.key).toBe("ns/x");
    expect(t.obj.data).toEqual({ last: "state" });
  });

  it("resyncs each handler on its own period from the cache, with one timer", async () => {
    const clock = new FakeClock();
    const { informer, lw, start } = setup({ clock, resyncPeriodMs: 0 }, [cm("a", "1"), cm("b", "1")]);
    const ten = recorder<ConfigMap>();
    const twentyFive = recorder<ConfigMap>();
    const none = recorder<ConfigMap>();
    informer.addEventHandler(ten, { resyncPeriodMs: 10_000 });
    informer.addEventHandler(twentyFive, { resyncPeriodMs: 25_000 });
    informer.addEventHandler(none);
    start();
    await informer.waitForCacheSync();
    const timersBefore = clock.timersCreated();
    await clock.advanceAsync(30_000);
    await informer.handlersIdle();
    const updates = (r: typeof ten) => r.events.filter((e) => e.type === "update");
    expect(updates(ten)).toHaveLength(6); // 3 periods × 2 objects
    expect(updates(twentyFive)).toHaveLength(2);
    expect(updates(none)).toHaveLength(0);
    expect(updates(ten).every((e) => e.type === "update" && e.old === e.obj)).toBe(true);
    expect(lw.listCalls).toHaveLength(1); // no API traffic
    expect(clock.timersCreated() - timersBefore).toBeLessThanOrEqual(5);
  });

  it("applies the transform (default: strip managedFields) and indexes added after start", async () => {
    const { informer, lw, start } = setup({}, [
      cm("a", "1", {
        metadata: {
          name: "a",
          namespace: "ns",
          resourceVersion: "1",
          managedFields: [{ manager: "m" }],
          labels: { team: "t1" },
        },
      }),
    ]);
    start();
    await informer.waitForCacheSync();
    expect(informer.getStore().getByKey("ns/a")?.metadata?.managedFields).toBeUndefined();
    informer.addIndexers({ team: (o) => (o.metadata?.labels?.team ? [o.metadata.labels.team] : []) });
    expect(informer.getIndexer().byIndex("team", "t1")).toHaveLength(1);
    const s = await lw.stream();
    s.push({
      type: "ADDED",
      object: { metadata: { name: "b", namespace: "ns", resourceVersion: "3", labels: { team: "t1" } } },
    });
    await vi.waitFor(() => expect(informer.getIndexer().indexKeys("team", "t1")).toHaveLength(2));
    expect(informer.getIndexer().listIndexFuncValues(NAMESPACE_INDEX)).toEqual(["ns"]);
    expect(() => informer.setTransform((o) => o)).toThrow(/already started/);
  });

  it("backs off 800 ms → 30 s with jitter and forgets after 2 minutes healthy", () => {
    const clock = new FakeClock();
    const b = new Backoff({}, clock, () => 0);
    const waits = Array.from({ length: 8 }, () => b.next());
    expect(waits).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
    const jittered = new Backoff({}, clock, () => 0.5);
    expect(jittered.next()).toBe(1200);
    b.healthy();
    clock.advance(120_000);
    expect(b.next()).toBe(800);
    b.next();
    clock.advance(119_000);
    expect(b.next()).toBe(3200);
  });

  it("reports every failure with the next step and retries on the backoff schedule", async () => {
    const clock = new FakeClock();
    const { lw, informer, errors, start } = setup({ clock, random: () => 0 });
    lw.listErrors.push(new Error("refused 1"), new Error("refused 2"));
    start();
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toMatchObject({ phase: "list", action: "relist", retryInMs: 800 });
    await clock.advanceAsync(800);
    await vi.waitFor(() => expect(errors).toHaveLength(2));
    expect(errors[1]?.retryInMs).toBe(1600);
    await clock.advanceAsync(1600);
    expect(await informer.waitForCacheSync()).toBe(true);
    // A broken watch is re-opened from the last RV after a backoff, without relisting.
    const s = await lw.stream();
    s.fail(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    await vi.waitFor(() => expect(errors).toHaveLength(3));
    expect(errors[2]).toMatchObject({ phase: "watch", action: "rewatch" });
    await clock.advanceAsync(errors[2]!.retryInMs);
    const s2 = await lw.stream(2);
    expect(s2.options.resourceVersion).toBe("10");
    expect(lw.listCalls).toHaveLength(3);
  });

  it("falls back to list when the watch-list end bookmark never comes (fake clock guard)", async () => {
    const clock = new FakeClock();
    const { lw, informer, errors, start } = setup({ clock, watchList: "auto", initialEventsEndTimeoutMs: 5_000 });
    start();
    const s = await lw.stream();
    expect(s.options).toMatchObject({
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
      allowWatchBookmarks: true,
    });
    s.push({ type: "ADDED", object: cm("a", "1") as ConfigMap });
    await flushPromises();
    await clock.advanceAsync(5_000);
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(errors[0]?.error).toBeInstanceOf(MissingInitialEventsEndError);
    expect(errors[0]?.action).toBe("fallback-to-list");
    expect(lw.listCalls).toHaveLength(1);
    const w = await lw.stream(2);
    expect(w.options.sendInitialEvents).toBeUndefined();
  });

  it("waitForCacheSync resolves false on abort", async () => {
    const { lw, informer, start } = setup();
    lw.listErrors.push(new Error("down"));
    const ac = new AbortController();
    start();
    const p = informer.waitForCacheSync(ac.signal);
    ac.abort();
    expect(await p).toBe(false);
  });
});
