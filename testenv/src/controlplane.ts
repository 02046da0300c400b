// A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (simulated nodes and pods), each a child process in its own process group
// on loopback, with per-run certificates and random free ports. Its state (ports, argv, pids) is kept
// in `<stateDir>/state.json` so that another process (`npm run cluster -- down`, a fault test) can
// find, stop and restart the components.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { ensureBinaries, TestEnvError } from "./build.ts";
import { makePki, type Pki } from "./certs.ts";
import { fetchText, loadIdentity, type TlsIdentity } from "./http.ts";
import type { BinaryName } from "./versions.ts";
import { KUBERNETES_VERSION } from "./versions.ts";

export type ComponentName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";
/** Start order; stop runs in reverse. */
export const COMPONENTS: readonly ComponentName[] = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
];

export interface ComponentState {
  readonly binary: string;
  readonly args: readonly string[];
  readonly log: string;
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
  readonly nodes: readonly string[];
  readonly ports: Readonly<Record<string, number>>;
  readonly pki: { readonly ca: string; readonly adminCert: string; readonly adminKey: string };
  readonly components: Record<ComponentName, ComponentState>;
  readonly startedAt: string;
}

export interface StartOptions {
  /** Folder for certificates, etcd data, logs and state.json; created if missing. */
  readonly stateDir: string;
  /** Number of simulated (kwok) nodes. Default 1. */
  readonly nodes?: number;
  /** Progress output (default: stderr). */
  readonly log?: (line: string) => void;
  /** Extra kube-apiserver flags (e.g. tight inflight limits for throttling tests). */
  readonly apiserverArgs?: readonly string[];
  /** How long to wait for everything to be ready. Default 120 s. */
  readonly readyTimeoutMs?: number;
}

const STAGES_FILE = fileURLToPath(new URL("../kwok/stages.yaml", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True while any process of the group is alive. */
function groupAlive(pgid: number | undefined): boolean {
  if (!pgid) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
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
    const bins = await ensureBinaries({ log });
    const dir = opts.stateDir;
    mkdirSync(join(dir, "logs"), { recursive: true });
    const pki = makePki(join(dir, "pki"));
    const [etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
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
    const nodes = Array.from({ length: opts.nodes ?? 1 }, (_, i) => `kwok-node-${i}`);
    const components = makeArgs({
      bins,
      dir,
      pki,
      ports: { etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort } as Record<string, number>,
      etcdEndpoint,
      kcmKubeconfig: componentKubeconfig("kube-controller-manager"),
      schedKubeconfig: componentKubeconfig("kube-scheduler"),
      kwokKubeconfig: componentKubeconfig("kwok"),
      apiserverArgs: opts.apiserverArgs ?? [],
    });
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
      ports: {
        etcd: etcdPort ?? 0,
        etcdPeer: peerPort ?? 0,
        apiserver: apiPort ?? 0,
        controllerManager: kcmPort ?? 0,
        scheduler: schedPort ?? 0,
        kwok: kwokPort ?? 0,
      },
      pki: { ca: pki.caCert, adminCert: admin.cert, adminKey: admin.key },
      components,
      startedAt: new Date().toISOString(),
    };
    const cp = new ControlPlane(state, log);
    cp.#save();
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
    try {
      for (const name of COMPONENTS) {
        const t0 = Date.now();
        await cp.startComponent(name, deadline);
        log(`testenv: ${name} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      await cp.#createNodes(deadline);
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
        throw new TestEnvError(`${component} exited while starting; log ${c.log}:\n${logTail(c.log)}`);
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
    if (child) return child.exitCode === null && child.signalCode === null;
    return alive(this.state.components[name].pid);
  }

  /** Starts one component (again) with its recorded arguments and waits until it is ready. */
  async startComponent(name: ComponentName, deadline = Date.now() + 60_000): Promise<void> {
    const c = this.state.components[name];
    if (this.isRunning(name)) throw new TestEnvError(`${name} is already running (pid ${c.pid})`);
    const fd = openSync(c.log, "a");
    let child: ChildProcess;
    try {
      child = spawn(c.binary, c.args, { detached: true, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    child.on("error", () => {});
    child.unref();
    this.#children.set(name, child);
    c.pid = child.pid;
    this.#save();
    await this.#waitFor(`${name} to be ready`, deadline, () => this.#ready(name), name);
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
    }
  }

  /**
   * Stops one component: SIGTERM to its process group (or `signal`), then SIGKILL after `graceMs`.
   * Resolves when no process of the group is left.
   */
  async stopComponent(name: ComponentName, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
    const c = this.state.components[name];
    const pgid = c.pid;
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
    return COMPONENTS.map((n) => this.state.components[n].pid).filter((p): p is number => groupAlive(p));
  }

  /** Stops every component (reverse order) and removes the state folder unless `keepState`. */
  async stop(opts: { keepState?: boolean } = {}): Promise<void> {
    for (const name of [...COMPONENTS].reverse()) await this.stopComponent(name);
    if (!opts.keepState) rmSync(this.state.stateDir, { recursive: true, force: true });
  }

  /** Component liveness and apiserver readiness. */
  async status(): Promise<{ components: Record<ComponentName, boolean>; ready: boolean }> {
    const components = {} as Record<ComponentName, boolean>;
    for (const n of COMPONENTS) components[n] = this.isRunning(n);
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
    for (const name of this.state.nodes) {
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
          return ready && (node.spec?.taints ?? []).length === 0;
        },
        "kwok",
      );
    }
  }
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

function makeArgs(i: ArgsInput): Record<ComponentName, ComponentState> {
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
