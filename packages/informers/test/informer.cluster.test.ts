// Informers against the shared real control plane: delivery order, late handlers, pagination,
// bookmarks, watch-list on/off, selectors, big objects, transforms. Each test has its own namespace.

import { setTimeout as delay } from "node:timers/promises";
import { builtinResources, KubeClient, type KubeObject, type ResourceClient } from "@minitask/client";
import { createTestNamespace, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type InformerCounters,
  newLister,
  newSharedIndexInformer,
  type SharedIndexInformer,
  type SharedIndexInformerOptions,
  SharedInformerFactory,
  silentLogger,
  type WatchErrorInfo,
} from "../src/index.ts";
import { eventually, expectCacheMatchesServer, recorder, replay } from "./helpers.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const cm = builtinResources.configMaps;
let client: KubeClient;

beforeAll(() => {
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
});
afterAll(async () => {
  await client.close();
});

/** Runs an informer for the duration of one test. */
function start<T extends KubeObject = ConfigMap>(
  namespace: string | undefined,
  options: SharedIndexInformerOptions<T> = {},
  resource = cm,
): { informer: SharedIndexInformer<T>; stop: () => Promise<void>; errors: WatchErrorInfo[] } {
  const errors: WatchErrorInfo[] = [];
  const informer = newSharedIndexInformer<T>(client, resource, {
    namespace,
    logger: silentLogger,
    onWatchError: (e) => errors.push(e),
    ...options,
  });
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  return {
    informer,
    errors,
    stop: async () => {
      ac.abort();
      await running;
    },
  };
}

async function createMany(api: ResourceClient<ConfigMap>, n: number, make: (i: number) => ConfigMap): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < n; i = next++) await api.create(make(i));
    }),
  );
}

