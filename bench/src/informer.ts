// `npm run bench -- informer [--json] [--runs N] [--objects N] [--updates N] [--shared] [--no-peer]`
//
// Informer benchmark against a real apiserver holding 10,000 ConfigMaps of ~1 KiB (by default in a
// private control plane the benchmark starts and stops itself, so nothing else loads it):
//
//  1. Time from start to synced, and heap/RSS after sync (after a forced GC), each side in its own
//     process, N runs each (median reported): (a) ours list+watch, (b) ours watch-list,
//     (c) @kubernetes/client-node's makeInformer, (d) client-go's SharedInformer (Go program in
//     bench/peers/informer, built once into $MINITASK_CACHE_DIR/bench), list+watch and watch-list.
//  2. Update storms of 20,000 updates against our informer (in its own process): paced at 1,000
//     writes/s, then unpaced. End-to-end latency from the write's response to our handler (p50/p99/max)
//     and events/s sustained at the handler.
//
// With --json, exactly one JSON object goes to stdout and everything else to stderr.
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { stripTypeScriptTypes } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { builtinResources, KubeClient, type KubeObject } from "@minitask/client";
import { ControlPlane } from "@minitask/testenv";
import { buildGoPeer } from "./_go_peer.ts";

const execFileAsync = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
// Each side runs as users run it: the built packages (dist/, `npm run build`) and plain JavaScript — running
// the TypeScript sources would add Node's type stripper (~4 MiB of heap, ~35 MB of RSS) to every side.
const childSource = join(here, "_informer_child.ts");
const childScript = join(here, "..", ".build", "_informer_child.mjs");

/** Builds the packages and writes the child script as JavaScript next to the repository's node_modules. */
function prepareChild(): void {
  log("building the packages (npm run build) …");
  execFileSync("npm", ["run", "-s", "build"], { cwd: join(here, "..", ".."), stdio: ["ignore", 2, 2] });
  mkdirSync(dirname(childScript), { recursive: true });
  writeFileSync(childScript, stripTypeScriptTypes(readFileSync(childSource, "utf8"), { mode: "strip" }));
}

interface Options {
  json: boolean;
  runs: number;
  objects: number;
  updates: number;
  rate: number;
  shared: boolean;
  peer: boolean;
  phases: Set<string>;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    json: false,
    runs: 5,
    objects: 10_000,
    updates: 20_000,
    rate: 1000,
    shared: false,
    peer: true,
    phases: new Set(["sync", "storm", "synthetic"]),
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--shared") o.shared = true;
    else if (a === "--no-peer") o.peer = false;
    else if (a === "--runs") o.runs = Number(args[++i]);
    else if (a === "--objects") o.objects = Number(args[++i]);
    else if (a === "--updates") o.updates = Number(args[++i]);
    else if (a === "--rate") o.rate = Number(args[++i]);
    else if (a === "--only") o.phases = new Set((args[++i] ?? "").split(","));
    else {
      throw new Error(
        `unknown argument ${a}; usage: informer [--json] [--runs N] [--objects N] [--updates N] [--rate N] [--shared] [--no-peer] [--only sync,storm,synthetic]`,
      );
    }
  }
  return o;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function buildPeer(): Promise<string> {
  return (await buildGoPeer("informer", log)).path;
}

interface SyncResult {
  syncMs: number;
  objects: number;
  heapBytes: number;
  rssBytes: number;
  baselineHeapBytes: number;
  baselineRssBytes: number;
}

async function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, { env, maxBuffer: 256 << 20 });
  return stdout;
}

async function syncSide(side: string, kubeconfig: string, ns: string, peer: string | undefined): Promise<SyncResult> {
  if (side === "client-go list+watch" || side === "client-go watch-list") {
    const wl = side.endsWith("watch-list");
    const out = await runProcess(peer!, ["-kubeconfig", kubeconfig, "-namespace", ns, `-watchlist=${wl}`], {
      ...process.env,
      KUBE_FEATURE_WatchListClient: String(wl),
    });
    return JSON.parse(out) as SyncResult;
  }
  const childSide = {
    "ours list+watch": "ours-list",
    "ours watch-list": "ours-watchlist",
    "client-node": "client-node",
    "http floor": "floor",
  }[side];
  const out = await runProcess(process.execPath, ["--expose-gc", childScript, "sync", childSide!, kubeconfig, ns]);
  return JSON.parse(out.trim().split("\n").at(-1)!) as SyncResult;
}

