#!/usr/bin/env node
// minitask-envtest (in this repository: npm run cluster --) build|up|down|status|env|leftovers [--state-dir DIR] [--node kwok|real|both] [--nodes N]
//
// Starts a real local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
// kwok) as background processes, and with --node real|both a real node (kubelet + containerd); builds
// the binaries from Go modules (and fetches Debian's containerd, runc, busybox) the first time.
import { dirname, join } from "node:path";
import { Command, CommanderError } from "commander";
import { ensureBinaries, TestEnvError } from "./build.ts";
import { ControlPlane } from "./controlplane.ts";
import { ensureNodeArtifacts } from "./node-build.ts";
import { type NodeKind, parseNodeKind, realNodeLeftovers, realNodeSupport } from "./realnode.ts";
import { selfTest } from "./selftest.ts";
import { cacheRoot } from "./versions.ts";

function defaultStateDir(): string {
  return process.env.MINITASK_CLUSTER_DIR || join(cacheRoot(), "cluster");
}

const program = new Command("minitask-envtest")
  .description("a real local Kubernetes control plane (etcd + kube-apiserver + controllers + kwok) on loopback")
  .option("--state-dir <dir>", "where the cluster keeps its state (env MINITASK_CLUSTER_DIR)", defaultStateDir())
  .showHelpAfterError()
  .exitOverride();

program
  .command("build")
  .description("only build (or find cached) the control-plane binaries and the real node, print their folder")
  .option("--node <kind>", "kwok: only the control plane; real|both: also the real node (default: where it can run)")
  .action(async (opts: { node?: string }) => {
    const kind = opts.node === undefined ? undefined : parseNodeKind(opts.node);
    const bins = await ensureBinaries();
    if (kind !== "kwok") {
      const support = realNodeSupport();
      if (support.ok) await ensureNodeArtifacts();
      else if (kind) throw new TestEnvError(support.reason);
      else process.stderr.write(`cluster: not building the real node: ${support.reason}\n`);
    }
    process.stdout.write(`${dirname(bins["kube-apiserver"])}\n`);
  });

program
  .command("up")
  .description("build the binaries if needed, start the control plane and print the kubeconfig path")
  .option("--nodes <n>", "number of simulated nodes", "1")
  .option(
    "--node <kind>",
    "kwok: simulated nodes; real: one real node (kubelet + containerd); both: kwok plus the real node, tainted",
    "kwok",
  )
  .action(async (opts: { nodes: string; node: string }) => {
    const dir = (program.opts() as { stateDir: string }).stateDir;
    const kind: NodeKind = parseNodeKind(opts.node);
    const nodes = Number.parseInt(opts.nodes, 10);
    if (!Number.isInteger(nodes) || nodes < 1) throw new TestEnvError(`--nodes must be a positive integer`);
    const existing = ControlPlane.attach(dir);
    if (existing) {
      const st = await existing.status();
      const healthy = st.ready && Object.values(st.components).every(Boolean);
      if (healthy && existing.nodeKind === kind) {
        process.stderr.write(`cluster: already running (state ${dir}, node ${kind})\n`);
        process.stdout.write(`${existing.kubeconfig}\n`);
        return;
      }
      process.stderr.write(
        healthy
          ? `cluster: the running cluster has node kind ${existing.nodeKind}; replacing it with ${kind}\n`
          : "cluster: a previous cluster in this state folder is not healthy; replacing it\n",
      );
      await existing.stop();
    }
    if (kind !== "kwok") {
      const support = realNodeSupport();
      if (!support.ok) throw new TestEnvError(support.reason);
    }
    const t0 = Date.now();
    const cp = await ControlPlane.start({ stateDir: dir, nodes, node: kind });
    const what =
      kind === "kwok"
        ? `${nodes} kwok node(s)`
        : kind === "real"
          ? `real node ${cp.state.realNode?.name}`
          : `${nodes} kwok node(s) + real node ${cp.state.realNode?.name} (tainted minitask.dev/node-kind=real:NoSchedule)`;
    process.stderr.write(
      `cluster: up in ${((Date.now() - t0) / 1000).toFixed(1)} s — ${cp.state.server}, ${what}\n` +
        (kind === "kwok"
          ? "cluster: kwok simulates nodes and pods: no containers run on this machine\n"
          : `cluster: the real node runs containers (containerd ${cp.state.realNode?.containerdSocket})\n`) +
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
    const left = await cp.stop();
    if (left.length > 0) {
      throw new TestEnvError(`stopped, but the real node left behind: ${left.join("; ")}`);
    }
    process.stderr.write(
      `cluster: stopped${cp.state.realNode ? " (no process, mount or cgroup of the real node left)" : ""}\n`,
    );
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
      const pid = cp.state.components[name as keyof typeof st.components]?.pid;
      process.stdout.write(`${name.padEnd(24)} ${up ? `running (pid ${pid})` : "stopped"}\n`);
    }
    process.stdout.write(`${"nodes".padEnd(24)} ${cp.nodeKind}\n`);
    process.stdout.write(`${"apiserver /readyz".padEnd(24)} ${st.ready ? "ok" : "not ready"}\n`);
    process.stdout.write(`${"server".padEnd(24)} ${cp.state.server}\n${"kubeconfig".padEnd(24)} ${cp.kubeconfig}\n`);
    if (!st.ready || !Object.values(st.components).every(Boolean)) process.exitCode = 1;
  });

program
  .command("selftest")
  .description(
    "the real node end to end on a cluster of its own: up, pods with output and exit codes, down, no leftovers",
  )
  .option("--node <kind>", "real or both", "both")
  .action(async (opts: { node: string }) => {
    const kind = parseNodeKind(opts.node);
    if (kind === "kwok") throw new TestEnvError("selftest is about the real node: --node real or both");
    const support = realNodeSupport();
    if (!support.ok) throw new TestEnvError(support.reason);
    const r = await selfTest({ node: kind });
    process.stderr.write(
      `cluster: selftest passed — up ${r.upSeconds.toFixed(1)} s, 3-step pod ${r.podSeconds.toFixed(1)} s, down ${r.downSeconds.toFixed(1)} s\n`,
    );
  });

program
  .command("leftovers")
  .description("list processes, mounts, cgroups and machine paths a real node left behind; exit 1 if any")
  .action(() => {
    const left = realNodeLeftovers();
    for (const l of left) process.stdout.write(`${l}\n`);
    if (left.length > 0) process.exitCode = 1;
    else process.stderr.write("cluster: no real-node leftovers on this machine\n");
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
