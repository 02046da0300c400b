// `npm run bench -- workqueue [--json] [--runs N] [--n N] [--no-peer]`
//
// Runs the workqueue workloads on @minitask/workqueue and, in the same run, on client-go's util/workqueue: the Go
// program in bench/peers/workqueue, built once and cached under $MINITASK_CACHE_DIR/bench (default
// ~/.cache/minitask/bench), rebuilt when its sources or the Go version change. The Go program stays up and answers
// one measurement per request, so the two sides alternate run by run and see the same machine load. Each number is
// the median of N runs (after one warm-up run of each side); `ratio` is the median of the per-run ratios
// ours/client-go (for times: client-go time / our time, so that above 1 always means we are faster).
// With --json, exactly one JSON object goes to stdout and everything else to stderr.

import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename } from "node:fs/promises";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  cycle,
  cycleForAwait,
  dedupe,
  delay,
  makeDelays,
  makeKeys,
  priorityCycle,
  type Regime,
} from "./_workqueue_workloads.ts";

const execFileAsync = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
const peerDir = join(here, "..", "peers", "workqueue");

interface Side {
  median: number;
  samples: number[];
  [extra: string]: unknown;
}

interface Workload {
  description: string;
  unit: string;
  higherIsBetter: boolean;
  ours: Side;
  clientGo: Side | null;
  /** Median of the per-run ratios, oriented so that > 1 means ours is better (see `ratioOf`). */
  ratio: number | null;
  ratioOf: string;
  target: string | null;
  meetsTarget: boolean | null;
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(1);
}

function cacheDir(): string {
  return process.env.MINITASK_CACHE_DIR ?? join(homedir(), ".cache", "minitask");
}

/** Builds the Go peer unless a binary for the same sources and Go version is cached; returns its path. */
async function buildPeer(): Promise<{ path: string; goVersion: string }> {
  const env = { ...process.env, GOTOOLCHAIN: "local" };
  const { stdout } = await execFileAsync("go", ["env", "GOVERSION"], { env });
  const goVersion = stdout.trim();
  const hash = createHash("sha256");
  hash.update(goVersion);
  for (const f of ["main.go", "go.mod", "go.sum"]) hash.update(await readFile(join(peerDir, f)));
  const dir = join(cacheDir(), "bench");
  const path = join(dir, `workqueue-peer-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(path)) {
    log(`building the client-go peer (${goVersion}) into ${path} ...`);
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await execFileAsync("go", ["build", "-trimpath", "-o", tmp, "."], { cwd: peerDir, env, maxBuffer: 16 << 20 });
    await rename(tmp, path);
  }
  return { path, goVersion };
}

interface PeerReply {
  value: number;
  timers?: number;
  error?: string;
}

/** The Go peer in `-serve` mode: one request line, one JSON reply line. */
class Peer {
  readonly #child;
  readonly #lines: AsyncIterator<string>;
  readonly goVersion: string;
  readonly gomaxprocs: number;

  private constructor(child: ReturnType<typeof spawn>, lines: AsyncIterator<string>, ready: Record<string, unknown>) {
    this.#child = child;
    this.#lines = lines;
    this.goVersion = String(ready.goVersion);
    this.gomaxprocs = Number(ready.gomaxprocs);
  }

  static async start(path: string, n: number): Promise<Peer> {
    const child = spawn(path, ["-serve", "-n", String(n)], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error("client-go peer exited before it was ready");
    return new Peer(child, lines, JSON.parse(first.value) as Record<string, unknown>);
  }

  async request(command: string): Promise<PeerReply> {
    this.#child.stdin!.write(`${command}\n`);
    const line = await this.#lines.next();
    if (line.done) throw new Error(`client-go peer exited during "${command}"`);
    const reply = JSON.parse(line.value) as PeerReply;
    if (reply.error !== undefined) throw new Error(`client-go peer: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.#child.stdin!.end();
  }
}

