// One side of the informer benchmark, in its own process (`node --expose-gc`), so that heap and RSS
// belong to that side alone. Prints one JSON object on stdout.
//
//   _informer_child.ts sync <ours-list|ours-watchlist|client-node|floor> <kubeconfig> <namespace>
//   _informer_child.ts storm <kubeconfig> <namespace> <expectedUpdates>
//   _informer_child.ts synthetic <serverUrl> <expectedUpdates>
//
// sync: time from starting the informer to synced, then heap/RSS after a forced GC.
// storm: runs our informer, prints {"ready":true}, and records when each update reaches the handler
// (epoch ms, keyed by resource version) until it has seen <expectedUpdates> updates.
import { builtinResources, KubeClient, type KubeObject } from "@minitask/client";
import { newSharedIndexInformer, silentLogger } from "@minitask/informers";

const gc = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc?.();
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

async function syncOurs(kubeconfig: string, namespace: string, watchList: boolean): Promise<void> {
  const client = KubeClient.load({ kubeconfig });
  const base = await settle();
  const informer = newSharedIndexInformer<KubeObject>(client, builtinResources.configMaps, {
    namespace,
    watchList,
    logger: silentLogger,
  });
  const ac = new AbortController();
  const t0 = performance.now();
  const running = informer.run(ac.signal);
  await informer.waitForCacheSync();
  const syncMs = performance.now() - t0;
  const objects = informer.getStore().list().length;
  const after = await settle();
  const counters = informer.counters();
  process.stdout.write(
    `${JSON.stringify({
      syncMs,
      objects,
      heapBytes: after.heap,
      rssBytes: after.rss,
      baselineHeapBytes: base.heap,
      baselineRssBytes: base.rss,
      mode: counters.watchListsCompleted > 0 ? "watch-list" : "list+watch",
    })}\n`,
  );
  ac.abort();
  await running;
  await client.close();
}

/** The floor: the list request of `ours list+watch` (resourceVersion=0), read as text, nothing decoded. */
async function syncFloor(kubeconfig: string, namespace: string): Promise<void> {
  const client = KubeClient.load({ kubeconfig });
  const base = await settle();
  const t0 = performance.now();
  const text = await client.requestText({
    method: "GET",
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    query: { resourceVersion: "0", limit: 500 },
  });
  const syncMs = performance.now() - t0;
  const objects = (text.match(/"resourceVersion":/g)?.length ?? 1) - 1;
  const after = await settle();
  process.stdout.write(
    `${JSON.stringify({ syncMs, objects, heapBytes: after.heap, rssBytes: after.rss, baselineHeapBytes: base.heap, baselineRssBytes: base.rss, bytes: text.length })}\n`,
  );
  await client.close();
}

async function syncClientNode(kubeconfig: string, namespace: string): Promise<void> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const base = await settle();
  const t0 = performance.now();
  const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    api.listNamespacedConfigMap({ namespace }),
  );
  informer.on("error", (err: unknown) => process.stderr.write(`client-node informer error: ${String(err)}\n`));
  await informer.start();
  const syncMs = performance.now() - t0;
  const objects = informer.list(namespace).length;
  const after = await settle();
  process.stdout.write(
    `${JSON.stringify({
      syncMs,
      objects,
      heapBytes: after.heap,
      rssBytes: after.rss,
      baselineHeapBytes: base.heap,
      baselineRssBytes: base.rss,
      mode: "list+watch",
    })}\n`,
  );
  await informer.stop();
  process.exit(0);
}

