// Set-up shared by the task runner's cluster tests: the CRDs installed, a controller process that is
// ready before a test creates anything, and namespaces that enforce a Pod Security level.
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

/**
 * Labels `ns` to enforce Pod Security `level` and waits until admission applies it (it reads namespaces from
 * a cache): until a privileged pod is refused.
 */
export async function enforcePodSecurity(ns: string, level: "baseline" | "restricted"): Promise<void> {
  await kubectl(["label", "--overwrite", "namespace", ns, `pod-security.kubernetes.io/enforce=${level}`]);
  const privileged = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "privileged", namespace: ns },
    spec: { containers: [{ name: "c", image: "busybox:1.36", securityContext: { privileged: true } }] },
  };
  await eventually(`Pod Security ${level} in force in ${ns}`, async () => {
    try {
      await kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(privileged));
      return undefined;
    } catch (err) {
      return String((err as { stderr?: string }).stderr).includes("violates PodSecurity") ? true : undefined;
    }
  });
}
