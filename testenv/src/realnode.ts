// The real node: a kubelet, containerd + runc and a local registry, run as children of the harness
// beside the control plane. Everything they can be told to put somewhere lives under
// `<stateDir>/node`, and the kubelet's pods get cgroups under `/minitask-<id>` (id: a hash of the
// state folder), so real nodes of several clusters can run side by side on one machine. What the
// kubelet, containerd and CNI write to fixed machine paths is listed in MACHINE_PATHS and removed
// when the last real node stops. Pods get a network namespace holding only `lo` (see
// testenv/go/node/cni), and containerd is started with a dead proxy, so no pull leaves loopback.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { TestEnvError } from "./build.ts";
import { issueClientCert, type Pki } from "./certs.ts";
import { type NodeArtifacts, nodeArtifactPaths, nodeArtifactsBuilt } from "./node-build.ts";
import { NODE_KIND_LABEL, PAUSE_IMAGE, REAL_NODE_NAME } from "./versions.ts";

export type NodeKind = "kwok" | "real" | "both";
export const NODE_KINDS: readonly NodeKind[] = ["kwok", "real", "both"];

export function parseNodeKind(v: string): NodeKind {
  if ((NODE_KINDS as readonly string[]).includes(v)) return v as NodeKind;
  throw new TestEnvError(`--node must be one of ${NODE_KINDS.join(", ")}; got ${JSON.stringify(v)}`);
}

/** Fixed paths on the machine that the kubelet, containerd or CNI write to whatever they are told. */
export const MACHINE_PATHS: readonly string[] = [
  "/var/lib/kubelet/device-plugins",
  "/var/log/containers",
  "/var/lib/cni",
  "/run/containerd",
  "/run/mount",
];

/** Where each real node of this machine registers itself while it runs (one file per node). */
export const NODES_DIR = "/run/minitask-real-nodes";

export interface RealNodeState {
  readonly name: string;
  /** Short id of this node on the machine (a hash of its state folder). */
  readonly id: string;
  /** The kubelet's cgroupRoot, `/minitask-<id>`: its pods' cgroups are `<cgroupRoot>/kubepods/…`. */
  readonly cgroupRoot: string;
  /** `<stateDir>/node`. */
  readonly dir: string;
  readonly tainted: boolean;
  readonly containerdSocket: string;
  /** The `ctr` binary; run it as `ctr --address <containerdSocket> -n k8s.io …`. */
  readonly ctr: string;
  readonly crane: string;
  /** host:port of the local registry the node pulls from (docker.io and any registry an import names). */
  readonly registry: string;
  readonly kubeletRootDir: string;
  readonly kubeletPort: number;
  readonly kubeletHealthzPort: number;
  /** Binaries whose stray processes `down` looks for. */
  readonly binaries: readonly string[];
  /** The images every start imports (docker-archive tarballs). */
  readonly baseImages: readonly string[];
  /** Every tarball imported so far and the names pushed from it (pushed again when the registry restarts). */
  readonly imported: { tarball: string; names: string[] }[];
}

export type RealNodeSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A real node's registration on this machine. */
export interface NodeLock {
  readonly stateDir: string;
  readonly dir: string;
  readonly cgroupRoot: string;
  /** The process that registered it (alive while a start is under way). */
  readonly pid: number;
  /** The node's live processes, from its cluster's state.json. */
  readonly pids: readonly number[];
}