async function storm(kubeconfig: string, namespace: string, expected: number): Promise<void> {
  const client = KubeClient.load({ kubeconfig });
  const informer = newSharedIndexInformer<KubeObject>(client, builtinResources.configMaps, {
    namespace,
    logger: silentLogger,
  });
  const rvs: string[] = [];
  const times: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  informer.addEventHandler({
    onUpdate(_old, obj) {
      rvs.push(obj.metadata?.resourceVersion ?? "");
      times.push(now());
      if (rvs.length >= expected) done();
    },
  });
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  await informer.waitForCacheSync();
  // Control: a bare watch (own client, no informer) from the same RV, to tell the apiserver's share of the
  // latency from ours.
  const rawClient = KubeClient.load({ kubeconfig });
  const raw = await rawClient
    .resource<KubeObject>(builtinResources.configMaps, namespace)
    .watch({ resourceVersion: informer.lastSyncResourceVersion(), signal: ac.signal });
  const rawRvs: string[] = [];
  const rawTimes: number[] = [];
  const rawDone = (async () => {
    try {
      for await (const e of raw) {
        if (e.type !== "MODIFIED") continue;
        rawRvs.push(e.object.metadata?.resourceVersion ?? "");
        rawTimes.push(now());
        if (rawRvs.length >= expected) return;
      }
    } catch {
      // aborted at the end
    }
  })();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  // Stop waiting some time after the writer closes stdin, even if events went missing.
  process.stdin.resume();
  process.stdin.on("end", () => setTimeout(done, 10_000).unref());
  await finished;
  await Promise.race([rawDone, new Promise((r) => setTimeout(r, 5_000))]);
  const c = informer.counters();
  process.stdout.write(
    `${JSON.stringify({ rvs, times, rawRvs, rawTimes, watchErrors: c.watchErrors, relists: c.relists })}\n`,
  );
  ac.abort();
  raw.close();
  await running;
  await client.close();
  await rawClient.close();
}

/**
 * Our informer against the benchmark's synthetic watch server (plain HTTP): each event carries the time
 * the server wrote it; the handler computes the latency itself. Prints percentiles when done.
 */
async function synthetic(url: string, expected: number): Promise<void> {
  const client = KubeClient.forServer(url);
  const informer = newSharedIndexInformer<KubeObject>(client, builtinResources.configMaps, {
    namespace: "synthetic",
    watchList: false,
    logger: silentLogger,
  });
  const lat: number[] = [];
  let first = 0;
  let last = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  informer.addEventHandler({
    onUpdate(_old, obj) {
      const t = now();
      const sent = Number(obj.metadata?.annotations?.["bench.minitask/sent"]);
      if (lat.length === 0) first = t;
      last = t;
      lat.push(t - sent);
      if (lat.length >= expected) done();
    },
  });
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  await informer.waitForCacheSync();
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => setTimeout(done, 10_000).unref());
  await finished;
  lat.sort((a, b) => a - b);
  const pct = (p: number) =>
    lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] ?? Number.NaN;
  process.stdout.write(
    `${JSON.stringify({
      received: lat.length,
      eventsPerSecond: lat.length / Math.max(1e-9, (last - first) / 1000),
      latencyMs: {
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        max: lat.at(-1) ?? Number.NaN,
        mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length),
      },
      watchErrors: informer.counters().watchErrors,
    })}\n`,
  );
  ac.abort();
  await running;
  await client.close();
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "sync") {
  const [side, kubeconfig, namespace] = rest as [string, string, string];
  if (side === "ours-list") await syncOurs(kubeconfig, namespace, false);
  else if (side === "ours-watchlist") await syncOurs(kubeconfig, namespace, true);
  else if (side === "client-node") await syncClientNode(kubeconfig, namespace);
  else if (side === "floor") await syncFloor(kubeconfig, namespace);
  else throw new Error(`unknown side ${side}`);
} else if (cmd === "storm") {
  const [kubeconfig, namespace, expected] = rest as [string, string, string];
  await storm(kubeconfig, namespace, Number(expected));
} else if (cmd === "synthetic") {
  const [url, expected] = rest as [string, string];
  await synthetic(url, Number(expected));
} else {
  throw new Error("usage: _informer_child.ts sync <side> <kubeconfig> <ns> | storm <kubeconfig> <ns> <n>");
}
