// Helpers for cluster-backed tests (`*.cluster.test.ts`). The vitest global setup
// (testenv/src/vitest-global-setup.ts) starts one control plane per test run, or reuses the one
// KUBECONFIG points at, and provides its description to every test file through `inject`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);

/** What the global setup hands to test files. */
export interface TestEnvInfo {
  /** Admin kubeconfig (cluster-admin through the system:masters group). */
  readonly kubeconfig: string;
  /** Folder holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok. */
  readonly binDir: string;
  /** Path of the kubectl binary built by the harness. */
  readonly kubectl: string;
  /** State folder of the control plane (logs, certs, pid files); empty when reusing a foreign cluster. */
  readonly stateDir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    minitaskTestEnv: TestEnvInfo;
  }
}

/** The control plane of this test run. */
export function testEnv(): TestEnvInfo {
  return inject("minitaskTestEnv");
}

/** Runs the harness's kubectl against the test control plane; resolves with stdout. */
export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const env = testEnv();
  const child = run(env.kubectl, ["--kubeconfig", env.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

/**
 * Creates a fresh namespace named `<prefix>-<random>` and returns its name. Each test works in its own
 * namespace; they are left behind for inspection and go away with the control plane.
 */
export async function createTestNamespace(prefix = "test"): Promise<string> {
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40);
  const name = `${safe}-${randomBytes(4).toString("hex")}`;
  await kubectl(["create", "namespace", name]);
  // Pods are admitted only once the namespace's default ServiceAccount exists (made by the
  // controller manager a moment after the namespace).
  await kubectl(["wait", "--for=create", "serviceaccount/default", "-n", name, "--timeout=60s"]);
  // The controller manager also publishes kube-root-ca.crt into every namespace; wait for it too, so a
  // test listing ConfigMaps never races with it.
  await kubectl(["wait", "--for=create", "configmap/kube-root-ca.crt", "-n", name, "--timeout=60s"]);
  return name;
}

/**
 * Polls `check` every 50 ms until it returns something other than undefined (errors count as "not
 * yet"), and resolves with that; rejects after `timeoutMs` naming `what` and the last error.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
