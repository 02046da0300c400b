// `npm run bench -- controller [--json] [--quick] [--rounds N] [--workload fast,slow] [--workers 4,16]
//                              [--scale] [--side both|ours|peer] [--no-peer] [--runs N --rate R] [--kwok-delay D]
//                              [--replicas 1,2,3 --sharding] [--cached N] [--node-options 'FLAGS']
//                              [--cpu-prof DIR] [--heap-snapshot DIR] [--tree NAME=DIR[:FLAGS]]… [--side none]`
//
// Mini Task Runner end to end, our controller against a client-go controller doing the same job
// (bench/peers/controller: the original lifecycle with shared informers, listers, a rate-limited workqueue
// and N worker goroutines, built once and cached like the other Go peers). Every sample — one side, one
// workload, one worker count — gets a fresh private control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok with its default stage delays, all on the same machine),
// a one-step Task, and TaskRuns created at a fixed rate. The sides alternate: each round runs every
// configuration for both sides, ours first in even rounds and the peer first in odd ones; the summary
// takes the median over the rounds.
//
// Workloads: `fast` = 1,000 TaskRuns at 100/s, `slow` = 300 at 20/s (`--runs N --rate R` replaces them
// by one custom workload), `--scale` adds 10,000 TaskRuns created as fast as the apiserver takes them
// (all in flight at once) on 10 kwok nodes, one run per side at the largest worker count (`--workload none
// --scale` runs only that). `--quick` = one round, fast, 4 workers. `--side ours|peer` runs one side only
// (`--no-peer` = `--side ours`).
//
// Measured for both sides the same way, from outside the controller process:
//   - CPU: utime+stime of the controller process from /proc/<pid>/stat, from just before the first create
//     to 1.5 s after the last run is terminal, per TaskRun;
//   - peak RSS: VmHWM from /proc/<pid>/status just before the process is stopped;
//   - time until all terminal (Succeeded or Failed) and TaskRun ADDED → its Pod ADDED (p50/p99), from the
//     benchmark's own watches;
//   - wrong outcomes, from the same watches: runs that end Failed (kwok completes every pod successfully
//     here, so each is wrong) and runs that got more than one pod (distinct UIDs);
//   - writes per TaskRun by kind from each controller's own rest_client_requests_total (the peer counts
//     every request in a wrapping RoundTripper and serves the same metric name and labels), and, from the
//     apiserver side, the TaskRun MODIFIED events the benchmark's watch saw (each a write that changed the
//     object); the peer's own count of its wrong decisions (minitask_peer_wrong_outcomes_total) and, for
//     ours, pod creates answered 409.
//
// With `--replicas 1,2,3 --sharding`, our side also runs with that many controller processes sharing the
// TaskRuns through bucket Leases, and reports the CPU each replica spent per TaskRun, the reconcile shares
// and the total throughput (the peer has no sharding and runs with one replica only). With `--cached N` it
// also measures our controller's RSS with N finished TaskRuns and their Pods cached.
//
// A/B of our own changes: `--tree NAME=DIR` (repeatable) adds a side that runs our controller as compiled in
// another checkout (DIR/packages/taskrunner/dist; `npm run build` there first), alternating with the others;
// the summary gives each tree's medians and its ratios to the first tree. `--side none` runs only the trees.
// `NAME=DIR:FLAGS` adds FLAGS to that side's node command line, after the image's (V8 flag experiments with
// the same build; on the command line, not in NODE_OPTIONS, which refuses most V8 flags). Every side of ours
// runs with the deployed NODE_OPTIONS and the node flags of the Dockerfile's ENTRYPOINT.
//
// Profiling our side: `--node-options 'FLAGS'` appends V8/Node flags to the deployed NODE_OPTIONS of the
// measured controllers; `--cpu-prof DIR` is `--node-options '--cpu-prof --cpu-prof-dir=DIR'` (one
// .cpuprofile per controller process, written when it exits); `--heap-snapshot DIR` writes a heap snapshot of
// each of our controllers once all runs are terminal, after CPU and peak RSS have been read.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { builtinResources, KubeClient, type KubeObject, type WatchOptions } from "@minitask/client";
import { type ControllerProcess, httpGet, startControllerProcess } from "@minitask/taskrunner/testing";
import { ControlPlane } from "@minitask/testenv";
import { eventually } from "@minitask/testenv/testing";
import { buildGoPeer } from "./_go_peer.ts";

/**
 * The V8 settings the controller is deployed with — `NODE_OPTIONS` in deploy/deployment.yaml and the node
 * flags of the image's ENTRYPOINT (Dockerfile; NODE_OPTIONS refuses most V8 flags) — so that what is
 * measured here is the deployed process.
 */
