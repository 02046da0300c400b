#!/usr/bin/env node
// minitask-codegen: CRD manifests (or CRDs on a cluster) → typed models, clients, listers and informers.
//
//   npm run codegen                         regenerate packages/taskrunner/src/generated from crds/
//   npm run codegen -- --check              exit 1 (listing the files) when the generated code is stale
//   npm run codegen -- a.yaml --out DIR     other inputs / output folder
//   npm run codegen -- --from-cluster tasks.minitask.myorg.dev --out DIR
//   npm run codegen -- openapi/ --out DIR   the apiserver's OpenAPI v3 documents (built-in kinds, see builtin.ts)
//
// With no inputs and no --out, it is this repository's own generation: crds/ → packages/taskrunner/src/generated
// and packages/api/openapi → packages/api/src (@minitask/api), both with `.ts` imports.
//
// Exit codes: 0 done (or up to date), 1 `--check` found differences, 2 a CRD cannot be generated (one line
// naming the file and JSON path; nothing is written).
import { existsSync, realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { CodegenError } from "./errors.ts";
import { findBiome, formatWithBiome } from "./format.ts";
import { type GenerateResult, generate, IMPORT_EXTENSIONS, type ImportExtension } from "./generate.ts";
import { displayPath, expandInputs, type InputDocument, readManifestFile } from "./load.ts";
import { apply, plan } from "./write.ts";

export const DEFAULT_INPUT = "crds";
export const DEFAULT_OUT = "packages/taskrunner/src/generated";
/** This repository's built-in APIs: the apiserver's OpenAPI documents → `@minitask/api`. */
export const API_INPUT = "packages/api/openapi";
export const API_OUT = "packages/api/src";
/** Extension of generated relative imports: what a standard `NodeNext` project needs. */
export const DEFAULT_IMPORT_EXTENSION: ImportExtension = "js";
/**
 * This repository's own generation (`npm run codegen` with no inputs and no `--out`: `crds/` →
 * `packages/taskrunner/src/generated`) keeps `.ts` imports: the repository runs its TypeScript directly
 * and compiles with `rewriteRelativeImportExtensions`.
 */
export const REPOSITORY_IMPORT_EXTENSION: ImportExtension = "ts";

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
};

interface Options {
  out: string;
  check?: boolean;
  fromCluster?: string[];
  kubeconfig?: string;
  context?: string;
  quiet?: boolean;
  format: boolean;
  importExtension?: ImportExtension;
  strict?: boolean;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = new Command("minitask-codegen")
    .description(
      "Generate typed TypeScript models, clients, listers and informers from CRD OpenAPI v3 schemas " +
        "(or from the apiserver's OpenAPI v3 documents of built-in group/versions).",
    )
    .argument(
      "[inputs...]",
      `CRD manifests or OpenAPI v3 documents (JSON), files or folders (default: ${DEFAULT_INPUT}/ unless --from-cluster)`,
    )
    .option("-o, --out <dir>", "output folder", DEFAULT_OUT)
    .option("--check", "write nothing; exit 1 listing the files that would change")
    .option("--from-cluster <names...>", "read these CustomResourceDefinitions from the cluster (raw JSON)")
    .option("--kubeconfig <path>", "kubeconfig for --from-cluster")
    .option("--context <name>", "kubeconfig context for --from-cluster")
    .addOption(
      new Option(
        "--import-extension <ext>",
        `extension of generated relative imports (default: ${DEFAULT_IMPORT_EXTENSION}; ` +
          `${REPOSITORY_IMPORT_EXTENSION} for this repository's own generation, without inputs and --out)`,
      ).choices(IMPORT_EXTENSIONS),
    )
    .option("--strict", "fail on input documents that are not CRDs (default: skip them with a warning)")
    .option("--no-format", "do not format the output with the repository's Biome")
    .option("-q, --quiet", "print nothing but errors and --check findings")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  let inputs: string[];
  let opts: Options;
  let defaultExtension: ImportExtension;
  try {
    program.parse(argv, { from: "user" });
    inputs = program.args;
    opts = program.opts<Options>();
    const out = displayPath(isAbsolute(opts.out) ? opts.out : resolve(io.cwd, opts.out), io.cwd);
    const repository = inputs.length === 0 && opts.fromCluster === undefined && out === DEFAULT_OUT;
    defaultExtension = repository ? REPOSITORY_IMPORT_EXTENSION : DEFAULT_IMPORT_EXTENSION;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }

  const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
  const jobs: Job[] = [{ inputs, out: opts.out, command: headerCommand(inputs, opts, io.cwd, defaultExtension) }];
  // This repository's own generation also makes @minitask/api from the apiserver's OpenAPI documents.
  if (defaultExtension === REPOSITORY_IMPORT_EXTENSION && existsSync(abs(API_INPUT))) {
    jobs.push({ inputs: [API_INPUT], out: API_OUT, command: "npm run codegen", builtins: true });
  }
  let code = 0;
  for (const job of jobs) code = Math.max(code, await runJob(job, opts, io, defaultExtension));
  return code;
}

/** One generation: inputs → an output folder. */
interface Job {
  readonly inputs: readonly string[];
  readonly out: string;
  /** The command shown in file headers. */
  readonly command: string;
  /** This repository's built-in APIs: their inputs are OpenAPI documents, and `--from-cluster` is not for them. */
  readonly builtins?: boolean;
}

