// Shared by the codegen tests: paths, generating a fixture exactly as `npm run codegen` would, reading
// output trees, and running the CLI in-process.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CliIo, main } from "../../src/cli.ts";
import { findBiome, formatWithBiome } from "../../src/format.ts";
import { type GeneratedFile, type GenerateResult, generate } from "../../src/generate.ts";
import { readManifestFile } from "../../src/load.ts";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const fixturesDir = join(repoRoot, "codegen/test/fixtures");
export const goldenDir = join(repoRoot, "codegen/test/golden");

/** The small fixtures that have goldens (every `fixtures/*.yaml`), by name without extension. */
export function fixtureNames(): string[] {
  return readdirSync(fixturesDir)
    .filter((n) => n.endsWith(".yaml"))
    .map((n) => n.slice(0, -".yaml".length))
    .sort();
}

/** Generates a fixture as `npm run codegen -- codegen/test/fixtures/NAME.yaml --out codegen/test/golden/NAME`. */
export async function generateFixture(
  name: string,
  file = `codegen/test/fixtures/${name}.yaml`,
): Promise<{ result: GenerateResult; files: GeneratedFile[] }> {
  const docs = await readManifestFile(join(repoRoot, file), file);
  const result = generate(docs, { command: `npm run codegen -- ${file} --out codegen/test/golden/${name}` });
  const biome = findBiome(repoRoot);
  if (biome === undefined) throw new Error("Biome is not installed in the repository");
  return { result, files: await formatWithBiome(result.files, biome) };
}

/** Every file under `dir` (relative paths with `/`), sorted. */
export function listTree(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...listTree(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** The text of one generated file. */
export function fileText(files: readonly GeneratedFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no generated file ${path} (have ${files.map((x) => x.path).join(", ")})`);
  return f.content;
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

/** Runs the CLI in-process; resolves with its exit code and output. */
export async function runCli(
  args: readonly string[],
  cwd = repoRoot,
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    cwd,
  };
  const code = await main(args, io);
  return { code, out, err };
}

/** `tsc` of the repository (TypeScript 7). */
export const tscBin = join(repoRoot, "node_modules/.bin/tsc");
