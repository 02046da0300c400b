// The CLI: summary, in-place regeneration, --check, stale files, and errors (one line naming the file and
// JSON path, exit code 2, nothing written).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listTree, repoRoot, runCli } from "./support/helpers.ts";

const exec = promisify(execFile);
const fixture = (name: string) => join(repoRoot, "codegen/test/fixtures", name);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "codegen-cli-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A minimal valid CRD with `schemaYaml` as the spec's schema (indented under `spec:`). */
function crdYaml(kind: string, specSchema: string, group = "cli.codegen.minitask.dev"): string {
  const indented = specSchema
    .trim()
    .split("\n")
    .map((l) => `                ${l}`)
    .join("\n");
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${kind.toLowerCase()}s.${group}
spec:
  group: ${group}
  scope: Namespaced
  names:
    kind: ${kind}
    plural: ${kind.toLowerCase()}s
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
${indented}
`;
}

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe("generating", () => {
  it("writes the files, prints a short summary, and leaves unchanged files alone on a rerun", async () => {
    const out = join(dir, "out");
    const first = await runCli([fixture("roundtrip.yaml"), fixture("multiversion.yaml"), "--out", out]);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    const lines = first.out.trim().split("\n");
    expect(lines[0]).toBe(
      "codegen: 2 CRD(s), 3 kind version(s) (codegen-test.minitask.dev/v1: Gadget; " +
        "fixtures.codegen.minitask.dev/v1: Gizmo; fixtures.codegen.minitask.dev/v1alpha1: Gizmo)",
    );
    expect(lines[1]).toMatch(/^codegen: .*\/out: 14 files \(14 written, 0 unchanged, 0 deleted\) in \d+ ms$/);
    expect(lines[2]).toBe("codegen: skipped unserved versions: fixtures.codegen.minitask.dev/v1beta1 Gizmo");
    expect(listTree(out)).toContain("codegen-test.minitask.dev/v1/gadget.client.ts");

    const before = await stat(join(out, "meta.ts"));
    const second = await runCli([fixture("roundtrip.yaml"), fixture("multiversion.yaml"), "--out", out]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/14 files \(0 written, 14 unchanged, 0 deleted\)/);
    expect((await stat(join(out, "meta.ts"))).mtimeMs).toBe(before.mtimeMs);
  });

  it("reads every manifest of a folder, in name order", async () => {
    const crds = join(dir, "crds");
    await mkdir(crds);
    await writeFile(join(crds, "b.yaml"), crdYaml("Bee", "x:\n  type: string"));
    await writeFile(join(crds, "a.json"), JSON.stringify(parseLite("Ant")));
    await writeFile(join(crds, "notes.txt"), "not a manifest");
    const out = join(dir, "out");
    const r = await runCli([crds, "--out", out]);
    expect(r.err).toBe("");
    expect(r.out).toContain("(cli.codegen.minitask.dev/v1: Ant, Bee)");
    const index = await readFile(join(out, "cli.codegen.minitask.dev/v1/index.ts"), "utf8");
    expect(index.split("\n")[0]).toMatch(/from .*crds\/a\.json, .*crds\/b\.yaml\. DO NOT EDIT\.$/);
  });

  it("deletes generated files that are no longer generated, and keeps files it did not write", async () => {
    const out = join(dir, "out");
    expect((await runCli([fixture("roundtrip.yaml"), fixture("multiversion.yaml"), "--out", out])).code).toBe(0);
    await writeFile(join(out, "NOTES.md"), "hand-written\n");
    await writeFile(join(out, "helpers.ts"), "export const x = 1;\n");
    const r = await runCli([fixture("roundtrip.yaml"), "--out", out]);
    expect(r.code).toBe(0);
    // The headers name the new command line, so the kept files are rewritten too.
    expect(r.out).toMatch(/6 files \(6 written, 0 unchanged, 8 deleted\)/);
    expect(existsSync(join(out, "fixtures.codegen.minitask.dev"))).toBe(false);
    expect(listTree(out)).toEqual([
      "NOTES.md",
      "codegen-test.minitask.dev/v1/gadget.client.ts",
      "codegen-test.minitask.dev/v1/gadget.informer.ts",
      "codegen-test.minitask.dev/v1/gadget.ts",
      "codegen-test.minitask.dev/v1/index.ts",
      "helpers.ts",
      "meta.ts",
      "runtime.ts",
    ]);
  });
});

describe("inputs that are not CRDs", () => {
  it("are skipped with one line each on stderr: other kinds, kustomizations, Helm templates, non-objects", async () => {
    const crds = join(dir, "crds");
    await mkdir(crds);
    await writeFile(join(crds, "a.yaml"), crdYaml("Ant", "x:\n  type: string"));
    const vap = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\n";
    await writeFile(join(crds, "b.yaml"), `${crdYaml("Bee", "x:\n  type: string")}---\n${vap}`);
    await writeFile(join(crds, "kustomization.yaml"), "resources:\n  - a.yaml\n  - b.yaml\n");
    await writeFile(
      join(crds, "templates.yaml"),
      '{{- if .Values.crds.enabled }}\napiVersion: apiextensions.k8s.io/v1\nkind: {{ "CustomResourceDefinition" }}\n{{- end }}\n',
    );
    await writeFile(join(crds, "values.yaml"), "- just\n- a list\n");
    const out = join(dir, "out");
    const r = await runCli([crds, "--out", out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("(cli.codegen.minitask.dev/v1: Ant, Bee)");
    const warnings = r.err.trimEnd().split("\n");
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(
      /^warning: .*crds\/templates\.yaml: a template \(\{\{ … \}\}\), not YAML, skipped \(invalid YAML at line \d+, column \d+: .+\)$/,
    );
    expect(warnings.slice(1)).toEqual([
      expect.stringMatching(
        /^warning: .*crds\/b\.yaml \(document 2\): not a CustomResourceDefinition \(kind "ValidatingAdmissionPolicy"\), skipped$/,
      ),
      expect.stringMatching(
        /^warning: .*crds\/kustomization\.yaml: not a CustomResourceDefinition \(no kind\), skipped$/,
      ),
      expect.stringMatching(
        /^warning: .*crds\/values\.yaml: not a CustomResourceDefinition: the document is not an object, skipped$/,
      ),
    ]);
    expect(listTree(out)).toContain("cli.codegen.minitask.dev/v1/bee.ts");
    // --quiet keeps them out of the output too.
    const quiet = await runCli([crds, "--out", out, "--quiet"]);
    expect(quiet).toEqual({ code: 0, out: "", err: "" });
  });

  it("are still an error when nothing else is left", async () => {
    const r = await runCli([await write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\n"), "--out", join(dir, "out")]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n").slice(0, 2)).toEqual([
      expect.stringMatching(/^warning: .*cm\.yaml: not a CustomResourceDefinition \(kind "ConfigMap"\), skipped$/),
      "error: no CustomResourceDefinitions in the inputs",
    ]);
  });
});

describe("--import-extension", () => {
  const relativeImports = (text: string) => [...text.matchAll(/from "(\.[^"]*)"/g)].map((m) => m[1]);

  it("writes .js on relative imports by default, .ts or none when asked, and names a non-default in headers", async () => {
    const kinds = (out: string) => readFile(join(out, "codegen-test.minitask.dev/v1/index.ts"), "utf8");
    const client = (out: string) => readFile(join(out, "codegen-test.minitask.dev/v1/gadget.client.ts"), "utf8");
    const byDefault = join(dir, "js");
    expect((await runCli([fixture("roundtrip.yaml"), "--out", byDefault])).code).toBe(0);
    expect(relativeImports(await kinds(byDefault))).toEqual([
      "../../meta.js",
      "../../runtime.js",
      "./gadget.client.js",
      "./gadget.informer.js",
      "./gadget.js",
    ]);
    expect(relativeImports(await client(byDefault))).toEqual(["../../runtime.js", "./gadget.js"]);
    expect(await client(byDefault)).not.toContain("--import-extension");

    const ts = join(dir, "ts");
    expect((await runCli([fixture("roundtrip.yaml"), "--out", ts, "--import-extension", "ts"])).code).toBe(0);
    expect(relativeImports(await client(ts))).toEqual(["../../runtime.ts", "./gadget.ts"]);
    expect((await client(ts)).split("\n")[1]).toMatch(/--out .*\/ts --import-extension ts`\.$/);

    const none = join(dir, "none");
    expect((await runCli([fixture("roundtrip.yaml"), "--out", none, "--import-extension", "none"])).code).toBe(0);
    expect(relativeImports(await kinds(none))).toEqual([
      "../../meta",
      "../../runtime",
      "./gadget",
      "./gadget.client",
      "./gadget.informer",
    ]);
  });

  it("rejects other values", async () => {
    const r = await runCli([fixture("roundtrip.yaml"), "--out", join(dir, "x"), "--import-extension", "mjs"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--import-extension <ext>' argument 'mjs' is invalid\. Allowed choices are js, ts, none/);
  });

  it("keeps .ts for this repository's own generation (no inputs, default --out)", async () => {
    const index = await readFile(
      join(repoRoot, "packages/taskrunner/src/generated/minitask.myorg.dev/v1/index.ts"),
      "utf8",
    );
    expect(relativeImports(index).every((s) => s?.endsWith(".ts"))).toBe(true);
    expect(index.split("\n")[1]).toBe("// Regenerate with `npm run codegen`.");
    const check = await runCli(["--check", "--quiet"]);
    expect(check.err).toBe("");
    expect(check.code).toBe(0);
  });
});

