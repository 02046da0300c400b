// npm run build:plugin [-- --force]
//
// `kubectl task` as one file a user installs like tkn, with no Node.js on the machine: the plugin
// (packages/taskrunner/src/cli/kubectl-task.ts and everything it imports) bundled by esbuild into one
// CommonJS script, made into a Node.js single executable application (SEA) — `node
// --experimental-sea-config` writes the preparation blob, postject injects it into a copy of this node
// binary (stripped of its symbol tables) — plus the krew archive and manifest that point at it:
//
//   dist/bin/kubectl-task                                  the executable (linux-x64, the platform built here)
//   dist/bin/kubectl_complete-task                         a symlink to it: kubectl's completion hook
//   dist/krew/kubectl-task_<version>_linux_amd64.tar.gz    the release archive (reproducible: fixed owner,
//                                                          mode and mtime, gzip without a timestamp)
//   dist/krew/plugins/task.yaml                            the krew manifest (krew-index layout), sha256 filled in
//
// The git commit is baked into the bundle (`kubectl task --version`). esbuild runs every time (well under a
// second); the executable and the archive are only rebuilt when the bundle, the node binary or this script
// changed (dist/bin/.kubectl-task.stamp.json), so tests can call `buildPlugin()` freely.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin } from "esbuild";
import { stringify } from "yaml";
import { VERSION } from "../packages/taskrunner/src/version.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ENTRY = join(ROOT, "packages/taskrunner/src/cli/kubectl-task.ts");

/** The fuse Node.js looks for to know that a blob was injected (documented for SEA, checked by postject). */
export const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** Where the release archives would be downloaded from (GitHub releases of the project, tag v<version>). */
export const HOMEPAGE = "https://github.com/myorg/minitask";

/** The platforms built here. Others need a node binary of theirs (see docs/plugin.md); none is faked. */
export const PLATFORMS = [{ os: "linux", arch: "amd64", node: "linux-x64" }] as const;

export interface PluginBuild {
  /** dist/bin/kubectl-task */
  readonly binary: string;
  /** dist/bin/kubectl_complete-task (a symlink to the binary) */
  readonly complete: string;
  /** The krew archive. */
  readonly archive: string;
  /** sha256 of the archive, hex. */
  readonly sha256: string;
  /** dist/krew/plugins/task.yaml */
  readonly manifest: string;
  /** The commit baked in. */
  readonly commit: string;
  /** False when the cached executable was reused. */
  readonly built: boolean;
  /** Seconds the whole call took. */
  readonly seconds: number;
}

export interface BuildOptions {
  /** Output folder (default `<repo>/dist`). */
  readonly outDir?: string;
  /** Rebuild even if the stamp matches. */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

export class PluginBuildError extends Error {
  override name = "PluginBuildError";
}

/** `git rev-parse --short HEAD` of the checkout, or "unknown" (a source tarball). */
export function gitCommit(cwd = ROOT): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" });
  const out = r.status === 0 ? r.stdout.trim() : "";
  return /^[0-9a-f]{4,40}$/.test(out) ? out : "unknown";
}

/** Seconds since the epoch of the HEAD commit (the archive's mtimes), or 0. */
function commitTime(): number {
  const r = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: ROOT, encoding: "utf8" });
  const t = Number(r.stdout?.trim());
  return r.status === 0 && Number.isInteger(t) ? t : 0;
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** The archive's file name for a platform. */
export function archiveName(os: string, arch: string): string {
  return `kubectl-task_v${VERSION}_${os}_${arch}.tar.gz`;
}

/** The krew manifest for the archives built (one entry per platform). */
export function krewManifest(archives: readonly { os: string; arch: string; sha256: string }[]): object {
  return {
    apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
    kind: "Plugin",
    metadata: { name: "task" },
    spec: {
      version: `v${VERSION}`,
      homepage: HOMEPAGE,
      shortDescription: "Start, follow and manage Mini Task Runner task runs",
      description:
        "Starts runs of Mini Task Runner Tasks (minitask.myorg.dev Task and TaskRun custom\n" +
        "resources), follows them step by step with their logs, lists, describes, cancels and\n" +
        "deletes them. The cluster needs the Task/TaskRun CRDs and minitask-controller.\n",
      caveats:
        "The cluster needs the minitask.myorg.dev CRDs and minitask-controller running:\n" +
        `  ${HOMEPAGE}#using-it-against-a-real-cluster\n` +
        'For "kubectl task <TAB>", link kubectl_complete-task to the plugin on your PATH:\n' +
        '  ln -s "$(command -v kubectl-task)" "$(dirname "$(command -v kubectl-task)")/kubectl_complete-task"\n',
      platforms: archives.map((a) => ({
        selector: { matchLabels: { os: a.os, arch: a.arch } },
        uri: `${HOMEPAGE}/releases/download/v${VERSION}/${archiveName(a.os, a.arch)}`,
        sha256: a.sha256,
        bin: "kubectl-task",
        files: [{ from: "kubectl-task", to: "." }],
      })),
    },
  };
}

