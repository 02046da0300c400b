// The public entry point of @minitask/envtest: a real local control plane for a test run, as
// controller-runtime's envtest is for Go — started (or an existing cluster connected to), CRDs installed
// and served, a client, a namespace per test, and teardown that leaves nothing behind.
//
//   await using env = await startControlPlane({ crds: ["config/crds"] });
//   const ns = await env.createNamespace("my-test");
//   await env.client.resource(...).inNamespace(ns).create(...);
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isAlreadyExists, isNotFound, KubeClient } from "@minitask/client";
import { parseAllDocuments } from "yaml";
import { binaryPaths, TestEnvError } from "./build.ts";
import { ControlPlane } from "./controlplane.ts";
import type { NodeKind } from "./realnode.ts";
import { NODE_KIND_LABEL } from "./versions.ts";

const execFileP = promisify(execFile);

/** What {@link startControlPlane} starts and installs. */
export interface ControlPlaneOptions {
  /**
   * `kwok` (default): simulated nodes — pods are scheduled and their status follows kwok's stages, no
   * container runs. `real`: one real node (a kubelet with containerd and runc; needs root, Linux cgroups
   * and overlayfs). `both`: kwok nodes and the real node, which is tainted so that only namespaces made
   * with `createNamespace(prefix, { node: "real" })` run pods there.
   */
  readonly node?: NodeKind;
  /** Number of kwok nodes (`kwok` and `both`). Default 1. */
  readonly kwokNodes?: number;
  /**
   * CustomResourceDefinition manifests to install: files or folders of YAML or JSON (every `.yaml`,
   * `.yml`, `.json` directly inside). Start resolves once every CRD is established and its resources are
   * in discovery, so tests can use them at once.
   */
  readonly crds?: readonly string[];
  /** Other manifests (files or folders) applied with `kubectl apply -f` after the CRDs. */
  readonly manifests?: readonly string[];
  /** Extra kube-apiserver flags, e.g. `--feature-gates=…`. */
  readonly apiserverArgs?: readonly string[];
  /**
   * Use this running cluster (a kubeconfig path) instead of starting one: CRDs and manifests are still
   * installed, and `stop()` deletes the namespaces `createNamespace` made but stops nothing. Default: the
   * `MINITASK_ENVTEST_KUBECONFIG` environment variable, when set (controller-runtime's
   * `USE_EXISTING_CLUSTER`).
   */
  readonly existingCluster?: string;
  /** Folder for the control plane's state (certificates, etcd data, logs). Default: a new temporary folder. */
  readonly stateDir?: string;
  /** How long to wait for the control plane, the nodes and the CRDs. Default 120 s. */
  readonly readyTimeoutMs?: number;
  /**
   * Progress lines (default: stderr). The first start on a machine builds etcd, Kubernetes and kwok from
   * Go modules (many minutes on a small machine, printed step by step); later starts reuse the per-user
   * cache (`MINITASK_CACHE_DIR`, else `$XDG_CACHE_HOME/minitask`, else `~/.cache/minitask`).
   */
  readonly log?: (line: string) => void;
}

/** Options of {@link TestControlPlane.createNamespace}. */
export interface NamespaceOptions {
  /** `real`: every pod of the namespace runs on the real node (fails when the cluster has none). */
  readonly node?: "real";
  readonly labels?: Readonly<Record<string, string>>;
}