describe("--check", () => {
  it("passes when up to date, and fails listing missing, changed and stale files without writing anything", async () => {
    const out = join(dir, "out");
    const args = [fixture("roundtrip.yaml"), "--out", out];
    const missing = await runCli([...args, "--check"]);
    expect(missing.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(missing.err).toContain("  missing  codegen-test.minitask.dev/v1/gadget.ts\n");

    expect((await runCli(args)).code).toBe(0);
    const ok = await runCli([...args, "--check"]);
    expect(ok.code).toBe(0);
    expect(ok.err).toBe("");
    expect(ok.out).toMatch(/^codegen --check: 6 generated files in .* are up to date\n$/);

    const gadget = join(out, "codegen-test.minitask.dev/v1/gadget.ts");
    const edited = `${await readFile(gadget, "utf8")}// edited by hand\n`;
    await writeFile(gadget, edited);
    await unlink(join(out, "meta.ts"));
    const header = "// Code generated by @minitask/codegen from crds/old.yaml. DO NOT EDIT.\n";
    await mkdir(join(out, "old.example.com/v1"), { recursive: true });
    await writeFile(join(out, "old.example.com/v1/old.ts"), `${header}export {};\n`);

    const drift = await runCli([...args, "--check"]);
    expect(drift.code).toBe(1);
    expect(drift.out).toBe("");
    const lines = drift.err.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^codegen --check: 3 generated file\(s\) in .*out are out of date:$/);
    expect(lines.slice(1, 4)).toEqual([
      "  missing  meta.ts",
      "  changed  codegen-test.minitask.dev/v1/gadget.ts",
      "  stale    old.example.com/v1/old.ts",
    ]);
    expect(lines[4]).toMatch(/^Run `npm run codegen -- .*roundtrip\.yaml --out .*` to regenerate\.$/);
    // Nothing was written or deleted.
    expect(await readFile(gadget, "utf8")).toBe(edited);
    expect(existsSync(join(out, "meta.ts"))).toBe(false);
    expect(existsSync(join(out, "old.example.com/v1/old.ts"))).toBe(true);
  });
});