async function runJob(job: Job, opts: Options, io: CliIo, defaultExtension: ImportExtension): Promise<number> {
  const started = performance.now();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(io.cwd, p));
  try {
    const explicitInputs = job.inputs.length > 0;
    const fromCluster = job.builtins ? undefined : opts.fromCluster;
    const fileInputs = explicitInputs ? job.inputs : fromCluster ? [] : [DEFAULT_INPUT];
    const docs: InputDocument[] = [];
    const warn = (line: string) => {
      if (!opts.quiet) io.stderr(`warning: ${line}\n`);
    };
    const strict = opts.strict === true;
    for (const file of await expandInputs(fileInputs.map(abs))) {
      docs.push(...(await readManifestFile(file, displayPath(file, io.cwd), { strict, onIgnored: warn })));
    }
    if (fromCluster !== undefined) {
      docs.push(...(await readFromCluster(fromCluster, opts)));
    }
    const command = job.command;
    const importExtension = opts.importExtension ?? defaultExtension;
    const result = generate(docs, { command, importExtension, strict });
    for (const line of result.ignored) warn(line);
    if (result.crds === 0 && result.openapi === 0) {
      io.stderr("error: no CustomResourceDefinitions in the inputs\n");
      return 2;
    }
    const outDir = abs(job.out);
    const outShown = displayPath(outDir, io.cwd);
    const biome = opts.format ? (findBiome(outDir) ?? findBiome(io.cwd)) : undefined;
    const files = biome === undefined ? result.files : await formatWithBiome(result.files, biome);
    const p = await plan(outDir, files);
    if (opts.check) {
      const stale = p.added.length + p.changed.length + p.deleted.length;
      if (stale === 0) {
        if (!opts.quiet)
          io.stdout(`codegen --check: ${result.files.length} generated files in ${outShown} are up to date\n`);
        return 0;
      }
      io.stderr(`codegen --check: ${stale} generated file(s) in ${outShown} are out of date:\n`);
      for (const f of p.added) io.stderr(`  missing  ${f}\n`);
      for (const f of p.changed) io.stderr(`  changed  ${f}\n`);
      for (const f of p.deleted) io.stderr(`  stale    ${f}\n`);
      io.stderr(`Run \`${command}\` to regenerate.\n`);
      return 1;
    }
    await apply(outDir, files, p);
    if (!opts.quiet)
      io.stdout(summary(result, outShown, p, Math.round(performance.now() - started), biome !== undefined));
    return 0;
  } catch (err) {
    io.stderr(`error: ${oneLine(err)}\n`);
    return 2;
  }
}

function summary(
  result: GenerateResult,
  outShown: string,
  p: { added: readonly string[]; changed: readonly string[]; unchanged: readonly string[]; deleted: readonly string[] },
  ms: number,
  formatted: boolean,
): string {
  const byGv = new Map<string, string[]>();
  for (const k of result.kinds) {
    const key = k.group === "" ? k.version : `${k.group}/${k.version}`;
    byGv.set(key, [...(byGv.get(key) ?? []), k.kind]);
  }
  const gvs = [...byGv].map(([gv, kinds]) => `${gv}: ${kinds.join(", ")}`).join("; ");
  const lines = [
    result.openapi > 0
      ? `codegen: ${result.crds} CRD(s), ${result.openapi} OpenAPI document(s), ${result.kinds.length} kind version(s) (${gvs})`
      : `codegen: ${result.crds} CRD(s), ${result.kinds.length} kind version(s) (${gvs})`,
    `codegen: ${outShown}: ${result.files.length} files (${p.added.length + p.changed.length} written, ` +
      `${p.unchanged.length} unchanged, ${p.deleted.length} deleted) in ${ms} ms${formatted ? "" : " (not formatted: no Biome found)"}`,
  ];
  if (result.skipped.length > 0) lines.push(`codegen: skipped unserved versions: ${result.skipped.join(", ")}`);
  if (result.leftOut.length > 0) {
    lines.push(`codegen: left out (informers need list and watch): ${result.leftOut.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The command shown in headers: `npm run codegen`, plus the arguments that shape the output. */
function headerCommand(
  inputs: readonly string[],
  opts: Options,
  cwd: string,
  defaultExtension: ImportExtension,
): string {
  const args: string[] = [];
  for (const i of inputs) args.push(displayPath(isAbsolute(i) ? i : resolve(cwd, i), cwd));
  if (opts.fromCluster !== undefined) args.push("--from-cluster", ...opts.fromCluster);
  const out = displayPath(isAbsolute(opts.out) ? opts.out : resolve(cwd, opts.out), cwd);
  if (out !== DEFAULT_OUT) args.push("--out", out);
  const ext = opts.importExtension;
  if (ext !== undefined && ext !== defaultExtension) args.push("--import-extension", ext);
  return args.length === 0 ? "npm run codegen" : `npm run codegen -- ${args.join(" ")}`;
}

/** Reads CRDs from the apiserver as raw JSON (no client-node models: they rename schema keys). */
async function readFromCluster(names: readonly string[], opts: Options): Promise<InputDocument[]> {
  const { KubeClient, builtinResources } = await import("@minitask/client");
  const kube = KubeClient.load({ kubeconfig: opts.kubeconfig, context: opts.context });
  try {
    const crds = kube.resource(builtinResources.customResourceDefinitions);
    const docs: InputDocument[] = [];
    for (const name of names) {
      let value: unknown;
      try {
        value = await crds.get(name);
      } catch (err) {
        throw new CodegenError({ source: `cluster:${name}` }, undefined, `cannot read the CRD: ${oneLine(err)}`);
      }
      docs.push({ source: `cluster:${name}`, document: undefined, basePath: [], value });
    }
    return docs;
  } finally {
    await kube.close();
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? text;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await main(process.argv.slice(2));
}

export { CodegenError };
