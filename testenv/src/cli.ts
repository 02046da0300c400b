// npm run cluster -- up|down|status|env [--state-dir DIR] [--nodes N]
//
// Starts a real local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// kwok) as background processes, builds the binaries from Go modules the first time.
import { dirname, join } from "node:path";
import { Command, CommanderError } from "commander";
import { ensureBinaries, TestEnvError } from "./build.ts";
import { ControlPlane } from "./controlplane.ts";
import { cacheRoot } from "./versions.ts";

function defaultStateDir(): string {
  return process.env.MINITASK_CLUSTER_DIR || join(cacheRoot(), "cluster");
}

const program = new Command("cluster")
  .description("a real local Kubernetes control plane (etcd + kube-apiserver + controllers + kwok) on loopback")
  .option("--state-dir <dir>", "where the cluster keeps its state (env MINITASK_CLUSTER_DIR)", defaultStateDir())
  .showHelpAfterError()
  .exitOverride();

program
  .command("build")
  .description("only build (or find cached) the control-plane binaries and print their folder")
  .action(async () => {
    const bins = await ensureBinaries();
    process.stdout.write(`${dirname(bins["kube-apiserver"])}\n`);
  });

program
  .command("up")
  .description("build the binaries if needed, start the control plane and print the kubeconfig path")
  .option("--nodes <n>", "number of simulated nodes", "1")
  .action(async (opts: { nodes: string }) => {
    const dir = (program.opts() as { stateDir: string }).stateDir;
    const existing = ControlPlane.attach(dir);
    if (existing) {
      const st = await existing.status();
      if (st.ready && Object.values(st.components).every(Boolean)) {
        process.stderr.write(`cluster: already running (state ${dir})\n`);
        process.stdout.write(`${existing.kubeconfig}\n`);
        return;
      }
      process.stderr.write("cluster: a previous cluster in this state folder is not healthy; replacing it\n");
      await existing.stop();
    }
    const nodes = Number.parseInt(opts.nodes, 10);
    if (!Number.isInteger(nodes) || nodes < 1) throw new TestEnvError(`--nodes must be a positive integer`);
    const t0 = Date.now();
    const cp = await ControlPlane.start({ stateDir: dir, nodes });
    process.stderr.write(
      `cluster: up in ${((Date.now() - t0) / 1000).toFixed(1)} s — ${cp.state.server}, ${nodes} kwok node(s)\n` +
        `cluster: kwok simulates nodes and pods: no containers run on this machine\n` +
        `cluster: kubectl: ${cp.state.kubectl}\n` +
        `cluster: try:   ${cp.state.kubectl} --kubeconfig ${cp.kubeconfig} get nodes\n`,
    );
    process.stdout.write(`${cp.kubeconfig}\n`);
  });

program
  .command("down")
  .description("stop every process of the control plane and remove its state")
  .action(async () => {
    const dir = (program.opts() as { stateDir: string }).stateDir;
    const cp = ControlPlane.attach(dir);
    if (!cp) {
      process.stderr.write(`cluster: nothing running (no state in ${dir})\n`);
      return;
    }
    await cp.stop();
    process.stderr.write("cluster: stopped\n");
  });

program
  .command("status")
  .description("show whether each component runs and the apiserver is ready; exit 1 if not")
  .action(async () => {
    const dir = (program.opts() as { stateDir: string }).stateDir;
    const cp = ControlPlane.attach(dir);
    if (!cp) {
      process.stdout.write(`not running (no state in ${dir})\n`);
      process.exitCode = 1;
      return;
    }
    const st = await cp.status();
    for (const [name, up] of Object.entries(st.components)) {
      process.stdout.write(
        `${name.padEnd(24)} ${up ? `running (pid ${cp.state.components[name as keyof typeof st.components].pid})` : "stopped"}\n`,
      );
    }
    process.stdout.write(`${"apiserver /readyz".padEnd(24)} ${st.ready ? "ok" : "not ready"}\n`);
    process.stdout.write(`${"server".padEnd(24)} ${cp.state.server}\n${"kubeconfig".padEnd(24)} ${cp.kubeconfig}\n`);
    if (!st.ready || !Object.values(st.components).every(Boolean)) process.exitCode = 1;
  });

program
  .command("env")
  .description('print KUBECONFIG=… for shells: eval "$(npm run -s cluster -- env)"')
  .action(() => {
    const dir = (program.opts() as { stateDir: string }).stateDir;
    const cp = ControlPlane.attach(dir);
    if (!cp) throw new TestEnvError(`no cluster running (no state in ${dir}); run: npm run cluster -- up`);
    process.stdout.write(`export KUBECONFIG=${cp.kubeconfig}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof TestEnvError) {
    process.stderr.write(`cluster: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`cluster: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
