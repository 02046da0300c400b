// A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (simulated nodes and pods) — and, with `node: "real" | "both"`, a real node
// (registry, containerd, kubelet; see realnode.ts) — each a child process in its own process group
// on loopback, with per-run certificates and random free ports. Its state (ports, argv, pids) is kept
// in `<stateDir>/state.json` so that another process (`npm run cluster -- down`, a fault test) can
// find, stop and restart the components.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { ensureBinaries, TestEnvError } from "./build.ts";
import { makePki, type Pki } from "./certs.ts";
import { fetchText, loadIdentity, type TlsIdentity } from "./http.ts";
import { ensureNodeArtifacts } from "./node-build.ts";
import { freePort, releasePorts } from "./ports.ts";
import {
  cleanupRealNode,
  makeCgroupRoot,
  mountsUnder,
  type NodeKind,
  type NodeScope,
  nodeProcesses,
  prepareRealNode,
  type RealNodeState,
  realNodeLeftovers,
  realNodeSupport,
  registerRealNode,
  splitImageRef,
  unregisterRealNode,
  writeRegistryHosts,
} from "./realnode.ts";
import type { BinaryName } from "./versions.ts";
import { KUBERNETES_VERSION, NODE_KIND_LABEL } from "./versions.ts";

const execFileP = promisify(execFile);

export type ControlPlaneComponent = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";
/** The real node's processes: the local registry, containerd (with runc) and the kubelet. */
export type NodeComponent = "registry" | "containerd" | "kubelet";
export type ComponentName = ControlPlaneComponent | NodeComponent;
/** Start order of the control plane with kwok (the default); stop runs in reverse. */
export const COMPONENTS: readonly ControlPlaneComponent[] = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
];
/** Start order of the real node's processes, after the control plane's. */
export const NODE_COMPONENTS: readonly NodeComponent[] = ["registry", "containerd", "kubelet"];

/** The components a cluster of this node kind runs, in start order. */
export function componentsFor(kind: NodeKind): ComponentName[] {
  if (kind === "kwok") return [...COMPONENTS];
  const cp = kind === "real" ? COMPONENTS.filter((c) => c !== "kwok") : [...COMPONENTS];
  return [...cp, ...NODE_COMPONENTS];
}

export interface ComponentState {
  readonly binary: string;
  readonly args: readonly string[];
  readonly log: string;
  /** Environment on top of the harness's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** Process id, which is also its process-group id (started detached). */
  pid?: number;
}

export interface ClusterState {
  readonly version: 1;
  readonly kubernetesVersion: string;
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly etcdEndpoint: string;
  readonly binDir: string;
  readonly kubectl: string;
  /** kwok (simulated) node names. The real node, if any, is `realNode.name`. */
  readonly nodes: readonly string[];
  /** Which nodes the cluster has (absent in state written before real nodes existed: kwok). */
  readonly nodeKind?: NodeKind;
  readonly realNode?: RealNodeState;
  readonly ports: Readonly<Record<string, number>>;
  readonly pki: { readonly ca: string; readonly adminCert: string; readonly adminKey: string };
  /** Only the components this node kind runs are present. */
  readonly components: Partial<Record<ComponentName, ComponentState>>;
  readonly startedAt: string;
}

export interface StartOptions {
  /** Folder for certificates, etcd data, logs and state.json; created if missing. */
  readonly stateDir: string;
  /** Number of simulated (kwok) nodes with `node` kwok or both. Default 1. */
  readonly nodes?: number;
  /**
   * `kwok` (default): simulated nodes only. `real`: one real node (kubelet + containerd), untainted,
   * and no kwok. `both`: the kwok node(s) plus the real node, labelled and tainted
   * `minitask.dev/node-kind=real:NoSchedule`, with the apiserver's PodNodeSelector and
   * PodTolerationRestriction admission plugins on (see `createTestNamespace(prefix, { node: "real" })`).
   */
  readonly node?: NodeKind;
  /** Progress output (default: stderr). */
  readonly log?: (line: string) => void;
  /** Extra kube-apiserver flags (e.g. tight inflight limits for throttling tests). */
  readonly apiserverArgs?: readonly string[];
  /** How long to wait for everything to be ready. Default 120 s. */
  readonly readyTimeoutMs?: number;
  /**
   * Manifest files (or folders) applied with `kubectl apply -f` once the apiserver serves, before the
   * nodes start. Default: this repository's `deploy/admission-policy.yaml` (the ValidatingAdmissionPolicy
   * that guards TaskRun serviceAccountName, see docs/security.md) when it exists; `[]` applies nothing.
   */
  readonly manifests?: readonly string[];
}

