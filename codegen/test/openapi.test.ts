// Built-in kinds from the apiserver's OpenAPI v3 documents: fixtures/openapi (two small documents in the
// apiserver's shape) generate exactly golden/openapi; how documents are read (resources, scope, verbs,
// subresources, what is left out); errors; and the repository's own @minitask/api inputs.
// Refresh the goldens with `UPDATE_GOLDEN=1 npx vitest run --project unit codegen/test/openapi.test.ts`.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findBiome, formatWithBiome } from "../src/format.ts";
import { generate } from "../src/generate.ts";
import { expandInputs, type InputDocument, readManifestFile } from "../src/load.ts";
import { readOpenApi } from "../src/openapi.ts";
import { fileText, goldenDir, listTree, readText, repoRoot, runCli } from "./support/helpers.ts";

const update = process.env.UPDATE_GOLDEN === "1";
const FIXTURE = "codegen/test/fixtures/openapi";
const COMMAND = `npm run codegen -- ${FIXTURE} --out codegen/test/golden/openapi`;

async function readDocs(input: string): Promise<InputDocument[]> {
  const docs: InputDocument[] = [];
  for (const file of await expandInputs([join(repoRoot, input)])) {
    docs.push(...(await readManifestFile(file, `${input}/${file.slice(file.lastIndexOf("/") + 1)}`)));
  }
  return docs;
}

let generated: ReturnType<typeof generateFixture> | undefined;
async function generateFixture() {
  const result = generate(await readDocs(FIXTURE), { command: COMMAND });
  const biome = findBiome(repoRoot);
  if (biome === undefined) throw new Error("Biome is not installed in the repository");
  return { result, files: await formatWithBiome(result.files, biome) };
}
const fixture = () => {
  generated ??= generateFixture();
  return generated;
};

const dir = await mkdtemp(join(tmpdir(), "codegen-openapi-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("OpenAPI documents (fixtures/openapi)", () => {
  it("generate exactly the golden files", async () => {
    const { files } = await fixture();
    const out = join(goldenDir, "openapi");
    if (update) {
      await rm(out, { recursive: true, force: true });
      for (const f of files) {
        await mkdir(dirname(join(out, f.path)), { recursive: true });
        await writeFile(join(out, f.path), f.content);
      }
    }
    expect(listTree(out)).toEqual(files.map((f) => f.path));
    for (const f of files) {
      expect(f.content, `openapi/${f.path} differs from its golden (UPDATE_GOLDEN=1 refreshes)`).toBe(
        readText(join(out, f.path)),
      );
    }
  });

  it("are read as kube-apiserver serves them: resources, scope, verbs, subresources, what is left out", async () => {
    const [apps, core] = (await readDocs(FIXTURE)).map(readOpenApi);
    expect(core).toMatchObject({ group: "", version: "v1", skipped: ["Relic (cannot be watched)"] });
    expect(core?.resources).toEqual([
      {
        schemaName: "io.k8s.api.core.v1.Shelf",
        group: "",
        version: "v1",
        kind: "Shelf",
        plural: "shelves",
        namespaced: false,
        verbs: ["get", "list", "watch", "create", "update", "delete"],
        statusSubresource: false,
        scaleSubresource: false,
        otherSubresources: [],
      },
      {
        schemaName: "io.k8s.api.core.v1.Sprocket",
        group: "",
        version: "v1",
        kind: "Sprocket",
        plural: "sprockets",
        namespaced: true,
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"],
        statusSubresource: true,
        scaleSubresource: false,
        // `binding` is a create-only resource under the sprocket (its own kind); `log` a GET of text.
        otherSubresources: ["binding", "log"],
      },
    ]);
    expect(apps?.resources.map((r) => [r.kind, r.statusSubresource, r.scaleSubresource])).toEqual([
      ["Roller", true, true],
    ]);
  });

  it("generate only what the resources reach, one folder per Go package, and a namespace per package", async () => {
    const { result, files } = await fixture();
    expect(result.kinds.map((k) => `${k.group}/${k.version} ${k.kind}`)).toEqual([
      "apps/v1 Roller",
      "/v1 Shelf",
      "/v1 Sprocket",
    ]);
    expect(result.leftOut).toEqual(["v1 Relic (cannot be watched)"]);
    const types = fileText(files, "core/v1/types.ts");
    expect(types).not.toContain("Unused");
    expect(types).not.toContain("interface Binding"); // only reached by paths, not by a resource's schema
    expect(types).not.toContain("interface ObjectMeta"); // the client's
    expect(fileText(files, "apps/v1/types.ts")).toContain(
      'import type { SprocketSpec } from "../../core/v1/types.js";',
    );
    expect(fileText(files, "index.ts")).toContain('export * as corev1 from "./core/v1/index.js";');
    expect(files.map((f) => f.path)).not.toContain("meta.ts"); // the CRD-only shared types
  });

  it("keep required what is required, whatever zero-value default the documents give", async () => {
    const types = fileText((await fixture()).files, "core/v1/types.ts");
    expect(types).toMatch(/\n {2}name: string;\n/);
    expect(types).toMatch(/\n {2}replicas: number;\n/);
    expect(types).toContain("@defaultValue `12`");
    expect(types).not.toContain("@defaultValue `0`");
    expect(types).not.toContain("@defaultValue `{}`");
  });

  it("type the clients: strategic merge patches, status and scale verbs only where the paths have them", async () => {
    const { files } = await fixture();
    expect(fileText(files, "apps/v1/roller.client.ts")).toMatch(
      /extends BuiltinResourceVerbs<Roller>,\s+BuiltinStatusVerbs<Roller>,\s+BuiltinScaleVerbs/,
    );
    const shelf = fileText(files, "core/v1/shelf.client.ts");
    expect(shelf).toMatch(/Omit<BuiltinResourceVerbs<Shelf>, "patch" \| "apply" \| "deleteCollection">/);
    expect(shelf).not.toContain("inNamespace");
  });

  it("mix with CRDs in one output", async () => {
    const docs = [
      ...(await readDocs(FIXTURE)),
      ...(await readManifestFile(join(repoRoot, "codegen/test/fixtures/roundtrip.yaml"), "roundtrip.yaml")),
    ];
    const result = generate(docs);
    expect(result.crds).toBe(1);
    expect(result.openapi).toBe(2);
    const paths = result.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["meta.ts", "runtime.ts", "builtin-runtime.ts", "core/v1/types.ts"]));
    expect(paths.some((p) => p.startsWith("codegen-test.minitask.dev/v1/"))).toBe(true);
  });
});