/** A control plane for tests: what {@link startControlPlane} and {@link connectControlPlane} return. */
export interface TestControlPlane extends AsyncDisposable {
  /** Path of an admin kubeconfig (cluster-admin); give it to your code, `KUBECONFIG=…` or `--kubeconfig`. */
  readonly kubeconfig: string;
  /** The apiserver's URL, e.g. `https://127.0.0.1:39245`. */
  readonly server: string;
  /** An admin client (`@minitask/client`); closed by `stop()`. */
  readonly client: KubeClient;
  /** Which nodes the cluster has (`kwok` for a connected cluster whose nodes are unknown). */
  readonly nodeKind: NodeKind;
  /** Whether `stop()` stops the control plane (false for a connected, existing cluster). */
  readonly owned: boolean;
  /** The underlying control plane, when this process started it (restart or stop components, logs). */
  readonly controlPlane: ControlPlane | undefined;
  /**
   * Creates a namespace named `<prefix>-<random>` and resolves once pods can be created in it (its
   * `default` ServiceAccount exists) and `kube-root-ca.crt` is published, so tests never race with the
   * controller manager. One namespace per test keeps tests independent.
   */
  createNamespace(prefix?: string, options?: NamespaceOptions): Promise<string>;
  /** Installs more CRDs (files or folders) and waits until they are served; resolves with their names. */
  installCrds(paths: readonly string[]): Promise<string[]>;
  /** Runs the control plane's kubectl (`--kubeconfig` set); resolves with its stdout. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /**
   * Closes the client; stops every process of an owned control plane and removes its state folder (unless
   * `stateDir` was given); for a connected cluster, deletes the namespaces `createNamespace` made.
   * Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts a local control plane — etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and kwok
 * and/or a real node — on loopback with random ports and its own certificates, installs `crds` and
 * `manifests`, and resolves when all is ready. Release it with `await using` or `stop()`.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<TestControlPlane> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const timeout = options.readyTimeoutMs ?? 120_000;
  const existing = options.existingCluster ?? (process.env.MINITASK_ENVTEST_KUBECONFIG || undefined);
  let env: Env;
  if (existing !== undefined) {
    env = new Env(existing, undefined, options.node ?? "kwok", undefined);
  } else {
    const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), "minitask-envtest-"));
    const cp = await ControlPlane.start({
      stateDir,
      node: options.node ?? "kwok",
      nodes: options.kwokNodes ?? 1,
      manifests: [],
      log,
      readyTimeoutMs: timeout,
      ...(options.apiserverArgs ? { apiserverArgs: options.apiserverArgs } : {}),
    });
    env = new Env(cp.kubeconfig, cp, cp.nodeKind, options.stateDir === undefined ? undefined : stateDir);
  }
  try {
    if (options.crds && options.crds.length > 0) await env.installCrds(options.crds, timeout);
    for (const m of options.manifests ?? []) await env.kubectl(["apply", "-f", m]);
  } catch (err) {
    await env.stop();
    throw err;
  }
  return env;
}

/**
 * A handle on a control plane started elsewhere — by a vitest global setup, `npx minitask-envtest up`, or
 * any cluster — from its kubeconfig: a client, namespaces, kubectl. `stop()` deletes the namespaces it
 * made and closes the client; the cluster keeps running.
 */
export function connectControlPlane(kubeconfig: string, options: { readonly node?: NodeKind } = {}): TestControlPlane {
  return new Env(kubeconfig, undefined, options.node ?? "kwok", undefined);
}

const CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

class Env implements TestControlPlane {
  readonly kubeconfig: string;
  readonly client: KubeClient;
  readonly nodeKind: NodeKind;
  readonly controlPlane: ControlPlane | undefined;
  readonly #keepState: string | undefined;
  readonly #namespaces: string[] = [];
  #stopped: Promise<void> | undefined;

  constructor(kubeconfig: string, cp: ControlPlane | undefined, nodeKind: NodeKind, keepState: string | undefined) {
    this.kubeconfig = kubeconfig;
    this.controlPlane = cp;
    this.nodeKind = nodeKind;
    this.#keepState = keepState;
    this.client = KubeClient.load({ kubeconfig });
  }

  get owned(): boolean {
    return this.controlPlane !== undefined;
  }

  get server(): string {
    return this.client.transport.server.href.replace(/\/$/, "");
  }