const DEPLOYED = ((): { env: Record<string, string>; nodeArgs: string[] } => {
  const deployment = fileURLToPath(new URL("../../deploy/deployment.yaml", import.meta.url));
  const m = /name: NODE_OPTIONS, value: "([^"]*)"/.exec(readFileSync(deployment, "utf8"));
  if (m === null) throw new Error(`no NODE_OPTIONS in ${deployment}`);
  const dockerfile = fileURLToPath(new URL("../../Dockerfile", import.meta.url));
  const e = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(dockerfile, "utf8"));
  if (e === null) throw new Error(`no ENTRYPOINT in ${dockerfile}`);
  const entrypoint = JSON.parse(e[1] as string) as string[];
  return { env: { NODE_OPTIONS: m[1] as string }, nodeArgs: entrypoint.slice(1, -1) };
})();

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TR = { group: "minitask.myorg.dev", version: "v1", resource: "taskruns", kind: "TaskRun", namespaced: true };
const TSK = { group: "minitask.myorg.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true };
const DELAY_ANNOTATION = "testenv.minitask.dev/delay";
const TIMEOUT_MS = Number(process.env.MINITASK_BENCH_TIMEOUT_MS ?? 900_000);

interface TaskRunLike extends KubeObject {
  spec?: { taskRef: string };
  status?: { phase?: string };
}

/** "ours", "peer", or the name of a `--tree` (our controller built in another checkout). */
type Side = string;

interface Workload {
  readonly name: string;
  readonly n: number;
  /** Creates per second; null = as fast as `concurrency` creators get answers. */
  readonly rate: number | null;
  readonly nodes: number;
  readonly concurrency?: number;
}

const WORKLOADS: Record<string, Workload> = {
  fast: { name: "fast", n: 1000, rate: 100, nodes: 1 },
  slow: { name: "slow", n: 300, rate: 20, nodes: 1 },
};
const SCALE = { name: "scale", n: 10_000, rate: null, nodes: 10, concurrency: 32 };

function log(m: string): void {
  process.stderr.write(`${m}\n`);
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0
    ? Number.NaN
    : s.length % 2 === 1
      ? (s[mid] as number)
      : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round = (x: number, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : Number.NaN);

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

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in seconds, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based over the whole line).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** utime + stime in seconds of each thread of a process, summed by thread name (`comm`). */
function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(comm, (out.get(comm) ?? 0) + (Number(rest[11]) + Number(rest[12])) / CLK_TCK);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Per-thread-name CPU ms between two readings, divided by `per`. */
function threadCpuDelta(before: Map<string, number>, after: Map<string, number>, per: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) out[k] = round(((v - (before.get(k) ?? 0)) * 1000) / per);
  return out;
}