async function runGoMemory(path: string, n: number, runs: number) {
  const { stdout } = await execFileAsync(path, ["-workload", "memory", "-n", String(n), "-runs", String(runs)], {
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as { samples: number[]; delayedSamples: number[] };
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

interface Sample {
  value: number;
  timers?: number;
}

/** One warm-up run of each side, then `runs` alternating pairs. */
async function paired(
  runs: number,
  ours: () => Promise<Sample>,
  theirs: (() => Promise<Sample>) | null,
): Promise<{ ours: Sample[]; theirs: Sample[] | null }> {
  await ours();
  if (theirs !== null) await theirs();
  const o: Sample[] = [];
  const t: Sample[] = [];
  for (let r = 0; r < runs; r++) {
    o.push(await ours());
    if (theirs !== null) t.push(await theirs());
  }
  return { ours: o, theirs: theirs === null ? null : t };
}

function parseArgs(args: string[]): { json: boolean; runs: number; n: number; peer: boolean } {
  const opts = { json: false, runs: 7, n: 100_000, peer: true };
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

const REGIME_TEXT: Record<Regime, string> = {
  stream: "keys arrive in chunks of 128 and each chunk is processed before the next (a short queue)",
  backlog: "all keys are queued first, then drained (a long queue, e.g. an initial list)",
};

export async function run(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const { n, runs } = opts;
  const keys = makeKeys(n);
  const index = new Map(keys.map((k, i) => [k, i] as const));
  const delays = makeDelays(n);

  let peerPath: string | null = null;
  let peer: Peer | null = null;
  let peerError: string | null = null;
  if (opts.peer) {
    try {
      peerPath = (await buildPeer()).path;
      peer = await Peer.start(peerPath, n);
    } catch (error) {
      peerError = `client-go peer unavailable: ${error instanceof Error ? error.message : String(error)}`;
      log(peerError);
    }
  }
  const go = (command: string): (() => Promise<Sample>) | null => (peer === null ? null : () => peer.request(command));

  // Warm the JIT up on every code path first (client-go needs no warm-up: it is compiled ahead of time). Without
  // this, the first workloads measured would include V8's tier-up; a controller runs warm code.
  log("warming up ...");
  {
    const few = keys.slice(0, Math.min(n, 25_000));
    const fewIndex = new Map(few.map((k, i) => [k, i] as const));
    for (let round = 0; round < 2; round++) {
      for (const regime of ["stream", "backlog"] as const) {
        for (const workers of [1, 4, 16]) await cycle(few, workers, regime);
        await dedupe(few, fewIndex, 4, regime);
      }
      await cycleForAwait(few, 4);
      await priorityCycle(few, 4);
    }
    await delay(few, delays.slice(0, few.length), 4);
  }

  const workloads: Record<string, Workload> = {};
  const record = (
    name: string,
    w: Omit<Workload, "ratio" | "meetsTarget" | "ours" | "clientGo">,
    samples: { ours: Sample[]; theirs: Sample[] | null },
    targetRatio: number | null,
  ): void => {
    const ourValues = samples.ours.map((s) => s.value);
    const theirValues = samples.theirs?.map((s) => s.value) ?? null;
    const ours: Side = { median: median(ourValues), samples: ourValues };
    const clientGo: Side | null = theirValues === null ? null : { median: median(theirValues), samples: theirValues };
    for (const [side, list] of [
      [ours, samples.ours],
      [clientGo, samples.theirs],
    ] as const) {
      if (side === null || list === null || list[0]?.timers === undefined) continue;
      side.timers = median(list.map((s) => s.timers ?? 0));
      side.timerSamples = list.map((s) => s.timers ?? 0);
    }
    let ratio: number | null = null;
    if (theirValues !== null) {
      const ratios = ourValues.map((o, i) => (w.higherIsBetter ? o / theirValues[i]! : theirValues[i]! / o));
      ratio = median(ratios);
    }
    const meetsTarget = targetRatio === null || ratio === null ? null : ratio >= targetRatio;
    workloads[name] = { ...w, ours, clientGo, ratio, meetsTarget };
    log(
      `${name.padEnd(22)} ours ${fmt(ours.median).padStart(9)}  client-go ${(clientGo === null ? "n/a" : fmt(clientGo.median)).padStart(9)}  ` +
        `${w.unit.padEnd(8)} ratio ${ratio === null ? "n/a" : ratio.toFixed(2)}${w.target === null ? "" : ` (target ${w.target})`}`,
    );
  };

  try {
    for (const regime of ["stream", "backlog"] as const) {
      for (const workers of [1, 4, 16]) {
        const samples = await paired(
          runs,
          async () => ({ value: await cycle(keys, workers, regime) }),
          go(`cycle ${regime} ${workers}`),
        );
        record(
          `cycle_${regime}_${workers}w`,
          {
            description: `add→get→done of ${n} distinct keys, ${workers} concurrent worker(s); ${REGIME_TEXT[regime]}`,
            unit: "items/s",
            higherIsBetter: true,
            ratioOf: "items/s, ours / client-go",
            target: "ratio ≥ 1.0",
          },
          samples,
          1.0,
        );
      }
      const samples = await paired(
        runs,
        async () => ({ value: await dedupe(keys, index, 4, regime) }),
        go(`dedupe ${regime} 4`),
      );
      record(
        `dedupe_${regime}_4w`,
        {
          description:
            "the first time a worker gets a key it re-adds it 3× before done (1 re-queue + 2 collapsed adds), so " +
            `every key is processed twice; 4 workers; ${REGIME_TEXT[regime]}`,
          unit: "calls/s",
          higherIsBetter: true,
          ratioOf: "queue calls (add+get+done)/s, ours / client-go",
          target: "ratio ≥ 1.0",
        },
        samples,
        1.0,
      );
    }

    {
      const samples = await paired(
        runs,
        async () => {
          const r = await delay(keys, delays, 4);
          return { value: r.ms, timers: r.timers };
        },
        go("delay 4"),
      );
      record(
        "delay_4w",
        {
          description: `addAfter of ${n} keys with delays of 0-100 ms (the same xorshift32 sequence on both sides), 4 workers; time from the first addAfter until every key is done, and timers armed`,
          unit: "ms",
          higherIsBetter: false,
          ratioOf: "throughput (keys / time until all are done) = client-go ms / our ms",
          target: "ratio ≥ 0.8",
        },
        samples,
        0.8,
      );
    }

    // Ours only: the `for await` helper and the priority queue, each paired with client-go's plain stream cycle.
    for (const [name, description, fn] of [
      [
        "for_await_stream_4w",
        "workload 1 (stream) through `for await (const item of queue)` (done is automatic), 4 workers; client-go side: its plain stream cycle",
        cycleForAwait,
      ],
      [
        "priority_stream_4w",
        "workload 1 (stream) on the priority queue (every 10th key priority 10, the rest 0), 4 workers; client-go has no priority queue, its side is its plain stream cycle",
        priorityCycle,
      ],
    ] as const) {
      const samples = await paired(runs, async () => ({ value: await fn(keys, 4) }), go("cycle stream 4"));
      record(
        name,
        {
          description,
          unit: "items/s",
          higherIsBetter: true,
          ratioOf: "items/s, ours / client-go plain queue",
          target: null,
        },
        samples,
        null,
      );
    }
  } finally {
    peer?.close();
  }

  {
    const memRuns = Math.min(runs, 3);
    const mem = await runMemoryChild(n, memRuns);
    const theirs = peerPath === null ? null : await runGoMemory(peerPath, n, memRuns);
    const ours: Side = {
      median: median(mem.samples),
      samples: mem.samples,
      delayed: median(mem.delayedSamples),
      delayedSamples: mem.delayedSamples,
    };
    const clientGo: Side | null =
      theirs === null
        ? null
        : {
            median: median(theirs.samples),
            samples: theirs.samples,
            delayed: median(theirs.delayedSamples),
            delayedSamples: theirs.delayedSamples,
          };
    workloads.memory = {
      description: `heap bytes per queued key with ${n} keys waiting (the key strings themselves not counted); "delayed": per key waiting for an addAfter delay`,
      unit: "bytes/item",
      higherIsBetter: false,
      ours,
      clientGo,
      ratio: clientGo === null ? null : ours.median / clientGo.median,
      ratioOf: "bytes per queued item, ours / client-go (here lower is better)",
      target: "≤ 200 bytes per queued item",
      meetsTarget: ours.median <= 200,
    };
    log(
      `${"memory".padEnd(22)} ours ${ours.median.toFixed(1).padStart(9)}  client-go ${(clientGo === null ? "n/a" : clientGo.median.toFixed(1)).padStart(9)}  ` +
        `bytes/item (target ≤ 200); delayed: ours ${(ours.delayed as number).toFixed(1)}, client-go ${clientGo === null ? "n/a" : (clientGo.delayed as number).toFixed(1)}`,
    );
  }

  const cpu = cpus();
  const report = {
    benchmark: "workqueue",
    n,
    runs,
    statistic: "median of runs alternating between the two sides; ratio = median of per-run ratios",
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? "unknown",
      node: process.version,
      go: peer?.goVersion ?? null,
      gomaxprocs: peer?.gomaxprocs ?? null,
      platform: `${process.platform}-${process.arch}`,
    },
    clientGo:
      peer === null
        ? { available: false, error: peerError }
        : { available: true, module: "k8s.io/client-go@v0.36.3 util/workqueue" },
    workloads,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else log("(add --json for the full report)");
}
