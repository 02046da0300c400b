// npm run openapi:fetch [-- --kubeconfig PATH]
//
// Refreshes the inputs of @minitask/api: the OpenAPI v3 document of each built-in group/version it
// generates, as the apiserver serves it (`GET /openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`, …), into
// packages/api/openapi/<group>_<version>.json (pretty-printed, otherwise unchanged), plus the server's
// `/version` in packages/api/openapi/README.md. Without --kubeconfig it starts a private local control
// plane (kwok nodes; the binaries are built on first use) and stops it afterwards. Then run
// `npm run codegen` to regenerate packages/api/src. Generation itself never needs a cluster.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeClient } from "@minitask/client";
import { ControlPlane } from "@minitask/testenv";
import { Command } from "commander";

/** The group/versions @minitask/api is generated from: `api/v1` or `apis/<group>/<version>`. */
export const API_GROUP_VERSIONS: readonly string[] = [
  "api/v1",
  "apis/apiextensions.k8s.io/v1",
  "apis/apps/v1",
  "apis/batch/v1",
  "apis/coordination.k8s.io/v1",
  "apis/events.k8s.io/v1",
  "apis/networking.k8s.io/v1",
  "apis/policy/v1",
  "apis/rbac.authorization.k8s.io/v1",
];

const OUT = fileURLToPath(new URL("../packages/api/openapi/", import.meta.url));

/** `api/v1` → `core_v1.json`, `apis/apps/v1` → `apps_v1.json`. */
export function fixtureName(path: string): string {
  const parts = path.split("/");
  return parts[0] === "api" ? `core_${parts[1]}.json` : `${parts[1]}_${parts[2]}.json`;
}

const opts = new Command("fetch-openapi")
  .option("--kubeconfig <path>", "read from this cluster instead of a private local control plane")
  .parse()
  .opts<{ kubeconfig?: string }>();

let cp: ControlPlane | undefined;
let kubeconfig = opts.kubeconfig;
if (kubeconfig === undefined) {
  cp = await ControlPlane.start({ stateDir: mkdtempSync(join(tmpdir(), "minitask-openapi-")), manifests: [] });
  kubeconfig = cp.kubeconfig;
}
const kube = KubeClient.load({ kubeconfig });
try {
  const discovery = JSON.parse(await kube.requestText({ method: "GET", path: "/openapi/v3" })) as {
    paths: Record<string, { serverRelativeURL: string }>;
  };
  for (const gv of API_GROUP_VERSIONS) {
    if (discovery.paths[gv] === undefined) throw new Error(`the apiserver serves no OpenAPI document for ${gv}`);
    const doc: unknown = JSON.parse(await kube.requestText({ method: "GET", path: `/openapi/v3/${gv}` }));
    writeFileSync(join(OUT, fixtureName(gv)), `${JSON.stringify(doc, null, 2)}\n`);
    process.stderr.write(`openapi: ${gv} → packages/api/openapi/${fixtureName(gv)}\n`);
  }
  const version = (await kube.version()) as { gitVersion?: string };
  const readme = join(OUT, "README.md");
  const text = readFileSync(readme, "utf8").replace(
    /<!-- version -->.*<!-- \/version -->/,
    `<!-- version -->${version.gitVersion ?? "unknown"}<!-- /version -->`,
  );
  writeFileSync(readme, text);
  process.stderr.write(`openapi: from kube-apiserver ${version.gitVersion}; now run: npm run codegen\n`);
} finally {
  await kube.close();
  await cp?.stop();
}