/** The real nodes running on this machine: registered, with a live process (restarted ones included). */
export function liveRealNodes(): NodeLock[] {
  let files: string[] = [];
  try {
    files = readdirSync(NODES_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  const out: NodeLock[] = [];
  for (const f of files) {
    try {
      const l = JSON.parse(readFileSync(join(NODES_DIR, f), "utf8")) as Omit<NodeLock, "pids">;
      let pids: number[] = [];
      try {
        const st = JSON.parse(readFileSync(join(l.stateDir, "state.json"), "utf8")) as {
          components?: Record<string, { pid?: number } | undefined>;
        };
        pids = ["registry", "containerd", "kubelet"]
          .map((c) => st.components?.[c]?.pid ?? 0)
          .filter((p) => p > 0 && pidAlive(p));
      } catch {
        // no state (yet, or any more)
      }
      if (pidAlive(l.pid) || pids.length > 0) out.push({ ...l, pids });
    } catch {
      // unreadable: ignored
    }
  }
  // A running kubelet or containerd of ours whose cluster still has its state is a live node too,
  // registered or not (e.g. started by an older harness).
  for (const p of readProcs()) {
    const m =
      /--root-dir=(\S+)\/kubelet(?:\s|$)/.exec(p.cmdline) ?? /--config (\S+)\/containerd\/config\.toml/.exec(p.cmdline);
    const dir = m?.[1];
    if (!dir || out.some((l) => l.dir === dir)) continue;
    const stateDir = dirname(dir);
    try {
      const st = JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as {
        realNode?: { cgroupRoot?: string };
        components?: Record<string, { pid?: number } | undefined>;
      };
      const pids = Object.values(st.components ?? {})
        .map((c) => c?.pid ?? 0)
        .filter((x) => x > 0 && pidAlive(x));
      out.push({
        stateDir,
        dir,
        cgroupRoot: st.realNode?.cgroupRoot ?? "/kubepods",
        pid: p.pid,
        pids: [p.pid, ...pids],
      });
    } catch {
      // its cluster is gone: a leftover
    }
  }
  return out;
}

/** Registers the node of the cluster in `stateDir` as running on this machine. */
export function registerRealNode(n: { stateDir: string; dir: string; cgroupRoot: string; pid: number }): void {
  mkdirSync(NODES_DIR, { recursive: true });
  writeFileSync(join(NODES_DIR, `${nodeId(n.stateDir)}.json`), `${JSON.stringify(n)}\n`);
}

export function unregisterRealNode(stateDir: string): void {
  rmSync(join(NODES_DIR, `${nodeId(stateDir)}.json`), { force: true });
  try {
    rmdirSync(NODES_DIR);
  } catch {
    // other nodes still registered
  }
}

/**
 * Whether this machine can run the real node: Linux, root, a cgroup filesystem, overlayfs, and the
 * node's pieces cached or the tools to fetch them. Several real nodes (of different clusters) can run
 * side by side. The demo falls back to kwok when this says no.
 */
export function realNodeSupport(env: NodeJS.ProcessEnv = process.env): RealNodeSupport {
  const no = (reason: string): RealNodeSupport => ({ ok: false, reason });
  if (process.platform !== "linux") return no(`the real node needs Linux; this is ${process.platform}`);
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return no(`the real node needs root (it runs containerd and runc); running as uid ${uid}`);
  const v1 = existsSync("/sys/fs/cgroup/memory") && existsSync("/sys/fs/cgroup/cpu");
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  if (!v1 && !v2) return no("the real node needs cgroups, but /sys/fs/cgroup has no cpu and memory controllers");
  let filesystems = "";
  try {
    filesystems = readFileSync("/proc/filesystems", "utf8");
  } catch {
    // unreadable: treated as missing
  }
  if (!/\boverlay$/m.test(filesystems)) return no("the real node needs the kernel's overlay filesystem");
  if (spawnSync("umount", ["--version"], { stdio: "ignore" }).status !== 0) {
    return no("the real node needs umount (util-linux) on PATH");
  }
  if (!nodeArtifactsBuilt(env)) {
    for (const tool of ["apt-get", "dpkg-deb", "go"]) {
      const args = tool === "go" ? ["version"] : ["--version"];
      if (spawnSync(tool, args, { stdio: "ignore" }).status !== 0) {
        return no(`building the real node needs ${tool} on PATH`);
      }
    }
  }
  return { ok: true };
}

interface PrepareInput {
  readonly stateDir: string;
  readonly pki: Pki;
  readonly server: string;
  readonly tainted: boolean;
  readonly registryPort: number;
  readonly kubeletPort: number;
  readonly kubeletHealthzPort: number;
  readonly artifacts?: NodeArtifacts;
}

export interface RealNodeComponents {
  readonly registry: { binary: string; args: string[]; log: string };
  readonly containerd: { binary: string; args: string[]; log: string; env: Record<string, string> };
  readonly kubelet: { binary: string; args: string[]; log: string };
}

/** Writes the node's certificates and configuration files; returns its state and its components' argv. */
export function prepareRealNode(i: PrepareInput): { state: RealNodeState; components: RealNodeComponents } {
  const a = i.artifacts ?? nodeArtifactPaths();
  const dir = join(i.stateDir, "node");
  const p = (...parts: string[]) => join(dir, ...parts);
  for (const d of [
    "containerd",
    "cni/bin",
    "cni/net.d",
    "certs.d",
    "kubelet",
    "pod-logs",
    "volume-plugins",
    "opt",
    "registry",
  ]) {
    mkdirSync(p(d), { recursive: true });
  }
  const registry = `127.0.0.1:${i.registryPort}`;
  const socket = p("containerd", "containerd.sock");
  const id = nodeId(i.stateDir);
  const cgroupRoot = `/minitask-${id}`;

  // CNI: our plugin, also as `loopback` (containerd's CRI always runs a loopback network first).
  for (const name of ["minitask-cni", "loopback"]) {
    const link = p("cni", "bin", name);
    if (!existsSync(link)) symlinkSync(a.bins["minitask-cni"], link);
  }
  writeFileSync(
    p("cni", "net.d", "10-minitask.conflist"),
    `${JSON.stringify({ cniVersion: "1.0.0", name: "minitask", plugins: [{ type: "minitask-cni" }] }, null, 2)}\n`,
  );
  writeRegistryHosts(p("certs.d"), "docker.io", registry);

  const q = (s: string) => JSON.stringify(s);
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  writeFileSync(
    p("containerd", "config.toml"),
    [
      "version = 2",
      `root = ${q(p("containerd", "root"))}`,
      `state = ${q(p("containerd", "state"))}`,
      `disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]`,
      "[grpc]",
      `  address = ${q(socket)}`,
      "[ttrpc]",
      `  address = ${q(`${socket}.ttrpc`)}`,
      "[debug]",
      `  address = ""`,
      "[metrics]",
      `  address = ""`,
      `[plugins."io.containerd.internal.v1.opt"]`,
      `  path = ${q(p("opt"))}`,
      `[${cri}]`,
      `  sandbox_image = ${q(PAUSE_IMAGE)}`,
      "  restrict_oom_score_adj = true",
      "  netns_mounts_under_state_dir = true",
      "  disable_apparmor = true",
      "  enable_selinux = false",
      `  stream_server_address = "127.0.0.1"`,
      `  stream_server_port = "0"`,
      `[${cri}.containerd]`,
      `  snapshotter = "overlayfs"`,
      `  default_runtime_name = "runc"`,
      `[${cri}.containerd.runtimes.runc]`,
      `  runtime_type = "io.containerd.runc.v2"`,
      `[${cri}.containerd.runtimes.runc.options]`,
      `  BinaryName = ${q(a.runc)}`,
      `  Root = ${q(p("containerd", "runc"))}`,
      "  SystemdCgroup = false",
      `[${cri}.cni]`,
      `  bin_dir = ${q(p("cni", "bin"))}`,
      `  conf_dir = ${q(p("cni", "net.d"))}`,
      "  max_conf_num = 1",
      `[${cri}.registry]`,
      `  config_path = ${q(p("certs.d"))}`,
      "",
    ].join("\n"),
  );

  // Kubelet: client certificate for system:node:<name>, kubeconfig, KubeletConfiguration.
  const cert = issueClientCert(i.pki, "kubelet-node", `system:node:${REAL_NODE_NAME}`, "system:nodes");
  const b64 = (f: string) => readFileSync(f).toString("base64");
  writeFileSync(
    p("kubelet.kubeconfig"),
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "local", cluster: { server: i.server, "certificate-authority-data": b64(i.pki.caCert) } }],
      users: [{ name: "node", user: { "client-certificate-data": b64(cert.cert), "client-key-data": b64(cert.key) } }],
      contexts: [{ name: "node", context: { cluster: "local", user: "node" } }],
      "current-context": "node",
    }),
    { mode: 0o600 },
  );
  writeFileSync(p("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  const evict = {
    "memory.available": "1%",
    "nodefs.available": "1%",
    "nodefs.inodesFree": "1%",
    "imagefs.available": "1%",
  };
  writeFileSync(
    p("kubelet.yaml"),
    stringify({
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: "127.0.0.1",
      port: i.kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      healthzPort: i.kubeletHealthzPort,
      containerRuntimeEndpoint: `unix://${socket}`,
      cgroupDriver: "cgroupfs",
      cgroupRoot,
      failCgroupV1: false,
      failSwapOn: false,
      makeIPTablesUtilChains: false,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: i.pki.caCert },
      },
      authorization: { mode: "Webhook" },
      podLogsDir: p("pod-logs"),
      volumePluginDir: p("volume-plugins"),
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: evict,
      evictionPressureTransitionPeriod: "10s",
      resolvConf: p("resolv.conf"),
      clusterDNS: ["127.0.0.1"],
      clusterDomain: "cluster.local",
      serializeImagePulls: false,
      rotateCertificates: false,
      serverTLSBootstrap: false,
      registerWithTaints: i.tainted ? [{ key: NODE_KIND_LABEL, value: "real", effect: "NoSchedule" }] : [],
      shutdownGracePeriod: "0s",
      maxPods: 110,
    }),
  );

  const state: RealNodeState = {
    name: REAL_NODE_NAME,
    id,
    cgroupRoot,
    dir,
    tainted: i.tainted,
    containerdSocket: socket,
    ctr: a.ctr,
    crane: a.bins.crane,
    registry,
    kubeletRootDir: p("kubelet"),
    kubeletPort: i.kubeletPort,
    kubeletHealthzPort: i.kubeletHealthzPort,
    binaries: [a.bins.kubelet, a.containerd, a.shim, a.runc, a.bins.crane],
    baseImages: [a.images.pause.tarball, a.images.step.tarball],
    imported: [],
  };
  const log = (n: string) => join(i.stateDir, "logs", `${n}.log`);
  const path = [a.containerdBin, process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"].join(":");
  return {
    state,
    components: {
      registry: {
        binary: a.bins.crane,
        // --disk: blobs under the node's folder (which also names the process as this node's).
        args: ["registry", "serve", "--address", registry, "--disk", p("registry")],
        log: log("registry"),
      },
      containerd: {
        binary: a.containerd,
        args: ["--config", p("containerd", "config.toml"), "--log-level", "warn"],
        log: log("containerd"),
        // Pulls that the local registry does not serve go to a dead proxy on loopback and fail at once.
        env: {
          PATH: path,
          HTTP_PROXY: "http://127.0.0.1:9",
          HTTPS_PROXY: "http://127.0.0.1:9",
          http_proxy: "http://127.0.0.1:9",
          https_proxy: "http://127.0.0.1:9",
          NO_PROXY: "",
          no_proxy: "",
        },
      },
      kubelet: {
        binary: a.bins.kubelet,
        args: [
          `--config=${p("kubelet.yaml")}`,
          `--kubeconfig=${p("kubelet.kubeconfig")}`,
          `--root-dir=${p("kubelet")}`,
          `--cert-dir=${p("kubelet", "pki")}`,
          `--hostname-override=${REAL_NODE_NAME}`,
          `--node-labels=${NODE_KIND_LABEL}=real`,
          "--v=1",
        ],
        log: log("kubelet"),
      },
    },
  };
}