/** VmHWM (peak RSS) of a process in bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** A running controller of either side, as the benchmark sees it. */
interface Running {
  readonly pid: number;
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

/** A port that is free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** Our controller as built in another checkout (`--tree NAME=DIR`: `DIR/packages/taskrunner/dist/…`). */
async function startTree(
  tree: string,
  kubeconfig: string,
  args: readonly string[],
  env: Record<string, string>,
  nodeArgs: readonly string[],
): Promise<Running> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(tree, "packages/taskrunner/dist/cli/minitask-controller.js"),
      "--kubeconfig",
      kubeconfig,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      ...args,
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } },
  );
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  await eventually("controller ready", async () => {
    if (child.exitCode !== null) throw new Error(`the controller of ${tree} exited: ${err.trim()}`);
    try {
      return (await httpGet(healthPort, "/readyz")).status === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return {
    pid: child.pid ?? 0,
    scrape: async () => (await httpGet(metricsPort, "/metrics")).body,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startOurs(
  kubeconfig: string,
  ns: string,
  workers: number,
  sharding: string[],
  nodeOptions: string | undefined,
  tree?: { readonly dir: string; readonly flags: string },
): Promise<Running> {
  const env = nodeOptions ? { NODE_OPTIONS: `${DEPLOYED.env.NODE_OPTIONS} ${nodeOptions}`.trim() } : DEPLOYED.env;
  if (tree !== undefined) {
    return startTree(
      tree.dir,
      kubeconfig,
      [`--workers=${workers}`, `--namespace=${ns}`, "--log-level=warn", ...sharding],
      env,
      [...DEPLOYED.nodeArgs, ...tree.flags.split(/\s+/).filter(Boolean)],
    );
  }
  const ctrl: ControllerProcess = await startControllerProcess(
    kubeconfig,
    [`--workers=${workers}`, `--namespace=${ns}`, "--log-level=warn", ...sharding],
    { compiled: true, env, nodeArgs: DEPLOYED.nodeArgs },
  );
  await eventually("controller ready", async () =>
    (await httpGet(ctrl.healthPort, "/readyz")).status === 200 ? true : undefined,
  );
  return {
    pid: ctrl.child.pid ?? 0,
    scrape: async () => (await httpGet(ctrl.metricsPort, "/metrics")).body,
    stop: async () => {
      await ctrl.stop("SIGTERM");
    },
  };
}

async function startPeer(binary: string, kubeconfig: string, ns: string, workers: number): Promise<Running> {
  const child: ChildProcess = spawn(
    binary,
    ["--kubeconfig", kubeconfig, "--namespace", ns, "--workers", String(workers)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const lines = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  const first = await Promise.race([it.next(), exited.then(() => ({ done: true, value: "" }) as const)]);
  if (first.done) throw new Error(`the client-go peer exited before it was ready: ${err.trim()}`);
  const { metricsPort } = JSON.parse(first.value) as { metricsPort: number };
  return {
    pid: child.pid ?? 0,
    scrape: async () => (await httpGet(metricsPort, "/metrics")).body,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      lines.close();
    },
  };
}

interface Sample {
  side: Side;
  workload: string;
  round: number;
  workers: number;
  replicas: number;
  taskRuns: number;
  createRatePerSec: number | null;
  /** Seconds from the first create to the last run terminal. */
  allTerminalSec: number;
  throughputPerSec: number;
  /** Process CPU per TaskRun (ms): all replicas together, and each replica. */
  cpuMsPerTaskRun: number;
  cpuMsPerTaskRunPerReplica: number[];
  /** CPU ms per second with caches synced and nothing to do (3 s before the first create), all replicas. */
  idleCpuMsPerSec: number;
  /** The first replica's CPU by thread name: ms per TaskRun during the run, ms per second while idle. */
  cpuByThread: { run: Record<string, number>; idle: Record<string, number> };
  /** Reconciles per TaskRun (all replicas). */
  reconcilesPerTaskRun: number;
  /** GET requests per TaskRun (live reads of a pod; a watch re-opened during the run counts too). */
  getsPerTaskRun: number;
  podLatencyMs: { p50: number; p99: number; max: number };
  peakRssMb: number;
  writesPerTaskRun: {
    /** Every write (POST/PUT/PATCH/DELETE, 409s included), Lease renewals excluded. */
    total: number;
    excludingEvents: number;
    podCreates: number;
    statusUpdates: number;
    /** Other writes to TaskRuns (metadata: finalizers, labels). */
    taskRunUpdates: number;
    events: number;
    conflicts: number;
    leases: number;
    /** From the apiserver side: TaskRun MODIFIED events the benchmark's watch saw. */
    taskRunModificationsSeen: number;
  };
  wrongOutcomes: {
    /** Runs that ended Failed (every pod succeeds here). */
    failed: number;
    /** Runs with more than one pod. */
    extraPods: number;
    /** The controller's own count: the peer's minitask_peer_wrong_outcomes_total; ours, pod creates answered 409. */
    selfReported: Record<string, number>;
  };
  reconcileShare: number[];
  /** Times the benchmark's own watches were ended by the apiserver and resumed (or, after 410, restarted). */
  benchWatchRestarts: { resumed: number; relisted: number };
}

interface RunOptions {
  readonly kwokDelay: string | undefined;
  readonly peerBinary: string | undefined;
  /** Appended to the deployed NODE_OPTIONS of our measured controllers (profiling, V8 flag experiments). */
  readonly nodeOptions: string | undefined;
  /** Folder for a heap snapshot of our controller, taken once all runs are terminal (after the measurements). */
  readonly heapSnapshotDir: string | undefined;
  /** `--tree` sides: name → checkout whose compiled controller runs for that side. */
  readonly trees: ReadonlyMap<string, string>;
  /** `--tree NAME=DIR:FLAGS`: node flags added for that side only (on its command line). */
  readonly treeNodeFlags: ReadonlyMap<string, string>;
}

async function runOnce(
  side: Side,
  workload: Workload,
  workers: number,
  replicas: number,
  roundNo: number,
  o: RunOptions,
): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "minitask-bench-controller-"));
  const cp = await ControlPlane.start({ stateDir: dir, log: () => {}, nodes: workload.nodes });
  const client = KubeClient.load({ kubeconfig: cp.kubeconfig });
  const ctrls: Running[] = [];
  const stop = new AbortController();
  try {
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
    const ns = "bench";
    await client.resource(builtinResources.namespaces).create({ metadata: { name: ns } });
    await eventually("default service account", async () => {
      await client.resource(builtinResources.serviceAccounts, ns).get("default");
      return true;
    });
    await client.resource(TSK, ns).create({
      metadata: { name: "one" },
      spec: { steps: [{ name: "only", image: "busybox", script: "true" }] },
    } as KubeObject);

    const n = workload.n;
    const trAdded = new Map<string, number>();
    const podAdded = new Map<string, number>();
    const podUids = new Map<string, Set<string>>();
    const final = new Map<string, string>();
    let modifications = 0;
    // Last phase seen per run and per run's pod, for the message when the runs do not finish.
    const runPhase = new Map<string, string>();
    const podPhase = new Map<string, string>();
    const tally = (m: Map<string, string>) => {
      const c: Record<string, number> = {};
      for (const v of m.values()) c[v || "(none)"] = (c[v || "(none)"] ?? 0) + 1;
      return JSON.stringify(c);
    };
    let lastTerminal = 0;
    let allDone: () => void = () => {};
    const done = new Promise<void>((r) => {
      allDone = r;
    });
    // The benchmark's watches resume after the apiserver ends them (it closes a watcher that falls behind a
    // burst): from the last resource version seen, or — after 410 Gone — from "0", whose synthetic ADDED
    // events give the current state (the handlers keep the first time they saw each run and pod).
    const watchRestarts = { resumed: 0, relisted: 0 };
    let ready = 0;
    const follow = async (
      api: (opts: WatchOptions) => Promise<AsyncIterable<{ type: string; object: TaskRunLike }>>,
      on: (t: string, o: TaskRunLike) => void,
    ) => {
      let rv = "0";
      let first = true;
      while (!stop.signal.aborted) {
        try {
          const s = await api({ signal: stop.signal, resourceVersion: rv, allowWatchBookmarks: true });
          if (first) {
            ready++;
            first = false;
          }
          for await (const ev of s) {
            rv = ev.object.metadata?.resourceVersion ?? rv;
            if (ev.type !== "BOOKMARK") on(ev.type, ev.object);
          }
          if (!stop.signal.aborted) watchRestarts.resumed++;
        } catch (e) {
          if (stop.signal.aborted) return;
          if ((e as { code?: number }).code === 410 || /410|Gone|too old/i.test(String(e))) {
            rv = "0";
            watchRestarts.relisted++;
          } else {
            watchRestarts.resumed++;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }
    };
    const trApi = client.resource<TaskRunLike>(TR, ns);
    const podApi = client.resource(builtinResources.pods, ns);
    const watching = Promise.all([
      follow(
        (opts) => trApi.watch(opts),
        (t, obj) => {
          const name = obj.metadata?.name ?? "";
          if (t === "ADDED" && !trAdded.has(name)) trAdded.set(name, performance.now());
          if (t === "MODIFIED") modifications++;
          const phase = obj.status?.phase;
          runPhase.set(name, phase ?? "");
          if ((phase === "Succeeded" || phase === "Failed") && !final.has(name)) {
            final.set(name, phase);
            lastTerminal = performance.now();
            if (final.size === n) allDone();
          }
        },
      ),
      follow(
        (opts) => podApi.watch(opts),
        (t, obj) => {
          const owner = obj.metadata?.ownerReferences?.[0]?.name ?? "";
          if (t === "ADDED" && !podAdded.has(owner)) podAdded.set(owner, performance.now());
          let uids = podUids.get(owner);
          if (!uids) {
            uids = new Set();
            podUids.set(owner, uids);
          }
          uids.add(obj.metadata?.uid ?? "");
          podPhase.set(
            owner,
            t === "DELETED" ? "Deleted" : ((obj as { status?: { phase?: string } }).status?.phase ?? ""),
          );
        },
      ),
    ]);
    await eventually("the benchmark's watches open", async () => (ready === 2 ? true : undefined));

    if (side === "peer") {
      ctrls.push(await startPeer(o.peerBinary ?? "", cp.kubeconfig, ns, workers));
    } else {
      const sharding = replicas > 1 ? ["--sharding", "--shard-buckets=16", `--leader-election-namespace=${ns}`] : [];
      const nodeOptions = [
        o.nodeOptions ?? "",
        o.heapSnapshotDir ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${o.heapSnapshotDir}` : "",
      ]
        .join(" ")
        .trim();
      for (let i = 0; i < replicas; i++) {
        const treeDir = o.trees.get(side);
        const tree = treeDir === undefined ? undefined : { dir: treeDir, flags: o.treeNodeFlags.get(side) ?? "" };
        ctrls.push(await startOurs(cp.kubeconfig, ns, workers, sharding, nodeOptions || undefined, tree));
      }
    }
    const scrape = () => Promise.all(ctrls.map((c) => c.scrape()));
    if (replicas > 1) {
      // Settled: every bucket held (16 between them) before the first TaskRun.
      await eventually("the buckets shared", async () => {
        const held = (await scrape()).map((t) => metricSum(t, "shard_buckets_held", () => true));
        return held.reduce((a, b) => a + b, 0) === 16 && held.every((h) => h > 0) ? true : undefined;
      });
    }
    // Idle cost: CPU over 3 s with nothing to do (caches synced, no TaskRun yet).
    const firstPid = ctrls[0]?.pid ?? 0;
    const idleFrom = ctrls.map((c) => cpuSeconds(c.pid));
    const idleThreadsFrom = threadCpuSeconds(firstPid);
    const idleT0 = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    const idleCpu = ctrls.map((c, i) => cpuSeconds(c.pid) - (idleFrom[i] ?? 0));
    const idleSec = (performance.now() - idleT0) / 1000;
    const idleMsPerSec = (idleCpu.reduce((a, b) => a + b, 0) * 1000) / idleSec;
    const idleByThread = threadCpuDelta(idleThreadsFrom, threadCpuSeconds(firstPid), idleSec);
    const befores = await scrape();
    const cpuBefore = ctrls.map((c) => cpuSeconds(c.pid));
    const threadsBefore = threadCpuSeconds(firstPid);

    const t0 = performance.now();
    const annotations = o.kwokDelay === undefined ? {} : { annotations: { [DELAY_ANNOTATION]: o.kwokDelay } };
    const create = (i: number) =>
      client.resource(TR, ns).create({
        metadata: { name: `run-${i}`, ...annotations },
        spec: { taskRef: "one" },
      } as KubeObject);
    if (workload.rate !== null) {
      const interval = 1000 / workload.rate;
      const creates: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const wait = t0 + i * interval - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        creates.push(create(i));
      }
      await Promise.all(creates);
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: workload.concurrency ?? 32 }, async () => {
          for (let i = next++; i < n; i = next++) await create(i);
        }),
      );
      log(`    created ${n} in ${round((performance.now() - t0) / 1000, 1)} s`);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      new Promise((_, rej) => {
        timer = setTimeout(
          () =>
            rej(
              new Error(
                `only ${final.size}/${n} TaskRuns terminal in ${TIMEOUT_MS / 60_000} min (${side}); runs ${tally(runPhase)}, pods ${tally(podPhase)}`,
              ),
            ),
          TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const allTerminalSec = (lastTerminal - t0) / 1000;
    // Let trailing writes (events, asynchronous) land before reading the counters.
    await new Promise((r) => setTimeout(r, 1500));
    const cpuAfter = ctrls.map((c) => cpuSeconds(c.pid));
    const runByThread = threadCpuDelta(threadsBefore, threadCpuSeconds(firstPid), n);
    const peaks = ctrls.map((c) => peakRss(c.pid));
    const afters = await scrape();
    if (o.heapSnapshotDir && side !== "peer") {
      // After the measurements: writing a snapshot takes seconds and grows the RSS.
      const count = () => readdirSync(o.heapSnapshotDir ?? "").filter((f) => f.endsWith(".heapsnapshot")).length;
      const before = count();
      for (const c of ctrls) process.kill(c.pid, "SIGUSR2");
      await eventually("heap snapshot written", async () => (count() > before ? true : undefined), 120_000);
      await new Promise((r) => setTimeout(r, 2000));
    }
    for (const c of ctrls) await c.stop();
    ctrls.length = 0;

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
    const getsOf = (texts: readonly string[]) =>
      texts.reduce(
        (sum, text) =>
          sum + metricSum(text, "rest_client_requests_total", (l) => l.method === "GET" && (l.resource ?? "") !== ""),
        0,
      );
    const res = (l: Record<string, string>) => l.resource ?? "";
    const total = delta((l) => res(l) !== "" && !res(l).startsWith("leases"));
    const leases = delta((l) => res(l).startsWith("leases"));
    const events = delta((l) => res(l).startsWith("events"));
    const statusUpdates = delta((l) => res(l).startsWith("taskruns/status"));
    const taskRunUpdates = delta((l) => res(l) === "taskruns.minitask.myorg.dev");
    const podCreates = delta((l) => res(l) === "pods" && l.method === "POST");
    const conflicts = delta((l) => l.code === "409" && res(l) !== "" && !res(l).startsWith("leases"));
    const counter = (name: string, f: (l: Record<string, string>) => boolean) =>
      afters.reduce((s, t) => s + metricSum(t, name, f), 0) - befores.reduce((s, t) => s + metricSum(t, name, f), 0);
    const selfReported: Record<string, number> =
      side === "peer"
        ? Object.fromEntries(
            ["failed_pod_missing", "second_pod_attempt"].map((k) => [
              k,
              counter("minitask_peer_wrong_outcomes_total", (l) => l.kind === k),
            ]),
          )
        : {
            second_pod_attempt: delta((l) => res(l) === "pods" && l.method === "POST" && l.code === "409"),
          };
    const reconciles = afters.map(
      (a, i) =>
        metricSum(
          a,
          side === "peer" ? "minitask_peer_reconciles_total" : "controller_runtime_reconcile_total",
          () => true,
        ) -
        metricSum(
          befores[i] ?? "",
          side === "peer" ? "minitask_peer_reconciles_total" : "controller_runtime_reconcile_total",
          () => true,
        ),
    );
    const allReconciles = reconciles.reduce((a, b) => a + b, 0);
    const cpuPer = cpuAfter.map((c, i) => ((c - (cpuBefore[i] ?? 0)) * 1000) / n);

    stop.abort();
    await watching;
    const lat = [...trAdded].map(([name, t]) => (podAdded.get(name) ?? Number.NaN) - t).filter(Number.isFinite);
    const per = (x: number) => round(x / n);
    return {
      side,
      workload: workload.name,
      round: roundNo,
      workers,
      replicas,
      taskRuns: n,
      createRatePerSec: workload.rate,
      allTerminalSec: round(allTerminalSec),
      throughputPerSec: round(n / allTerminalSec, 1),
      cpuMsPerTaskRun: round(cpuPer.reduce((a, b) => a + b, 0)),
      cpuMsPerTaskRunPerReplica: cpuPer.map((c) => round(c)),
      idleCpuMsPerSec: round(idleMsPerSec),
      cpuByThread: { run: runByThread, idle: idleByThread },
      getsPerTaskRun: round((getsOf(afters) - getsOf(befores)) / n),
      reconcilesPerTaskRun: round(allReconciles / n),
      podLatencyMs: {
        p50: round(percentile(lat, 50), 1),
        p99: round(percentile(lat, 99), 1),
        max: round(Math.max(...lat), 1),
      },
      peakRssMb: round(Math.max(...peaks) / 1024 / 1024, 1),
      writesPerTaskRun: {
        total: per(total),
        excludingEvents: per(total - events),
        podCreates: per(podCreates),
        statusUpdates: per(statusUpdates),
        taskRunUpdates: per(taskRunUpdates),
        events: per(events),
        conflicts: per(conflicts),
        leases: per(leases),
        taskRunModificationsSeen: per(modifications),
      },
      wrongOutcomes: {
        failed: [...final.values()].filter((p) => p === "Failed").length,
        extraPods: [...podUids.values()].reduce((s, u) => s + Math.max(0, u.size - 1), 0),
        selfReported,
      },
      reconcileShare: reconciles.map((r) => round(r / allReconciles, 3)),
      benchWatchRestarts: watchRestarts,
    };
  } finally {
    stop.abort();
    for (const c of ctrls) await c.stop().catch(() => {});
    await client.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RSS of our controller whose caches hold `n` finished TaskRuns and their Pods (created directly, not run). */
async function cachedRss(
  n: number,
  kwokDelay: string | undefined,
): Promise<{ taskRuns: number; pods: number; rssMb: number; heapUsedMb: number; syncSec: number }> {
  const dir = mkdtempSync(join(tmpdir(), "minitask-bench-controller-"));
  const cp = await ControlPlane.start({ stateDir: dir, log: () => {} });
  const client = KubeClient.load({ kubeconfig: cp.kubeconfig });
  try {
    execFileSync(cp.state.kubectl, ["--kubeconfig", cp.kubeconfig, "apply", "-f", join(ROOT, "crds")], {
      stdio: "ignore",
    });
    execFileSync(
      cp.state.kubectl,
      ["--kubeconfig", cp.kubeconfig, "wait", "--for=condition=Established", "crd/taskruns.minitask.myorg.dev"],
      { stdio: "ignore" },
    );
    const ns = "bench-cache";
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
      { compiled: true, env: DEPLOYED.env, nodeArgs: DEPLOYED.nodeArgs },
    );
    const batch = 200;
    for (let i = 0; i < n; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
          client.resource(TR, ns).create({
            metadata: { name: `c-${i + j}`, annotations: { [DELAY_ANNOTATION]: kwokDelay ?? "0s" } },
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
    const fresh = await startControllerProcess(
      cp.kubeconfig,
      ["--workers=4", `--namespace=${ns}`, "--log-level=warn"],
      { compiled: true, env: DEPLOYED.env, nodeArgs: DEPLOYED.nodeArgs },
    );
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
      rssMb: round(rss / 1024 / 1024, 1),
      heapUsedMb: round(heapUsed / 1024 / 1024, 1),
      syncSec: round(syncSec),
    };
  } finally {
    await client.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Options {
  json: boolean;
  rounds: number;
  workloads: Workload[];
  workers: number[];
  replicas: number[];
  scale: boolean;
  scaleRuns: number;
  ours: boolean;
  peer: boolean;
  cached: number;
  kwokDelay: string | undefined;
  nodeOptions: string | undefined;
  heapSnapshotDir: string | undefined;
  trees: Map<string, string>;
  treeNodeFlags: Map<string, string>;
}

const USAGE =
  "usage: controller [--json] [--quick] [--rounds N] [--workload fast,slow|none] [--workers 4,16] [--scale] [--scale-runs N] " +
  "[--side both|ours|peer|none] [--no-peer] " +
  "[--runs N --rate R] [--kwok-delay D] [--replicas 1,2,3 --sharding] [--cached N] " +
  "[--node-options 'FLAGS'] [--cpu-prof DIR] [--heap-snapshot DIR] [--tree NAME=DIR[:NODE_OPTIONS]]…";

function parseArgs(args: readonly string[]): Options {
  const positive = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || !Number.isInteger(x) || x < 1) throw new Error(`${flag} needs a positive integer; ${USAGE}`);
    return x;
  };
  const list = (flag: string, v: string | undefined) => (v ?? "").split(",").map((x) => positive(flag, x));
  let rounds = 2;
  let workloadNames = ["fast", "slow"];
  let workers = [4, 16];
  let replicas = [1];
  let runs: number | undefined;
  let rate: number | undefined;
  let quick = false;
  let sharding = false;
  const o: Options = {
    json: false,
    rounds,
    workloads: [],
    workers,
    replicas,
    scale: false,
    scaleRuns: SCALE.n,
    ours: true,
    peer: true,
    cached: 0,
    kwokDelay: undefined,
    nodeOptions: undefined,
    heapSnapshotDir: undefined,
    trees: new Map(),
    treeNodeFlags: new Map(),
  };
  const addNodeOptions = (x: string) => {
    o.nodeOptions = `${o.nodeOptions ?? ""} ${x}`.trim();
  };
  const dir = (flag: string, v: string | undefined): string => {
    if (!v) throw new Error(`${flag} needs a folder; ${USAGE}`);
    mkdirSync(v, { recursive: true });
    return resolve(v);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = () => args[++i];
    if (a === "--json") o.json = true;
    else if (a === "--quick") quick = true;
    else if (a === "--scale") o.scale = true;
    else if (a === "--scale-runs") o.scaleRuns = positive(a, v());
    else if (a === "--no-peer") o.peer = false;
    else if (a === "--side") {
      const side = v();
      if (side !== "both" && side !== "ours" && side !== "peer" && side !== "none")
        throw new Error(`--side needs both, ours, peer or none; ${USAGE}`);
      o.ours = side === "both" || side === "ours";
      o.peer = side === "both" || side === "peer";
    } else if (a === "--sharding") sharding = true;
    else if (a === "--rounds") rounds = positive(a, v());
    else if (a === "--workload") {
      const names = v() ?? "";
      workloadNames = names === "none" ? [] : names.split(",");
      for (const w of workloadNames) if (!(w in WORKLOADS)) throw new Error(`unknown workload ${w}; ${USAGE}`);
    } else if (a === "--workers") workers = list(a, v());
    else if (a === "--replicas") replicas = list(a, v());
    else if (a === "--runs") runs = positive(a, v());
    else if (a === "--rate") rate = positive(a, v());
    else if (a === "--cached") o.cached = positive(a, v());
    else if (a === "--node-options") {
      const x = v();
      if (!x) throw new Error(`--node-options needs flags; ${USAGE}`);
      addNodeOptions(x);
    } else if (a === "--cpu-prof") addNodeOptions(`--cpu-prof --cpu-prof-dir=${dir(a, v())}`);
    else if (a === "--heap-snapshot") o.heapSnapshotDir = dir(a, v());
    else if (a === "--tree") {
      const m = /^([a-z][a-z0-9-]*)=([^:]+)(?::(.*))?$/.exec(v() ?? "");
      if (!m || m[1] === "ours" || m[1] === "peer") {
        throw new Error(`--tree needs NAME=DIR[:NODE_FLAGS] (NAME not ours/peer); ${USAGE}`);
      }
      const treeDir = resolve(m[2] as string);
      if (m[3]) o.treeNodeFlags.set(m[1] as string, m[3]);
      if (!existsSync(join(treeDir, "packages/taskrunner/dist/cli/minitask-controller.js"))) {
        throw new Error(`--tree ${m[1]}: build it first (npm run build in ${treeDir})`);
      }
      o.trees.set(m[1] as string, treeDir);
    } else if (a === "--kwok-delay") {
      const d = v();
      if (!d || !/^\d+(\.\d+)?(ms|s|m)$/.test(d)) throw new Error(`--kwok-delay needs a duration such as 0s; ${USAGE}`);
      o.kwokDelay = d;
    } else throw new Error(`unknown argument ${a}; ${USAGE}`);
  }
  if (replicas.some((r) => r > 1) && !sharding) {
    throw new Error("more than one replica needs --sharding (replicas share the TaskRuns through bucket Leases)");
  }
  if (quick) {
    rounds = 1;
    workloadNames = ["fast"];
    workers = [4];
  }
  o.rounds = rounds;
  o.workers = workers;
  o.replicas = replicas;
  o.workloads =
    runs !== undefined || rate !== undefined
      ? [{ name: "custom", n: runs ?? 1000, rate: rate ?? 100, nodes: 1 }]
      : workloadNames.map((w) => WORKLOADS[w] as Workload);
  return o;
}

/** Medians of the rounds for one side and configuration. */
function summarize(samples: readonly Sample[]) {
  const m = (f: (s: Sample) => number) => round(median(samples.map(f)));
  return {
    samples: samples.length,
    cpuMsPerTaskRun: m((s) => s.cpuMsPerTaskRun),
    idleCpuMsPerSec: m((s) => s.idleCpuMsPerSec),
    allTerminalSec: m((s) => s.allTerminalSec),
    podLatencyP50Ms: m((s) => s.podLatencyMs.p50),
    podLatencyP99Ms: m((s) => s.podLatencyMs.p99),
    peakRssMb: m((s) => s.peakRssMb),
    writesPerTaskRun: m((s) => s.writesPerTaskRun.total),
    writesPerTaskRunExcludingEvents: m((s) => s.writesPerTaskRun.excludingEvents),
    statusUpdatesPerTaskRun: m((s) => s.writesPerTaskRun.statusUpdates),
    eventsPerTaskRun: m((s) => s.writesPerTaskRun.events),
    conflictsPerTaskRun: m((s) => s.writesPerTaskRun.conflicts),
    /** Summed over the rounds, not a median: any wrong outcome counts. */
    wrongOutcomes: samples.reduce((a, s) => a + s.wrongOutcomes.failed + s.wrongOutcomes.extraPods, 0),
  };
}

type Summary = ReturnType<typeof summarize>;

function ratios(ours: Summary, peer: Summary): Record<string, number> {
  const keys = [
    "cpuMsPerTaskRun",
    "idleCpuMsPerSec",
    "allTerminalSec",
    "podLatencyP50Ms",
    "podLatencyP99Ms",
    "peakRssMb",
    "writesPerTaskRun",
    "writesPerTaskRunExcludingEvents",
  ] as const;
  return Object.fromEntries(keys.map((k) => [k, round(ours[k] / peer[k])]));
}

export async function run(args: string[]): Promise<void> {
  let o: Options;
  try {
    o = parseArgs(args);
  } catch (e) {
    // Bad input: one line, non-zero exit.
    process.stderr.write(`controller: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const t0 = performance.now();
  log("controller bench: building the compiled controller (npm run build) …");
  execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
  const peer = o.peer ? await buildGoPeer("controller", log) : undefined;
  const runOpts: RunOptions = {
    kwokDelay: o.kwokDelay,
    peerBinary: peer?.path,
    nodeOptions: o.nodeOptions,
    heapSnapshotDir: o.heapSnapshotDir,
    trees: o.trees,
    treeNodeFlags: o.treeNodeFlags,
  };
  const uptimeBefore = loadavg();
  log(
    `controller bench: ${o.rounds} round(s) of ${o.workloads.map((w) => `${w.name} (${w.n} at ${w.rate}/s)`).join(", ") || "no rate workload"}${o.scale ? " + scale" : ""}, ` +
      `workers ${o.workers.join(", ")}${o.replicas.length > 1 || o.replicas[0] !== 1 ? `, replicas ${o.replicas.join(", ")}` : ""}, ` +
      `sides ${[o.ours ? "ours" : "", o.peer ? "client-go" : ""].filter(Boolean).join(" and ")}; a fresh control plane per sample`,
  );
  const samples: Sample[] = [];
  const describe = (s: Sample) =>
    `    ${s.side.padEnd(4)} ${s.workload} w=${s.workers}${s.replicas > 1 ? ` r=${s.replicas}` : ""}: CPU ${s.cpuMsPerTaskRun} ms/run` +
    `${s.replicas > 1 ? ` (per replica ${s.cpuMsPerTaskRunPerReplica.join(", ")})` : ""} (idle ${s.idleCpuMsPerSec} ms/s), all terminal ${s.allTerminalSec} s, ` +
    `pod p50 ${s.podLatencyMs.p50} / p99 ${s.podLatencyMs.p99} ms, peak RSS ${s.peakRssMb} MB, writes/run ${s.writesPerTaskRun.total} ` +
    `(${s.writesPerTaskRun.excludingEvents} w/o events, ${s.writesPerTaskRun.conflicts} 409s), wrong: ${s.wrongOutcomes.failed} Failed, ` +
    `${s.wrongOutcomes.extraPods} extra pods, self ${JSON.stringify(s.wrongOutcomes.selfReported)}` +
    `${s.benchWatchRestarts.resumed + s.benchWatchRestarts.relisted > 0 ? `; bench watches resumed ${s.benchWatchRestarts.resumed}, relisted ${s.benchWatchRestarts.relisted}` : ""}` +
    `; reconciles/run ${s.reconcilesPerTaskRun}, GETs/run ${s.getsPerTaskRun}; threads, ms/run ${JSON.stringify(s.cpuByThread.run)}, idle ms/s ${JSON.stringify(s.cpuByThread.idle)}`;
  const sample = async (side: Side, w: Workload, workers: number, replicas: number, r: number) => {
    const s = await runOnce(side, w, workers, replicas, r, runOpts);
    log(describe(s));
    samples.push(s);
  };
  for (let r = 0; r < o.rounds; r++) {
    log(`  round ${r + 1}/${o.rounds}`);
    for (const w of o.workloads) {
      for (const workers of o.workers) {
        const ours = async () => {
          if (o.ours) for (const replicas of o.replicas) await sample("ours", w, workers, replicas, r);
          // Other checkouts of ours, in turn (rotated each round so that none always runs first).
          const names = [...o.trees.keys()];
          for (let i = 0; i < names.length; i++) {
            await sample(names[(i + r) % names.length] as string, w, workers, 1, r);
          }
        };
        const theirs = async () => {
          if (peer) await sample("peer", w, workers, 1, r);
        };
        if (r % 2 === 0) {
          await ours();
          await theirs();
        } else {
          await theirs();
          await ours();
        }
      }
    }
  }
  let scale: { ours: Sample | null; peer: Sample | null } | null = null;
  if (o.scale) {
    const scaleWorkload: Workload = { ...SCALE, n: o.scaleRuns };
    const workers = Math.max(...o.workers);
    log(`  scale: ${scaleWorkload.n} TaskRuns in flight on ${SCALE.nodes} kwok nodes, ${workers} workers`);
    const ours = o.ours ? await runOnce("ours", scaleWorkload, workers, 1, 0, runOpts) : null;
    if (ours) log(describe(ours));
    const theirs = peer ? await runOnce("peer", scaleWorkload, workers, 1, 0, runOpts) : null;
    if (theirs) log(describe(theirs));
    scale = { ours, peer: theirs };
  }
  const cache = o.cached > 0 ? await cachedRss(o.cached, o.kwokDelay) : null;
  if (cache) {
    log(
      `  cached ${cache.taskRuns} TaskRuns + Pods: RSS ${cache.rssMb} MB, heap used ${cache.heapUsedMb} MB (synced in ${cache.syncSec} s)`,
    );
  }

  const comparison: Record<
    string,
    Record<
      string,
      {
        ours: Summary | null;
        peer: Summary | null;
        ratios: Record<string, number> | null;
        /** `--tree` sides, and their ratios to the first tree (e.g. after/before a change). */
        trees?: Record<string, { summary: Summary; ratiosToFirst: Record<string, number> }>;
      }
    >
  > = {};
  for (const w of o.workloads) {
    const byWorkers: (typeof comparison)[string] = {};
    for (const workers of o.workers) {
      const pick = (side: Side) =>
        samples.filter((s) => s.side === side && s.workload === w.name && s.workers === workers && s.replicas === 1);
      const ours = o.ours ? summarize(pick("ours")) : null;
      const theirs = o.peer ? summarize(pick("peer")) : null;
      const entry: (typeof byWorkers)[string] = {
        ours,
        peer: theirs,
        ratios: ours && theirs ? ratios(ours, theirs) : null,
      };
      byWorkers[String(workers)] = entry;
      if (o.trees.size > 0) {
        const names = [...o.trees.keys()];
        const first = summarize(pick(names[0] as string));
        entry.trees = Object.fromEntries(
          names.map((name) => {
            const summary = summarize(pick(name));
            return [name, { summary, ratiosToFirst: ratios(summary, first) }];
          }),
        );
      }
    }
    comparison[w.name] = byWorkers;
  }
  // The issue's targets (ratios ours/peer, same worker count): CPU ≤ 1.0 at both rates, time until all terminal
  // ≤ 1.0 at 100/s, create→pod p99 ≤ 1.0 at 20/s, peak RSS ≤ 1.5, no wrong outcome on our side.
  const targets: Record<string, { target: string; met: boolean | null }> = {};
  for (const [wl, byWorkers] of Object.entries(comparison)) {
    for (const [workers, c] of Object.entries(byWorkers)) {
      const at = `${wl}, ${workers} workers`;
      const check = (name: string, v: number | undefined, max: number) => {
        targets[`${name} (${at})`] = {
          target: `≤ ${max.toFixed(1)}`,
          met: v === undefined || !Number.isFinite(v) ? null : v <= max,
        };
      };
      check("cpu ours/peer", c.ratios?.cpuMsPerTaskRun, 1.0);
      if (wl === "fast") check("time until all terminal ours/peer", c.ratios?.allTerminalSec, 1.0);
      if (wl === "slow") check("create→pod p99 ours/peer", c.ratios?.podLatencyP99Ms, 1.0);
      check("peak RSS ours/peer", c.ratios?.peakRssMb, 1.5);
      targets[`wrong outcomes ours (${at})`] = { target: "0", met: c.ours ? c.ours.wrongOutcomes === 0 : null };
    }
  }
  const out = {
    benchmark: "controller",
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "",
      node: process.version,
      go: peer?.goVersion ?? null,
      loadavgBefore: uptimeBefore.map((x) => round(x)),
      loadavgAfter: loadavg().map((x) => round(x)),
    },
    options: {
      rounds: o.rounds,
      workloads: o.workloads,
      workers: o.workers,
      replicas: o.replicas,
      kwokDelay: o.kwokDelay ?? "kwok default (100 ms + up to 300 ms jitter per stage)",
      ours: o.ours,
      peer: o.peer,
      nodeOptions: o.nodeOptions ?? null,
      trees: Object.fromEntries(o.trees),
      treeNodeFlags: Object.fromEntries(o.treeNodeFlags),
    },
    comparison,
    targets,
    scale: scale
      ? {
          ...scale,
          ratios:
            scale.ours && scale.peer
              ? {
                  cpuMsPerTaskRun: round(scale.ours.cpuMsPerTaskRun / scale.peer.cpuMsPerTaskRun),
                  allTerminalSec: round(scale.ours.allTerminalSec / scale.peer.allTerminalSec),
                  peakRssMb: round(scale.ours.peakRssMb / scale.peer.peakRssMb),
                }
              : null,
        }
      : null,
    cached: cache,
    samples,
    totalSeconds: round((performance.now() - t0) / 1000, 1),
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines: string[] = [];
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "n/a" : String(x));
  for (const [wl, byWorkers] of Object.entries(comparison)) {
    const w = o.workloads.find((x) => x.name === wl);
    lines.push(`${w?.n} TaskRuns at ${w?.rate}/s (median of ${o.rounds} round(s); ratio = ours / client-go)`);
    lines.push(
      `${"workers side".padEnd(16)} ${"CPU ms/run".padStart(10)} ${"all term s".padStart(10)} ${"pod p50 ms".padStart(10)} ${"pod p99 ms".padStart(10)} ${"peak RSS MB".padStart(11)} ${"writes/run".padStart(10)} ${"wrong".padStart(5)}`,
    );
    for (const [workers, c] of Object.entries(byWorkers)) {
      const row = (label: string, s: Summary | Record<string, number> | null, wrong: string) => {
        if (!s) return;
        lines.push(
          `${`${workers.padStart(2)} ${label}`.padEnd(16)} ${f(s.cpuMsPerTaskRun).padStart(10)} ${f(s.allTerminalSec).padStart(10)} ${f(s.podLatencyP50Ms).padStart(10)} ${f(s.podLatencyP99Ms).padStart(10)} ${f(s.peakRssMb).padStart(11)} ${f(s.writesPerTaskRun).padStart(10)} ${wrong.padStart(5)}`,
        );
      };
      row("ours", c.ours, String(c.ours?.wrongOutcomes ?? ""));
      row("client-go", c.peer, String(c.peer?.wrongOutcomes ?? ""));
      row("ratio", c.ratios, "");
      for (const [name, t] of Object.entries(c.trees ?? {})) {
        row(name, t.summary, String(t.summary.wrongOutcomes));
        row(`${name}/first`, t.ratiosToFirst, "");
      }
    }
  }
  for (const [k, v] of Object.entries(targets)) {
    if (v.met !== null) lines.push(`  target ${k} ${v.target}: ${v.met ? "met" : "MISSED"}`);
  }
  if (scale) {
    for (const s of [scale.ours, scale.peer]) if (s) lines.push(`scale ${describe(s).trim()}`);
  }
  if (cache) lines.push(`cached: ${JSON.stringify(cache)}`);
  lines.push(`total ${out.totalSeconds} s`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
