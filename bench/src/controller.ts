// `npm run bench -- controller [--json] [--runs N] [--rate R] [--workers 1,4,16] [--cached N]
//                              [--replicas 1,2,3 --sharding]`
//
// Mini Task Runner end to end on a private local control plane (kwok completes the pods): N TaskRuns of a
// one-step Task are created at R per second, for each worker count; we record, from our own watches,
// TaskRun-created → Pod-created latency (p50/p99), the time until all Succeeded, the controller's API
// writes per TaskRun (from its rest_client_requests_total metric) and its RSS at the end. With
// `--cached N` it also measures the controller's RSS with N finished TaskRuns and their Pods cached. With
// `--replicas 1,2,3 --sharding`, each configuration runs that many controller processes sharing the TaskRuns
// through bucket Leases, and reports the CPU each replica spent per TaskRun and the total throughput.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtinResources, KubeClient, type KubeObject } from "@minitask/client";
import { type ControllerProcess, httpGet, startControllerProcess } from "@minitask/taskrunner/testing";
import { ControlPlane } from "@minitask/testenv";
import { eventually } from "@minitask/testenv/testing";

/**
 * The V8 settings the controller is deployed with (`NODE_OPTIONS` in deploy/deployment.yaml), so that the
 * RSS measured here is the deployed one.
 */
const DEPLOYED_ENV = ((): Record<string, string> => {
  const file = fileURLToPath(new URL("../../deploy/deployment.yaml", import.meta.url));
  const m = /name: NODE_OPTIONS, value: "([^"]*)"/.exec(readFileSync(file, "utf8"));
  if (m === null) throw new Error(`no NODE_OPTIONS in ${file}`);
  return { NODE_OPTIONS: m[1] as string };
})();

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TR = { group: "minitask.myorg.dev", version: "v1", resource: "taskruns", kind: "TaskRun", namespaced: true };
const TSK = { group: "minitask.myorg.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true };

interface TaskRunLike extends KubeObject {
  spec?: { taskRef: string };
  status?: { phase?: string };
}

function log(m: string): void {
  process.stderr.write(`${m}\n`);
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

function metricSum(text: string, name: string, filter: (labels: Record<string, string>) => boolean): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] ?? "", x[2] ?? ""]),
    );
    if (filter(labels)) sum += Number(m[4]);
  }
  return sum;
}

interface Result {
  workers: number;
  replicas: number;
  /** TaskRuns per second from the first create to the last Succeeded. */
  throughputPerSec: number;
  /** process_cpu_seconds_total spent per TaskRun: all replicas together, and each replica. */
  cpuMsPerTaskRun: { total: number; perReplica: number[] };
  /** Share of the reconciles each replica did. */
  reconcileShare: number[];
  taskRuns: number;
  createRatePerSec: number;
  podLatencyMs: { p50: number; p99: number; max: number };
  allSucceededSec: number;
  writesPerTaskRun: {
    total: number;
    excludingEvents: number;
    /** With sharding: the bucket and member Lease renewals (not counted in `total`). */
    leases: number;
    statusUpdates: number;
    podCreates: number;
    events: number;
  };
  controllerRssMb: number;
  /** Mean time a key waited in the queue and mean reconcile time (from the controller's metrics). */
  queueWaitMeanMs: number;
  reconcileMeanMs: number;
}

