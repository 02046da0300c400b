// Run the example: node --conditions=minitask-source examples/configmap-propagator/main.ts [--kubeconfig PATH]
import { KubeClient } from "@minitask/client";
import { createLogger, handleShutdownSignals } from "@minitask/controller";
import { Command } from "commander";
import { newPropagator } from "./controller.ts";

const opts = new Command("configmap-propagator")
  .option("--kubeconfig <path>", "kubeconfig file")
  .option("--log-level <level>", "log level", "info")
  .parse()
  .opts<{ kubeconfig?: string; logLevel: string }>();

const log = createLogger({ level: opts.logLevel, name: "configmap-propagator" });
const client = KubeClient.load({ kubeconfig: opts.kubeconfig });
const signals = handleShutdownSignals({ shutdownTimeoutMs: 10_000 });
await newPropagator({ client, logger: log }).run(signals.stop);
await client.close();
signals.dispose();