/**
 * @minitask/client loads @kubernetes/client-node lazily, through `createRequire(import.meta.url)` (config.ts):
 * a require esbuild cannot see, and one that would look for node_modules beside the executable. For that one
 * importer, `node:module` resolves to a stand-in whose `createRequire` returns a require that serves
 * client-node from the bundle — still lazily: esbuild turns the literal `require` into a call that runs the
 * bundled module on first use — and every other id with the executable's own require (builtins).
 */
const lazyClientNode: Plugin = {
  name: "minitask-lazy-client-node",
  setup(b) {
    const importer = join(ROOT, "packages/client/src/config.ts");
    b.onResolve({ filter: /^node:module$/ }, (args) =>
      args.importer === importer ? { path: "client-node-require", namespace: "minitask" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "minitask" }, () => ({
      resolveDir: join(ROOT, "packages/client"),
      loader: "js",
      contents: [
        "export function createRequire() {",
        "  return (id) => (id === '@kubernetes/client-node' ? require('@kubernetes/client-node') : require(id));",
        "}",
      ].join("\n"),
    }));
  },
};

/** Bundles the plugin into one CommonJS script (the SEA main script must be CommonJS on Node 24). */
async function bundle(outfile: string, commit: string): Promise<void> {
  const result = await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node24",
    // The workspaces' TypeScript sources, as everywhere in this repository.
    conditions: ["minitask-source"],
    define: { __MINITASK_COMMIT__: JSON.stringify(commit) },
    minify: true,
    legalComments: "eof",
    // ws's optional native helpers: ws falls back to JavaScript when they are missing.
    external: ["bufferutil", "utf-8-validate"],
    // import.meta.url only serves the checkout's `git rev-parse`, never reached with the commit defined.
    logOverride: { "empty-import-meta": "silent" },
    logLevel: "silent",
    plugins: [lazyClientNode],
  });
  if (result.errors.length > 0) throw new PluginBuildError(`esbuild: ${result.errors[0]?.text}`);
}

interface Stamp {
  readonly key: string;
  readonly sha256: string;
  readonly commit: string;
}