async function runOnce(
  cp: ControlPlane,
  client: KubeClient,
  workers: number,
  n: number,
  rate: number,
  replicas = 1,
): Promise<Result> {
  const ns = `bench-w${workers}-r${replicas}-${Date.now().toString(36)}`;
  await client.resource(builtinResources.namespaces).create({ metadata: { name: ns } });
  await eventually("default service account", async () => {
    await client.resource(builtinResources.serviceAccounts, ns).get("default");
    return true;
  });
  await client.resource(TSK, ns).create({
    metadata: { name: "one" },
    spec: { steps: [{ name: "only", image: "busybox", script: "true" }] },
  } as KubeObject);

  const trAdded = new Map<string, number>();
  const podAdded = new Map<string, number>();
  const succeeded = new Set<string>();
  const stop = new AbortController();
  const trStream = await client.resource<TaskRunLike>(TR, ns).watch({ signal: stop.signal, resourceVersion: "0" });
  const podStream = await client
    .resource(builtinResources.pods, ns)
    .watch({ signal: stop.signal, resourceVersion: "0" });
  let allDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    allDone = r;
  });
  const consume = async (
    s: AsyncIterable<{ type: string; object: TaskRunLike }>,
    on: (t: string, o: TaskRunLike) => void,
  ) => {
    try {
      for await (const ev of s) on(ev.type, ev.object);
    } catch {
      // aborted
    }
  };
  const watching = Promise.all([
    consume(trStream, (t, o) => {
      const name = o.metadata?.name ?? "";
      if (t === "ADDED" && !trAdded.has(name)) trAdded.set(name, performance.now());
      if (o.status?.phase === "Succeeded") {
        succeeded.add(name);
        if (succeeded.size === n) allDone();
      }
    }),
    consume(podStream, (t, o) => {
      const owner = o.metadata?.ownerReferences?.[0]?.name ?? "";
      if (t === "ADDED" && !podAdded.has(owner)) podAdded.set(owner, performance.now());
    }),
  ]);

  const sharding = replicas > 1 ? ["--sharding", "--shard-buckets=16", `--leader-election-namespace=${ns}`] : [];
  const ctrls: ControllerProcess[] = [];
  for (let i = 0; i < replicas; i++) {
    ctrls.push(
      await startControllerProcess(
        cp.kubeconfig,
        [`--workers=${workers}`, `--namespace=${ns}`, "--log-level=warn", ...sharding],
        { compiled: true, env: DEPLOYED_ENV },
      ),
    );
  }
  for (const ctrl of ctrls) {
    await eventually("controller ready", async () =>
      (await httpGet(ctrl.healthPort, "/readyz")).status === 200 ? true : undefined,
    );
  }
  const scrape = () => Promise.all(ctrls.map(async (c) => (await httpGet(c.metricsPort, "/metrics")).body));
  if (replicas > 1) {
    // Settled: every bucket held (16 between them) before the first TaskRun.
    await eventually("the buckets shared", async () => {
      const held = (await scrape()).map((t) => metricSum(t, "shard_buckets_held", () => true));
      return held.reduce((a, b) => a + b, 0) === 16 && held.every((h) => h > 0) ? true : undefined;
    });
  }
  const befores = await scrape();

  const t0 = performance.now();
  const interval = 1000 / rate;
  const creates: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    creates.push(
      client.resource(TR, ns).create({
        metadata: { name: `run-${i}`, annotations: { "testenv.minitask.dev/delay": "0s" } },
        spec: { taskRef: "one" },
      } as KubeObject),
    );
  }
  await Promise.all(creates);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`only ${succeeded.size}/${n} succeeded in 10 min`)), 600_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const allSucceededSec = (performance.now() - t0) / 1000;
  // Let trailing event writes (asynchronous) land before reading the counters.
  await new Promise((r) => setTimeout(r, 1500));
  const afters = await scrape();
  const writes = (texts: readonly string[], f: (l: Record<string, string>) => boolean) =>
    texts.reduce(
      (sum, text) =>
        sum +
        metricSum(
          text,
          "rest_client_requests_total",
          (l) => ["POST", "PUT", "PATCH", "DELETE"].includes(l.method ?? "") && f(l),
        ),
      0,
    );
  const delta = (f: (l: Record<string, string>) => boolean) => writes(afters, f) - writes(befores, f);
  const perReplica = (name: string, filter: (l: Record<string, string>) => boolean = () => true) =>
    afters.map((a, i) => metricSum(a, name, filter) - metricSum(befores[i] ?? "", name, filter));
  const cpuMs = perReplica("process_cpu_seconds_total").map((s) => Math.round(((s * 1000) / n) * 100) / 100);
  const reconciles = perReplica("controller_runtime_reconcile_total");
  const allReconciles = reconciles.reduce((a, b) => a + b, 0);
  // Sums over the replicas for the single-controller figures below.
  const after = afters.join("\n");
  const before = befores.join("\n");
  const total = delta((l) => l.resource !== "" && !(l.resource ?? "").startsWith("leases"));
  const leaseWrites = delta((l) => (l.resource ?? "").startsWith("leases"));
  const events = delta((l) => (l.resource ?? "").startsWith("events"));
  const statusUpdates = delta((l) => (l.resource ?? "").startsWith("taskruns/status"));
  const podCreates = delta((l) => l.resource === "pods" && l.method === "POST");
  const rss = Math.max(...afters.map((a) => metricSum(a, "process_resident_memory_bytes", () => true)));
  const mean = (name: string) => {
    const sum = metricSum(after, `${name}_sum`, () => true) - metricSum(before, `${name}_sum`, () => true);
    const count = metricSum(after, `${name}_count`, () => true) - metricSum(before, `${name}_count`, () => true);
    return count > 0 ? Math.round((sum / count) * 10000) / 10 : Number.NaN;
  };
  const queueWaitMeanMs = mean("workqueue_queue_duration_seconds");
  const reconcileMeanMs = mean("controller_runtime_reconcile_time_seconds");
  for (const ctrl of ctrls) await ctrl.stop("SIGTERM");
  stop.abort();
  await watching;

  const lat = [...trAdded].map(([name, t]) => (podAdded.get(name) ?? Number.NaN) - t).filter(Number.isFinite);
  return {
    workers,
    replicas,
    throughputPerSec: Math.round((n / allSucceededSec) * 10) / 10,
    cpuMsPerTaskRun: { total: Math.round(cpuMs.reduce((a, b) => a + b, 0) * 100) / 100, perReplica: cpuMs },
    reconcileShare: reconciles.map((r) => Math.round((r / allReconciles) * 1000) / 1000),
    taskRuns: n,
    createRatePerSec: rate,
    podLatencyMs: {
      p50: Math.round(percentile(lat, 50) * 10) / 10,
      p99: Math.round(percentile(lat, 99) * 10) / 10,
      max: Math.round(Math.max(...lat) * 10) / 10,
    },
    allSucceededSec: Math.round(allSucceededSec * 100) / 100,
    writesPerTaskRun: {
      total: Math.round((total / n) * 100) / 100,
      excludingEvents: Math.round(((total - events) / n) * 100) / 100,
      leases: Math.round((leaseWrites / n) * 100) / 100,
      statusUpdates: Math.round((statusUpdates / n) * 100) / 100,
      podCreates: Math.round((podCreates / n) * 100) / 100,
      events: Math.round((events / n) * 100) / 100,
    },
    controllerRssMb: Math.round((rss / 1024 / 1024) * 10) / 10,
    queueWaitMeanMs,
    reconcileMeanMs,
  };
}

