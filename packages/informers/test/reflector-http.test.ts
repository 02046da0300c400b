// The reflector against a local fake apiserver, for what a real server will not do on demand:
// malformed streams, wrong object kinds, silent connections, error statuses, watch-list quirks.
// Every scenario must recover (never crash, never stop) and end with the cache equal to the server.

import v8 from "node:v8";
import vm from "node:vm";
import {
  IdleTimeoutError,
  isGone,
  isTooManyRequests,
  isWatchDecodeError,
  KubeClient,
  type KubeObject,
} from "@minitask/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  MissingInitialEventsEndError,
  newSharedIndexInformer,
  type SharedIndexInformer,
  type SharedIndexInformerOptions,
  ShortWatchError,
  silentLogger,
  UnexpectedObjectError,
  type WatchErrorInfo,
} from "../src/index.ts";
import { eventLine, FakeApiserver, NS, openWatch, status } from "./fake-apiserver.ts";
import { eventually, recorder, replay } from "./helpers.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const resource = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true } as const;

let fake: FakeApiserver;
let client: KubeClient;
const stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  fake = await FakeApiserver.start();
  client = KubeClient.forServer(fake.url, { retry: false });
  for (let i = 0; i < 5; i++) fake.put(`cm-${i}`, { i: String(i) });
});

afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  await client.close();
  await fake.close();
});

function start(options: SharedIndexInformerOptions<ConfigMap> = {}): {
  informer: SharedIndexInformer<ConfigMap>;
  errors: WatchErrorInfo[];
} {
  const errors: WatchErrorInfo[] = [];
  const informer = newSharedIndexInformer<ConfigMap>(client, resource, {
    namespace: NS,
    watchList: false,
    logger: silentLogger,
    onWatchError: (e) => errors.push(e),
    backoff: { initialMs: 10, maxMs: 100 },
    ...options,
  });
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  stops.push(async () => {
    ac.abort();
    await running;
  });
  return { informer, errors };
}

async function converged(informer: SharedIndexInformer<ConfigMap>): Promise<void> {
  const keys = (m: Map<string, string>) => JSON.stringify([...m].sort());
  await eventually(
    () => {
      const cache = new Map(
        informer
          .getStore()
          .list()
          .map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? ""]),
      );
      return keys(cache) === keys(fake.snapshot());
    },
    "the cache to equal the server",
    10_000,
  );
}

/** Makes the current watch end and the next watch request get `fault`; then changes something. */
async function afterFault(
  informer: SharedIndexInformer<ConfigMap>,
  ...faults: Parameters<FakeApiserver["watchFaults"]["push"]>
): Promise<void> {
  await eventually(() => fake.watcherCount > 0, "a watch");
  fake.watchFaults.push(...faults);
  fake.endWatches();
  await eventually(() => fake.watchFaults.length === 0, "the faults to be served");
  fake.put("after-fault", { ok: "yes" });
  await eventually(() => informer.getStore().getByKey(`${NS}/after-fault`), "an event after the fault");
  await converged(informer);
}