/** Builds (or reuses) the single executable, the krew archive and the manifest. */
export async function buildPlugin(opts: BuildOptions = {}): Promise<PluginBuild> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const out = opts.outDir ?? join(ROOT, "dist");
  const binDir = join(out, "bin");
  const krewDir = join(out, "krew");
  const binary = join(binDir, "kubectl-task");
  const complete = join(binDir, "kubectl_complete-task");
  const [platform] = PLATFORMS;
  const archive = join(krewDir, archiveName(platform.os, platform.arch));
  const manifest = join(krewDir, "plugins", "task.yaml");
  if (`${process.platform}-${process.arch}` !== platform.node) {
    throw new PluginBuildError(`builds ${platform.node} only; this is ${process.platform}-${process.arch}`);
  }
  mkdirSync(out, { recursive: true });
  // One build at a time (test files run side by side): the executable, the archive and the manifest of one
  // build always go together. Then a private work folder, renamed into place file by file.
  const unlock = await lock(join(out, ".plugin-build.lock"));
  const work = mkdtempSync(join(out, ".plugin-build-"));
  try {
    const commit = gitCommit();
    const script = join(work, "kubectl-task.cjs");
    await bundle(script, commit);
    const node = realpathSync(process.execPath);
    const key = sha256(
      [sha256(readFileSync(script)), process.version, node, statSync(node).size, sha256(readFileSync(SELF))].join("\n"),
    );
    const stampFile = join(binDir, ".kubectl-task.stamp.json");
    const stamp = readStamp(stampFile);
    if (!opts.force && stamp?.key === key && [binary, complete, archive, manifest].every((f) => existsSync(f))) {
      log(`build:plugin: ${binary} is up to date (commit ${stamp.commit})`);
      return { binary, complete, archive, sha256: stamp.sha256, manifest, commit, built: false, seconds: secs(t0) };
    }
    log(`build:plugin: bundled ${statSync(script).size} bytes of JavaScript (esbuild), commit ${commit}`);

    // The preparation blob, with V8's code cache of the script (a faster start).
    const blob = join(work, "sea-prep.blob");
    writeFileSync(
      join(work, "sea-config.json"),
      JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
    );
    const sea = spawnSync(node, ["--experimental-sea-config", join(work, "sea-config.json")], {
      cwd: work,
      encoding: "utf8",
    });
    if (sea.status !== 0) throw new PluginBuildError(`node --experimental-sea-config: ${sea.stderr.trim()}`);

    // A copy of node without its symbol tables (127 → 109 MB for Node 24), then the blob injected by
    // postject's CLI in a child process: LIEF warns about node's many .note sections on stdout, shown only
    // if the injection fails.
    const exe = join(work, "kubectl-task");
    copyFileSync(node, exe);
    chmodSync(exe, 0o755);
    const stripped = spawnSync("strip", ["--strip-all", exe], { encoding: "utf8" });
    if (stripped.error !== undefined)
      log("build:plugin: no strip (binutils) here: the executable keeps node's symbols");
    else if (stripped.status !== 0) throw new PluginBuildError(`strip: ${stripped.stderr.trim()}`);
    const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js");
    const injected = spawnSync(node, [postject, exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], {
      encoding: "utf8",
    });
    if (injected.status !== 0) {
      throw new PluginBuildError(`postject: ${`${injected.stderr}${injected.stdout}`.trim().split("\n").pop()}`);
    }
    const smoke = spawnSync(exe, ["--version"], { encoding: "utf8", env: { PATH: "/nonexistent" } });
    if (smoke.status !== 0 || !smoke.stdout.startsWith(`kubectl-task ${VERSION} `)) {
      throw new PluginBuildError(`the executable does not start: ${(smoke.stderr || smoke.stdout).trim()}`);
    }
    log(`build:plugin: single executable ${statSync(exe).size} bytes`);

    // The krew archive: the executable alone, as root, mode 0755, mtime of the commit.
    const tar = join(work, "archive.tar");
    execFileSync("tar", [
      "--create",
      `--file=${tar}`,
      "--format=gnu",
      "--sort=name",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      `--mtime=@${commitTime()}`,
      `--directory=${work}`,
      "kubectl-task",
    ]);
    const gz = gzipSync(readFileSync(tar), { level: 9 });
    const digest = sha256(gz);

    mkdirSync(binDir, { recursive: true });
    mkdirSync(join(krewDir, "plugins"), { recursive: true });
    writeFileSync(join(work, "archive.tar.gz"), gz);
    writeFileSync(
      join(work, "task.yaml"),
      `# Generated by npm run build:plugin (scripts/build-plugin.ts) for commit ${commit}; do not edit.\n${stringify(
        krewManifest([{ os: platform.os, arch: platform.arch, sha256: digest }]),
        { lineWidth: 0 },
      )}`,
    );
    symlinkSync("kubectl-task", join(work, "kubectl_complete-task"));
    // Renames: a reader (a running test) sees the old file or the new one, never a partial one.
    renameSync(exe, binary);
    renameSync(join(work, "kubectl_complete-task"), complete);
    renameSync(join(work, "archive.tar.gz"), archive);
    renameSync(join(work, "task.yaml"), manifest);
    const next: Stamp = { key, sha256: digest, commit };
    writeFileSync(join(work, "stamp.json"), `${JSON.stringify(next, null, 2)}\n`);
    renameSync(join(work, "stamp.json"), stampFile);
    log(`build:plugin: ${archive} (sha256 ${digest}), ${manifest}`);
    return { binary, complete, archive, sha256: digest, manifest, commit, built: true, seconds: secs(t0) };
  } finally {
    rmSync(work, { recursive: true, force: true });
    unlock();
  }
}

/**
 * Takes the lock folder `dir` (mkdir is atomic), waiting while another live build holds it; a lock left by a
 * build that died is taken over. Returns the function that releases it.
 */
async function lock(dir: string): Promise<() => void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "pid"), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (lockIsStale(dir)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new PluginBuildError(`another build has held ${dir} for 10 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function lockIsStale(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, "pid"), "utf8"));
  } catch {
    // Just created (no pid written yet), or left half-made long ago.
    try {
      return Date.now() - statSync(dir).mtimeMs > 30_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function readStamp(file: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Stamp;
  } catch {
    return undefined;
  }
}

const secs = (t0: number) => (Date.now() - t0) / 1000;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(
      "usage: npm run build:plugin [-- --force]\n" +
        "  writes dist/bin/kubectl-task (a single executable, no Node.js needed), dist/bin/kubectl_complete-task,\n" +
        "  and the krew archive and manifest under dist/krew/; --force rebuilds even when nothing changed\n",
    );
    return 0;
  }
  const unknown = args.filter((a) => a !== "--force");
  if (unknown.length > 0) {
    process.stderr.write(`build:plugin: unknown argument ${unknown[0]} (see --help)\n`);
    return 2;
  }
  const r = await buildPlugin({ force: args.includes("--force"), log: (l) => process.stderr.write(`${l}\n`) });
  process.stderr.write(`build:plugin: done in ${r.seconds.toFixed(1)} s\n`);
  process.stdout.write(`${r.binary}\n`);
  return 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === SELF) {
  try {
    process.exitCode = await main();
  } catch (err) {
    process.stderr.write(`build:plugin: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