/** A node's id on this machine: a hash of its cluster's state folder. */
export function nodeId(stateDir: string): string {
  return createHash("sha256").update(stateDir).digest("hex").slice(0, 10);
}

/** The cgroup hierarchies of this machine (v1: one folder per controller; v2: the root itself). */
function cgroupHierarchies(): string[] {
  const root = "/sys/fs/cgroup";
  if (existsSync(join(root, "cgroup.controllers"))) return [root];
  try {
    return readdirSync(root)
      .map((h) => join(root, h))
      .filter((h) => existsSync(join(h, "cgroup.procs")));
  } catch {
    return [];
  }
}

/** Creates the kubelet's cgroupRoot in every hierarchy (the kubelet wants it to exist). */
export function makeCgroupRoot(cgroupRoot: string): void {
  for (const h of cgroupHierarchies()) {
    const d = join(h, cgroupRoot);
    mkdirSync(d, { recursive: true });
    // A new cpuset cgroup starts with no CPUs and no memory nodes; give it its parent's.
    for (const f of ["cpuset.cpus", "cpuset.mems"]) {
      if (!existsSync(join(h, f))) continue;
      try {
        if (readFileSync(join(d, f), "utf8").trim() === "") writeFileSync(join(d, f), readFileSync(join(h, f), "utf8"));
      } catch {
        // not writable here: the kubelet reports what it cannot use
      }
    }
  }
}

