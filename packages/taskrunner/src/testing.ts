// @minitask/taskrunner/testing — runs the real minitask-controller binary as a child process, for
// cluster tests, the benchmarks and the fault suite.
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:https";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../src/cli/minitask-controller.ts", import.meta.url));
/** The compiled entry point (`npm run build`), for measurements without Node's type stripping. */
const DIST_CLI = fileURLToPath(new URL("../dist/cli/minitask-controller.js", import.meta.url));

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

/** A running minitask-controller child process. */
export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** Everything written to stdout+stderr so far. */
  output(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `minitask-controller --kubeconfig <kubeconfig>` with metrics and probes on free loopback ports and
 * debug JSON logs, plus `extraArgs`. `compiled` runs `dist/` instead of the TypeScript source; `nodeArgs` go on
 * node's command line before the script (V8 flags that NODE_OPTIONS refuses).
 */
export async function startControllerProcess(
  kubeconfig: string,
  extraArgs: readonly string[] = [],
  options: {
    readonly compiled?: boolean;
    readonly env?: Readonly<Record<string, string>>;
    readonly nodeArgs?: readonly string[];
  } = {},
): Promise<ControllerProcess> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      ...(options.compiled
        ? [DIST_CLI]
        : ["--conditions=minitask-source", "--disable-warning=ExperimentalWarning", CLI]),
      "--kubeconfig",
      kubeconfig,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      "--log-level=debug",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...options.env } },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    metricsPort,
    healthPort,
    output: () => out,
    logs: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** GET `http://127.0.0.1:<port><path>`: the status and body. */
export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/**
 * GET `https://127.0.0.1:<port><path>`, trusting any certificate (a `--metrics-secure` controller's is
 * self-signed), with `token` as the bearer token when given.
 */
export function httpsGet(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = request({ host: "127.0.0.1", port, path, headers, rejectUnauthorized: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The samples of metric `name` in a Prometheus text exposition, with their labels. */
export function metricSamples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out.push({ labels: labels as Record<string, string>, value: Number(m[4]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `labels`, or undefined when there is none. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = metricSamples(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.length ? matching.reduce((a, s) => a + s.value, 0) : undefined;
}
