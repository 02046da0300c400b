// Helpers for cluster-backed tests (`*.cluster.test.ts`). The vitest global setup
// (testenv/src/vitest-global-setup.ts) starts one control plane per test run, or reuses the one
// KUBECONFIG points at, and provides its description to every test file through `inject`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { inject } from "vitest";
import { ControlPlane } from "./controlplane.ts";
import type { NodeKind } from "./realnode.ts";
import { NODE_KIND_LABEL } from "./versions.ts";

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
  /** Which nodes the cluster has: kwok (simulated), real (kubelet + containerd), or both. */
  readonly nodeKind: NodeKind;
  /** The real node, when there is one. */
  readonly realNode?: {
    /** Node name (`127.0.0.1`). */
    readonly name: string;
    /** containerd's socket; `ctr --address <it> -n k8s.io …`. */
    readonly containerdSocket: string;
    readonly ctr: string;
    /** host:port of the node's local registry. */
    readonly registry: string;
  };
  /** Why there is no real node, when the setup wanted one but the machine cannot run it. */
  readonly realNodeUnavailable?: string;
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

export interface TestNamespaceOptions {
  /**
   * `real`: every pod created in the namespace runs on the real node (the namespace carries the
   * PodNodeSelector and PodTolerationRestriction annotations, so no pod needs changing); fails at once
   * when the cluster has no real node. Default: wherever the scheduler puts it (the kwok node when
   * the cluster has both).
   */
  readonly node?: "real";
}

/** Throws a one-line error saying why, when the test cluster `env` has no real node. */
export function requireRealNode(env: TestEnvInfo, what: string): NonNullable<TestEnvInfo["realNode"]> {
  if (env.realNode) return env.realNode;
  throw new Error(
    `${what}: this cluster has no real node (${env.realNodeUnavailable ?? `node kind ${env.nodeKind}`}); ` +
      "start one with: npm run cluster -- up --node both",
  );
}

/** Annotations that pin a namespace's pods to the real node and let them tolerate its taint. */
export function realNodeNamespaceAnnotations(): Record<string, string> {
  return {
    "scheduler.alpha.kubernetes.io/node-selector": `${NODE_KIND_LABEL}=real`,
    "scheduler.alpha.kubernetes.io/defaultTolerations": JSON.stringify([
      { key: NODE_KIND_LABEL, operator: "Equal", value: "real", effect: "NoSchedule" },
    ]),
  };
}

/**
 * Creates a fresh namespace named `<prefix>-<random>` and returns its name. Each test works in its own
 * namespace; they are left behind for inspection and go away with the control plane.
 */
export async function createTestNamespace(prefix = "test", opts: TestNamespaceOptions = {}): Promise<string> {
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40);
  const name = `${safe}-${randomBytes(4).toString("hex")}`;
  if (opts.node === "real") {
    requireRealNode(testEnv(), `createTestNamespace(${JSON.stringify(prefix)}, { node: "real" })`);
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name, annotations: realNodeNamespaceAnnotations() } };
    await kubectl(["create", "-f", "-"], JSON.stringify(ns));
  } else {
    await kubectl(["create", "namespace", name]);
  }
  // Pods are admitted only once the namespace's default ServiceAccount exists (made by the
  // controller manager a moment after the namespace).
  await kubectl(["wait", "--for=create", "serviceaccount/default", "-n", name, "--timeout=60s"]);
  // The controller manager also publishes kube-root-ca.crt into every namespace; wait for it too, so a
  // test listing ConfigMaps never races with it.
  await kubectl(["wait", "--for=create", "configmap/kube-root-ca.crt", "-n", name, "--timeout=60s"]);
  return name;
}

/**
 * Imports a docker-archive tarball (see `buildImage`) into the test cluster's real node and its local
 * registry (unless `push: false`); resolves with the image names it carried.
 */
export async function importNodeImage(tarball: string, opts: { readonly push?: boolean } = {}): Promise<string[]> {
  const env = testEnv();
  const cp = env.stateDir ? ControlPlane.attach(env.stateDir, () => {}) : undefined;
  requireRealNode(env, "importNodeImage");
  if (!cp) throw new Error(`importNodeImage: no control plane state in ${env.stateDir || "(none)"}`);
  return cp.importImage(tarball, opts);
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