/**
 * Points containerd's pulls from `host` (e.g. docker.io) at the local registry. containerd 1.6
 * ignores a hosts.toml with only a `server` line: the `[host."…"]` table is what it uses.
 */
export function writeRegistryHosts(certsDir: string, host: string, registry: string): void {
  const d = join(certsDir, host);
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, "hosts.toml"),
    [
      `server = "http://${registry}"`,
      "",
      `[host."http://${registry}"]`,
      `  capabilities = ["pull", "resolve"]`,
      "  skip_verify = true",
      "",
    ].join("\n"),
  );
}

/** `docker.io/library/busybox:1.36` → `{ host: "docker.io", path: "library/busybox:1.36" }`. */
export function splitImageRef(ref: string): { host: string; path: string } {
  const slash = ref.indexOf("/");
  const first = slash < 0 ? "" : ref.slice(0, slash);
  if (slash < 0 || !(first.includes(".") || first.includes(":") || first === "localhost")) {
    const path = slash < 0 ? `library/${ref}` : ref;
    return { host: "docker.io", path: path.includes(":") || path.includes("@") ? path : `${path}:latest` };
  }
  return { host: first, path: ref.slice(slash + 1) };
}

// ---- leftovers and cleanup ----

/**
 * Whose leftovers: one node's (its folder and its kubelet's cgroup root), or those of every real node
 * of this machine that no longer runs (`"machine"`).
 */