describe("OpenAPI errors", () => {
  const doc = (value: unknown): InputDocument => ({ source: "x.json", document: undefined, basePath: [], value });
  const base = async () => JSON.parse(await readFile(join(repoRoot, FIXTURE, "core_v1.json"), "utf8"));

  it("a $ref to a schema no document defines", async () => {
    const d = await base();
    d.components.schemas["io.k8s.api.core.v1.SprocketStatus"].properties.phase = {
      $ref: "#/components/schemas/io.k8s.api.core.v1.Missing",
    };
    expect(() => generate([doc(d)])).toThrow(/no document defines the schema io\.k8s\.api\.core\.v1\.Missing/);
  });

  it("a schema two documents define differently, when a resource reaches it", async () => {
    const a = await base();
    const b = JSON.parse(await readFile(join(repoRoot, FIXTURE, "apps_v1.json"), "utf8"));
    b.components.schemas["io.k8s.api.core.v1.SprocketPart"].properties.extra = { type: "string" };
    expect(() => generate([doc(a), { ...doc(b), source: "y.json" }])).toThrow(
      /io\.k8s\.api\.core\.v1\.SprocketPart.*defined differently in/,
    );
  });

  it("paths of two group/versions in one document", async () => {
    const d = await base();
    d.paths["/apis/apps/v1/rollers"] = d.paths["/api/v1/relics"];
    expect(() => generate([doc(d)])).toThrow(/paths of two group\/versions in one document/);
  });

  it("a document without paths", async () => {
    const d = await base();
    d.paths = {};
    expect(() => generate([doc(d)])).toThrow(/no paths/);
  });
});

describe("@minitask/api (packages/api/openapi → packages/api/src)", () => {
  it("is up to date, and `npm run codegen -- --check` checks it with the CRD output", async () => {
    const r = await runCli(["--check"]);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/packages\/taskrunner\/src\/generated are up to date\n/);
    expect(r.out).toMatch(/generated files in packages\/api\/src are up to date\n/);
    expect(r.code).toBe(0);
  }, 60_000);

  it("has the built-in kinds a controller needs, with status and scale subresources where the API has them", async () => {
    const result = generate(await readDocs("packages/api/openapi"), { importExtension: "ts" });
    const byKind = new Map(
      result.kinds.map((k) => [`${k.group === "" ? "" : `${k.group}/`}${k.version} ${k.kind}`, k]),
    );
    for (const k of [
      "v1 Pod",
      "v1 ConfigMap",
      "v1 Secret",
      "v1 Service",
      "v1 ServiceAccount",
      "v1 Namespace",
      "v1 Node",
      "v1 Event",
      "v1 PersistentVolumeClaim",
      "apps/v1 Deployment",
      "apps/v1 StatefulSet",
      "apps/v1 DaemonSet",
      "apps/v1 ReplicaSet",
      "batch/v1 Job",
      "batch/v1 CronJob",
      "coordination.k8s.io/v1 Lease",
      "events.k8s.io/v1 Event",
      "rbac.authorization.k8s.io/v1 Role",
      "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
      "apiextensions.k8s.io/v1 CustomResourceDefinition",
    ]) {
      expect(byKind.has(k), k).toBe(true);
    }
    const sub = (k: string) => [byKind.get(k)?.statusSubresource, byKind.get(k)?.scaleSubresource];
    expect(sub("v1 Pod")).toEqual([true, false]);
    expect(sub("v1 ConfigMap")).toEqual([false, false]);
    expect(sub("apps/v1 Deployment")).toEqual([true, true]);
    expect(sub("apps/v1 StatefulSet")).toEqual([true, true]);
    expect(sub("batch/v1 Job")).toEqual([true, false]);
    expect(sub("apiextensions.k8s.io/v1 CustomResourceDefinition")).toEqual([true, false]);
    expect(byKind.get("v1 Node")?.namespaced).toBe(false);
    expect(byKind.get("v1 Namespace")?.namespaced).toBe(false);
  }, 60_000);

  it("generates with the default options into a folder of one's own, and a second run is byte-identical", async () => {
    const out = join(dir, "api");
    const first = await runCli(["packages/api/openapi", "--out", out, "--no-format", "--quiet"]);
    expect(first).toEqual({ code: 0, out: "", err: "" });
    const again = await runCli(["packages/api/openapi", "--out", out, "--no-format", "--check", "--quiet"]);
    expect(again.code).toBe(0);
    const pod = await readFile(join(out, "core/v1/pod.ts"), "utf8");
    expect(pod).toContain('from "./types.js"');
  }, 60_000);
});
