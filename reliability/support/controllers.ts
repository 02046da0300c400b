// The minitask-controller processes of a scenario (the real binary, through the cluster tests' helper):
// started with the debug cache view on, killed on purpose or stopped with SIGTERM at the end; every
// exit that the scenario did not cause, and every unhandled rejection, is a failure.
import { type ControllerProcess, httpGet, startControllerProcess } from "@minitask/taskrunner/testing";
import { poll } from "./cluster.ts";

export interface Replica {
  readonly id: number;
  readonly proc: ControllerProcess;
  /** Set before the scenario kills it. */
  killed: boolean;
  /** Set when the scenario stopped it with SIGTERM. */
  stopped: boolean;
}

export interface StartOptions {
  /** Extra flags. */
  readonly args?: readonly string[];
  /** Extra environment (e.g. MINITASK_WATCH_IDLE_TIMEOUT). */
  readonly env?: Readonly<Record<string, string>>;
}

export class Fleet {
  readonly replicas: Replica[] = [];
  readonly #kubeconfig: string;
  readonly #base: StartOptions;

  constructor(kubeconfig: string, base: StartOptions = {}) {
    this.#kubeconfig = kubeconfig;
    this.#base = base;
  }

  /** Starts one more controller process (not waiting for readiness). */
  async start(opts: StartOptions = {}): Promise<Replica> {
    // The helper spawns with this process's environment: set the knobs for the child, then restore.
    const env: Record<string, string> = { MINITASK_DEBUG_CACHES: "1", ...this.#base.env, ...opts.env };
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    let proc: ControllerProcess;
    try {
      proc = await startControllerProcess(this.#kubeconfig, [
        "--workers=4",
        "--image-pull-timeout=3s",
        ...(this.#base.args ?? []),
        ...(opts.args ?? []),
      ]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const r: Replica = { id: this.replicas.length, proc, killed: false, stopped: false };
    this.replicas.push(r);
    return r;
  }

  /** Waits until `/readyz` answers 200. */
  async ready(r: Replica, timeoutMs = 60_000): Promise<void> {
    await poll(
      `controller #${r.id} readiness`,
      async () => {
        if (r.proc.child.exitCode !== null || r.proc.child.signalCode !== null) {
          throw new Error(`controller #${r.id} exited: ${r.proc.output().slice(-2000)}`);
        }
        return (await httpGet(r.proc.healthPort, "/readyz")).status === 200;
      },
      timeoutMs,
    );
  }

  async kill(r: Replica): Promise<void> {
    r.killed = true;
    await r.proc.stop("SIGKILL");
  }

  live(): Replica[] {
    return this.replicas.filter((r) => r.proc.child.exitCode === null && r.proc.child.signalCode === null);
  }

  /** The controller's metrics as text. */
  async metrics(r: Replica): Promise<string> {
    return (await httpGet(r.proc.metricsPort, "/metrics")).body;
  }

  /** The controller's informer caches: resource → key → resourceVersion. */
  async caches(r: Replica): Promise<Record<string, Record<string, string>>> {
    const res = await httpGet(r.proc.metricsPort, "/debug/caches");
    if (res.status !== 200) throw new Error(`/debug/caches: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as Record<string, Record<string, string>>;
  }

  /**
   * Stops every live replica with SIGTERM and returns the problems: exits the scenario did not cause,
   * non-zero exit codes on SIGTERM, unhandled rejections in any replica's output.
   */
  async stopAll(): Promise<string[]> {
    const problems: string[] = [];
    for (const r of this.replicas) {
      const alive = r.proc.child.exitCode === null && r.proc.child.signalCode === null;
      if (!alive && !r.killed && !r.stopped) {
        problems.push(`controller #${r.id} exited on its own with ${await r.proc.exited}`);
      } else if (alive) {
        r.stopped = true;
        const code = await Promise.race([
          r.proc.stop("SIGTERM"),
          new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 40_000)),
        ]);
        if (code === "timeout") {
          problems.push(`controller #${r.id} did not stop within 40 s of SIGTERM`);
          await r.proc.stop("SIGKILL");
        } else if (code !== 0) {
          problems.push(`controller #${r.id} exited with ${code} on SIGTERM`);
        }
      }
      if (/unhandled rejection/i.test(r.proc.output())) {
        problems.push(`controller #${r.id} logged an unhandled rejection`);
      }
    }
    return problems;
  }

  /** Last lines of every replica's output (for failure messages). */
  tails(lines = 20): string {
    return this.replicas
      .map((r) => `--- controller #${r.id}\n${r.proc.output().trimEnd().split("\n").slice(-lines).join("\n")}`)
      .join("\n");
  }
}

export { metricValue } from "@minitask/taskrunner/testing";