describe("informer against the real apiserver", () => {
  it("delivers create/update/delete in order with old and new objects", async () => {
    const ns = await createTestNamespace("inf-order");
    const api = client.resource<ConfigMap>(cm, ns);
    await api.create({ metadata: { name: "pre" }, data: { v: "0" } });
    const { informer, stop } = start(ns, { watchList: false });
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      const created = await api.create({ metadata: { name: "a" }, data: { v: "1" } });
      const updated = await api.update({ ...created, data: { v: "2" } });
      const updated2 = await api.patch("a", { data: { v: "3" } }, { type: "merge" });
      await api.delete("a");
      await eventually(() => rec.events.some((e) => e.type === "delete" && e.key === `${ns}/a`), "the delete");
      const forA = rec.events.filter((e) => e.key === `${ns}/a`);
      expect(forA.map((e) => e.type)).toEqual(["add", "update", "update", "delete"]);
      const [add, up1, up2, del] = forA;
      expect(add).toMatchObject({ rv: created.metadata?.resourceVersion, initial: false });
      expect(up1).toMatchObject({ oldRv: created.metadata?.resourceVersion, rv: updated.metadata?.resourceVersion });
      expect((up1 as { old: ConfigMap }).old.data).toEqual({ v: "1" });
      expect((up1 as { obj: ConfigMap }).obj.data).toEqual({ v: "2" });
      expect(up2).toMatchObject({ oldRv: updated.metadata?.resourceVersion, rv: updated2.metadata?.resourceVersion });
      expect(del).toMatchObject({ tombstone: false });
      expect(rec.events.find((e) => e.key === `${ns}/pre`)).toMatchObject({ type: "add", initial: true });
      expect(rec.events.indexOf(rec.events.find((e) => e.key === `${ns}/pre`)!)).toBeLessThan(rec.events.indexOf(add!));
      expect(informer.getStore().getByKey(`${ns}/a`)).toBeUndefined();
      const c: InformerCounters = informer.counters();
      expect(c.lists).toBe(1);
      expect(c.events.ADDED).toBeGreaterThanOrEqual(1);
      expect(c.events.MODIFIED).toBeGreaterThanOrEqual(2);
      expect(c.events.DELETED).toBe(1);
      expect(c.lastSyncResourceVersion).not.toBe("");
      await expectCacheMatchesServer(informer.getStore(), api);
      // A handler-driven mirror holds the same as the server.
      await informer.handlersIdle();
      const server = new Map(
        (await api.listAll()).items.map((o) => [`${ns}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? ""]),
      );
      expect(replay(rec.events)).toEqual(server);
    } finally {
      await stop();
    }
  });

  it("gives a late handler synthetic adds and reports its own sync", async () => {
    const ns = await createTestNamespace("inf-late");
    const api = client.resource<ConfigMap>(cm, ns);
    await createMany(api, 20, (i) => ({ metadata: { name: `cm-${i}` }, data: { i: String(i) } }));
    const { informer, stop } = start(ns);
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const late = recorder<ConfigMap>();
      const slow = {
        ...late,
        async onAdd(obj: Parameters<NonNullable<typeof late.onAdd>>[0], initial: boolean) {
          await gate;
          late.onAdd?.(obj, initial);
        },
      };
      const reg = informer.addEventHandler(slow);
      expect(reg.hasSynced()).toBe(false);
      release();
      await eventually(() => reg.hasSynced(), "the late handler to sync");
      // 20 + the kube-root-ca.crt ConfigMap every namespace gets.
      expect(late.events).toHaveLength(21);
      expect(late.events.every((e) => e.type === "add" && e.initial)).toBe(true);
      // It keeps receiving live events afterwards.
      await api.create({ metadata: { name: "after" } });
      await eventually(
        () => late.events.some((e) => e.key === `${ns}/after` && e.type === "add" && !e.initial),
        "live add",
      );
      informer.removeEventHandler(reg);
      await api.delete("after");
      await eventually(() => informer.getStore().getByKey(`${ns}/after`) === undefined, "the delete in the cache");
      expect(late.events.some((e) => e.type === "delete")).toBe(false);
      await expectCacheMatchesServer(informer.getStore(), api);
    } finally {
      await stop();
    }
  });

  it("paginates a list of more than 500 objects (limit 500 + continue)", async () => {
    const ns = await createTestNamespace("inf-pages");
    const api = client.resource<ConfigMap>(cm, ns);
    await createMany(api, 1203, (i) => ({ metadata: { name: `cm-${i}` }, data: { i: String(i) } }));
    const pages: number[] = [];
    const { informer, stop } = start(ns, {
      watchList: false,
      listFromWatchCache: false,
      observer: { onListCompleted: (e) => pages.push(e.pages) },
    });
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      expect(pages).toEqual([3]);
      // 1203 objects + the kube-root-ca.crt ConfigMap the controller manager adds to each namespace.
      expect(informer.getStore().list().length).toBeGreaterThanOrEqual(1203);
      expect(informer.counters().listPages).toBe(3);
      await expectCacheMatchesServer(informer.getStore(), api);
    } finally {
      await stop();
    }
  });

  it("advances the resource version with bookmarks", async () => {
    const ns = await createTestNamespace("inf-bookmark");
    const other = await createTestNamespace("inf-bookmark-other");
    const api = client.resource<ConfigMap>(cm, ns);
    // Short watches: the apiserver sends a bookmark shortly before each watch's timeout.
    const { informer, stop } = start(ns, { watchList: false, minWatchTimeoutSeconds: 4, maxWatchTimeoutSeconds: 5 });
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      const rv0 = BigInt(informer.lastSyncResourceVersion());
      // Writes elsewhere move the global resource version; nothing changes in our namespace.
      const elsewhere = client.resource<ConfigMap>(cm, other);
      const written = await elsewhere.create({ metadata: { name: "elsewhere" } });
      const target = BigInt(written.metadata?.resourceVersion ?? "0");
      // kube-apiserver (1.36 cacher) sends a watch its pre-timeout bookmark only if its watch cache has moved
      // past the last event that watch covered (filtered-out events count), so one write is not enough: a
      // watch restarted after it starts level with the cache and gets no bookmark. Keep ConfigMaps changing
      // elsewhere (paced, 4/s) until a bookmark carries us past the first write.
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await elsewhere.create({ metadata: { name: `tick-${i}` } });
          await delay(250);
        }
      })();
      try {
        await eventually(
          () => informer.counters().events.BOOKMARK > 0 && BigInt(informer.lastSyncResourceVersion()) >= target,
          "a bookmark past the write",
        );
      } finally {
        writing = false;
        await writer;
      }
      expect(BigInt(informer.lastSyncResourceVersion())).toBeGreaterThan(rv0);
      expect(informer.counters().events.ADDED + informer.counters().events.MODIFIED).toBe(0);
      expect(informer.counters().relists).toBe(0);
      await expectCacheMatchesServer(informer.getStore(), api);
    } finally {
      await stop();
    }
  });

  for (const watchList of [true, false] as const) {
    it(`syncs and follows changes with watch-list ${watchList ? "on" : "off"}`, async () => {
      const ns = await createTestNamespace(`inf-wl-${watchList}`);
      const api = client.resource<ConfigMap>(cm, ns);
      await createMany(api, 50, (i) => ({ metadata: { name: `cm-${i}` }, data: { i: String(i) } }));
      const { informer, stop, errors } = start(ns, { watchList });
      const rec = recorder<ConfigMap>();
      informer.addEventHandler(rec);
      try {
        expect(await informer.waitForCacheSync()).toBe(true);
        const c = informer.counters();
        if (watchList) {
          expect(c.watchListsCompleted).toBe(1);
          expect(c.lists).toBe(0);
        } else {
          expect(c.watchListsCompleted).toBe(0);
          expect(c.lists).toBe(1);
        }
        expect(errors).toEqual([]);
        await eventually(() => rec.events.length >= 51, "initial adds");
        expect(rec.events.every((e) => e.type === "add" && e.initial)).toBe(true);
        await api.patch("cm-3", { data: { i: "x" } }, { type: "merge" });
        await api.delete("cm-4");
        await eventually(() => rec.events.some((e) => e.type === "delete"), "the delete");
        await expectCacheMatchesServer(informer.getStore(), api);
      } finally {
        await stop();
      }
    });
  }

  it("honours label and field selectors (objects leaving the selection are deleted)", async () => {
    const ns = await createTestNamespace("inf-selectors");
    const api = client.resource<ConfigMap>(cm, ns);
    for (const [name, app] of [
      ["a", "x"],
      ["b", "x"],
      ["c", "y"],
    ] as const) {
      await api.create({ metadata: { name, labels: { app } } });
    }
    const byLabel = start(ns, { labelSelector: "app=x" });
    const byField = start(ns, { fieldSelector: "metadata.name=c" });
    const rec = recorder<ConfigMap>();
    byLabel.informer.addEventHandler(rec);
    try {
      expect(await byLabel.informer.waitForCacheSync()).toBe(true);
      expect(await byField.informer.waitForCacheSync()).toBe(true);
      expect(byLabel.informer.getStore().listKeys().toSorted()).toEqual([`${ns}/a`, `${ns}/b`]);
      expect(byField.informer.getStore().listKeys()).toEqual([`${ns}/c`]);
      // a leaves the label selection, c joins it.
      await api.patch("a", { metadata: { labels: { app: "z" } } }, { type: "merge" });
      await api.patch("c", { metadata: { labels: { app: "x" } } }, { type: "merge" });
      await eventually(
        () => byLabel.informer.getStore().listKeys().toSorted().join() === `${ns}/b,${ns}/c`,
        "the label selection to move",
      );
      expect(rec.events.find((e) => e.key === `${ns}/a` && e.type === "delete")).toBeDefined();
      await expectCacheMatchesServer(byLabel.informer.getStore(), api, { labelSelector: "app=x" });
      await expectCacheMatchesServer(byField.informer.getStore(), api, { fieldSelector: "metadata.name=c" });
      // Listers filter the cache with label selectors too.
      const lister = newLister(byLabel.informer.getIndexer());
      expect(lister.namespace(ns).list({ app: "x" })).toHaveLength(2);
      expect(lister.list("app in (x,y),app!=y")).toHaveLength(2);
      expect(lister.namespace(ns).get("b")?.metadata?.name).toBe("b");
      expect(lister.namespace("elsewhere").list()).toHaveLength(0);
    } finally {
      await byLabel.stop();
      await byField.stop();
    }
  });

  it("caches a 1 MiB object, from the list and from the watch", async () => {
    const ns = await createTestNamespace("inf-big");
    const api = client.resource<ConfigMap>(cm, ns);
    const big = "x".repeat(1024 * 1024 - 512);
    await api.create({ metadata: { name: "big-listed" }, data: { big } });
    for (const watchList of [false, true]) {
      const { informer, stop, errors } = start(ns, { watchList });
      try {
        expect(await informer.waitForCacheSync()).toBe(true);
        expect(informer.getStore().getByKey(`${ns}/big-listed`)?.data?.big).toHaveLength(big.length);
        const name = `big-watched-${watchList}`;
        await api.create({ metadata: { name }, data: { big: `${big.slice(1)}y` } });
        await eventually(() => informer.getStore().getByKey(`${ns}/${name}`), "the big object from the watch");
        expect(informer.getStore().getByKey(`${ns}/${name}`)?.data?.big?.endsWith("y")).toBe(true);
        expect(errors).toEqual([]);
        await expectCacheMatchesServer(informer.getStore(), api);
      } finally {
        await stop();
      }
    }
  });

  it("strips managedFields by default; a custom transform replaces that", async () => {
    const ns = await createTestNamespace("inf-transform");
    const api = client.resource<ConfigMap>(cm, ns);
    const created = await api.create({ metadata: { name: "a" }, data: { k: "v" } });
    expect(created.metadata?.managedFields?.length).toBeGreaterThan(0);
    const stripped = start(ns);
    const kept = start(ns, { transform: (o) => ({ ...o, data: { ...o.data, seen: "yes" } }) });
    try {
      expect(await stripped.informer.waitForCacheSync()).toBe(true);
      expect(await kept.informer.waitForCacheSync()).toBe(true);
      await api.patch("a", { data: { k: "w" } }, { type: "merge" });
      await eventually(() => stripped.informer.getStore().getByKey(`${ns}/a`)?.data?.k === "w", "the update");
      await eventually(() => kept.informer.getStore().getByKey(`${ns}/a`)?.data?.k === "w", "the update");
      expect(stripped.informer.getStore().getByKey(`${ns}/a`)?.metadata?.managedFields).toBeUndefined();
      const k = kept.informer.getStore().getByKey(`${ns}/a`);
      expect(k?.metadata?.managedFields?.length).toBeGreaterThan(0);
      expect(k?.data?.seen).toBe("yes");
    } finally {
      await stripped.stop();
      await kept.stop();
    }
  });

  it("factory: one informer per resource+namespace+selectors, start/waitForCacheSync/shutdown", async () => {
    const ns = await createTestNamespace("inf-factory");
    await kubectl(["-n", ns, "create", "configmap", "one", "--from-literal=a=b"]);
    const factory = new SharedInformerFactory(client, { namespace: ns, logger: silentLogger });
    const a = factory.forResource<ConfigMap>(cm);
    const b = factory.forResource<ConfigMap>(cm);
    const c = factory.forResource<ConfigMap>(cm, { labelSelector: "x=y" });
    const nsInf = factory.forResource(builtinResources.namespaces);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    factory.start();
    expect(await factory.waitForCacheSync()).toBe(true);
    expect(a.getStore().getByKey(`${ns}/one`)).toBeDefined();
    expect(c.getStore().list()).toHaveLength(0);
    expect(nsInf.getStore().getByKey(ns)).toBeDefined();
    expect(newLister(nsInf.getIndexer()).get(ns)?.metadata?.name).toBe(ns);
    expect(factory.metrics()).toHaveLength(3);
    await expectCacheMatchesServer(a.getStore(), client.resource<ConfigMap>(cm, ns));
    await expectCacheMatchesServer(c.getStore(), client.resource<ConfigMap>(cm, ns), { labelSelector: "x=y" });
    await factory.shutdown();
    expect(a.hasSynced()).toBe(true);
  });
});
