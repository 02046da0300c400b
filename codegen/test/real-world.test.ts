// Real-world CRD sets (fixtures/real: a few CRDs of each of ten projects, with their licences) generate
// with the default options and compile as a consumer outside this repository compiles them: a standard
// NodeNext tsconfig with emit, strict and isolatedDeclarations, no `allowImportingTsExtensions`.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type GenerateResult, generate } from "../src/generate.ts";
import { expandInputs, type InputDocument, readManifestFile } from "../src/load.ts";
import { compileAsConsumer, scratchDir } from "./support/consumer.ts";
import { repoRoot } from "./support/helpers.ts";

const realDir = join(repoRoot, "codegen/test/fixtures/real");
const projects = readdirSync(realDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

async function generateProject(project: string): Promise<{ result: GenerateResult; ignored: string[] }> {
  const ignored: string[] = [];
  const docs: InputDocument[] = [];
  for (const file of await expandInputs([join(realDir, project)])) {
    const source = `${project}/${file.slice(join(realDir, project).length + 1)}`;
    docs.push(...(await readManifestFile(file, source, { onIgnored: (l) => ignored.push(l) })));
  }
  const result = generate(docs, { command: `minitask-codegen codegen/test/fixtures/real/${project}` });
  return { result, ignored: [...ignored, ...result.ignored] };
}

/** Code a user of the generated types writes: manifests as `kubectl create --dry-run -o yaml` shows them. */
const usage: Record<string, string> = {
  crossplane: `import type { ImageConfig } from "./generated/pkg.crossplane.io/v1beta1/index.js";

// hashAlgorithm is required in the schema but has a default: a manifest may leave it out.
export const config: ImageConfig = {
  apiVersion: "pkg.crossplane.io/v1beta1",
  kind: "ImageConfig",
  metadata: { name: "verify" },
  spec: { matchImages: [{ prefix: "xpkg.crossplane.io/" }] },
};
`,
};

describe("real-world CRDs", () => {
  it("are ten projects", () => {
    expect(projects).toHaveLength(10);
  });

  it.each(projects)(
    "%s: generates, and compiles with a standard NodeNext tsconfig (emit, strict, isolatedDeclarations)",
    async (project) => {
      const { result, ignored } = await generateProject(project);
      expect(result.crds).toBeGreaterThanOrEqual(3);
      if (project === "gateway-api") {
        expect(ignored).toEqual([
          'gateway-api/gateway.networking.k8s.io_vap_safeupgrades.yaml (document 1): not a CustomResourceDefinition (kind "ValidatingAdmissionPolicy"), skipped',
          'gateway-api/gateway.networking.k8s.io_vap_safeupgrades.yaml (document 2): not a CustomResourceDefinition (kind "ValidatingAdmissionPolicyBinding"), skipped',
          "gateway-api/kustomization.yaml: not a CustomResourceDefinition (no kind), skipped",
        ]);
      }
      const code = usage[project];
      const extra: Record<string, string> = code === undefined ? {} : { "src/usage.ts": code };
      const r = await compileAsConsumer(join(scratchDir, "real", project), result.files, { extra });
      expect(r.errors).toEqual([]);
      expect(r.code).toBe(0);
    },
    120_000,
  );
});