/** Creates `n` ConfigMaps of ~1 KiB with distinct payloads. */
async function populate(client: KubeClient, ns: string, n: number): Promise<void> {
  const api = client.resource<KubeObject & { data?: Record<string, string> }>(builtinResources.configMaps, ns);
  let seed = 12345;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0).toString(36);
  };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < n; i = next++) {
        let payload = "";
        while (payload.length < 1000) payload += rnd();
        await api.create({
          metadata: { name: `cm-${String(i).padStart(5, "0")}`, labels: { bench: "informer", shard: String(i % 10) } },
          data: { payload: payload.slice(0, 1000), index: String(i) },
        });
      }
    }),
  );
  log(`created ${n} ConfigMaps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface StormResult {
  updates: number;
  targetRate: number | null;
  writesPerSecond: number;
  eventsPerSecond: number;
  received: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Events that reached the handler before the writer had the HTTP response (counted as 0 ms). */
  eventBeforeResponse: number;
  /** The same for a bare watch (no informer) in the same process: the apiserver's share. */
  rawWatchLatencyMs: { p50: number; p90: number; p99: number; max: number };
  watchErrors: number;
  relists: number;
}

async function stormRun(
  client: KubeClient,
  kubeconfig: string,
  ns: string,
  objects: number,
  updates: number,
  rate: number | null,
): Promise<StormResult> {
  const child = spawn(process.execPath, ["--expose-gc", childScript, "storm", kubeconfig, ns, String(updates)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || !(JSON.parse(first.value) as { ready?: boolean }).ready) throw new Error("storm child failed");
  const api = client.resource<KubeObject & { data?: Record<string, string> }>(builtinResources.configMaps, ns);
  const responseAt = new Map<string, number>();
  const start = performance.now();
  let issued = 0;
  const inFlightMax = rate === null ? 48 : 32;
  await Promise.all(
    Array.from({ length: inFlightMax }, async () => {
      for (;;) {
        const i = issued++;
        if (i >= updates) return;
        if (rate !== null) {
          const due = start + (i * 1000) / rate;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const name = `cm-${String(i % objects).padStart(5, "0")}`;
        const res = await api.patch(name, { data: { update: String(i) } }, { type: "merge" });
        responseAt.set(res.metadata?.resourceVersion ?? "", performance.timeOrigin + performance.now());
      }
    }),
  );
  const writeSeconds = (performance.now() - start) / 1000;
  child.stdin.end();
  const second = await it.next();
  lines.close();
  await new Promise((r) => child.on("close", r));
  if (second.done) throw new Error("storm child ended without a result");
  const r = JSON.parse(second.value) as {
    rvs: string[];
    times: number[];
    rawRvs: string[];
    rawTimes: number[];
    watchErrors: number;
    relists: number;
  };
  const latencies = (rvs: string[], times: number[]) => {
    const lat: number[] = [];
    let early = 0;
    for (let i = 0; i < rvs.length; i++) {
      const t = responseAt.get(rvs[i]!);
      if (t === undefined) continue;
      const d = times[i]! - t;
      if (d < 0) early++;
      lat.push(Math.max(0, d));
    }
    lat.sort((a, b) => a - b);
    return { lat, early };
  };
  const { lat, early } = latencies(r.rvs, r.times);
  const raw = latencies(r.rawRvs, r.rawTimes).lat;
  const span = ((r.times.at(-1) ?? 0) - (r.times[0] ?? 0)) / 1000;
  return {
    updates,
    targetRate: rate,
    writesPerSecond: updates / writeSeconds,
    eventsPerSecond: span > 0 ? r.rvs.length / span : Number.NaN,
    received: r.rvs.length,
    latencyMs: {
      p50: percentile(lat, 50),
      p90: percentile(lat, 90),
      p99: percentile(lat, 99),
      max: lat.at(-1) ?? Number.NaN,
      mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length),
    },
    eventBeforeResponse: early,
    rawWatchLatencyMs: {
      p50: percentile(raw, 50),
      p90: percentile(raw, 90),
      p99: percentile(raw, 99),
      max: raw.at(-1) ?? Number.NaN,
    },
    watchErrors: r.watchErrors,
    relists: r.relists,
  };
}

interface SyntheticResult {
  targetRate: number | null;
  events: number;
  received: number;
  eventsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  watchErrors: number;
}

/**
 * Our informer (in its own process) against a local watch server of the benchmark's own that emits
 * `events` MODIFIED events at `rate` per second (or as fast as the socket takes them), each stamped with
 * the time it was written. Isolates our pipeline (transport → decoder → reflector → store → handler)
 * from the apiserver, which on this machine cannot produce 1,000 writes/s.
 */
async function syntheticRun(events: number, rate: number | null): Promise<SyntheticResult> {
  const objects = 1000;
  const payload = "p".repeat(1000);
  const objectAt = (i: number, rv: number, sent?: number) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: `cm-${i}`,
      namespace: "synthetic",
      uid: `uid-${i}`,
      resourceVersion: String(rv),
      ...(sent === undefined ? {} : { annotations: { "bench.minitask/sent": String(sent) } }),
    },
    data: { payload },
  });
  let startEmitting!: (res: http.ServerResponse) => void;
  const watchOpened = new Promise<http.ServerResponse>((r) => {
    startEmitting = r;
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.searchParams.get("watch") === "true") {
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      res.flushHeaders();
      startEmitting(res);
      return;
    }
    const body = JSON.stringify({
      kind: "ConfigMapList",
      apiVersion: "v1",
      metadata: { resourceVersion: "1" },
      items: Array.from({ length: objects }, (_, i) => objectAt(i, 1)),
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const child = spawn(process.execPath, [childScript, "synthetic", `http://127.0.0.1:${port}`, String(events)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new Error("synthetic child failed");
  const res = await watchOpened;
  const epoch = () => performance.timeOrigin + performance.now();
  const line = (i: number) =>
    `${JSON.stringify({ type: "MODIFIED", object: objectAt(i % objects, 2 + i, epoch()) })}\n`;
  const start = performance.now();
  let i = 0;
  while (i < events) {
    if (rate !== null) {
      const due = Math.min(events, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (i < due) res.write(line(i++));
      await new Promise((r) => setTimeout(r, 1));
    } else {
      let ok = true;
      while (ok && i < events) ok = res.write(line(i++));
      if (!ok) await new Promise((r) => res.once("drain", r));
    }
  }
  child.stdin.end();
  const second = await it.next();
  lines.close();
  res.end();
  await new Promise((r) => child.on("close", r));
  server.closeAllConnections();
  server.close();
  if (second.done) throw new Error("synthetic child ended without a result");
  const r = JSON.parse(second.value) as Omit<SyntheticResult, "targetRate" | "events">;
  return { targetRate: rate, events, ...r };
}

const MiB = 1024 * 1024;
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");

type SyncSummary = Record<string, Record<string, number | number[]>>;

async function syncPhase(
  o: Options,
  kubeconfig: string,
  ns: string,
  peer: string | undefined,
): Promise<{ sides: string[]; sync: SyncSummary; ratios: Record<string, number> }> {
  // "http floor": the same list request (resourceVersion=0) read as text, nothing decoded — the share of the
  // apiserver and the transfer that no client can go below.
  const sides = ["http floor", "ours list+watch", "ours watch-list", "client-node"];
  if (peer) sides.push("client-go list+watch", "client-go watch-list");
  const samples = new Map<string, SyncResult[]>(sides.map((s) => [s, []]));
  // Interleave the sides run by run, so drift of the machine affects all alike; one warm-up each.
  for (const s of sides) await syncSide(s, kubeconfig, ns, peer);
  for (let r = 0; r < o.runs; r++) {
    for (const s of sides) {
      const res = await syncSide(s, kubeconfig, ns, peer);
      if (res.objects < o.objects) throw new Error(`${s} synced only ${res.objects} objects`);
      samples.get(s)!.push(res);
      log(
        `  ${s.padEnd(22)} sync ${fmt(res.syncMs)} ms, heap ${fmt(res.heapBytes / MiB)} MiB, rss ${fmt(res.rssBytes / MiB)} MiB`,
      );
    }
  }
  const sync: SyncSummary = {};
  for (const [s, rs] of samples) {
    sync[s] = {
      syncMs: median(rs.map((x) => x.syncMs)),
      heapMiB: median(rs.map((x) => x.heapBytes / MiB)),
      rssMiB: median(rs.map((x) => x.rssBytes / MiB)),
      heapDeltaMiB: median(rs.map((x) => (x.heapBytes - x.baselineHeapBytes) / MiB)),
      rssDeltaMiB: median(rs.map((x) => (x.rssBytes - x.baselineRssBytes) / MiB)),
      syncSamplesMs: rs.map((x) => Math.round(x.syncMs * 10) / 10),
    };
  }
  const get = (s: string, k: string) => (sync[s]?.[k] as number | undefined) ?? Number.NaN;
  const ratios = {
    syncVsClientNode: get("ours list+watch", "syncMs") / get("client-node", "syncMs"),
    syncWatchListVsClientNode: get("ours watch-list", "syncMs") / get("client-node", "syncMs"),
    syncVsClientGo: get("ours list+watch", "syncMs") / get("client-go list+watch", "syncMs"),
    syncWatchListVsClientGoWatchList: get("ours watch-list", "syncMs") / get("client-go watch-list", "syncMs"),
    heapVsClientNode: get("ours list+watch", "heapMiB") / get("client-node", "heapMiB"),
    rssVsClientNode: get("ours list+watch", "rssMiB") / get("client-node", "rssMiB"),
    heapDeltaVsClientNode: get("ours list+watch", "heapDeltaMiB") / get("client-node", "heapDeltaMiB"),
    heapVsClientGo: get("ours list+watch", "heapMiB") / get("client-go list+watch", "heapMiB"),
    heapDeltaVsClientGo: get("ours list+watch", "heapDeltaMiB") / get("client-go list+watch", "heapDeltaMiB"),
  };
  return { sides, sync, ratios };
}

export async function run(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const t0 = performance.now();
  prepareChild();
  const needCluster = o.phases.has("sync") || o.phases.has("storm");
  const peer = o.peer && o.phases.has("sync") ? await buildPeer() : undefined;
  let cp: ControlPlane | undefined;
  let client: KubeClient | undefined;
  let sync: Awaited<ReturnType<typeof syncPhase>> | undefined;
  let storm: StormResult | undefined;
  let synthPaced: SyntheticResult | undefined;
  let synthMax: SyntheticResult | undefined;
  try {
    if (needCluster) {
      let kubeconfig: string;
      if (o.shared) {
        kubeconfig = process.env.KUBECONFIG ?? "";
        if (!kubeconfig) throw new Error('--shared needs KUBECONFIG (eval "$(npm run -s cluster -- env)")');
      } else {
        log("starting a private control plane ...");
        cp = await ControlPlane.start({
          stateDir: mkdtempSync(join(tmpdir(), "minitask-bench-informer-")),
          log: () => {},
        });
        // Only etcd and the apiserver take part; the rest would only add noise.
        for (const c of ["kwok", "kube-scheduler", "kube-controller-manager"] as const) await cp.stopComponent(c);
        kubeconfig = cp.kubeconfig;
      }
      client = KubeClient.load({ kubeconfig });
      const ns = `bench-informer-${Math.random().toString(16).slice(2, 8)}`;
      await client.resource(builtinResources.namespaces).create({ metadata: { name: ns } });
      await populate(client, ns, o.objects);
      if (o.phases.has("sync")) sync = await syncPhase(o, kubeconfig, ns, peer);
      if (o.phases.has("storm")) {
        log(`update storm against the apiserver: ${o.updates} updates, paced at up to ${o.rate}/s ...`);
        storm = await stormRun(client, kubeconfig, ns, o.objects, o.updates, o.rate);
        log(
          `  ${fmt(storm.writesPerSecond, 0)} writes/s, ${fmt(storm.eventsPerSecond, 0)} events/s at the handler, p50 ${fmt(storm.latencyMs.p50)} ms, p99 ${fmt(storm.latencyMs.p99)} ms, max ${fmt(storm.latencyMs.max)} ms`,
        );
      }
    }
    if (o.phases.has("synthetic")) {
      log(`synthetic watch server: ${o.updates} events at ${o.rate}/s ...`);
      synthPaced = await syntheticRun(o.updates, o.rate);
      log(
        `  ${fmt(synthPaced.eventsPerSecond, 0)} events/s, p50 ${fmt(synthPaced.latencyMs.p50)} ms, p99 ${fmt(synthPaced.latencyMs.p99)} ms`,
      );
      log(`synthetic watch server: ${o.updates} events, as fast as possible ...`);
      synthMax = await syntheticRun(o.updates, null);
      log(
        `  ${fmt(synthMax.eventsPerSecond, 0)} events/s, p50 ${fmt(synthMax.latencyMs.p50)} ms, p99 ${fmt(synthMax.latencyMs.p99)} ms`,
      );
    }
  } finally {
    await client?.close();
    if (cp) await cp.stop();
  }

  const r = sync?.ratios;
  // null (not printed) when the ratio was not measured, e.g. the client-go side with --no-peer.
  const atMost = (ratio: number | null | undefined, max: number): boolean | null =>
    ratio === undefined || ratio === null || !Number.isFinite(ratio) ? null : ratio <= max;
  const targets = {
    syncVsClientNode: { target: "≤ 0.5", met: atMost(r?.syncVsClientNode, 0.5) },
    syncVsClientGo: { target: "≤ 1.0", met: atMost(r?.syncVsClientGo, 1.0) },
    heapVsClientNode: { target: "≤ 0.5", met: atMost(r?.heapVsClientNode, 0.5) },
    heapDeltaVsClientNode: {
      target: "≤ 0.5 (cache-attributable heap)",
      met: atMost(r?.heapDeltaVsClientNode, 0.5),
    },
    handlerP99At1000: {
      target: "≤ 50 ms",
      met: synthPaced ? synthPaced.latencyMs.p99 <= 50 && synthPaced.eventsPerSecond >= 0.95 * o.rate : null,
    },
    handlerP99ApiserverStorm: { target: "≤ 50 ms", met: storm ? storm.latencyMs.p99 <= 50 : null },
  };
  const result = {
    benchmark: "informer",
    objects: o.objects,
    updates: o.updates,
    runs: o.runs,
    controlPlane: needCluster ? (o.shared ? "shared" : "private") : null,
    node: process.version,
    sync: sync?.sync ?? null,
    ratios: r ?? null,
    targets,
    storm: { apiserver: storm ?? null, syntheticPaced: synthPaced ?? null, syntheticMax: synthMax ?? null },
    totalSeconds: (performance.now() - t0) / 1000,
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const out: string[] = [];
  if (sync) {
    const get = (s: string, k: string) => (sync.sync[s]?.[k] as number | undefined) ?? Number.NaN;
    out.push(`informer benchmark: ${o.objects} ConfigMaps of ~1 KiB, median of ${o.runs} runs`);
    out.push(
      `${"side".padEnd(22)} ${"sync ms".padStart(9)} ${"heap MiB".padStart(9)} ${"rss MiB".padStart(9)} ${"Δheap".padStart(7)}`,
    );
    for (const s of sync.sides) {
      out.push(
        `${s.padEnd(22)} ${fmt(get(s, "syncMs")).padStart(9)} ${fmt(get(s, "heapMiB")).padStart(9)} ${fmt(get(s, "rssMiB")).padStart(9)} ${fmt(get(s, "heapDeltaMiB")).padStart(7)}`,
      );
    }
    for (const [k, v] of Object.entries(sync.ratios)) out.push(`  ${k.padEnd(34)} ${fmt(v, 2)}`);
  }
  for (const [k, v] of Object.entries(targets)) {
    if (v.met !== null) out.push(`  target ${k} ${v.target}: ${v.met ? "met" : "MISSED"}`);
  }
  if (storm) {
    out.push(
      `storm (apiserver): ${storm.updates} updates, ${fmt(storm.writesPerSecond, 0)} writes/s, ${fmt(storm.eventsPerSecond, 0)} events/s at the handler; write response → handler p50 ${fmt(storm.latencyMs.p50)} / p90 ${fmt(storm.latencyMs.p90)} / p99 ${fmt(storm.latencyMs.p99)} / max ${fmt(storm.latencyMs.max)} ms (${storm.eventBeforeResponse} events before the response); bare watch in the same process p50 ${fmt(storm.rawWatchLatencyMs.p50)} / p99 ${fmt(storm.rawWatchLatencyMs.p99)} / max ${fmt(storm.rawWatchLatencyMs.max)} ms`,
    );
  }
  for (const [name, x] of [
    [`synthetic ${o.rate}/s`, synthPaced],
    ["synthetic max", synthMax],
  ] as const) {
    if (!x) continue;
    out.push(
      `storm (${name}): ${fmt(x.eventsPerSecond, 0)} events/s at the handler; server write → handler p50 ${fmt(x.latencyMs.p50)} / p90 ${fmt(x.latencyMs.p90)} / p99 ${fmt(x.latencyMs.p99)} / max ${fmt(x.latencyMs.max)} ms`,
    );
  }
  out.push(`total ${fmt(result.totalSeconds)} s`);
  process.stdout.write(`${out.join("\n")}\n`);
}