describe("errors: one line with the file and JSON path, exit code 2, nothing written", () => {
  const cases: [string, string, RegExp][] = [
    [
      "invalid YAML",
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: [unclosed\n",
      /^error: .*bad\.yaml: invalid YAML at line \d+, column \d+: .+$/,
    ],
    [
      "a CRD of an older API version",
      crdYaml("Old", "x:\n  type: string").replace("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1"),
      /^error: .*bad\.yaml: \$\.apiVersion: unsupported apiVersion "apiextensions.k8s.io\/v1beta1" \(need apiextensions.k8s.io\/v1\)$/,
    ],
    [
      "a $ref",
      crdYaml("Ref", 'x:\n  $ref: "#/definitions/x"'),
      /^error: .*bad\.yaml: \$\.spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\.spec\.properties\.x\.\$ref: unsupported schema keyword \$ref \(CRD schemas must be self-contained\)$/,
    ],
    [
      "a node without a type (not structural)",
      crdYaml("NoType", "x:\n  description: what am I?"),
      /^error: .*bad\.yaml: \$\.spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\.spec\.properties\.x: schema without type \(not structural\): .+$/,
    ],
    [
      "properties together with additionalProperties",
      crdYaml(
        "Both",
        "x:\n  type: object\n  properties:\n    a:\n      type: string\n  additionalProperties:\n    type: string",
      ),
      /\.properties\.x\.additionalProperties: properties and additionalProperties cannot be combined$/,
    ],
    [
      "tuple items",
      crdYaml("Tuple", "x:\n  type: array\n  items:\n    - type: string"),
      /\.properties\.x\.items: tuple schemas \(items as a list\) are not supported$/,
    ],
    ["an unknown type", crdYaml("File", "x:\n  type: file"), /\.properties\.x\.type: unsupported type "file"$/],
    [
      "an array without items",
      crdYaml("NoItems", 'x:\n  type: array\n  "y-name":\n    type: string'),
      /\.properties\.x: array schema without items$/,
    ],
    [
      "a bad list type",
      crdYaml("ListType", "x:\n  type: array\n  x-kubernetes-list-type: bag\n  items:\n    type: string"),
      /\.properties\.x\.x-kubernetes-list-type: unknown list type "bag"$/,
    ],
    [
      "a kind that shadows a TypeScript type",
      crdYaml("Record", "x:\n  type: string"),
      /\$\.spec\.names\.kind: kind Record would shadow the TypeScript type Record$/,
    ],
    [
      "a bad document in a multi-document file",
      `${crdYaml("Good", "x:\n  type: string")}---\n${crdYaml("Bad", "x:\n  type: file")}`,
      /^error: .*bad\.yaml \(document 2\): \$\.spec\.versions\[0\].*\.type: unsupported type "file"$/,
    ],
  ];

  it.each(cases)("%s", async (_what, text, message) => {
    const bad = await write("bad.yaml", text);
    const out = join(dir, "out");
    const r = await runCli([fixture("roundtrip.yaml"), bad, "--out", out]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err.endsWith("\n")).toBe(true);
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expect(r.err.trimEnd()).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it("with --strict, a document that is not a CRD", async () => {
    const bad = await write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}\n");
    const out = join(dir, "out");
    const r = await runCli([fixture("roundtrip.yaml"), bad, "--out", out, "--strict"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: .*bad\.yaml: \$\.kind: not a CustomResourceDefinition \(kind "ConfigMap"\)\n$/);
    expect(existsSync(out)).toBe(false);
    const template = await write("crd-template.yaml", "{{- if .Values.crds }}\napiVersion: v1\n{{- end }}\n");
    const t = await runCli([fixture("roundtrip.yaml"), template, "--out", out, "--strict"]);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/^error: .*crd-template\.yaml: invalid YAML at line 1, column \d+: .+\n$/);
  });

  it("a kind defined twice", async () => {
    const a = await write("a.yaml", crdYaml("Twice", "x:\n  type: string"));
    const b = await write("b.yaml", crdYaml("Twice", "y:\n  type: string"));
    const r = await runCli([a, b, "--out", join(dir, "out")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^error: .*b\.yaml: \$\.spec\.names\.kind: kind Twice of group .* is also defined in .*a\.yaml\n$/,
    );
  });

  it("a missing input, or no CRDs at all", async () => {
    const missing = await runCli([join(dir, "nope.yaml"), "--out", join(dir, "out")]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^error: .*nope\.yaml: cannot read: ENOENT: .+\n$/);
    const empty = await runCli([await write("empty.yaml", "# nothing\n"), "--out", join(dir, "out")]);
    expect(empty.code).toBe(2);
    expect(empty.err).toBe("error: no CustomResourceDefinitions in the inputs\n");
  });

  it("leaves an existing output folder exactly as it was", async () => {
    const out = join(dir, "out");
    expect((await runCli([fixture("roundtrip.yaml"), "--out", out])).code).toBe(0);
    const before = await Promise.all(listTree(out).map(async (f) => [f, await readFile(join(out, f), "utf8")]));
    const bad = await write("bad.yaml", crdYaml("Bad", "x:\n  type: file"));
    const r = await runCli([fixture("multiversion.yaml"), bad, "--out", out]);
    expect(r.code).toBe(2);
    const after = await Promise.all(listTree(out).map(async (f) => [f, await readFile(join(out, f), "utf8")]));
    expect(after).toEqual(before);
  });

  it("as a process: exit code 2 and a single line on stderr", async () => {
    const bad = await write("bad.yaml", "kind: [\n");
    const cli = join(repoRoot, "codegen/src/cli.ts");
    const r = await exec(process.execPath, ["--conditions=minitask-source", cli, bad, "--out", join(dir, "out")]).then(
      () => ({ code: 0, stdout: "", stderr: "" }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: .*bad\.yaml: invalid YAML at line \d+, column \d+: [^\n]+\n$/);
  });
});

/** A small CRD as an object (for the JSON input test). */
function parseLite(kind: string): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${kind.toLowerCase()}s.cli.codegen.minitask.dev` },
    spec: {
      group: "cli.codegen.minitask.dev",
      scope: "Namespaced",
      names: { kind, plural: `${kind.toLowerCase()}s` },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object" } } } },
        },
      ],
    },
  };
}