/** What `start` applies when `manifests` is not given (only those that exist). */
export const DEFAULT_MANIFESTS: readonly string[] = [
  fileURLToPath(new URL("../../deploy/admission-policy.yaml", import.meta.url)),
];

const STAGES_FILE = fileURLToPath(new URL("../kwok/stages.yaml", import.meta.url));

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // An exited process not yet reaped by its parent is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true;
  }
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number | undefined): boolean {
  if (!pgid) return false;
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A group of zombies only (exited, not yet reaped by whoever adopted them) counts as gone.
  return groupHasLiveMember(pgid);
}

function groupHasLiveMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) === pgid && f[0] !== "Z" && f[0] !== "X") return true;
  }
  return false;
}

function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function writeKubeconfig(file: string, server: string, ca: string, cert: string, key: string, user: string): void {
  const b64 = (p: string) => readFileSync(p).toString("base64");
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "minitask-testenv", cluster: { server, "certificate-authority-data": b64(ca) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(cert), "client-key-data": b64(key) } }],
    contexts: [{ name: "minitask-testenv", context: { cluster: "minitask-testenv", user, namespace: "default" } }],
    "current-context": "minitask-testenv",
    preferences: {},
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
}

export class ControlPlane {
  readonly state: ClusterState;
  readonly #identity: TlsIdentity;
  /** Children started by this process (so exits are seen at once); others are tracked by pid. */
  readonly #children = new Map<ComponentName, ChildProcess>();
  readonly #log: (line: string) => void;

  private constructor(state: ClusterState, log?: (line: string) => void) {
    this.state = state;
    this.#identity = loadIdentity({ ca: state.pki.ca, cert: state.pki.adminCert, key: state.pki.adminKey });
    this.#log = log ?? ((l) => process.stderr.write(`${l}\n`));
  }

  get kubeconfig(): string {
    return this.state.kubeconfig;
  }

  /** Re-opens a control plane started by another process, or undefined when `stateDir` holds none. */
  static attach(stateDir: string, log?: (line: string) => void): ControlPlane | undefined {
    const file = join(stateDir, "state.json");
    if (!existsSync(file)) return undefined;
    return new ControlPlane(JSON.parse(readFileSync(file, "utf8")) as ClusterState, log);
  }

