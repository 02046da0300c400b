// Run the example: node --conditions=minitask-source examples/configmap-propagator/main.ts [--kubeconfig PATH]
import { createLogger, handleShutdownSignals, Manager } from "@minitask/controller";
import { Command } from "commander";
import { addPropagator } from "./controller.ts";

const opts = new Command("configmap-propagator")
  .option("--kubeconfig <path>", "kubeconfig file")
  .option("--log-level <level>", "log level", "info")
  .option("--leader-elect", "elect a leader among replicas (Lease default/configmap-propagator)", false)
  .option("--health-probe-bind-address <addr>", 'address of /healthz and /readyz ("0" disables)', ":8081")
  .parse()
  .opts<{ kubeconfig?: string; logLevel: string; leaderElect: boolean; healthProbeBindAddress: string }>();

const logger = createLogger({ level: opts.logLevel, name: "configmap-propagator" });
const signals = handleShutdownSignals({ shutdownTimeoutMs: 10_000 });
const manager = new Manager({
  kubeconfig: opts.kubeconfig,
  logger,
  healthProbeBindAddress: opts.healthProbeBindAddress,
  leaderElection: opts.leaderElect ? { namespace: "default", name: "configmap-propagator" } : undefined,
});
addPropagator(manager);
await manager.start(signals.stop, signals.force);
signals.dispose();
