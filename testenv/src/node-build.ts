// Builds and caches what the real node runs, on a machine that can reach only the Go module proxy,
// Debian's packages and the npm registry: the kubelet (same Kubernetes modules as the control plane),
// our own CNI plugin, pause init and image writer, crane (the local registry), Debian's containerd,
// runc and busybox-static (downloaded with `apt-get download`, unpacked with `dpkg-deb -x`, never
// installed), and the two images, written as docker-archive tarballs by our own image writer.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { buildGoBinary, checkGo, GO_DIR, TestEnvError, tail } from "./build.ts";
import {
  cacheRoot,
  DEBIAN_PACKAGES,
  type DebianPackage,
  type NodeBinaryName,
  nodeBinarySpecs,
  PAUSE_IMAGE,
  STEP_IMAGE_TAGS,
} from "./versions.ts";

/** Where every piece of the real node lives in the cache (whether or not it is there yet). */
export interface NodeArtifacts {
  readonly bins: Readonly<Record<NodeBinaryName, string>>;
  /** Folder of the unpacked Debian containerd (containerd, containerd-shim-runc-v2, ctr). */
  readonly containerdBin: string;
  readonly containerd: string;
  readonly ctr: string;
  readonly shim: string;
  readonly runc: string;
  readonly busybox: string;
  /** Debian package versions, once downloaded. */
  readonly debianVersions: Readonly<Partial<Record<DebianPackage, string>>>;
  readonly images: {
    readonly pause: { readonly tarball: string; readonly tags: readonly string[] };
    readonly step: { readonly tarball: string; readonly tags: readonly string[] };
  };
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/** A hash of testenv/go/node's sources: our own tools are rebuilt whenever they change. */
export function nodeToolsKey(): string {
  const root = join(GO_DIR, "node");
  const h = createHash("sha256");
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        h.update(p.slice(root.length));
        h.update(readFileSync(p));
      }
    }
  };
  walk(root);
  return h.digest("hex").slice(0, 12);
}

function debRoot(env: NodeJS.ProcessEnv, pkg: string): string {
  return join(cacheRoot(env), "debian", pkg);
}

