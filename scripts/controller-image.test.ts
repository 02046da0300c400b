// What the controller image's node_modules holds (the production dependency tree computed from
// package-lock.json), and the generated overlay. No cluster, no image written.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCAL_OVERLAY_DIR, productionTree, serverPort, writeLocalOverlay } from "./controller-image.ts";

const ROOT = resolve(import.meta.dirname, "..");
const pkg = (dir: string) =>
  JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };

describe("productionTree", () => {
  const tree = productionTree();
  const locations = new Set(tree.map((d) => d.location));

  it("holds the task runner's dependencies, with the workspaces as links into packages/", () => {
    for (const name of Object.keys(pkg("packages/taskrunner").dependencies ?? {})) {
      expect(locations, name).toContain(`node_modules/${name}`);
    }
    const links = tree.filter((d) => d.linkTo).map((d) => [d.location, d.linkTo]);
    expect(Object.fromEntries(links)).toEqual({
      "node_modules/@minitask/client": "packages/client",
      "node_modules/@minitask/controller": "packages/controller",
      "node_modules/@minitask/informers": "packages/informers",
      "node_modules/@minitask/workqueue": "packages/workqueue",
    });
    // Transitively: the client's Kubernetes client and the controller's logger.
    expect(locations).toContain("node_modules/@kubernetes/client-node");
    expect(locations).toContain("node_modules/pino");
  });

  it("leaves out every development dependency and the other workspaces", () => {
    const dev = [
      ...Object.keys(pkg(".").devDependencies ?? {}),
      ...Object.keys(pkg("packages/taskrunner").devDependencies ?? {}),
      "vite",
      "rolldown",
      // @kubernetes/client-node lists @types/* packages (which need @types/node) as dependencies.
    ].filter((n) => n !== "@types/node");
    for (const name of dev) expect(locations, name).not.toContain(`node_modules/${name}`);
    for (const ws of ["codegen", "testenv", "typedoc-tool", "taskrunner"]) {
      expect(locations).not.toContain(`node_modules/@minitask/${ws}`);
    }
  });
});

describe("writeLocalOverlay", () => {
  it("is deploy-local-node/ plus the apiserver's port, by a relative path", () => {
    const dir = mkdtempSync(join(tmpdir(), "overlay-test-"));
    try {
      writeLocalOverlay(dir, { apiserverPort: serverPort("https://127.0.0.1:40123") });
      const k = JSON.parse(readFileSync(join(dir, "kustomization.yaml"), "utf8").replace(/^#.*\n/, "")) as {
        resources: string[];
        images?: unknown;
        patches: { patch: string }[];
      };
      expect(k.resources).toHaveLength(1);
      expect(k.resources[0]?.startsWith("/")).toBe(false);
      expect(resolve(dir, k.resources[0] ?? "")).toBe(LOCAL_OVERLAY_DIR);
      expect(k.images).toBeUndefined();
      expect(JSON.parse(k.patches[0]?.patch ?? "[]")).toEqual([
        {
          op: "add",
          path: "/spec/template/spec/containers/0/env/-",
          value: { name: "KUBERNETES_SERVICE_PORT", value: "40123" },
        },
      ]);
      writeLocalOverlay(dir, { apiserverPort: 1, image: "localhost/minitask-controller:abc" });
      expect(readFileSync(join(dir, "kustomization.yaml"), "utf8")).toContain('"newTag": "abc"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
