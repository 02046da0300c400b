// The packages as other projects get them: `npm run build`, `npm pack` of every public workspace, and an
// install of the tarballs into a fresh project outside the workspace (its own package.json, a standard
// NodeNext tsconfig that emits, no custom conditions, typescript and @types/node of its own). In that
// project: every bin runs from node_modules/.bin; minitask-codegen generates a CRD's client, lister and
// informer; tsc compiles the generated code with a controller built from the public APIs (a typed built-in
// informer from @minitask/api, a @minitask/workqueue queue, a Controller in a Manager); and node:test runs it
// against a control plane of its own from the installed @minitask/envtest until a Widget is reconciled.
// The project is tools/consumer/ (copied); each step prints its duration.
import { execFile } from "node:child_process";
import { cpSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TEMPLATE = join(ROOT, "tools/consumer");

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  types?: string;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;
const rootPkg = readJson<PackageJson>(join(ROOT, "package.json"));
const lock = readJson<{ packages: Record<string, { version?: string }> }>(join(ROOT, "package-lock.json"));
/** The workspaces other projects install: every one without `"private": true`. */
const PUBLIC = (rootPkg.workspaces ?? [])
  .map((dir) => ({ dir, pkg: readJson<PackageJson>(join(ROOT, dir, "package.json")) }))
  .filter((w) => w.pkg.private !== true);

/** The environment of npm and the project's tools: none of the outer `npm test`'s npm_* settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("npm_") && !["npm_config_cache", "npm_config_registry", "npm_config_userconfig"].includes(k)) {
      continue;
    }
    if (k === "KUBECONFIG" || k === "MINITASK_ENVTEST_KUBECONFIG" || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  return env;
}

/** Runs a command; resolves with its output and how long it took; rejects with all of its output. */
async function sh(cmd: string, args: readonly string[], cwd: string) {
  const t0 = performance.now();
  try {
    const r = await run(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 });
    const ms = Math.round(performance.now() - t0);
    return { stdout: r.stdout, stderr: r.stderr, ms };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

const timings: string[] = [];
const step = (what: string, ms: number) => {
  timings.push(`${what} ${(ms / 1000).toFixed(1)} s`);
  process.stderr.write(`consumer: ${what} in ${(ms / 1000).toFixed(1)} s\n`);
};

const work = mkdtempSync(join(tmpdir(), "minitask-consumer-"));
const tarballs = join(work, "tarballs");
const project = join(work, "project");
afterAll(() => {
  process.stderr.write(`consumer: ${timings.join(", ")}\n`);
  rmSync(work, { recursive: true, force: true });
});

interface Packed {
  name: string;
  version: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}
let packed: Packed[] = [];

describe("the packages as another project installs them", () => {
  it("build dist/ and pack every public package, whose exports, types and bins are in the tarball", async () => {
    expect(PUBLIC.map((w) => w.pkg.name).sort()).toEqual([
      "@minitask/api",
      "@minitask/client",
      "@minitask/codegen",
      "@minitask/controller",
      "@minitask/envtest",
      "@minitask/informers",
      "@minitask/taskrunner",
      "@minitask/workqueue",
    ]);
    step("npm run build", (await sh("npm", ["run", "-s", "build"], ROOT)).ms);
    const args = ["pack", "--json", "--pack-destination", tarballs, ...PUBLIC.flatMap((w) => ["-w", w.pkg.name])];
    rmSync(tarballs, { recursive: true, force: true });
    cpSync(TEMPLATE, project, { recursive: true }); // also makes `work` non-empty before pack writes into it
    await run("mkdir", ["-p", tarballs]);
    const r = await sh("npm", args, ROOT);
    step("npm pack", r.ms);
    packed = JSON.parse(r.stdout) as Packed[];
    expect(packed.map((p) => p.name).sort()).toEqual(PUBLIC.map((w) => w.pkg.name).sort());
    for (const { pkg } of PUBLIC) {
      const p = packed.find((x) => x.name === pkg.name) as Packed;
      const files = new Set(p.files.map((f) => f.path));
      const targets: string[] = [];
      for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
        const conditions = typeof target === "string" ? { default: target } : target;
        for (const [condition, file] of Object.entries(conditions)) {
          if (condition === "minitask-source") continue;
          // A subpath pattern (`./*`): check it for one of the package's folders.
          targets.push(sub.includes("*") ? file.replace("*", "core/v1") : file);
        }
      }
      if (pkg.types) targets.push(pkg.types);
      for (const t of targets) expect(files.has(t.replace(/^\.\//, "")), `${pkg.name}: ${t} is packed`).toBe(true);
      for (const [bin, file] of Object.entries(pkg.bin ?? {})) {
        expect(files.has(file.replace(/^\.\//, "")), `${pkg.name}: bin ${bin} (${file}) is packed`).toBe(true);
      }
    }
    const sizes = packed.map((p) => `${p.name} ${(p.size / 1024).toFixed(0)} KiB`);
    process.stderr.write(`consumer: tarballs: ${sizes.join(", ")}\n`);
  }, 600_000);

  it("install into a fresh project outside the workspace; peer ranges hold", async () => {
    const deps: Record<string, string> = {};
    for (const p of packed) deps[p.name] = `file:${join(tarballs, p.filename)}`;
    const version = (name: string) => lock.packages[`node_modules/${name}`]?.version ?? "latest";
    const pkg = {
      name: "minitask-consumer",
      version: "1.0.0",
      private: true,
      type: "module",
      scripts: { build: "tsc -p .", test: "node --test dist/**/*.test.js" },
      dependencies: deps,
      // @types/ws: @minitask/client's typings name @kubernetes/client-node's KubeConfig, whose typings import
      // `ws` (through isomorphic-ws); with skipLibCheck off, as here, a project needs ws's types too.
      devDependencies: {
        typescript: version("typescript"),
        "@types/node": version("@types/node"),
        "@types/ws": version("@types/ws"),
      },
    };
    writeFileSync(join(project, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
    const r = await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], project);
    step("npm install", r.ms);
    // Real copies, not links into the workspace; and `npm ls` finds no missing or invalid (peer) dependency.
    for (const p of packed) expect(lstatSync(join(project, "node_modules", p.name)).isSymbolicLink()).toBe(false);
    await sh("npm", ["ls", "--all"], project);
  }, 600_000);

  it("every bin runs from node_modules/.bin", async () => {
    const bin = (name: string) => join(project, "node_modules/.bin", name);
    const t0 = performance.now();
    for (const { pkg } of PUBLIC) {
      for (const name of Object.keys(pkg.bin ?? {})) {
        // kubectl's completion helper prints the commands it completes when given nothing.
        const args = name === "kubectl_complete-task" ? [] : ["--help"];
        const r = await sh(bin(name), args, project);
        expect(r.stdout, `${name} ${args.join(" ")}`).toMatch(
          name === "kubectl_complete-task" ? /^start$/m : /Usage: /,
        );
      }
    }
    expect((await sh(bin("kubectl-task"), ["--version"], project)).stdout).toMatch(/^kubectl-task 0\.1\.0/);
    expect((await sh(bin("minitask-controller"), ["--version"], project)).stdout).toMatch(/0\.1\.0/);
    expect((await sh(bin("minitask-codegen"), ["--help"], project)).stdout).toContain("Usage: minitask-codegen");
    expect((await sh(bin("minitask-envtest"), ["--help"], project)).stdout).toContain("up");
    step("bins", performance.now() - t0);
  }, 120_000);

  it("minitask-codegen generates a CRD's code, and tsc compiles it with the controller (NodeNext, emit)", async () => {
    const gen = await sh(
      join(project, "node_modules/.bin/minitask-codegen"),
      ["crds", "--out", "src/generated"],
      project,
    );
    step("minitask-codegen", gen.ms);
    expect(gen.stdout).toContain("consumer.minitask.dev/v1: Widget");
    const tsc = await sh(join(project, "node_modules/.bin/tsc"), ["-p", "."], project);
    step("tsc", tsc.ms);
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(lstatSync(join(project, "dist/generated/consumer.minitask.dev/v1/widget.client.d.ts")).isFile()).toBe(true);
  }, 300_000);

  it("the controller reconciles a Widget on a control plane of the installed @minitask/envtest (node:test)", async () => {
    const r = await sh(process.execPath, ["--test", "--test-reporter=tap", "dist/**/*.test.js"], project);
    step("node --test (control plane, controller, reconcile)", r.ms);
    expect(r.stdout).toMatch(/^# pass 1$/m);
    expect(r.stdout).toMatch(/^# fail 0$/m);
  }, 300_000);
});
