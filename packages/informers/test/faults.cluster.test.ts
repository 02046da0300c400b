// Fault tests on a PRIVATE control plane (they kill the apiserver and compact etcd, which would disturb
// other test files): continue-token expiry, a forced 410 on watch, an apiserver restart mid-watch.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  builtinResources,
  isGone,
  KubeClient,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type ResourceClient,
  type WatchOptions,
  type WatchStream,
} from "@minitask/client";
import { ControlPlane } from "@minitask/testenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ListerWatcher, SharedIndexInformer, silentLogger, type WatchErrorInfo } from "../src/index.ts";
import { StreamingListerWatcher } from "../src/list-stream.ts";
import { eventually, expectCacheMatchesServer, recorder, replay } from "./helpers.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const cm = builtinResources.configMaps;
let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await ControlPlane.start({
    stateDir: mkdtempSync(join(tmpdir(), "minitask-informers-faults-")),
    log: () => {},
  });
  // Only etcd, the apiserver and the controller manager (namespaces' root CA ConfigMaps) are needed.
  await cp.stopComponent("kwok");
  await cp.stopComponent("kube-scheduler");
  client = KubeClient.load({ kubeconfig: cp.kubeconfig });
});

afterAll(async () => {
  await client?.close();
  await cp?.stop();
});