describe("reflector against a misbehaving server", () => {
  it("re-watches from the last RV after a truncated JSON event, losing nothing", async () => {
    const { informer, errors } = start();
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    expect(await informer.waitForCacheSync()).toBe(true);
    const lists = fake.requests.filter((u) => !u.searchParams.has("watch")).length;
    await afterFault(informer, (res) => {
      // One good event, then half of the next, then the connection ends.
      const obj = fake.put("during", { a: "1" });
      openWatch(res).write(eventLine("ADDED", obj));
      res.end('{"type":"MODIFIED","object":{"metadata":{"name":"cm-1"');
    });
    const decode = errors.find((e) => isWatchDecodeError(e.error));
    expect(decode).toMatchObject({ phase: "watch", action: "rewatch" });
    expect(decode && isWatchDecodeError(decode.error) && decode.error.kind).toBe("truncated");
    // Resumed from the RV of the last good event: no relist.
    expect(fake.requests.filter((u) => !u.searchParams.has("watch")).length).toBe(lists);
    await informer.handlersIdle();
    expect(replay(rec.events)).toEqual(fake.snapshot());
  });

  it("re-watches after a non-JSON line", async () => {
    const { informer, errors } = start();
    expect(await informer.waitForCacheSync()).toBe(true);
    await afterFault(informer, (res) => {
      openWatch(res).write("<html>proxy error</html>\n");
    });
    const e = errors.find((x) => isWatchDecodeError(x.error));
    expect(e && isWatchDecodeError(e.error) && e.error.kind).toBe("invalid-json");
    expect(e?.action).toBe("rewatch");
    expect(informer.counters().relists).toBe(0);
  });

  it("skips and reports an object of an unexpected kind, and keeps watching", async () => {
    const { informer, errors } = start();
    expect(await informer.waitForCacheSync()).toBe(true);
    await afterFault(informer, (res) => {
      const w = openWatch(res);
      w.write(
        eventLine("ADDED", {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "intruder", namespace: NS, resourceVersion: "1" },
        }),
      );
      w.write(eventLine("ADDED", { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: NS } }));
      w.end();
    });
    const skipped = errors.filter((e) => e.error instanceof UnexpectedObjectError);
    expect(skipped).toHaveLength(2);
    expect(skipped.every((e) => e.action === "skip-event")).toBe(true);
    expect(informer.getStore().getByKey(`${NS}/intruder`)).toBeUndefined();
    expect(informer.counters().skippedEvents).toBe(2);
  });

  it("aborts a watch that stays open but sends nothing (watchdog) and re-watches", async () => {
    const { informer, errors } = start({ watchIdleTimeoutMs: 300 });
    expect(await informer.waitForCacheSync()).toBe(true);
    await afterFault(informer, (res) => {
      openWatch(res); // headers, then silence
    });
    expect(errors.find((e) => e.error instanceof IdleTimeoutError)).toMatchObject({ action: "rewatch" });
    expect(informer.counters().watchdogTimeouts).toBeGreaterThanOrEqual(1);
  });

  it("relists after an HTTP 410 on watch, and after an in-stream 410 ERROR, with tombstones", async () => {
    const { informer, errors } = start();
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    expect(await informer.waitForCacheSync()).toBe(true);
    // What the watch misses while it is broken:
    fake.silently(() => {
      fake.remove("cm-0");
      fake.put("cm-1", { changed: "yes" });
    });
    await afterFault(informer, (res) => status(res, 410, "Gone", "too old resource version"));
    expect(informer.counters().relists).toBe(1);
    expect(errors.find((e) => isGone(e.error))).toMatchObject({ phase: "watch", action: "relist" });
    await informer.handlersIdle();
    expect(rec.events.find((e) => e.key === `${NS}/cm-0` && e.type === "delete")).toMatchObject({ tombstone: true });
    expect(rec.events.find((e) => e.key === `${NS}/cm-1` && e.type === "update")).toBeDefined();
    // In-stream: the server answers 200 and then an ERROR event.
    fake.oldestWatchRV = Number.MAX_SAFE_INTEGER;
    fake.silently(() => fake.remove("cm-2"));
    await eventually(() => fake.watcherCount > 0, "a watch");
    fake.endWatches();
    await eventually(() => informer.counters().relists >= 2, "the second relist");
    fake.oldestWatchRV = 0;
    fake.put("after-stream-410");
    await converged(informer);
    await informer.handlersIdle();
    expect(rec.events.find((e) => e.key === `${NS}/cm-2` && e.type === "delete")).toMatchObject({ tombstone: true });
    expect(replay(rec.events)).toEqual(fake.snapshot());
  });

  it("backs off and retries on 500s and connection failures, honouring Retry-After on 429", async () => {
    fake.listFaults.push(
      (res) => status(res, 500, "InternalError", "boom"),
      (res) => status(res, 429, "TooManyRequests", "slow down", { "retry-after": "1" }),
      (res) => res.socket?.destroy(),
    );
    const { informer, errors } = start();
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(errors.map((e) => e.phase)).toEqual(["list", "list", "list"]);
    const tooMany = errors.find((e) => isTooManyRequests(e.error));
    expect(tooMany?.retryInMs).toBeGreaterThanOrEqual(1000);
    // The waits grow (jitter aside) and every one was reported with the next action.
    expect(errors.every((e) => e.action === "relist" && e.retryInMs > 0)).toBe(true);
    await converged(informer);
  });

  it("resumes after a clean close without relisting; a watch that ends at once counts as a failure", async () => {
    const { informer, errors } = start({ minWatchDurationMs: 60_000 });
    expect(await informer.waitForCacheSync()).toBe(true);
    await eventually(() => fake.watcherCount > 0, "a watch");
    fake.put("x");
    await eventually(() => informer.getStore().getByKey(`${NS}/x`), "x");
    fake.endWatches(); // after an event: a normal server-side timeout
    fake.put("y");
    await eventually(() => informer.getStore().getByKey(`${NS}/y`), "y");
    const rvY = informer.getStore().getByKey(`${NS}/y`)?.metadata?.resourceVersion;
    await eventually(() => fake.watcherCount > 0, "a watch");
    fake.endWatches(); // the watch that delivered y ends normally too
    await eventually(
      () => fake.watcherCount > 0 && fake.requests.at(-1)?.searchParams.get("resourceVersion") === rvY,
      "a watch from y's RV",
    );
    expect(errors).toEqual([]);
    fake.endWatches(); // no event in this watch: too short
    await eventually(() => errors.some((e) => e.error instanceof ShortWatchError), "the short watch report");
    fake.put("z");
    await eventually(() => informer.getStore().getByKey(`${NS}/z`), "z");
    expect(informer.counters().lists).toBe(1);
    expect(informer.counters().relists).toBe(0);
    await converged(informer);
  });

  it("advances the RV on bookmarks and watches from it", async () => {
    const { informer } = start();
    expect(await informer.waitForCacheSync()).toBe(true);
    await eventually(() => fake.watcherCount > 0, "a watch");
    fake.silently(() => {
      fake.rv += 50; // other resources changed
    });
    fake.bookmark();
    await eventually(() => informer.lastSyncResourceVersion() === String(fake.rv), "the bookmark RV");
    fake.endWatches();
    await eventually(
      () =>
        fake.requests.some(
          (u) => u.searchParams.get("watch") === "true" && u.searchParams.get("resourceVersion") === String(fake.rv),
        ),
      "a watch from the bookmark's RV",
    );
    expect(informer.counters().events.BOOKMARK).toBe(1);
  });

  it("falls back to one full list when a continue token expires", async () => {
    for (let i = 5; i < 12; i++) fake.put(`cm-${i}`);
    fake.expireContinueTokens = 1;
    const { informer, errors } = start({ pageSize: 5, listFromWatchCache: false });
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(informer.counters().fullListsAfterExpiredContinue).toBe(1);
    expect(errors.find((e) => isGone(e.error))).toMatchObject({ phase: "list" });
    const lists = fake.requests.filter((u) => !u.searchParams.has("watch"));
    expect(lists.map((u) => [u.searchParams.get("limit"), u.searchParams.has("continue")])).toEqual([
      ["5", false],
      ["5", true],
      [null, false],
    ]);
    await converged(informer);
  });

  it("follows client-go's resource-version rules for lists and watches", async () => {
    const { informer } = start();
    expect(await informer.waitForCacheSync()).toBe(true);
    const first = fake.requests[0]!;
    expect(first.searchParams.get("resourceVersion")).toBe("0");
    expect(first.searchParams.get("limit")).toBe("500");
    await eventually(() => fake.watcherCount > 0, "a watch");
    const watch = fake.requests.find((u) => u.searchParams.get("watch") === "true")!;
    expect(watch.searchParams.get("resourceVersion")).toBe(informer.lastSyncResourceVersion());
    expect(watch.searchParams.get("allowWatchBookmarks")).toBe("true");
    const t = Number(watch.searchParams.get("timeoutSeconds"));
    expect(t).toBeGreaterThanOrEqual(300);
    expect(t).toBeLessThan(600);
    // A 410 on watch → relist at the last RV ("not older than"); a 410 on that list → a consistent list.
    const synced = informer.lastSyncResourceVersion();
    fake.watchFaults.push((res) => status(res, 410, "Expired", "too old"));
    fake.listFaults.push((res) => status(res, 410, "Expired", "too old"));
    fake.endWatches();
    await eventually(() => informer.counters().lists === 2, "the relist");
    const lists = fake.requests.filter((u) => !u.searchParams.has("watch")).slice(1);
    expect(
      lists.map((u) => [u.searchParams.get("resourceVersion"), u.searchParams.get("resourceVersionMatch")]),
    ).toEqual([
      [synced, "NotOlderThan"],
      [null, null],
    ]);
  });
});