  async createNamespace(prefix = "test", options: NamespaceOptions = {}): Promise<string> {
    const safe =
      prefix
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 40) || "test";
    const name = `${safe}-${Math.random().toString(16).slice(2, 10).padEnd(8, "0")}`;
    const annotations: Record<string, string> = {};
    if (options.node === "real") {
      if (this.nodeKind === "kwok") {
        throw new TestEnvError(
          `createNamespace(${JSON.stringify(prefix)}, { node: "real" }): this cluster has no real node`,
        );
      }
      annotations["scheduler.alpha.kubernetes.io/node-selector"] = `${NODE_KIND_LABEL}=real`;
      annotations["scheduler.alpha.kubernetes.io/defaultTolerations"] = JSON.stringify([
        { key: NODE_KIND_LABEL, operator: "Equal", value: "real", effect: "NoSchedule" },
      ]);
    }
    await this.client.requestJson({
      method: "POST",
      path: "/api/v1/namespaces",
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { ...options.labels }, annotations },
      }),
    });
    this.#namespaces.push(name);
    // Pods are admitted once the namespace's default ServiceAccount exists; the controller manager also
    // publishes kube-root-ca.crt into it, which a test listing ConfigMaps would otherwise race with.
    const deadline = Date.now() + 60_000;
    for (const path of [
      `/api/v1/namespaces/${name}/serviceaccounts/default`,
      `/api/v1/namespaces/${name}/configmaps/kube-root-ca.crt`,
    ]) {
      await poll(`${path} to exist`, deadline, async () => {
        try {
          await this.client.requestJson({ method: "GET", path });
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      });
    }
    return name;
  }

  installCrds(paths: readonly string[], timeoutMs = 120_000): Promise<string[]> {
    return this.#installCrds(paths, timeoutMs);
  }

  async #installCrds(paths: readonly string[], timeoutMs: number): Promise<string[]> {
    const crds: Crd[] = [];
    for (const file of await manifestFiles(paths)) crds.push(...(await readCrds(file)));
    for (const crd of crds) {
      try {
        await this.client.requestJson({ method: "POST", path: CRD_PATH, body: JSON.stringify(crd.object) });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        await this.client.requestJson({
          method: "PATCH",
          path: `${CRD_PATH}/${crd.name}`,
          body: JSON.stringify(crd.object),
          contentType: "application/merge-patch+json",
        });
      }
    }
    // Established, and every served version's resource in discovery (controller-runtime's WaitForCRDs).
    const deadline = Date.now() + timeoutMs;
    for (const crd of crds) {
      await poll(`CRD ${crd.name} to be established`, deadline, async () => {
        const got = await this.client.requestJson<{
          status?: { conditions?: { type: string; status: string }[] };
        }>({ method: "GET", path: `${CRD_PATH}/${crd.name}` });
        return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") === true;
      });
      for (const version of crd.servedVersions) {
        await poll(`${crd.plural}.${crd.group}/${version} to be served`, deadline, async () => {
          try {
            const list = await this.client.apiResources(`${crd.group}/${version}`);
            return list.resources.some((r) => r.name === crd.plural);
          } catch (err) {
            if (isNotFound(err)) return false;
            throw err;
          }
        });
      }
    }
    return crds.map((c) => c.name);
  }

  async kubectl(args: readonly string[], input?: string): Promise<string> {
    const bin = this.controlPlane?.state.kubectl ?? binaryPaths().kubectl;
    if (!existsSync(bin)) {
      throw new TestEnvError(
        `kubectl is not built yet (${bin}); start a control plane once, or run: npx minitask-envtest build`,
      );
    }
    const child = execFileP(bin, ["--kubeconfig", this.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      return (await child).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new TestEnvError(`kubectl ${args.join(" ")} failed: ${(e.stderr || e.message).trim()}`);
    }
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    let failure: unknown;
    if (!this.owned) {
      for (const ns of this.#namespaces) {
        try {
          await this.client.requestJson({ method: "DELETE", path: `/api/v1/namespaces/${ns}` });
        } catch (err) {
          if (!isNotFound(err)) failure ??= err;
        }
      }
    }
    await this.client.close();
    const cp = this.controlPlane;
    if (cp !== undefined) {
      const left = await cp.stop({ keepState: this.#keepState !== undefined });
      if (left.length > 0) failure ??= new TestEnvError(`the real node left behind: ${left.join("; ")}`);
    }
    if (failure !== undefined) throw failure;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

interface Crd {
  readonly name: string;
  readonly group: string;
  readonly plural: string;
  readonly servedVersions: readonly string[];
  readonly object: Record<string, unknown>;
}

/** The manifest files of `paths`: files as given, folders' `.yaml`/`.yml`/`.json` files (sorted). */
async function manifestFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => {
      throw new TestEnvError(`CRD path ${p} does not exist`);
    });
    if (!st.isDirectory()) {
      out.push(p);
      continue;
    }
    const names = (await readdir(p)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
    out.push(...names.map((n) => join(p, n)));
  }
  return out;
}

/** The CustomResourceDefinitions of a manifest file (other documents are refused: they are not CRDs). */
async function readCrds(file: string): Promise<Crd[]> {
  const text = await readFile(file, "utf8");
  const crds: Crd[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new TestEnvError(`${file}: ${doc.errors[0]?.message ?? "invalid YAML"}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const items =
      typeof value === "object" && (value as { kind?: unknown }).kind === "List"
        ? ((value as { items?: unknown[] }).items ?? [])
        : [value];
    for (const item of items) {
      const o = item as {
        kind?: unknown;
        metadata?: { name?: unknown };
        spec?: { group?: unknown; names?: { plural?: unknown }; versions?: { name?: unknown; served?: unknown }[] };
      };
      if (o?.kind !== "CustomResourceDefinition") {
        throw new TestEnvError(`${file}: not a CustomResourceDefinition (kind ${JSON.stringify(o?.kind ?? null)})`);
      }
      const group = String(o.spec?.group ?? "");
      const plural = String(o.spec?.names?.plural ?? "");
      crds.push({
        name: typeof o.metadata?.name === "string" ? o.metadata.name : `${plural}.${group}`,
        group,
        plural,
        servedVersions: (o.spec?.versions ?? []).filter((v) => v.served !== false).map((v) => String(v.name)),
        object: item as Record<string, unknown>,
      });
    }
  }
  return crds;
}

/** Polls `check` every 50 ms until it is true; rejects naming `what` (and the last error) after `deadline`. */
async function poll(what: string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new TestEnvError(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
