// Set-up shared by the task runner's cluster tests: the CRDs installed, and a controller process that is
// ready before a test creates anything.
import { join } from "node:path";
import { type ControllerProcess, startControllerProcess } from "@minitask/taskrunner/testing";
import { eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { ROOT } from "../kubectl-task.support.ts";

/** Applies crds/ to the test cluster and waits until both CRDs are Established. */
export async function installCrds(): Promise<void> {
  await kubectl(["apply", "-f", join(ROOT, "crds")]);
  await kubectl([
    "wait",
    "--for=condition=Established",
    "crd/tasks.minitask.myorg.dev",
    "crd/taskruns.minitask.myorg.dev",
  ]);
}

/** Starts minitask-controller against the test cluster with `args` and resolves once `/readyz` says 200. */
export async function startReadyController(args: readonly string[] = []): Promise<ControllerProcess> {
  const c = await startControllerProcess(testEnv().kubeconfig, args);
  await eventually("controller readiness", async () => {
    const res = await fetch(`http://127.0.0.1:${c.healthPort}/readyz`).catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  });
  return c;
}
