// minitask-controller: runs the TaskRun controller (Mini Task Runner) against a cluster.

import { createLogger, handleShutdownSignals, parseBindAddress, parseLogLevel } from "@minitask/controller";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ExitCode, PreflightError } from "../controller/preflight.ts";
import { startController } from "../controller/start.ts";
import { parseDuration } from "../duration.ts";
import { versionLine } from "./build-info.ts";

function duration(v: string): number {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got "${v}"`);
  return n;
}
function bindAddress(v: string): string {
  try {
    parseBindAddress(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
}
function logLevel(v: string): string {
  try {
    return parseLogLevel(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

interface Flags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  workers: number;
  leaderElect: boolean;
  sharding: boolean;
  shardBuckets: number;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  metricsBindAddress: string;
  metricsSecure: boolean;
  metricsCertDir?: string;
  healthProbeBindAddress: string;
  logLevel: string;
  shutdownTimeout: number;
  reconcileTimeout: number;
  imagePullTimeout: number;
  ttlAfterFinished?: number;
  watchList: string;
  dashboardBindAddress: string;
}

const program = new Command("minitask-controller")
  .description("Mini Task Runner: runs Task/TaskRun custom resources as pods, one step after another")
  .version(versionLine("minitask-controller"), "--version", "print the version and the commit it was built from")
  .addOption(new Option("--kubeconfig <path>", "kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)"))
  .option("--context <name>", "kubeconfig context to use")
  .option("--namespace <ns>", "watch only this namespace (default: all namespaces)")
  .option("--workers <n>", "concurrent reconciles", positiveInt, 4)
  .option("--leader-elect", "elect a leader among replicas through a Lease", false)
  .option(
    "--sharding",
    "active-active: replicas share the TaskRuns through bucket Leases (instead of --leader-elect)",
    false,
  )
  .option("--shard-buckets <n>", "buckets the TaskRuns hash into (fixed for a deployment)", positiveInt, 16)
  .option("--leader-election-namespace <ns>", "namespace of the leader-election Lease", "minitask-system")
  .option("--leader-election-id <name>", "name of the leader-election Lease", "minitask-controller")
  .addOption(
    new Option("--lease-duration <d>", "leader-election lease duration").argParser(duration).default(15_000, "15s"),
  )
  .addOption(
    new Option("--renew-deadline <d>", "leader stops if it cannot renew within this")
      .argParser(duration)
      .default(10_000, "10s"),
  )
  .addOption(new Option("--retry-period <d>", "leader-election retry period").argParser(duration).default(2_000, "2s"))
  .option("--metrics-bind-address <addr>", 'address of /metrics ("0" disables)', bindAddress, ":8080")
  .option(
    "--metrics-secure",
    "serve /metrics over HTTPS to callers the apiserver authenticates and authorizes (get on /metrics)",
    false,
  )
  .option("--metrics-cert-dir <dir>", "tls.crt and tls.key for --metrics-secure (default: self-signed at start-up)")
  .option("--health-probe-bind-address <addr>", 'address of /healthz and /readyz ("0" disables)', bindAddress, ":8081")
  .option("--log-level <level>", "trace, debug, info, warn, error, fatal or silent", logLevel, "info")
  .addOption(
    new Option("--shutdown-timeout <d>", "grace period for in-flight reconciles on SIGTERM")
      .argParser(duration)
      .default(30_000, "30s"),
  )
  .addOption(
    new Option("--reconcile-timeout <d>", "abort (and retry) a reconcile after this long")
      .argParser(duration)
      .default(60_000, "1m"),
  )
  .addOption(
    new Option("--image-pull-timeout <d>", "fail a run whose step cannot pull its image for this long")
      .argParser(duration)
      .default(120_000, "2m"),
  )
  .option("--ttl-after-finished <d>", "delete finished TaskRuns this long after they finish (default: keep)", duration)
  .addOption(
    new Option("--watch-list <mode>", "initial state by watch-list streaming")
      .choices(["auto", "true", "false"])
      .default("auto"),
  )
  .option(
    "--dashboard-bind-address <addr>",
    'serve the live dashboard here (off by default; ":8090" binds to 127.0.0.1)',
    bindAddress,
    "0",
  )
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

async function main(): Promise<number> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : ExitCode.Usage;
    throw err;
  }
  const f = program.opts<Flags>();
  const log = createLogger({ level: f.logLevel, name: "minitask-controller" });
  if (f.sharding && f.leaderElect) {
    process.stderr.write("minitask-controller: --sharding and --leader-elect are exclusive: choose one\n");
    return ExitCode.Usage;
  }
  if (f.renewDeadline >= f.leaseDuration) {
    process.stderr.write("minitask-controller: --renew-deadline must be shorter than --lease-duration\n");
    return ExitCode.Usage;
  }
  const signals = handleShutdownSignals({
    shutdownTimeoutMs: f.shutdownTimeout,
    onShutdown: (reason) => log.info({ reason, gracePeriodMs: f.shutdownTimeout }, "shutting down"),
    onForceExit: (sig) => {
      process.stderr.write(`minitask-controller: second ${sig}; exiting now\n`);
      process.exit(130);
    },
  });
  try {
    const running = await startController(
      {
        kubeconfig: f.kubeconfig,
        context: f.context,
        namespace: f.namespace,
        workers: f.workers,
        leaderElect: f.leaderElect,
        ...(f.sharding ? { shardBuckets: f.shardBuckets } : {}),
        leaderElectionNamespace: f.leaderElectionNamespace,
        leaderElectionId: f.leaderElectionId,
        leaseDurationMs: f.leaseDuration,
        renewDeadlineMs: f.renewDeadline,
        retryPeriodMs: f.retryPeriod,
        metricsBindAddress: f.metricsBindAddress,
        metricsSecure: f.metricsSecure,
        metricsCertDir: f.metricsCertDir,
        healthProbeBindAddress: f.healthProbeBindAddress,
        shutdownTimeoutMs: f.shutdownTimeout,
        reconcileTimeoutMs: f.reconcileTimeout,
        imagePullTimeoutMs: f.imagePullTimeout,
        ttlAfterFinishedMs: f.ttlAfterFinished,
        watchList: f.watchList === "auto" ? "auto" : f.watchList === "true",
        dashboardBindAddress: f.dashboardBindAddress,
      },
      log,
      signals,
    );
    await running.done;
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof PreflightError) {
      process.stderr.write(`minitask-controller: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`minitask-controller: ${(err as Error).message}\n`);
    log.debug({ err }, "fatal error");
    return ExitCode.Error;
  } finally {
    signals.dispose();
  }
}

process.on("unhandledRejection", (reason) => {
  process.stderr.write(`minitask-controller: unhandled rejection: ${String((reason as Error)?.stack ?? reason)}\n`);
});

const code = await main();
// Give pino a moment to flush, then exit with the code (open handles must not keep us alive).
setTimeout(() => process.exit(code), 50).unref();
process.exitCode = code;
