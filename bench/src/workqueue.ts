// `npm run bench -- workqueue [--json] [--runs N] [--n N] [--no-peer]`
//
// Runs the workqueue workloads on @minitask/workqueue and, in the same run, on client-go's util/workqueue (the Go
// program in bench/peers/workqueue, built once and cached under $MINITASK_CACHE_DIR/bench, default
// ~/.cache/minitask/bench). Every number is the median of N runs (after one warm-up run), and `ratio` is
// ours/client-go. With --json, exactly one JSON object goes to stdout and everything else to stderr.

import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename } from "node:fs/promises";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { cycle, cycleForAwait, dedupe, delay, makeDelays, makeKeys, priorityCycle } from "./_workqueue_workloads.ts";

const execFileAsync = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
const peerDir = join(here, "..", "peers", "workqueue");

interface Side {
  median: number;
  samples: number[];
}

interface Workload {
  description: string;
  unit: string;
  higherIsBetter: boolean;
  ours: Side & Record<string, unknown>;
  clientGo: (Side & Record<string, unknown>) | null;
  /** ours / client-go of the compared quantity (see `ratioOf`). */
  ratio: number | null;
  ratioOf: string;
  target: string | null;
  meetsTarget: boolean | null;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function side(samples: number[], extra: Record<string, unknown> = {}): Side & Record<string, unknown> {
  return { median: median(samples), samples, ...extra };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function cacheDir(): string {
  return process.env.MINITASK_CACHE_DIR ?? join(homedir(), ".cache", "minitask");
}

/** Builds the Go peer unless a binary for the same sources and Go version is cached; returns its path. */
async function buildPeer(): Promise<{ path: string; goVersion: string }> {
  const env = { ...process.env, GOTOOLCHAIN: "local" };
  const { stdout: goVersion } = await execFileAsync("go", ["env", "GOVERSION"], { env });
  const hash = createHash("sha256");
  hash.update(goVersion.trim());
  for (const f of ["main.go", "go.mod", "go.sum"]) hash.update(await readFile(join(peerDir, f)));
  const dir = join(cacheDir(), "bench");
  const path = join(dir, `workqueue-peer-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(path)) {
    log(`building the client-go peer (${goVersion.trim()}) into ${path} ...`);
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await execFileAsync("go", ["build", "-trimpath", "-o", tmp, "."], { cwd: peerDir, env, maxBuffer: 16 << 20 });
    await rename(tmp, path);
  }
  return { path, goVersion: goVersion.trim() };
}

interface PeerResult {
  samples: number[];
  timers?: number[];
  delayedSamples?: number[];
  goVersion: string;
  gomaxprocs: number;
}

async function runPeer(path: string, args: string[]): Promise<PeerResult> {
  const { stdout } = await execFileAsync(path, args, { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as PeerResult;
}

async function runMemoryChild(n: number, runs: number): Promise<{ samples: number[]; delayedSamples: number[] }> {
  const script = join(here, "_workqueue_memory.ts");
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--conditions=minitask-source", script, String(n), String(runs)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`memory child exited with ${code}`);
  return JSON.parse(out) as { samples: number[]; delayedSamples: number[] };
}

async function samplesOf(runs: number, once: () => Promise<number>): Promise<number[]> {
  await once(); // warm-up (JIT, map sizes)
  const out: number[] = [];
  for (let r = 0; r < runs; r++) out.push(await once());
  return out;
}

function parseArgs(args: string[]): { json: boolean; runs: number; n: number; peer: boolean } {
  const opts = { json: false, runs: 5, n: 100_000, peer: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") opts.json = true;
    else if (a === "--no-peer") opts.peer = false;
    else if (a === "--runs") opts.runs = Number(args[++i]);
    else if (a === "--n") opts.n = Number(args[++i]);
    else throw new Error(`unknown argument ${a}; usage: workqueue [--json] [--runs N] [--n N] [--no-peer]`);
  }
  if (!(opts.runs >= 1) || !(opts.n >= 1)) throw new Error("--runs and --n must be positive");
  return opts;
}

export async function run(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const { n, runs } = opts;
  const keys = makeKeys(n);
  const index = new Map(keys.map((k, i) => [k, i] as const));
  const delays = makeDelays(n);

  let peer: { path: string; goVersion: string } | null = null;
  let peerError: string | null = null;
  if (opts.peer) {
    try {
      peer = await buildPeer();
    } catch (error) {
      peerError = `client-go peer unavailable: ${error instanceof Error ? error.message : String(error)}`;
      log(peerError);
    }
  }
  const go = async (args: string[]): Promise<PeerResult | null> =>
    peer === null ? null : runPeer(peer.path, [...args, "-n", String(n), "-runs", String(runs)]);

  const workloads: Record<string, Workload> = {};
  const compare = (
    name: string,
    w: Omit<Workload, "ratio" | "meetsTarget">,
    targetRatio: number | null,
    ratio: number | null,
  ): void => {
    const meets = targetRatio === null || ratio === null ? null : ratio >= targetRatio;
    workloads[name] = { ...w, ratio, meetsTarget: meets };
    const theirs = w.clientGo === null ? "n/a" : fmt(w.clientGo.median);
    log(
      `${name.padEnd(18)} ours ${fmt(w.ours.median).padStart(12)}  client-go ${theirs.padStart(12)}  ${w.unit.padEnd(12)} ` +
        `ratio ${ratio === null ? "n/a" : ratio.toFixed(2)}${w.target === null ? "" : ` (target ${w.target})`}`,
    );
  };

  for (const workers of [1, 4, 16]) {
    const ours = await samplesOf(runs, () => cycle(keys, workers));
    const theirs = await go(["-workload", "cycle", "-workers", String(workers)]);
    const o = side(ours);
    const t = theirs === null ? null : side(theirs.samples);
    compare(
      `cycle_${workers}_workers`,
      {
        description: `add→get→done of ${n} distinct keys, ${workers} concurrent worker(s)`,
        unit: "items/s",
        higherIsBetter: true,
        ours: o,
        clientGo: t,
        ratioOf: "items/s",
        target: "ratio ≥ 1.0",
      },
      1.0,
      t === null ? null : o.median / t.median,
    );
  }

  {
    const ours = await samplesOf(runs, () => dedupe(keys, index, 4));
    const theirs = await go(["-workload", "dedupe", "-workers", "4"]);
    const o = side(ours);
    const t = theirs === null ? null : side(theirs.samples);
    compare(
      "dedupe_4_workers",
      {
        description:
          "each key re-added 3× while being processed (1 re-queue + 2 collapsed adds), so processed twice; 4 workers",
        unit: "calls/s",
        higherIsBetter: true,
        ours: o,
        clientGo: t,
        ratioOf: "queue calls (add+get+done)/s",
        target: "ratio ≥ 1.0",
      },
      1.0,
      t === null ? null : o.median / t.median,
    );
  }

  {
    const oursMs: number[] = [];
    const oursTimers: number[] = [];
    await delay(keys, delays, 4);
    for (let r = 0; r < runs; r++) {
      const { ms, timers } = await delay(keys, delays, 4);
      oursMs.push(ms);
      oursTimers.push(timers);
    }
    const theirs = await go(["-workload", "delay", "-workers", "4"]);
    const o = side(oursMs, { timers: median(oursTimers), timerSamples: oursTimers, itemsPerSecond: 0 });
    o.itemsPerSecond = n / (o.median / 1000);
    const t =
      theirs === null
        ? null
        : side(theirs.samples, {
            timers: median(theirs.timers ?? []),
            timerSamples: theirs.timers ?? [],
            itemsPerSecond: n / (median(theirs.samples) / 1000),
          });
    compare(
      "delay_4_workers",
      {
        description: `addAfter of ${n} keys with delays of 0-100 ms (same xorshift32 sequence), time until all are done`,
        unit: "ms",
        higherIsBetter: false,
        ours: o,
        clientGo: t,
        ratioOf: "throughput (keys / time until all done) = client-go ms / our ms",
        target: "ratio ≥ 0.8",
      },
      0.8,
      t === null ? null : t.median / o.median,
    );
  }

  {
    const mem = await runMemoryChild(n, Math.min(runs, 3));
    const theirs = await go(["-workload", "memory"]);
    const o = side(mem.samples, { delayed: median(mem.delayedSamples), delayedSamples: mem.delayedSamples });
    const t =
      theirs === null
        ? null
        : side(theirs.samples, {
            delayed: median(theirs.delayedSamples ?? []),
            delayedSamples: theirs.delayedSamples ?? [],
          });
    const ratio = t === null ? null : o.median / t.median;
    workloads.memory = {
      description: `heap bytes per queued key (${n} keys waiting; the keys themselves are not counted); "delayed": per key waiting in the delay heap`,
      unit: "bytes/item",
      higherIsBetter: false,
      ours: o,
      clientGo: t,
      ratio,
      ratioOf: "bytes per queued item (lower is better)",
      target: "≤ 200 bytes per queued item",
      meetsTarget: o.median <= 200,
    };
    log(
      `${"memory".padEnd(18)} ours ${o.median.toFixed(1).padStart(12)}  client-go ${(t === null ? "n/a" : t.median.toFixed(1)).padStart(12)}  bytes/item   ` +
        `ratio ${ratio === null ? "n/a" : ratio.toFixed(2)} (target ≤ 200 bytes; delayed: ours ${o.delayed as number} client-go ${t?.delayed ?? "n/a"})`,
    );
  }

  // Ours only: the `for await` helper and the priority queue, compared with client-go's plain 4-worker cycle.
  const goCycle4 = workloads.cycle_4_workers?.clientGo ?? null;
  for (const [name, description, fn] of [
    [
      "for_await_4_workers",
      "workload 1 through `for await (const item of queue)` (automatic done), 4 workers",
      cycleForAwait,
    ],
    [
      "priority_4_workers",
      "workload 1 on the priority queue (every 10th key priority 10, the rest 0), 4 workers; client-go has no priority queue, compared with its plain 4-worker cycle",
      priorityCycle,
    ],
  ] as const) {
    const o = side(await samplesOf(runs, () => fn(keys, 4)));
    compare(
      name,
      {
        description,
        unit: "items/s",
        higherIsBetter: true,
        ours: o,
        clientGo: goCycle4,
        ratioOf: "items/s (client-go side: plain queue, 4 workers)",
        target: null,
      },
      null,
      goCycle4 === null ? null : o.median / goCycle4.median,
    );
  }

  const cpu = cpus();
  const report = {
    benchmark: "workqueue",
    n,
    runs,
    statistic: "median",
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? "unknown",
      node: process.version,
      go: peer?.goVersion ?? null,
      platform: `${process.platform}-${process.arch}`,
    },
    clientGo:
      peer === null ? { available: false, error: peerError } : { available: true, module: "k8s.io/client-go@v0.36.3" },
    workloads,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else log("(use --json for the full report)");
}

function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(1);
}