/** RSS of a controller whose caches hold `n` finished TaskRuns and their Pods (created directly, not run). */
async function cachedRss(
  cp: ControlPlane,
  client: KubeClient,
  n: number,
): Promise<{ taskRuns: number; pods: number; rssMb: number; heapUsedMb: number; syncSec: number }> {
  const ns = `bench-cache-${Date.now().toString(36)}`;
  await client.resource(builtinResources.namespaces).create({ metadata: { name: ns } });
  await eventually("default service account", async () => {
    await client.resource(builtinResources.serviceAccounts, ns).get("default");
    return true;
  });
  await client.resource(TSK, ns).create({
    metadata: { name: "one" },
    spec: { steps: [{ name: "only", image: "busybox", script: "true" }] },
  } as KubeObject);
  // Run them through a controller so the TaskRuns and Pods are real, then measure a fresh controller.
  const runner = await startControllerProcess(
    cp.kubeconfig,
    ["--workers=16", `--namespace=${ns}`, "--log-level=warn"],
    {
      compiled: true,
      env: DEPLOYED_ENV,
    },
  );
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
        client.resource(TR, ns).create({
          metadata: { name: `c-${i + j}`, annotations: { "testenv.minitask.dev/delay": "0s" } },
          spec: { taskRef: "one" },
        } as KubeObject),
      ),
    );
    log(`  cached: created ${Math.min(i + batch, n)}/${n}`);
  }
  await eventually(
    "all cached runs to finish",
    async () => {
      const list = await client.resource<TaskRunLike>(TR, ns).listAll();
      const left = list.items.filter((t) => t.status?.phase !== "Succeeded").length;
      return left === 0 ? true : undefined;
    },
    1_800_000,
  );
  await runner.stop("SIGTERM");
  const t0 = performance.now();
  const fresh = await startControllerProcess(cp.kubeconfig, ["--workers=4", `--namespace=${ns}`, "--log-level=warn"], {
    compiled: true,
    env: DEPLOYED_ENV,
  });
  await eventually(
    "fresh controller ready",
    async () => ((await httpGet(fresh.healthPort, "/readyz")).status === 200 ? true : undefined),
    300_000,
  );
  const syncSec = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const text = (await httpGet(fresh.metricsPort, "/metrics")).body;
  const rss = metricSum(text, "process_resident_memory_bytes", () => true);
  const heapUsed = metricSum(text, "nodejs_heap_size_used_bytes", () => true);
  await fresh.stop("SIGTERM");
  return {
    taskRuns: n,
    pods: n,
    rssMb: Math.round((rss / 1024 / 1024) * 10) / 10,
    heapUsedMb: Math.round((heapUsed / 1024 / 1024) * 10) / 10,
    syncSec: Math.round(syncSec * 100) / 100,
  };
}

