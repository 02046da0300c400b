import { defineConfig } from "vitest/config";

// Three projects:
//  - unit:    no cluster, runs in seconds (`npm run test:unit`).
//  - cluster: `*.cluster.test.ts`, run against one real control plane (etcd + kube-apiserver +
//             kube-controller-manager + kube-scheduler + kwok) started by the global setup, or the one
//             KUBECONFIG already points at when it was started by `npm run cluster -- up`.
//  - faults:  `reliability/**/*.faults.test.ts` (`npm run test:faults`), the fault-injection suite: every
//             scenario starts its own private control plane (it kills and restarts components). It takes
//             over 10 minutes on a 2-core machine, so a plain `vitest run` (`npm test`) leaves it out: the
//             project exists only when named (`--project faults`) or with MINITASK_FAULTS=1; CI runs it
//             as its own step (.ci/run).
const conditions = ["minitask-source"];
const requested = (project: string, env: string) =>
  process.env[env] === "1" || new RegExp(`(^|\\s)--project[= ]${project}(\\s|$)`).test(process.argv.join(" "));
const faultsRequested = requested("faults", "MINITASK_FAULTS");

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "packages/*/test/**/*.test.ts",
            "codegen/test/**/*.test.ts",
            "testenv/test/**/*.test.ts",
            "scripts/**/*.test.ts",
          ],
          exclude: ["**/*.cluster.test.ts", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "cluster",
          include: ["**/*.cluster.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["testenv/src/vitest-global-setup.ts"],
          // One file at a time: the files share one control plane (and some run a controller that
          // watches all namespaces), and the machine has 2 cores.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      ...(faultsRequested
        ? [
            {
              extends: true,
              test: {
                name: "faults",
                include: ["reliability/**/*.faults.test.ts"],
                exclude: ["**/node_modules/**"],
                globalSetup: ["reliability/support/global-setup.ts"],
                // One scenario at a time: each runs a whole control plane and controllers on 2 cores.
                fileParallelism: false,
                testTimeout: 600_000,
                hookTimeout: 120_000,
              },
            },
          ]
        : []),
    ],
  },
});