export type NodeScope = { readonly dir: string; readonly cgroupRoot: string } | "machine";

interface Proc {
  readonly pid: number;
  readonly exe: string;
  readonly cmdline: string;
  readonly cgroup: string;
}

function readProcs(): Proc[] {
  const out: Proc[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue; // exited, awaiting its parent
      out.push({
        pid: Number(e),
        exe: readlinkSync(`/proc/${e}/exe`).replace(/ \(deleted\)$/, ""),
        cmdline: readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0/g, " "),
        cgroup: readFileSync(`/proc/${e}/cgroup`, "utf8"),
      });
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

function defaultBinaries(): string[] {
  const a = nodeArtifactPaths();
  return [a.bins.kubelet, a.containerd, a.shim, a.runc, a.bins.crane];
}

const inCgroupRoot = (cgroup: string, root: string) => cgroup.includes(`:${root}/`) || cgroup.includes(`:${root}\n`);
const NODE_CGROUP = /:\/(minitask-[0-9a-f]+\/)?kubepods(\/|$)/m;
const NODE_DIR_MOUNT = /\/node\/(kubelet|containerd)(\/|$)/;

function ownedByLive(live: readonly NodeLock[], test: (l: NodeLock) => boolean): boolean {
  return live.some(test);
}

/** Processes of the scope: its kubelet, containerd and shims, and anything in its pods' cgroups. */
export function nodeProcesses(scope: NodeScope, binaries: readonly string[] = defaultBinaries()): number[] {
  const procs = readProcs().filter((p) => p.pid !== process.pid);
  if (scope !== "machine") {
    return procs
      .filter((p) => p.cmdline.includes(`${scope.dir}/`) || inCgroupRoot(p.cgroup, scope.cgroupRoot))
      .map((p) => p.pid);
  }
  const live = liveRealNodes();
  return procs
    .filter((p) => binaries.includes(p.exe) || NODE_CGROUP.test(p.cgroup))
    .filter((p) => !ownedByLive(live, (l) => p.cmdline.includes(`${l.dir}/`) || inCgroupRoot(p.cgroup, l.cgroupRoot)))
    .filter((p) => !ownedByLive(live, (l) => l.pids.includes(p.pid)))
    .map((p) => p.pid);
}

function mountPoints(): string[] {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => (l.split(" ")[4] ?? "").replace(/\\040/g, " "));
  } catch {
    return [];
  }
}