export async function run(args: string[]): Promise<void> {
  const json = args.includes("--json");
  const arg = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? (args[i + 1] as string) : dflt;
  };
  const n = Number(arg("--runs", "1000"));
  const rate = Number(arg("--rate", "100"));
  const workersList = arg("--workers", "1,4,16").split(",").map(Number);
  const cached = Number(arg("--cached", "0"));
  const replicasList = arg("--replicas", "1").split(",").map(Number);
  if (replicasList.some((r) => r > 1) && !args.includes("--sharding")) {
    throw new Error("more than one replica needs --sharding (replicas share the TaskRuns through bucket Leases)");
  }
  const dir = mkdtempSync(join(tmpdir(), "minitask-bench-controller-"));
  log("controller bench: building the compiled controller (npm run build) …");
  (await import("node:child_process")).execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
  log(
    `controller bench: ${n} TaskRuns at ${rate}/s, workers ${workersList.join(", ")}; starting a private control plane`,
  );
  const cp = await ControlPlane.start({ stateDir: dir, log: () => {} });
  const client = KubeClient.load({ kubeconfig: cp.kubeconfig });
  try {
    const { execFileSync } = await import("node:child_process");
    execFileSync(cp.state.kubectl, ["--kubeconfig", cp.kubeconfig, "apply", "-f", join(ROOT, "crds")], {
      stdio: "ignore",
    });
    execFileSync(
      cp.state.kubectl,
      [
        "--kubeconfig",
        cp.kubeconfig,
        "wait",
        "--for=condition=Established",
        "crd/taskruns.minitask.myorg.dev",
        "crd/tasks.minitask.myorg.dev",
      ],
      { stdio: "ignore" },
    );
    const results: Result[] = [];
    for (const w of workersList) {
      for (const replicas of replicasList) {
        log(`  workers=${w} replicas=${replicas} …`);
        const r = await runOnce(cp, client, w, n, rate, replicas);
        log(
          `  workers=${w} replicas=${replicas}: pod latency p50 ${r.podLatencyMs.p50} ms p99 ${r.podLatencyMs.p99} ms; all Succeeded in ${r.allSucceededSec} s ` +
            `(${r.throughputPerSec}/s); CPU/TaskRun ${r.cpuMsPerTaskRun.total} ms (per replica ${r.cpuMsPerTaskRun.perReplica.join(", ")}); ` +
            `reconcile shares ${r.reconcileShare.join(", ")}; writes/TaskRun ${r.writesPerTaskRun.total} (${r.writesPerTaskRun.excludingEvents} without events, ` +
            `+${r.writesPerTaskRun.leases} Lease renewals); RSS ${r.controllerRssMb} MB`,
        );
        results.push(r);
      }
    }
    const cache = cached > 0 ? await cachedRss(cp, client, cached) : null;
    if (cache)
      log(
        `  cached ${cache.taskRuns} TaskRuns + Pods: RSS ${cache.rssMb} MB, heap used ${cache.heapUsedMb} MB (synced in ${cache.syncSec} s)`,
      );
    const out = {
      benchmark: "controller",
      machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
      targets: { podLatencyP99Ms: 100, writesPerTaskRun: 4, rssMbWith10kCached: 150 },
      results,
      cached: cache,
    };
    if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else log(JSON.stringify(out, null, 2));
  } finally {
    await client.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
