// Vitest global setup for the `cluster` project: one real control plane per test run. When
// KUBECONFIG points at a healthy control plane started by `npm run cluster -- up`, that one is
// reused (and left running); otherwise a fresh one is started in a temp folder and torn down at
// the end of the run.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
import { ControlPlane } from "./controlplane.ts";
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
  if (!cp) {
    const dir = mkdtempSync(join(tmpdir(), "minitask-testenv-"));
    const t0 = Date.now();
    cp = await ControlPlane.start({ stateDir: dir });
    process.stderr.write(`testenv: control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dir})\n`);
  } else {
    process.stderr.write(`testenv: reusing the control plane at ${cp.state.server}\n`);
  }
  const info: TestEnvInfo = {
    kubeconfig: cp.kubeconfig,
    binDir: cp.state.binDir,
    kubectl: cp.state.kubectl,
    stateDir: cp.state.stateDir,
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
    if (owned) await cp.stop();
  };
}