async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Math.random().toString(16).slice(2, 8)}`;
  await client.resource(builtinResources.namespaces).create({ metadata: { name } });
  return name;
}

async function createMany(api: ResourceClient<ConfigMap>, n: number, prefix = "cm"): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < n; i = next++) {
        await api.create({ metadata: { name: `${prefix}-${i}` }, data: { i: String(i) } });
      }
    }),
  );
}

/** Restarts the apiserver: its watch cache then starts over at the current revision. */
async function restartApiserver(): Promise<void> {
  await cp.stopComponent("kube-apiserver", "SIGKILL");
  await cp.startComponent("kube-apiserver");
}

/** A lister-watcher the test can interpose on: pause after a first page, hold watches, cut the stream. */
class ControlledLW<T extends KubeObject> implements ListerWatcher<T> {
  readonly inner: ListerWatcher<T>;
  afterFirstPage: (() => Promise<void>) | undefined;
  /** Rejects with the hook's error if it fails (an apiserver that did not come back); else never settles. */
  readonly hookFailed: Promise<never>;
  #fail: (err: unknown) => void = () => {};
  readonly watchRVs: (string | undefined)[] = [];
  readonly listRVs: (string | undefined)[] = [];
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  #current: WatchStream<T> | undefined;

  constructor(inner: ResourceClient<T>) {
    // Lists are decoded as they stream in, as informers made by newSharedIndexInformer do.
    this.inner = new StreamingListerWatcher(client, inner);
    this.hookFailed = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    this.hookFailed.catch(() => {});
  }

  async list(options: ListOptions): Promise<KubeList<T>> {
    if (options.continue === undefined) this.listRVs.push(options.resourceVersion);
    const page = await this.inner.list(options);
    if (options.continue === undefined && page.metadata.continue && this.afterFirstPage) {
      const hook = this.afterFirstPage;
      this.afterFirstPage = undefined;
      await hook().catch((err: unknown) => {
        this.#fail(err);
        throw err;
      });
    }
    return page;
  }

  async watch(options: WatchOptions): Promise<WatchStream<T>> {
    if (this.#gate) {
      const signal = options.signal;
      await Promise.race([
        this.#gate,
        new Promise<void>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
      ]);
    }
    this.watchRVs.push(options.resourceVersion);
    const s = await this.inner.watch(options);
    this.#current = s;
    return s;
  }

  /** True once a watch stream is open. */
  get watching(): boolean {
    return this.#current !== undefined;
  }

  /** Holds new watches and ends the current one. */
  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
    this.#current?.close();
  }

  release(): void {
    this.#gate = undefined;
    this.#open?.();
  }
}

function run<T extends KubeObject>(informer: SharedIndexInformer<T>): () => Promise<void> {
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  return async () => {
    ac.abort();
    await running;
  };
}

describe("informer faults (private control plane)", () => {
  it("falls back to one full list when a continue token expires mid-list", async () => {
    const ns = await namespace("inf-continue");
    const api = client.resource<ConfigMap>(cm, ns);
    await createMany(api, 1100);
    const lw = new ControlledLW(api);
    // Between page 1 and page 2: compact etcd past the list's snapshot and restart the apiserver so
    // that no cached snapshot can serve the continuation either.
    lw.afterFirstPage = async () => {
      await api.create({ metadata: { name: "during-list" } });
      await cp.compactEtcd();
      await restartApiserver();
    };
    const errors: WatchErrorInfo[] = [];
    const informer = new SharedIndexInformer<ConfigMap>(lw, {
      watchList: false,
      listFromWatchCache: false,
      logger: silentLogger,
      onWatchError: (e) => errors.push(e),
    });
    const stop = run(informer);
    try {
      // A restart that fails fails the test with its reason (the apiserver's log), not a timeout.
      expect(await Promise.race([informer.waitForCacheSync(), lw.hookFailed])).toBe(true);
      expect(informer.counters().fullListsAfterExpiredContinue).toBe(1);
      const expired = errors.find((e) => e.phase === "list" && isGone(e.error));
      expect(expired).toBeDefined();
      expect(informer.getStore().getByKey(`${ns}/during-list`)).toBeDefined();
      expect(informer.counters().lists).toBe(1);
      await expectCacheMatchesServer(informer.getStore(), api);
    } finally {
      await stop();
    }
  });

  it("relists after a 410 on watch (compacted etcd, watch from an old RV) with no lost or phantom objects", async () => {
    const ns = await namespace("inf-gone");
    const api = client.resource<ConfigMap>(cm, ns);
    await createMany(api, 60);
    const lw = new ControlledLW(api);
    const errors: WatchErrorInfo[] = [];
    const informer = new SharedIndexInformer<ConfigMap>(lw, {
      watchList: false,
      logger: silentLogger,
      onWatchError: (e) => errors.push(e),
    });
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec);
    const stop = run(informer);
    try {
      expect(await informer.waitForCacheSync()).toBe(true);
      await eventually(() => rec.events.length >= 61, "the initial adds");
      await eventually(() => lw.watching, "the watch to be open");
      const oldRV = informer.lastSyncResourceVersion();
      // Cut the watch and hold it; change things the informer cannot see; then make its RV unusable.
      lw.hold();
      for (let i = 0; i < 10; i++) await api.delete(`cm-${i}`);
      for (let i = 10; i < 20; i++) await api.patch(`cm-${i}`, { data: { i: "changed" } }, { type: "merge" });
      await createMany(api, 5, "new");
      await cp.compactEtcd();
      await restartApiserver();
      lw.release();
      await eventually(() => informer.counters().relists >= 1, "a relist");
      expect(lw.watchRVs).toContain(oldRV);
      const gone = errors.find((e) => e.phase === "watch" && e.action === "relist");
      expect(gone && isGone(gone.error)).toBe(true);
      await expectCacheMatchesServer(informer.getStore(), api);
      await informer.handlersIdle();
      // Handlers saw the same thing: tombstones for the deleted, updates for the changed, adds for the new.
      const server = new Map(
        (await api.listAll()).items.map((o) => [`${ns}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? ""]),
      );
      expect(replay(rec.events)).toEqual(server);
      const tombstones = rec.events.filter((e) => e.type === "delete" && e.tombstone).map((e) => e.key);
      expect(tombstones.toSorted()).toEqual(Array.from({ length: 10 }, (_, i) => `${ns}/cm-${i}`).toSorted());
      const updated = rec.events.filter((e) => e.type === "update").map((e) => e.key);
      for (let i = 10; i < 20; i++) expect(updated).toContain(`${ns}/cm-${i}`);
      // Unchanged objects were not re-announced.
      expect(updated).not.toContain(`${ns}/cm-30`);
    } finally {
      await stop();
    }
  });

  it("rides out an apiserver kill and restart mid-watch, reporting each failure, and converges", async () => {
    const ns = await namespace("inf-restart");
    const api = client.resource<ConfigMap>(cm, ns);
    await createMany(api, 30);
    const errors: WatchErrorInfo[] = [];
    for (const watchList of [false, true]) {
      const informer = new SharedIndexInformer<ConfigMap>(api, {
        watchList,
        logger: silentLogger,
        onWatchError: (e) => errors.push(e),
      });
      const rec = recorder<ConfigMap>();
      informer.addEventHandler(rec);
      const stop = run(informer);
      try {
        expect(await informer.waitForCacheSync()).toBe(true);
        const before = errors.length;
        await cp.stopComponent("kube-apiserver", "SIGKILL");
        await eventually(() => errors.length > before, "the failure to be reported");
        await cp.startComponent("kube-apiserver");
        await api.delete(`cm-${watchList ? 1 : 0}`);
        await api.create({ metadata: { name: `after-restart-${watchList}` } });
        await expectCacheMatchesServer(informer.getStore(), api, {}, 60_000);
        await informer.handlersIdle();
        const server = new Map(
          (await api.listAll()).items.map((o) => [`${ns}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? ""]),
        );
        expect(replay(rec.events)).toEqual(server);
        expect(errors.slice(before).every((e) => e.action === "rewatch" || e.action === "relist")).toBe(true);
      } finally {
        await stop();
      }
    }
  });
});