  /** Builds the binaries if needed, then starts every component and waits until a kwok node is Ready. */
  static async start(opts: StartOptions): Promise<ControlPlane> {
    const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    const kind = opts.node ?? "kwok";
    if (kind !== "kwok") {
      const support = realNodeSupport();
      if (!support.ok) throw new TestEnvError(support.reason);
    }
    const bins = await ensureBinaries({ log });
    const artifacts = kind === "kwok" ? undefined : await ensureNodeArtifacts({ log });
    // Absolute: it also names the owner of the ports claimed below.
    const dir = resolve(opts.stateDir);
    mkdirSync(join(dir, "logs"), { recursive: true });
    const pki = makePki(join(dir, "pki"));
    const [etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort(dir)),
    );
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdEndpoint = `http://127.0.0.1:${etcdPort}`;
    const kubeconfig = join(dir, "kubeconfig");
    const admin = pki.clients.admin;
    writeKubeconfig(kubeconfig, server, pki.caCert, admin.cert, admin.key, "minitask-admin");
    const componentKubeconfig = (name: "kube-controller-manager" | "kube-scheduler" | "kwok") => {
      const file = join(pki.dir, `${name}.kubeconfig`);
      const c = pki.clients[name];
      writeKubeconfig(file, server, pki.caCert, c.cert, c.key, name);
      return file;
    };
    const nodes = kind === "real" ? [] : Array.from({ length: opts.nodes ?? 1 }, (_, i) => `kwok-node-${i}`);
    const all = makeArgs({
      bins,
      dir,
      pki,
      ports: { etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort } as Record<string, number>,
      etcdEndpoint,
      kcmKubeconfig: componentKubeconfig("kube-controller-manager"),
      schedKubeconfig: componentKubeconfig("kube-scheduler"),
      kwokKubeconfig: componentKubeconfig("kwok"),
      apiserverArgs: [
        ...(kind === "kwok" ? [] : ["--enable-admission-plugins=PodNodeSelector,PodTolerationRestriction"]),
        ...(opts.apiserverArgs ?? []),
      ],
    });
    const components: Partial<Record<ComponentName, ComponentState>> = {};
    for (const c of componentsFor(kind)) if (c in all) components[c] = all[c as ControlPlaneComponent];
    let realNode: RealNodeState | undefined;
    const nodePorts: Record<string, number> = {};
    if (kind !== "kwok") {
      const [registryPort, kubeletPort, kubeletHealthzPort] = await Promise.all([
        freePort(dir),
        freePort(dir),
        freePort(dir),
      ]);
      const prepared = prepareRealNode({
        stateDir: dir,
        pki,
        server,
        tainted: kind === "both",
        registryPort,
        kubeletPort,
        kubeletHealthzPort,
        ...(artifacts ? { artifacts } : {}),
      });
      realNode = prepared.state;
      Object.assign(components, prepared.components);
      Object.assign(nodePorts, { registry: registryPort, kubelet: kubeletPort, kubeletHealthz: kubeletHealthzPort });
    }
    const state: ClusterState = {
      version: 1,
      kubernetesVersion: KUBERNETES_VERSION,
      stateDir: dir,
      kubeconfig,
      server,
      etcdEndpoint,
      binDir: join(bins.kubectl, ".."),
      kubectl: bins.kubectl,
      nodes,
      nodeKind: kind,
      ...(realNode ? { realNode } : {}),
      ports: {
        etcd: etcdPort ?? 0,
        etcdPeer: peerPort ?? 0,
        apiserver: apiPort ?? 0,
        controllerManager: kcmPort ?? 0,
        scheduler: schedPort ?? 0,
        kwok: kwokPort ?? 0,
        ...nodePorts,
      },
      pki: { ca: pki.caCert, adminCert: admin.cert, adminKey: admin.key },
      components,
      startedAt: new Date().toISOString(),
    };
    const cp = new ControlPlane(state, log);
    cp.#save();
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
    try {
      for (const name of cp.componentNames) {
        const rn = cp.state.realNode;
        if (name === "registry" && rn) {
          // What a killed earlier node left (shims, mounts, cgroups) would confuse this one.
          const stale = realNodeLeftovers("machine");
          if (stale.length > 0) {
            log(`testenv: cleaning up after an earlier real node: ${stale.join("; ")}`);
            await cleanupRealNode("machine");
          }
          registerRealNode({ stateDir: dir, dir: rn.dir, cgroupRoot: rn.cgroupRoot, pid: process.pid });
          await cp.#bindNodeRole();
        }
        const t0 = Date.now();
        await cp.startComponent(name, deadline);
        log(`testenv: ${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        if (name === "containerd") {
          const t1 = Date.now();
          for (const tarball of cp.state.realNode?.baseImages ?? []) await cp.importImage(tarball);
          log(`testenv: images imported into the node in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
        }
        if (name === "kube-apiserver") await cp.#applyManifests(opts.manifests ?? DEFAULT_MANIFESTS.filter(existsSync));
        if (name === "kwok") await cp.#createNodes(deadline);
      }
      await cp.#waitNodesReady(deadline);
      await cp.#waitFor("the default ServiceAccount", deadline, async () => {
        const r = await cp.api("GET", "/api/v1/namespaces/default/serviceaccounts/default");
        return r.status === 200;
      });
    } catch (err) {
      await cp.stop({ keepState: true });
      throw err;
    }
    return cp;
  }

  /** Which nodes this cluster has. */
  get nodeKind(): NodeKind {
    return this.state.nodeKind ?? "kwok";
  }

  /** This cluster's components, in start order. */
  get componentNames(): ComponentName[] {
    return componentsFor(this.nodeKind).filter((c) => this.state.components[c]);
  }

  #component(name: ComponentName): ComponentState {
    const c = this.state.components[name];
    if (!c) throw new TestEnvError(`this cluster (node kind ${this.nodeKind}) has no ${name}`);
    return c;
  }

  #scope(n: RealNodeState): NodeScope {
    // State written before node ids existed had its pods under /kubepods.
    return { dir: n.dir, cgroupRoot: n.cgroupRoot ?? "/kubepods" };
  }

  #realNode(): RealNodeState {
    const n = this.state.realNode;
    if (!n) throw new TestEnvError(`this cluster has no real node (started with node kind ${this.nodeKind})`);
    return n;
  }

  /** Runs the node's `ctr` against its containerd in the `k8s.io` namespace; resolves with stdout. */
  /** Whether containerd's CRI plugin (what the kubelet talks to) is loaded and ok. */
  async #criServing(): Promise<boolean> {
    try {
      const plugins = await this.ctr(["plugins", "ls"]);
      return /^io\.containerd\.grpc\.v1\s+cri\s+.*\sok\s*$/m.test(plugins);
    } catch {
      return false;
    }
  }

  async ctr(args: readonly string[]): Promise<string> {
    const n = this.#realNode();
    try {
      const { stdout } = await execFileP(n.ctr, ["--address", n.containerdSocket, "-n", "k8s.io", ...args], {
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new TestEnvError(`ctr ${args.join(" ")} failed: ${(e.stderr || e.message).trim().split("\n").pop()}`);
    }
  }

  /**
   * Imports a docker-archive (or OCI) tarball into the real node's containerd and pushes each of its
   * names to the node's local registry (so pods whose pull policy is Always get it too). Resolves with
   * the image names the tarball carried. `push: false` skips the registry (for images that pods use with
   * pull policy IfNotPresent or Never: a big image's push takes seconds).
   */
  async importImage(tarball: string, opts: { readonly push?: boolean } = {}): Promise<string[]> {
    const n = this.#realNode();
    const out = await this.ctr(["images", "import", "--snapshotter", "overlayfs", tarball]);
    const names = [...out.matchAll(/^unpacking (\S+) \(/gm)].map((m) => m[1] ?? "").filter(Boolean);
    if (names.length === 0) throw new TestEnvError(`${tarball} holds no tagged image (ctr said: ${out.trim()})`);
    if (opts.push !== false) {
      await this.#push(tarball, names);
      (n.imported ?? []).push({ tarball, names });
      this.#save();
    }
    return names;
  }

  /** Pushes an image tarball under each of its names to the node's local registry. */
  async #push(tarball: string, names: readonly string[]): Promise<void> {
    const n = this.#realNode();
    for (const name of names) {
      if (name.startsWith("localhost/")) continue; // only ever used from the node's own store
      const { host, path } = splitImageRef(name);
      if (host !== "docker.io") writeRegistryHosts(join(n.dir, "certs.d"), host, n.registry);
      try {
        await execFileP(n.crane, ["push", tarball, `${n.registry}/${path}`], { maxBuffer: 16 * 1024 * 1024 });
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new TestEnvError(`pushing ${name} to the node's registry failed: ${(e.stderr || e.message).trim()}`);
      }
    }
  }

  async #applyManifests(files: readonly string[]): Promise<void> {
    for (const file of files) {
      try {
        await execFileP(this.state.kubectl, ["--kubeconfig", this.kubeconfig, "apply", "-f", file]);
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new TestEnvError(`kubectl apply -f ${file} failed: ${(e.stderr || e.message).trim()}`);
      }
      this.#log(`testenv: applied ${file}`);
    }
  }

  async #bindNodeRole(): Promise<void> {
    const n = this.#realNode();
    const r = await this.api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `minitask:node:${n.name}` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: `system:node:${n.name}` }],
    });
    if (r.status !== 201 && r.status !== 409) {
      throw new TestEnvError(`binding system:node to the kubelet failed: ${r.status} ${r.body}`);
    }
  }

  /**
   * Deletes every pod bound to the real node while the kubelet still runs (so it stops their
   * containers and unmounts their volumes), with the scheduler stopped so nothing new lands there.
   */
  async #drainRealNode(timeoutMs = 30_000): Promise<void> {
    const n = this.state.realNode;
    if (!n || !this.isRunning("kubelet") || !this.isRunning("kube-apiserver")) return;
    if (this.state.components["kube-scheduler"]) await this.stopComponent("kube-scheduler");
    const list = async () => {
      const r = await this.api("GET", `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${n.name}`)}`);
      if (r.status !== 200) return [];
      return (JSON.parse(r.body) as { items: { metadata: { name: string; namespace: string } }[] }).items;
    };
    const deadline = Date.now() + timeoutMs;
    try {
      for (const p of await list()) {
        await this.api("DELETE", `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, {
          gracePeriodSeconds: 1,
        });
      }
      // Done when the kubelet has stopped their containers and sandboxes (no shim left) and unmounted
      // their volumes, and the pods are gone from the API or from its folder (its housekeeping runs
      // every 2 s; its final status updates of deleted pods can lag many seconds behind).
      const podsDir = join(n.kubeletRootDir, "pods");
      const podDirs = () => {
        try {
          return readdirSync(podsDir).length;
        } catch {
          return 0;
        }
      };
      const shim = n.binaries.filter((b) => b.endsWith("containerd-shim-runc-v2"));
      const volumes = () => mountsUnder(podsDir).length;
      while (Date.now() < deadline) {
        const shims = nodeProcesses(this.#scope(n)).filter((pid) => {
          try {
            return shim.includes(readlinkSync(`/proc/${pid}/exe`));
          } catch {
            return false;
          }
        });
        if (shims.length === 0 && volumes() === 0) {
          if (podDirs() === 0 || (await list()).length === 0) break;
        }
        await sleep(100);
      }
    } catch {
      // The apiserver went away: the forced cleanup after stopping handles what is left.
    }
  }

  /** Takes the pids another process (a test restarting a component) may have recorded since. */
  #reloadPids(): void {
    let disk: ClusterState;
    try {
      disk = JSON.parse(readFileSync(join(this.state.stateDir, "state.json"), "utf8")) as ClusterState;
    } catch {
      return;
    }
    for (const name of this.componentNames) {
      const mine = this.state.components[name];
      const pid = disk.components[name]?.pid;
      if (mine && pid && pid !== mine.pid) {
        mine.pid = pid;
        this.#children.delete(name);
      }
    }
  }

  #save(): void {
    writeFileSync(join(this.state.stateDir, "state.json"), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  /** A request to the apiserver as the admin. */
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
    return fetchText(`${this.state.server}${path}`, { method, body, tls: this.#identity, timeoutMs: 10_000 });
  }

  async #waitFor(what: string, deadline: number, check: () => Promise<boolean>, component?: ComponentName) {
    for (;;) {
      if (component && !this.isRunning(component)) {
        const c = this.state.components[component];
        throw new TestEnvError(`${component} exited while starting; log ${c?.log}:\n${logTail(c?.log ?? "")}`);
      }
      try {
        if (await check()) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        const c = component ? this.state.components[component] : undefined;
        throw new TestEnvError(`timed out waiting for ${what}${c ? `; log ${c.log}:\n${logTail(c.log)}` : ""}`);
      }
      await sleep(200);
    }
  }

  isRunning(name: ComponentName): boolean {
    const child = this.#children.get(name);
    // A child of ours that exited but whose exit event has not been delivered yet is a zombie: /proc
    // says so before `exitCode` does (stopComponent returns as soon as the group is only zombies).
    if (child && (child.exitCode !== null || child.signalCode !== null)) return false;
    return alive(child?.pid ?? this.state.components[name]?.pid);
  }

  /** Starts one component (again) with its recorded arguments and waits until it is ready. */
  async startComponent(name: ComponentName, deadline = Date.now() + 60_000): Promise<void> {
    const c = this.#component(name);
    if (this.isRunning(name)) throw new TestEnvError(`${name} is already running (pid ${c.pid})`);
    const rn = this.state.realNode;
    if (name === "kubelet" && rn?.cgroupRoot) makeCgroupRoot(rn.cgroupRoot);
    const fd = openSync(c.log, "a");
    let child: ChildProcess;
    try {
      child = spawn(c.binary, c.args, {
        detached: true,
        stdio: ["ignore", fd, fd],
        ...(c.env ? { env: { ...process.env, ...c.env } } : {}),
      });
    } finally {
      closeSync(fd);
    }
    child.on("error", () => {});
    child.unref();
    this.#children.set(name, child);
    c.pid = child.pid;
    this.#save();
    await this.#waitFor(`${name} to be ready`, deadline, () => this.#ready(name), name);
    // The registry keeps what it serves in memory: a restarted one gets every imported image again.
    if (name === "registry") {
      for (const i of this.state.realNode?.imported ?? []) await this.#push(i.tarball, i.names);
    }
  }

  async #ready(name: ComponentName): Promise<boolean> {
    const p = this.state.ports;
    switch (name) {
      case "etcd": {
        const r = await fetchText(`${this.state.etcdEndpoint}/health`);
        return r.status === 200 && r.body.includes('"true"');
      }
      case "kube-apiserver": {
        const r = await this.api("GET", "/readyz");
        return r.status === 200;
      }
      case "kube-controller-manager":
        return (await fetchText(`https://127.0.0.1:${p.controllerManager}/healthz`, { insecure: true })).status === 200;
      case "kube-scheduler":
        return (await fetchText(`https://127.0.0.1:${p.scheduler}/healthz`, { insecure: true })).status === 200;
      case "kwok":
        return (await fetchText(`https://127.0.0.1:${p.kwok}/healthz`, { insecure: true })).status === 200;
      case "registry":
        return (await fetchText(`http://127.0.0.1:${p.registry}/v2/`)).status === 200;
      case "containerd":
        // The socket accepts before the CRI plugin is serving; a kubelet started in between exits
        // ("unknown service runtime.v1.RuntimeService"). Ready = the CRI plugin reports ok.
        return (await socketAccepts(this.#realNode().containerdSocket)) && (await this.#criServing());
      case "kubelet":
        return (await fetchText(`http://127.0.0.1:${p.kubeletHealthz}/healthz`)).status === 200;
    }
  }

  /**
   * Stops one component: SIGTERM to its process group (or `signal`), then SIGKILL after `graceMs`.
   * Resolves when no process of the group is left.
   */
  async stopComponent(name: ComponentName, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
    const pgid = this.state.components[name]?.pid;
    if (!pgid || !groupAlive(pgid)) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
    const until = Date.now() + graceMs;
    while (groupAlive(pgid) && Date.now() < until) await sleep(50);
    if (groupAlive(pgid)) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // gone
      }
      while (groupAlive(pgid)) await sleep(20);
    }
  }

  /** Every process id this control plane started that is still alive. */
  livePids(): number[] {
    return this.componentNames.map((n) => this.state.components[n]?.pid).filter((p): p is number => groupAlive(p));
  }

  /**
   * Stops every component (reverse order) and removes the state folder unless `keepState`. With a
   * real node, its pods are deleted first while the kubelet still runs, and afterwards stray shims,
   * mounts, kubepods cgroups and the machine paths the node wrote to are removed. Resolves with what
   * could not be removed (empty when clean).
   */
  async stop(opts: { keepState?: boolean } = {}): Promise<string[]> {
    this.#reloadPids();
    await this.#drainRealNode();
    for (const name of [...this.componentNames].reverse()) await this.stopComponent(name);
    let left: string[] = [];
    const n = this.state.realNode;
    if (n) {
      // Only this node's processes, mounts and cgroups (other clusters' real nodes may run beside it);
      // the machine paths too once no real node runs.
      unregisterRealNode(this.state.stateDir);
      left = await cleanupRealNode(this.#scope(n), n.binaries);
    }
    if (!opts.keepState) {
      rmSync(this.state.stateDir, { recursive: true, force: true });
      releasePorts(resolve(this.state.stateDir));
    }
    return left;
  }

  /** Component liveness and apiserver readiness. */
  async status(): Promise<{ components: Record<ComponentName, boolean>; ready: boolean }> {
    const components = {} as Record<ComponentName, boolean>;
    for (const n of this.componentNames) components[n] = this.isRunning(n);
    let ready = false;
    try {
      ready = (await this.api("GET", "/readyz")).status === 200;
    } catch {
      ready = false;
    }
    return { components, ready };
  }

  /** Compacts etcd up to its current revision (forces 410 Gone for watches from older resource versions). */
  async compactEtcd(): Promise<number> {
    const r = await fetchText(`${this.state.etcdEndpoint}/v3/kv/range`, {
      method: "POST",
      body: { key: Buffer.from("/").toString("base64"), limit: 1 },
    });
    const rev = Number((JSON.parse(r.body) as { header: { revision: string } }).header.revision);
    const c = await fetchText(`${this.state.etcdEndpoint}/v3/kv/compaction`, {
      method: "POST",
      body: { revision: rev, physical: true },
    });
    if (c.status !== 200) throw new TestEnvError(`etcd compaction failed: ${c.status} ${c.body}`);
    return rev;
  }

  async #createNodes(deadline: number): Promise<void> {
    for (const name of this.state.nodes) {
      const node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "node-role.kubernetes.io/agent": "",
            type: "kwok",
          },
        },
        spec: {},
      };
      await this.#waitFor(`node ${name} to be created`, deadline, async () => {
        const r = await this.api("POST", "/api/v1/nodes", node);
        if (r.status === 201 || r.status === 409) return true;
        throw new TestEnvError(`creating node ${name}: ${r.status} ${r.body}`);
      });
    }
  }

  async #waitNodesReady(deadline: number): Promise<void> {
    const real = this.state.realNode?.name;
    for (const name of [...this.state.nodes, ...(real ? [real] : [])]) {
      await this.#waitFor(
        `node ${name} to be Ready`,
        deadline,
        async () => {
          const r = await this.api("GET", `/api/v1/nodes/${name}`);
          if (r.status !== 200) return false;
          const node = JSON.parse(r.body) as {
            spec?: { taints?: unknown[] };
            status?: { conditions?: { type: string; status: string }[] };
          };
          const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
          // The node lifecycle controller removes its not-ready taint shortly after Ready.
          const taints = (node.spec?.taints ?? []) as { key?: string }[];
          return ready && taints.every((t) => name === real && t.key === NODE_KIND_LABEL);
        },
        name === real ? "kubelet" : "kwok",
      );
    }
  }
}

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