const under = (p: string, root: string) => p === root || p.startsWith(`${root}/`);

/** Mount points at or under `root`. */
export function mountsUnder(root: string): string[] {
  return mountPoints().filter((m) => under(m, root));
}

/** Mount points of the scope: under the node's folder (machine: any node's folder, and the machine paths). */
export function nodeMounts(scope: NodeScope): string[] {
  if (scope !== "machine") return mountsUnder(scope.dir);
  const roots = [...MACHINE_PATHS, "/var/lib/kubelet"];
  const live = liveRealNodes();
  return mountPoints()
    .filter((m) => roots.some((r) => under(m, r)) || NODE_DIR_MOUNT.test(m))
    .filter((m) => !ownedByLive(live, (l) => under(m, l.dir)));
}

/** The hierarchies' cgroup folders of the scope's pods (machine: every real node's, and plain kubepods). */
export function nodeCgroups(scope: NodeScope): string[] {
  const out: string[] = [];
  const live = scope === "machine" ? liveRealNodes() : [];
  for (const h of cgroupHierarchies()) {
    if (scope !== "machine") {
      const d = join(h, scope.cgroupRoot);
      if (existsSync(d)) out.push(d);
      continue;
    }
    let entries: string[] = [];
    try {
      entries = readdirSync(h);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e !== "kubepods" && !/^minitask-[0-9a-f]+$/.test(e)) continue;
      if (live.some((l) => l.cgroupRoot === `/${e}`)) continue;
      out.push(join(h, e));
    }
  }
  return out;
}

/**
 * What a stopped real node left behind — processes, mounts, cgroups, its folder; and the machine paths
 * once no real node runs. Empty when clean. Without a scope: every real node of the machine that no
 * longer runs.
 */
export function realNodeLeftovers(scope: NodeScope = "machine", binaries?: readonly string[]): string[] {
  const out: string[] = [];
  for (const pid of nodeProcesses(scope, binaries)) {
    let exe = "?";
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    out.push(`process ${pid} (${exe})`);
  }
  for (const m of nodeMounts(scope)) out.push(`mount ${m}`);
  for (const c of nodeCgroups(scope)) out.push(`cgroup ${c}`);
  if (liveRealNodes().length === 0) for (const p of MACHINE_PATHS) if (existsSync(p)) out.push(`path ${p}`);
  return out;
}

function rmdirTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter((e) => {
      try {
        return statSync(join(dir, e)).isDirectory();
      } catch {
        return false;
      }
    });
  } catch {
    return;
  }
  for (const e of entries) rmdirTree(join(dir, e));
  try {
    rmdirSync(dir);
  } catch {
    // busy or gone: reported by realNodeLeftovers
  }
}

async function waitGone(pids: number[], deadline: number): Promise<number[]> {
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(pidAlive);
  }
  return left;
}

/**
 * After a node's components are stopped: kills its stray shims and container processes, unmounts what
 * is under its folder, removes its cgroups — and, once no real node runs on the machine, the machine
 * paths the kubelet, containerd and CNI wrote to. Resolves with what is still left (empty when clean).
 */
export async function cleanupRealNode(scope: NodeScope, binaries?: readonly string[]): Promise<string[]> {
  const procs = nodeProcesses(scope, binaries);
  for (const pid of procs) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await waitGone(procs, Date.now() + 10_000);
  // Deepest first; lazy, so a busy mount cannot block the rest.
  for (const m of nodeMounts(scope).sort((x, y) => y.length - x.length)) {
    spawnSync("umount", ["-l", m], { stdio: "ignore" });
  }
  for (const c of nodeCgroups(scope)) rmdirTree(c);
  if (liveRealNodes().length === 0) {
    for (const p of MACHINE_PATHS) rmSync(p, { recursive: true, force: true });
    try {
      rmdirSync("/var/lib/kubelet");
    } catch {
      // not empty or absent: left as it was
    }
  }
  return realNodeLeftovers(scope, binaries);
}
