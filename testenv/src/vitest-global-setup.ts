// Vitest global setup for the `cluster` project: one real control plane per test run, with a kwok
// node and the real node (`--node both`; MINITASK_TEST_NODE=kwok|real|both changes it). When
// KUBECONFIG points at a healthy control plane started by `npm run cluster -- up`, that one is
// reused (and left running), whatever nodes it has; otherwise a fresh one is started in a temp folder
// and torn down at the end of the run. Where the machine cannot run the real node, the cluster gets
// kwok only and tests asking for the real node fail saying why.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
import { ControlPlane } from "./controlplane.ts";
import { type NodeKind, parseNodeKind, realNodeSupport } from "./realnode.ts";
import type { TestEnvInfo } from "./testing.ts";

async function reusable(): Promise<ControlPlane | undefined> {
  const kc = process.env.KUBECONFIG;
  if (!kc || kc.includes(":") || !existsSync(join(dirname(kc), "state.json"))) return undefined;
  const cp = ControlPlane.attach(dirname(kc));
  if (!cp) return undefined;
  const st = await cp.status();
  return st.ready && Object.values(st.components).every(Boolean) ? cp : undefined;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cp = await reusable();
  const owned = !cp;
  let unavailable: string | undefined;
  if (!cp) {
    let node: NodeKind = parseNodeKind(process.env.MINITASK_TEST_NODE || "both");
    if (node !== "kwok") {
      const support = realNodeSupport();
      if (!support.ok) {
        unavailable = support.reason;
        process.stderr.write(`testenv: no real node (${support.reason}); tests that need it will fail\n`);
        node = "kwok";
      }
    }
    const dir = mkdtempSync(join(tmpdir(), "minitask-testenv-"));
    const t0 = Date.now();
    cp = await ControlPlane.start({ stateDir: dir, node });
    process.stderr.write(
      `testenv: control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s, nodes: ${node} (${dir})\n`,
    );
  } else {
    process.stderr.write(`testenv: reusing the control plane at ${cp.state.server} (nodes: ${cp.nodeKind})\n`);
    if (!cp.state.realNode) unavailable = `the reused cluster at ${cp.state.server} was started with --node kwok`;
  }
  const real = cp.state.realNode;
  const info: TestEnvInfo = {
    kubeconfig: cp.kubeconfig,
    binDir: cp.state.binDir,
    kubectl: cp.state.kubectl,
    stateDir: cp.state.stateDir,
    nodeKind: cp.nodeKind,
    ...(real
      ? {
          realNode: {
            name: real.name,
            containerdSocket: real.containerdSocket,
            ctr: real.ctr,
            registry: real.registry,
          },
        }
      : {}),
    ...(unavailable ? { realNodeUnavailable: unavailable } : {}),
  };
  project.provide("minitaskTestEnv", info);
  const stopOnExit = () => {
    if (owned)
      for (const pid of cp.livePids())
        try {
          process.kill(-pid, "SIGKILL");
        } catch {}
  };
  process.once("exit", stopOnExit);
  return async () => {
    process.off("exit", stopOnExit);
    if (owned) {
      const left = await cp.stop();
      if (left.length > 0) process.stderr.write(`testenv: the real node left behind: ${left.join("; ")}\n`);
    }
  };
}