interface ArgsInput {
  bins: Record<BinaryName, string>;
  dir: string;
  pki: Pki;
  ports: Record<string, number>;
  etcdEndpoint: string;
  kcmKubeconfig: string;
  schedKubeconfig: string;
  kwokKubeconfig: string;
  apiserverArgs: readonly string[];
}

function makeArgs(i: ArgsInput): Record<ControlPlaneComponent, ComponentState> {
  const { bins, dir, pki, ports } = i;
  const log = (n: string) => join(dir, "logs", `${n}.log`);
  const peer = `http://127.0.0.1:${ports.peerPort}`;
  const issuer = "https://kubernetes.default.svc.cluster.local";
  return {
    etcd: {
      binary: bins.etcd,
      log: log("etcd"),
      args: [
        "--name=default",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${i.etcdEndpoint}`,
        `--advertise-client-urls=${i.etcdEndpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=default=${peer}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
    },
    "kube-apiserver": {
      binary: bins["kube-apiserver"],
      log: log("kube-apiserver"),
      args: [
        `--etcd-servers=${i.etcdEndpoint}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${ports.apiPort}`,
        `--cert-dir=${join(dir, "apiserver-certs")}`,
        `--tls-cert-file=${pki.serving.cert}`,
        `--tls-private-key-file=${pki.serving.key}`,
        `--client-ca-file=${pki.caCert}`,
        `--kubelet-client-certificate=${pki.clients["kubelet-client"].cert}`,
        `--kubelet-client-key=${pki.clients["kubelet-client"].key}`,
        "--kubelet-preferred-address-types=InternalIP",
        `--service-account-issuer=${issuer}`,
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=1",
        ...i.apiserverArgs,
      ],
    },
    "kube-controller-manager": {
      binary: bins["kube-controller-manager"],
      log: log("kube-controller-manager"),
      args: [
        `--kubeconfig=${i.kcmKubeconfig}`,
        `--authentication-kubeconfig=${i.kcmKubeconfig}`,
        `--authorization-kubeconfig=${i.kcmKubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${ports.kcmPort}`,
        "--leader-elect=false",
        `--service-account-private-key-file=${pki.saKey}`,
        `--root-ca-file=${pki.caCert}`,
        "--controllers=*",
        "--use-service-account-credentials=true",
        "--profiling=false",
        "--v=1",
      ],
    },
    "kube-scheduler": {
      binary: bins["kube-scheduler"],
      log: log("kube-scheduler"),
      args: [
        `--kubeconfig=${i.schedKubeconfig}`,
        `--authentication-kubeconfig=${i.schedKubeconfig}`,
        `--authorization-kubeconfig=${i.schedKubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${ports.schedPort}`,
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
      ],
    },
    kwok: {
      binary: bins.kwok,
      log: log("kwok"),
      args: [
        `--kubeconfig=${i.kwokKubeconfig}`,
        `--config=${STAGES_FILE}`,
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--node-ip=127.0.0.1",
        `--node-port=${ports.kwokPort}`,
        `--server-address=127.0.0.1:${ports.kwokPort}`,
        `--tls-cert-file=${pki.serving.cert}`,
        `--tls-private-key-file=${pki.serving.key}`,
        "--cidr=10.128.0.1/10",
        "--node-lease-duration-seconds=40",
      ],
    },
  };
}
