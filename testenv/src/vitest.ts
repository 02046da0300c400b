// vitest integration of @minitask/envtest: one control plane per test run, started by a global setup and
// shared by every test file (each test in its own namespace).
//
//   // vitest.config.ts:  test: { globalSetup: ["./test/envtest-setup.ts"] }
//   // test/envtest-setup.ts:
//   import { envtestGlobalSetup } from "@minitask/envtest/vitest";
//   export default envtestGlobalSetup({ crds: ["config/crds"] });
//   // a test file:
//   import { useControlPlane } from "@minitask/envtest/vitest";
//   const env = useControlPlane();
import { afterAll, inject } from "vitest";
import type { TestProject } from "vitest/node";
import { type ControlPlaneOptions, connectControlPlane, startControlPlane, type TestControlPlane } from "./envtest.ts";
import type { NodeKind } from "./realnode.ts";

/** What the global setup hands to test files. */
export interface EnvtestInfo {
  readonly kubeconfig: string;
  readonly server: string;
  readonly nodeKind: NodeKind;
}

declare module "vitest" {
  export interface ProvidedContext {
    minitaskEnvtest: EnvtestInfo;
  }
}

/**
 * A vitest global setup (the default export of a `globalSetup` file) that starts one control plane for the
 * test run with `options` (or connects to `MINITASK_ENVTEST_KUBECONFIG`), and stops it when the run ends.
 */
export function envtestGlobalSetup(
  options: ControlPlaneOptions = {},
): (project: TestProject) => Promise<() => Promise<void>> {
  return async (project) => {
    const env = await startControlPlane(options);
    project.provide("minitaskEnvtest", { kubeconfig: env.kubeconfig, server: env.server, nodeKind: env.nodeKind });
    return () => env.stop();
  };
}

/**
 * In a test file: the control plane of the global setup (its kubeconfig, a client, `createNamespace`).
 * Registers an `afterAll` that deletes the namespaces this file made and closes the client.
 */
export function useControlPlane(): TestControlPlane {
  const info = inject("minitaskEnvtest");
  const env = connectControlPlane(info.kubeconfig, { node: info.nodeKind });
  afterAll(() => env.stop());
  return env;
}
