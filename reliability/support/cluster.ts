// A PRIVATE control plane per scenario (scenarios kill and restart its components), with the CRDs
// installed, and the workload helpers: Tasks, TaskRuns steered through kwok annotations, waiting for
// every run to end.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { builtinResources, KubeClient, type KubeObject } from "@minitask/client";
import type { Task, TaskRun } from "@minitask/taskrunner";
import { ControlPlane, type NodeKind } from "@minitask/testenv";
import { parse, stringify } from "yaml";

const run = promisify(execFile);

export const CRDS_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));
const DEPLOY_DIR = fileURLToPath(new URL("../../deploy/", import.meta.url));
export const TR = {
  group: "minitask.myorg.dev",
  version: "v1",
  resource: "taskruns",
  kind: "TaskRun",
  namespaced: true,
} as const;
export const TSK = { group: "minitask.myorg.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true };
export const TERMINAL = new Set(["Succeeded", "Failed"]);

/** TaskRuns per scenario: 200 by default, `RELIABILITY_RUNS` raises (or lowers) it. */
export function runsPerScenario(): number {
  const n = Number(process.env.RELIABILITY_RUNS ?? "");
  return Number.isInteger(n) && n > 0 ? n : 200;
}

export interface StartClusterOptions {
  readonly apiserverArgs?: readonly string[];
  /** Which nodes: kwok (default; simulated pods) or the real node (real containers). */
  readonly node?: NodeKind;
  /** Install these CRD files instead of `crds/`. */
  readonly crdFiles?: readonly string[];
}

export class Cluster {
  readonly cp: ControlPlane;
  /** The suite's own client: straight to the apiserver, never through a fault proxy. */
  readonly client: KubeClient;
  readonly dir: string;

  private constructor(cp: ControlPlane, dir: string) {
    this.cp = cp;
    this.dir = dir;
    // Patient: the scenarios throttle and restart the apiserver under it.
    this.client = KubeClient.load({ kubeconfig: cp.kubeconfig, retry: { maxAttempts: 30, maxDelayMs: 2_000 } });
  }

  static async start(name: string, opts: StartClusterOptions = {}): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), `minitask-reliability-${name}-`));
    const cp = await ControlPlane.start({
      stateDir: join(dir, "cp"),
      log: () => {},
      ...(opts.apiserverArgs ? { apiserverArgs: opts.apiserverArgs } : {}),
      ...(opts.node ? { node: opts.node } : {}),
    });
    const c = new Cluster(cp, dir);
    try {
      for (const f of opts.crdFiles ?? [CRDS_DIR]) await c.kubectl(["apply", "-f", f]);
      await c.kubectl([
        "wait",
        "--for=condition=Established",
        "crd/tasks.minitask.myorg.dev",
        "crd/taskruns.minitask.myorg.dev",
      ]);
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  get etcd(): string {
    return this.cp.state.etcdEndpoint;
  }

  async kubectl(args: readonly string[], input?: string): Promise<string> {
    const child = run(this.cp.state.kubectl, ["--kubeconfig", this.cp.kubeconfig, ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  }

  /** A copy of the (admin) kubeconfig whose server is `server` (e.g. a fault proxy in front of the apiserver). */
  kubeconfigVia(server: string, base = this.cp.kubeconfig): string {
    const doc = parse(readFileSync(base, "utf8")) as { clusters: { cluster: { server: string } }[] };
    for (const c of doc.clusters) c.cluster.server = server;
    const file = join(this.dir, `kubeconfig-${randomBytes(3).toString("hex")}`);
    writeFileSync(file, stringify(doc), { mode: 0o600 });
    return file;
  }

  /**
   * A kubeconfig with a token of the deploy/ ServiceAccount (least-privilege RBAC) instead of the admin
   * certificate — which is in `system:masters`, exempt from the apiserver's inflight limits.
   */
  async serviceAccountKubeconfig(): Promise<string> {
    for (const f of ["namespace.yaml", "serviceaccount.yaml", "rbac.yaml"]) {
      await this.kubectl(["apply", "-f", join(DEPLOY_DIR, f)]);
    }
    const token = (
      await this.kubectl(["create", "token", "minitask-controller", "-n", "minitask-system", "--duration=2h"])
    ).trim();
    const doc = parse(readFileSync(this.cp.kubeconfig, "utf8")) as { clusters: unknown[] };
    const file = join(this.dir, `kubeconfig-sa-${randomBytes(3).toString("hex")}`);
    writeFileSync(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: doc.clusters,
        users: [{ name: "sa", user: { token } }],
        contexts: [{ name: "sa", context: { cluster: "minitask-testenv", user: "sa", namespace: "minitask-system" } }],
        "current-context": "sa",
      }),
      { mode: 0o600 },
    );
    return file;
  }

  /** A fresh namespace whose default ServiceAccount exists (pods are admitted only then). */
  async namespace(prefix: string): Promise<string> {
    const name = `${prefix}-${randomBytes(3).toString("hex")}`;
    await this.kubectl(["create", "namespace", name]);
    await this.kubectl(["wait", "--for=create", "serviceaccount/default", "-n", name, "--timeout=60s"]);
    return name;
  }

  taskRuns(ns?: string) {
    const r = this.client.resource<TaskRun>(TR);
    return ns === undefined ? r : r.inNamespace(ns);
  }

  tasks(ns?: string) {
    const r = this.client.resource<Task>(TSK);
    return ns === undefined ? r : r.inNamespace(ns);
  }

  pods(ns?: string) {
    const r = this.client.resource<KubeObject>(builtinResources.pods);
    return ns === undefined ? r : r.inNamespace(ns);
  }

  /** A Task of `steps` steps (named s1, s2, …) that echo their name. */
  async createTask(ns: string, name: string, steps = 2): Promise<void> {
    await this.tasks(ns).create({
      apiVersion: "minitask.myorg.dev/v1",
      kind: "Task",
      metadata: { name },
      spec: {
        steps: Array.from({ length: steps }, (_, i) => ({
          name: `s${i + 1}`,
          image: "busybox:1.36",
          script: `echo step ${i + 1}`,
        })),
      },
    });
  }

  /**
   * Creates `n` TaskRuns of `taskRef` named `<prefix>-<i>` (`concurrency` at a time, or one every
   * `intervalMs`), with pod annotations for kwok. Returns the names.
   */
  async createRuns(
    ns: string,
    taskRef: string,
    n: number,
    opts: {
      prefix?: string;
      annotations?: Record<string, string>;
      concurrency?: number;
      intervalMs?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<string[]> {
    const prefix = opts.prefix ?? "run";
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);
    const api = this.taskRuns(ns);
    const create = (name: string) =>
      api.create({
        apiVersion: "minitask.myorg.dev/v1",
        kind: "TaskRun",
        metadata: { name, annotations: { "testenv.minitask.dev/delay": "500ms", ...opts.annotations } },
        spec: { taskRef },
      });
    if (opts.intervalMs !== undefined) {
      for (const name of names) {
        if (opts.signal?.aborted) break;
        await create(name);
        await new Promise((r) => setTimeout(r, opts.intervalMs));
      }
      return names;
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: opts.concurrency ?? 16 }, async () => {
        for (let i = next++; i < names.length; i = next++) await create(names[i] ?? "");
      }),
    );
    return names;
  }

  /** Polls until every TaskRun of `ns` is terminal (errors while the apiserver is away are retried). */
  async waitAllTerminal(ns: string, expected: number, timeoutMs = 300_000): Promise<TaskRun[]> {
    const until = Date.now() + timeoutMs;
    let last: TaskRun[] = [];
    let lastErr: unknown;
    for (;;) {
      try {
        last = (await this.taskRuns(ns).list()).items;
        if (last.length >= expected && last.every((t) => TERMINAL.has(t.status?.phase ?? ""))) return last;
      } catch (err) {
        lastErr = err;
      }
      if (Date.now() > until) {
        const open = last.filter((t) => !TERMINAL.has(t.status?.phase ?? ""));
        throw new Error(
          `timed out: ${open.length} of ${last.length} TaskRuns in ${ns} not terminal ` +
            `(e.g. ${open
              .slice(0, 5)
              .map((t) => `${t.metadata?.name}:${t.status?.phase ?? ""}/${t.status?.reason ?? ""}`)
              .join(", ")})${lastErr ? `; last error ${String(lastErr)}` : ""}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
    await this.cp.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A small seeded PRNG (mulberry32), so a run's random moments can be replayed with RELIABILITY_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RELIABILITY_SEED, or a fresh seed (printed by the scenarios that use it). */
export function seed(): number {
  const v = process.env.RELIABILITY_SEED?.trim();
  const s = v ? Number(v) : Number.NaN;
  return Number.isInteger(s) ? s : Math.floor(Math.random() * 2 ** 31);
}

/** Polls until `check` returns a value other than undefined/false, or throws at the deadline. */
export async function poll<T>(
  what: string | (() => string),
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      const w = typeof what === "string" ? what : what();
      throw new Error(`timed out waiting for ${w}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