describe("watch-list against a fake server", () => {
  it("syncs from the initial events and the end bookmark", async () => {
    const { informer, errors } = start({ watchList: true });
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    expect(await informer.waitForCacheSync()).toBe(true);
    const w = fake.requests[0]!;
    expect(w.searchParams.get("sendInitialEvents")).toBe("true");
    expect(w.searchParams.get("resourceVersionMatch")).toBe("NotOlderThan");
    expect(w.searchParams.get("allowWatchBookmarks")).toBe("true");
    expect(fake.requests.filter((u) => !u.searchParams.has("watch"))).toHaveLength(0);
    expect(informer.counters().watchListsCompleted).toBe(1);
    expect(informer.lastSyncResourceVersion()).toBe(String(fake.rv));
    fake.put("live");
    await converged(informer);
    await informer.handlersIdle();
    expect(rec.events.filter((e) => e.type === "add" && e.initial)).toHaveLength(5);
    expect(errors).toEqual([]);
  });

  it("lets the initial objects go once they are in the cache, while the watch stays open", async () => {
    // A transform that builds new objects (as the controller's pod trimming does): the objects as decoded
    // must become garbage after the replace, not stay reachable from the suspended watch loop.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const decoded: WeakRef<ConfigMap>[] = [];
    const { informer } = start({
      watchList: true,
      transform: (o) => {
        decoded.push(new WeakRef(o));
        return { metadata: { ...o.metadata }, ...(o.data ? { data: { ...o.data } } : {}) } as ConfigMap;
      },
    });
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(decoded).toHaveLength(5);
    await eventually(
      async () => {
        await new Promise((r) => setImmediate(r));
        gc();
        return decoded.every((r) => r.deref() === undefined);
      },
      "the decoded initial objects to be collected",
      3_000,
    );
    expect(fake.watcherCount).toBe(1);
    expect(informer.getStore().list()).toHaveLength(5);
  });

  it("falls back to list+watch when the server rejects watch-list, and stays there in auto mode", async () => {
    fake.watchList = 422;
    const { informer, errors } = start({ watchList: "auto" });
    expect(await informer.waitForCacheSync()).toBe(true);
    expect(errors[0]).toMatchObject({ phase: "watch-list", action: "fallback-to-list" });
    expect(informer.counters()).toMatchObject({ lists: 1, watchListFallbacks: 1 });
    // A later relist does not try watch-list again.
    fake.watchFaults.push((res) => status(res, 410, "Gone", "too old"));
    fake.endWatches();
    await eventually(() => informer.counters().lists === 2, "the relist");
    expect(fake.requests.filter((u) => u.searchParams.get("sendInitialEvents") === "true")).toHaveLength(1);
    await converged(informer);
  });

  it("guards against a server that never sends the initial-events-end bookmark", async () => {
    fake.watchList = "ignore"; // streams ADDED events like an old server, no bookmark
    const { informer, errors } = start({ watchList: true, initialEventsEndTimeoutMs: 200 });
    expect(await informer.waitForCacheSync()).toBe(true);
    const fallback = errors.find((e) => e.action === "fallback-to-list");
    expect(fallback?.error).toBeInstanceOf(MissingInitialEventsEndError);
    expect(informer.counters().lists).toBe(1);
    fake.put("after");
    await converged(informer);
  });
});
