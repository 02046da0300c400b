// The real node: a kubelet, containerd + runc and a local registry, run as children of the harness
// beside the control plane. Everything they can be told to put somewhere lives under
// `<stateDir>/node`; what the kubelet, containerd and CNI write to fixed machine paths is listed in
// MACHINE_PATHS and removed on `down`. Pods get a network namespace holding only `lo` (see
// testenv/go/node/cni), and containerd is started with a dead proxy, so no pull leaves loopback.
import { spawnSync } from "node:child_process";
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
import { join } from "node:path";
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

/** One real node per machine: who holds it. */
export const MACHINE_LOCK = "/run/minitask-real-node.json";

export interface RealNodeState {
  readonly name: string;
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

function lockHolder(): { stateDir: string; pid: number } | undefined {
  try {
    return JSON.parse(readFileSync(MACHINE_LOCK, "utf8")) as { stateDir: string; pid: number };
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The state folder of the cluster whose real node runs on this machine, if any. */
export function realNodeInUse(): string | undefined {
  const h = lockHolder();
  if (!h) return undefined;
  // The lock names the process that took it (alive while a start is under way) and the cluster's
  // state folder, whose state.json names the node's processes (restarted ones included).
  if (pidAlive(h.pid)) return h.stateDir;
  try {
    const st = JSON.parse(readFileSync(join(h.stateDir, "state.json"), "utf8")) as {
      components?: Record<string, { pid?: number } | undefined>;
    };
    for (const c of ["registry", "containerd", "kubelet"]) {
      const pid = st.components?.[c]?.pid;
      if (pid && pidAlive(pid)) return h.stateDir;
    }
  } catch {
    // no state: stale
  }
  return undefined;
}

export function takeMachineLock(stateDir: string, pid: number): void {
  const other = realNodeInUse();
  if (other && other !== stateDir) {
    throw new TestEnvError(
      `a real node already runs on this machine (cluster in ${other}); stop it first: npm run cluster -- --state-dir ${other} down`,
    );
  }
  writeFileSync(MACHINE_LOCK, `${JSON.stringify({ stateDir, pid })}\n`);
}

export function releaseMachineLock(stateDir: string): void {
  if (lockHolder()?.stateDir === stateDir) rmSync(MACHINE_LOCK, { force: true });
}

/**
 * Whether this machine can run the real node: Linux, root, a cgroup filesystem, overlayfs, and the
 * node's pieces cached or the tools to fetch them; and no other real node running here. The demo
 * falls back to kwok when this says no.
 */
export function realNodeSupport(
  env: NodeJS.ProcessEnv = process.env,
  opts: { readonly ignoreRunning?: boolean } = {},
): RealNodeSupport {
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
  const other = opts.ignoreRunning ? undefined : realNodeInUse();
  if (other) return no(`a real node already runs on this machine (cluster in ${other})`);
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
  for (const d of ["containerd", "cni/bin", "cni/net.d", "certs.d", "kubelet", "pod-logs", "volume-plugins", "opt"]) {
    mkdirSync(p(d), { recursive: true });
  }
  const registry = `127.0.0.1:${i.registryPort}`;
  const socket = p("containerd", "containerd.sock");

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
        args: ["registry", "serve", "--address", registry],
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

function readProcs(): { pid: number; exe: string; cgroup: string }[] {
  const out: { pid: number; exe: string; cgroup: string }[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    let exe = "";
    let cgroup = "";
    try {
      exe = readlinkSync(`/proc/${e}/exe`).replace(/ \(deleted\)$/, "");
      cgroup = readFileSync(`/proc/${e}/cgroup`, "utf8");
    } catch {
      continue;
    }
    out.push({ pid: Number(e), exe, cgroup });
  }
  return out;
}

/** Processes of the node: its binaries, and anything in a kubepods cgroup (containers). */
export function nodeProcesses(binaries: readonly string[] = defaultBinaries()): number[] {
  return readProcs()
    .filter((p) => binaries.includes(p.exe) || /:\/kubepods(\/|$)/m.test(p.cgroup))
    .map((p) => p.pid);
}

function defaultBinaries(): string[] {
  const a = nodeArtifactPaths();
  return [a.bins.kubelet, a.containerd, a.shim, a.runc, a.bins.crane];
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

/** Mount points under the node's folder or the machine paths the node writes to. */
export function nodeMounts(nodeDir?: string): string[] {
  const roots = [...MACHINE_PATHS, "/var/lib/kubelet", ...(nodeDir ? [nodeDir] : [])];
  return mountPoints().filter((m) => roots.some((r) => under(m, r)));
}

/** kubepods cgroup folders in every hierarchy. */
export function nodeCgroups(): string[] {
  const root = "/sys/fs/cgroup";
  const out: string[] = [];
  if (!existsSync(root)) return out;
  if (existsSync(join(root, "kubepods"))) out.push(join(root, "kubepods"));
  for (const h of readdirSync(root)) {
    const d = join(root, h, "kubepods");
    if (existsSync(d)) out.push(d);
  }
  return out;
}

/** What a stopped real node left behind: processes, mounts, cgroups and machine paths. Empty when clean. */
export function realNodeLeftovers(nodeDir?: string, binaries?: readonly string[]): string[] {
  const out: string[] = [];
  for (const pid of nodeProcesses(binaries)) {
    let exe = "?";
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    out.push(`process ${pid} (${exe})`);
  }
  for (const m of nodeMounts(nodeDir)) out.push(`mount ${m}`);
  for (const c of nodeCgroups()) out.push(`cgroup ${c}`);
  for (const p of [...MACHINE_PATHS, ...(nodeDir ? [nodeDir] : [])]) if (existsSync(p)) out.push(`path ${p}`);
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
 * After the node's components are stopped: kills stray shims and container processes, unmounts what
 * is under the node's folder and the machine paths, removes the kubepods cgroups and the machine
 * paths. Returns what is still left (empty when clean).
 */
export async function cleanupRealNode(nodeDir: string | undefined, binaries?: readonly string[]): Promise<string[]> {
  const procs = nodeProcesses(binaries);
  for (const pid of procs) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await waitGone(procs, Date.now() + 10_000);
  // Deepest first; lazy, so a busy mount cannot block the rest.
  for (const m of nodeMounts(nodeDir).sort((x, y) => y.length - x.length)) {
    spawnSync("umount", ["-l", m], { stdio: "ignore" });
  }
  for (const c of nodeCgroups()) rmdirTree(c);
  for (const p of MACHINE_PATHS) rmSync(p, { recursive: true, force: true });
  try {
    rmdirSync("/var/lib/kubelet");
  } catch {
    // not empty or absent: left as it was
  }
  return realNodeLeftovers(undefined, binaries);
}
