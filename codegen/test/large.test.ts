// Large, real-world-style CRDs (fixtures/large, built by support/large-fixtures.ts): deeply nested,
// hundreds of fields, several versions. Each is generated, formatted and typechecked; the generation
// time is measured and printed (never asserted: timings belong in benchmarks, not tests).
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { findBiome, formatWithBiome } from "../src/format.ts";
import { generate } from "../src/generate.ts";
import { isRecord, readManifestFile } from "../src/load.ts";
import { repoRoot, tscBin } from "./support/helpers.ts";
import { largeFixtures } from "./support/large-fixtures.ts";

const run = promisify(execFile);
const outRoot = join(repoRoot, "codegen/.out/large");
const timings: string[] = [];

/** Number of properties and the deepest nesting of a schema. */
function measure(schema: unknown, depth = 0): { fields: number; depth: number } {
  if (!isRecord(schema)) return { fields: 0, depth };
  let fields = 0;
  let deepest = depth;
  const visit = (child: unknown, d: number) => {
    const m = measure(child, d);
    fields += m.fields;
    deepest = Math.max(deepest, m.depth);
  };
  if (isRecord(schema.properties)) {
    for (const p of Object.values(schema.properties)) {
      fields++;
      visit(p, depth + 1);
    }
  }
  if (schema.items !== undefined) visit(schema.items, depth + 1);
  if (isRecord(schema.additionalProperties)) visit(schema.additionalProperties, depth + 1);
  return { fields, depth: deepest };
}

describe.each(Object.keys(largeFixtures()))("large CRD %s", (file) => {
  it("is generated (and formatted) into typed code", async () => {
    const path = `codegen/test/fixtures/large/${file}`;
    const started = performance.now();
    const docs = await readManifestFile(join(repoRoot, path), path);
    const parsed = performance.now();
    const result = generate(docs);
    const generated = performance.now();
    const biome = findBiome(repoRoot);
    if (biome === undefined) throw new Error("Biome is not installed");
    const files = await formatWithBiome(result.files, biome);
    const formatted = performance.now();

    const crd = docs[0]?.value as { spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] } };
    const sizes = crd.spec.versions.map((v) => measure(v.schema.openAPIV3Schema));
    const fields = sizes.reduce((n, s) => n + s.fields, 0);
    const depth = Math.max(...sizes.map((s) => s.depth));
    const lines = files.reduce((n, f) => n + f.content.split("\n").length, 0);
    timings.push(
      `${file}: ${crd.spec.versions.length} versions, ${fields} fields, depth ${depth} → ${files.length} files, ` +
        `${lines} lines in ${(formatted - started).toFixed(0)} ms (parse ${(parsed - started).toFixed(0)} ms, ` +
        `generate ${(generated - parsed).toFixed(0)} ms, Biome ${(formatted - generated).toFixed(0)} ms)`,
    );

    expect(fields).toBeGreaterThan(300);
    expect(depth).toBeGreaterThanOrEqual(6);
    expect(result.kinds.map((k) => k.version)).toEqual(crd.spec.versions.map((v) => v.name).sort());
    const dir = join(outRoot, file.replace(/\.yaml$/, ""));
    await rm(dir, { recursive: true, force: true });
    for (const f of files) {
      await mkdir(dirname(join(dir, f.path)), { recursive: true });
      await writeFile(join(dir, f.path), f.content);
    }
    // The committed fixture is what its builder makes.
    expect(docs[0]?.value).toEqual(largeFixtures()[file]);
  }, 60_000);
});

describe("large CRDs", () => {
  afterAll(() => {
    console.log(`codegen generation times:\n  ${timings.join("\n  ")}`);
  });

  it("generate code that passes tsc in strict mode", async () => {
    await writeFile(
      join(outRoot, "tsconfig.json"),
      JSON.stringify({
        extends: "../../../tsconfig.base.json",
        compilerOptions: { noEmit: true },
        include: ["**/*.ts"],
      }),
    );
    const r = await run(tscBin, ["-p", join(outRoot, "tsconfig.json")], { cwd: repoRoot }).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        out: `${e.stdout}${e.stderr}`,
      }),
    );
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  }, 60_000);
});