function debVersion(env: NodeJS.ProcessEnv, pkg: string): string | undefined {
  try {
    return readFileSync(join(debRoot(env, pkg), "version"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function nodeArtifactPaths(env: NodeJS.ProcessEnv = process.env): NodeArtifacts {
  const key = nodeToolsKey();
  const bins = {} as Record<NodeBinaryName, string>;
  for (const b of nodeBinarySpecs(key)) bins[b.name] = join(cacheRoot(env), "bin", b.dir, b.name);
  const versions: Partial<Record<DebianPackage, string>> = {};
  for (const p of DEBIAN_PACKAGES) {
    const v = debVersion(env, p);
    if (v) versions[p] = v;
  }
  const containerdBin = join(debRoot(env, "containerd"), "root", "usr", "bin");
  // Images depend on our image writer, the busybox they hold, and the names they carry.
  const imagesDir = join(
    cacheRoot(env),
    "images",
    sha(JSON.stringify([key, versions["busybox-static"] ?? "", PAUSE_IMAGE, STEP_IMAGE_TAGS])),
  );
  return {
    bins,
    containerdBin,
    containerd: join(containerdBin, "containerd"),
    ctr: join(containerdBin, "ctr"),
    shim: join(containerdBin, "containerd-shim-runc-v2"),
    runc: join(debRoot(env, "runc"), "root", "usr", "sbin", "runc"),
    busybox: join(debRoot(env, "busybox-static"), "root", "bin", "busybox"),
    debianVersions: versions,
    images: {
      pause: { tarball: join(imagesDir, "pause.tar"), tags: [PAUSE_IMAGE] },
      step: { tarball: join(imagesDir, "busybox.tar"), tags: STEP_IMAGE_TAGS },
    },
  };
}

/** True when every piece is in the cache, so `up --node real` needs no build. */
export function nodeArtifactsBuilt(env: NodeJS.ProcessEnv = process.env): boolean {
  const a = nodeArtifactPaths(env);
  return [
    ...Object.values(a.bins),
    a.containerd,
    a.ctr,
    a.shim,
    a.runc,
    a.busybox,
    a.images.pause.tarball,
    a.images.step.tarball,
  ].every((p) => existsSync(p));
}

function runLogged(cmd: string, args: readonly string[], logFile: string, cwd?: string): Promise<number> {
  const log = createWriteStream(logFile, { flags: "a" });
  log.write(`$ ${cmd} ${args.join(" ")}\n`);
  return new Promise<number>((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", (err) => {
      log.write(`${err.message}\n`);
      log.end(() => resolve(127));
    });
    child.on("close", (c) => log.end(() => resolve(c ?? 1)));
  });
}

/** `apt-get download` the packages (refreshing apt's lists once if they do not know them), then unpack. */
async function fetchDebianPackages(pkgs: readonly string[], env: NodeJS.ProcessEnv, logFile: string) {
  for (const tool of ["apt-get", "dpkg-deb"]) {
    if (spawnSync(tool, ["--version"], { stdio: "ignore" }).status !== 0) {
      throw new TestEnvError(`the real node needs Debian's ${tool} to fetch ${pkgs.join(", ")}; it is not on PATH`);
    }
  }
  const dl = mkdtempSync(join(cacheRoot(env), "debian", ".download-"));
  try {
    chmodSync(dl, 0o755);
    let code = await runLogged("apt-get", ["download", ...pkgs], logFile, dl);
    if (code !== 0) {
      // A fresh machine may have empty package lists.
      await runLogged("apt-get", ["update", "-qq"], logFile);
      code = await runLogged("apt-get", ["download", ...pkgs], logFile, dl);
    }
    if (code !== 0) {
      throw new TestEnvError(`apt-get download ${pkgs.join(" ")} failed (exit ${code}); log: ${logFile}`);
    }
    const debs = readdirSync(dl).filter((f) => f.endsWith(".deb"));
    for (const pkg of pkgs) {
      const deb = debs.find((f) => f.startsWith(`${pkg}_`));
      if (!deb) throw new TestEnvError(`apt-get download left no ${pkg}_*.deb; log: ${logFile}`);
      const version = spawnSync("dpkg-deb", ["-f", join(dl, deb), "Version"], { encoding: "utf8" }).stdout.trim();
      const dest = debRoot(env, pkg);
      const tmp = `${dest}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      const x = await runLogged("dpkg-deb", ["-x", join(dl, deb), join(tmp, "root")], logFile);
      if (x !== 0) throw new TestEnvError(`dpkg-deb -x ${deb} failed (exit ${x}); log: ${logFile}`);
      writeFileSync(join(tmp, "version"), `${version}\n`);
      rmSync(dest, { recursive: true, force: true });
      renameSync(tmp, dest);
    }
  } finally {
    rmSync(dl, { recursive: true, force: true });
  }
}

/**
 * Fetches Debian packages with `apt-get download` and unpacks them (`dpkg-deb -x`, no install, no
 * dependencies) into the cache, once each; resolves with each package's root folder, ready to be an
 * image layer (e.g. `libc6`, `libstdc++6` and `libgcc-s1` for a dynamically linked binary).
 */
export async function ensureDebianPackages(
  pkgs: readonly string[],
  opts: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<Record<string, string>> {
  const env = opts.env ?? process.env;
  const missing = pkgs.filter((p) => !debVersion(env, p));
  if (missing.length > 0) {
    const logDir = join(cacheRoot(env), "logs");
    mkdirSync(logDir, { recursive: true });
    mkdirSync(join(cacheRoot(env), "debian"), { recursive: true });
    const t0 = Date.now();
    opts.log?.(`testenv: fetching Debian's ${missing.join(", ")} (apt-get download) …`);
    await fetchDebianPackages(missing, env, join(logDir, "build.log"));
    opts.log?.(`testenv: fetched in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const out: Record<string, string> = {};
  for (const p of pkgs) out[p] = join(debRoot(env, p), "root");
  return out;
}

export interface ImageLayer {
  /** Folder whose tree becomes the layer (symlinks are kept as links). */
  readonly dir: string;
  /** Where the folder goes in the image, e.g. `/app` (default: the root). */
  readonly prefix?: string;
}

export interface BuildImageOptions {
  /** The docker-archive tarball to write. */
  readonly out: string;
  /** Names, e.g. `docker.io/library/busybox:1.36`. */
  readonly tags: readonly string[];
  readonly layers: readonly ImageLayer[];
  /** The image's container config: Entrypoint, Cmd, Env, User, WorkingDir, Labels, … */
  readonly config?: Readonly<Record<string, unknown>>;
  /** uid:gid of every file (default 0:0). */
  readonly owner?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Writes a container image as a docker-archive tarball with our own image writer (built on first
 * use), ready for `ControlPlane.importImage`. Returns the image id (the config's digest).
 */
export async function buildImage(opts: BuildImageOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const tool = await ensureNodeTool("minitask-image", env);
  mkdirSync(dirname(opts.out), { recursive: true });
  const args = ["-o", opts.out, "--config", JSON.stringify(opts.config ?? {}), "--owner", opts.owner ?? "0:0"];
  for (const t of opts.tags) args.push("-t", t);
  for (const l of opts.layers) args.push("--layer", l.prefix ? `${l.dir}=${l.prefix}` : l.dir);
  const res = spawnSync(tool, args, { encoding: "utf8" });
  if (res.status !== 0) {
    throw new TestEnvError(
      `writing image ${opts.tags[0] ?? opts.out} failed: ${(res.stderr || res.error?.message || "").trim()}`,
    );
  }
  return res.stdout.trim();
}

/** Builds one of our own node tools (or the kubelet, or crane) if it is not cached; returns its path. */
export async function ensureNodeTool(name: NodeBinaryName, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const key = nodeToolsKey();
  const spec = nodeBinarySpecs(key).find((s) => s.name === name);
  const out = nodeArtifactPaths(env).bins[name];
  if (!spec || existsSync(out)) return out;
  checkGo(env);
  const logDir = join(cacheRoot(env), "logs");
  mkdirSync(logDir, { recursive: true });
  await buildGoBinary(spec, out, join(logDir, "build.log"), env);
  return out;
}

/** The busybox step image's root: the static busybox, a link per applet, users and a few folders. */
function stepRootfs(busybox: string, dir: string): void {
  const list = spawnSync(busybox, ["--list-full"], { encoding: "utf8" });
  if (list.status !== 0) throw new TestEnvError(`${busybox} --list-full failed: ${list.stderr.trim()}`);
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync(busybox, join(dir, "bin", "busybox"));
  chmodSync(join(dir, "bin", "busybox"), 0o755);
  for (const applet of list.stdout.split("\n").map((l) => l.trim())) {
    if (!applet || applet === "bin/busybox") continue;
    const at = join(dir, applet);
    mkdirSync(dirname(at), { recursive: true });
    if (!existsSync(at)) symlinkSync("/bin/busybox", at);
  }
  for (const [d, mode] of [
    ["etc", 0o755],
    ["root", 0o700],
    ["home/user", 0o755],
    ["tmp", 0o1777],
    ["var/tmp", 0o1777],
    ["proc", 0o555],
    ["sys", 0o555],
    ["dev", 0o755],
  ] as const) {
    mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, d), mode);
  }
  writeFileSync(
    join(dir, "etc", "passwd"),
    [
      "root:x:0:0:root:/root:/bin/sh",
      "user:x:1000:1000:non-root user:/home/user:/bin/sh",
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "etc", "group"), ["root:x:0:", "user:x:1000:", "nogroup:x:65534:", ""].join("\n"));
}

async function buildNodeImages(a: NodeArtifacts, env: NodeJS.ProcessEnv): Promise<void> {
  const staging = mkdtempSync(join(cacheRoot(env), ".image-"));
  try {
    const pauseDir = join(staging, "pause");
    mkdirSync(pauseDir);
    copyFileSync(a.bins["minitask-pause"], join(pauseDir, "pause"));
    chmodSync(join(pauseDir, "pause"), 0o755);
    await buildImage({
      out: a.images.pause.tarball,
      tags: a.images.pause.tags,
      layers: [{ dir: pauseDir }],
      config: { Entrypoint: ["/pause"], User: "65535:65535" },
      env,
    });
    const stepDir = join(staging, "busybox");
    stepRootfs(a.busybox, stepDir);
    await buildImage({
      out: a.images.step.tarball,
      tags: a.images.step.tags,
      layers: [{ dir: stepDir }],
      config: { Cmd: ["sh"], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
      env,
    });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Makes sure everything the real node runs is in the cache; builds or fetches only what is missing,
 * printing a progress line per step (the full log goes to `<cache>/logs/build.log`).
 */
export async function ensureNodeArtifacts(
  opts: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<NodeArtifacts> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (nodeArtifactsBuilt(env)) return nodeArtifactPaths(env);
  const logDir = join(cacheRoot(env), "logs");
  mkdirSync(logDir, { recursive: true });
  mkdirSync(join(cacheRoot(env), "debian"), { recursive: true });
  const logFile = join(logDir, "build.log");
  let a = nodeArtifactPaths(env);
  const specs = nodeBinarySpecs(nodeToolsKey()).filter((s) => !existsSync(a.bins[s.name]));
  const debs = DEBIAN_PACKAGES.filter((p) => !debVersion(env, p));
  type Step = { what: string; run: () => Promise<void> };
  const steps: Step[] = [];
  if (specs.length > 0) {
    const goVersion = checkGo(env);
    for (const spec of specs) {
      steps.push({
        what: `building ${spec.name} (${goVersion})`,
        run: () => buildGoBinary(spec, a.bins[spec.name], logFile, env),
      });
    }
  }
  if (debs.length > 0) {
    steps.push({
      what: `fetching Debian's ${debs.join(", ")} (apt-get download)`,
      run: () => fetchDebianPackages(debs, env, logFile),
    });
  }
  steps.push({
    what: `writing the images ${[PAUSE_IMAGE, ...STEP_IMAGE_TAGS].join(", ")}`,
    run: async () => {
      a = nodeArtifactPaths(env);
      if (!existsSync(a.images.pause.tarball) || !existsSync(a.images.step.tarball)) await buildNodeImages(a, env);
    },
  });
  log(`testenv: preparing the real node (log: ${logFile})`);
  let i = 0;
  for (const step of steps) {
    i++;
    const t0 = Date.now();
    log(`testenv: [node ${i}/${steps.length}] ${step.what} …`);
    try {
      await step.run();
    } catch (err) {
      if (err instanceof TestEnvError) throw err;
      throw new TestEnvError(`${step.what} failed: ${(err as Error).message}; log: ${logFile}\n${tail(logFile)}`);
    }
    log(`testenv: [node ${i}/${steps.length}] done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  a = nodeArtifactPaths(env);
  const runc = spawnSync(a.runc, ["--version"], { encoding: "utf8" });
  if (runc.status !== 0) {
    throw new TestEnvError(`${a.runc} does not run here: ${(runc.stderr || runc.error?.message || "").trim()}`);
  }
  return a;
}
