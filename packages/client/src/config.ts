// Kubeconfig loading and credentials, applied to our own undici dispatcher rather than client-node's generated
// clients. Which configuration is used follows kubectl/controller-runtime (`selectKubeConfig`); static ones and
// the in-cluster service account are read by `kubeconfig-static.ts`, everything else through
// @kubernetes/client-node's `KubeConfig` (exec credential plugins, auth providers, …), imported only then.
import fs from "node:fs";
import type https from "node:https";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { KubeConfig as ClientNodeKubeConfig, Cluster, Context, User } from "@kubernetes/client-node";
import { type Clock, realClock } from "@minitask/workqueue";
import { type CredentialProvider, type Credentials, type TlsMaterial, tlsKeyOf } from "./credentials.ts";
import { type ConfigSelection, loadStaticKubeConfig } from "./kubeconfig-static.ts";

/** `@kubernetes/client-node`'s `KubeConfig`: a parsed kubeconfig (its exec plugins and auth providers included). */
export type KubeConfig = ClientNodeKubeConfig;

/** Options of {@link kubeConfigCredentials}. */
export interface KubeConfigCredentialsOptions {
  /**
   * How long credentials are reused before client-node is asked again (which re-reads certificate and
   * token files and re-runs expired exec plugins). Default 60 s, like client-go's token file cache.
   */
  readonly refreshIntervalMs?: number;
  /** Time source of the refresh interval (tests). */
  readonly clock?: Clock;
}

/**
 * Credentials of the current context of `kc`, through client-node's `applyToHTTPSOptions` (client
 * certificates from files or data, tokens, token files, exec plugins, auth providers, impersonation).
 * Cached for `refreshIntervalMs`; a forced refresh (after a 401) asks again at once. Concurrent callers
 * share one refresh.
 */
export function kubeConfigCredentials(kc: KubeConfig, options: KubeConfigCredentialsOptions = {}): CredentialProvider {
  const refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
  const clock = options.clock ?? realClock;
  let cached: { creds: Credentials; at: number } | undefined;
  let inflight: Promise<Credentials> | undefined;

  const view = plainHttpView(kc);

  const load = async (): Promise<Credentials> => {
    const opts: https.RequestOptions = { headers: {} };
    await view.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v === undefined) continue;
      headers[k.toLowerCase()] = (Array.isArray(v) ? v.join(", ") : String(v)).trim();
    }
    if (typeof opts.auth === "string" && headers.authorization === undefined) {
      headers.authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
    }
    const tls: TlsMaterial = dropUndefined({
      ca: opts.ca as TlsMaterial["ca"],
      cert: opts.cert as TlsMaterial["cert"],
      key: opts.key as TlsMaterial["key"],
      pfx: opts.pfx as TlsMaterial["pfx"],
      passphrase: opts.passphrase,
      rejectUnauthorized: opts.rejectUnauthorized,
      servername: opts.servername,
    });
    const tlsKey = tlsKeyOf(tls);
    // Keep the previous object when nothing changed, so the transport's pool lookup stays cheap.
    const prev = cached?.creds;
    const sameTls = prev !== undefined && prev.tlsKey === tlsKey;
    return { headers, tls: sameTls ? prev.tls : tls, tlsKey };
  };

  return {
    refreshable: true,
    get(opts = {}): Promise<Credentials> {
      if (!opts.forceRefresh && cached !== undefined && clock.now() - cached.at < refreshIntervalMs) {
        return Promise.resolve(cached.creds);
      }
      if (inflight === undefined) {
        inflight = load().then(
          (creds) => {
            cached = { creds, at: clock.now() };
            inflight = undefined;
            return creds;
          },
          (err: unknown) => {
            inflight = undefined;
            throw err;
          },
        );
      }
      return inflight;
    },
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * client-node refuses to build credentials for an `http:` server unless `insecure-skip-tls-verify` is set
 * (its agent factory throws). We never use its agent, so for `http:` servers we hand it a view of the
 * same `KubeConfig` whose current cluster claims skipTLSVerify; everything else (users, authenticator
 * caches) is the original object's through the prototype chain.
 */
function plainHttpView(kc: KubeConfig): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (cluster === null || !cluster.server.startsWith("http:") || cluster.skipTLSVerify) return kc;
  const patched: Cluster = { ...cluster, skipTLSVerify: true };
  const view = Object.create(kc) as KubeConfig;
  view.getCurrentCluster = () => patched;
  return view;
}

/** Where the kubeconfig came from. */
export type KubeConfigSource =
  | { readonly kind: "file"; readonly paths: readonly string[] }
  | { readonly kind: "in-cluster" };

/** Options of {@link loadKubeConfig} (and `KubeClient.load`): which kubeconfig and context, whether in-cluster. */
export interface LoadKubeConfigOptions {
  /** An explicit kubeconfig path (`--kubeconfig`); wins over everything else. */
  readonly kubeconfig?: string | undefined;
  /** Use this context instead of the file's `current-context` (`--context`). */
  readonly context?: string | undefined;
  /**
   * Whether the in-cluster service account may be used when no kubeconfig is given or set in
   * `KUBECONFIG`: `"auto"` (default, tried before `~/.kube/config`, as controller-runtime does),
   * `"never"`, or `"only"`.
   */
  readonly inCluster?: "auto" | "never" | "only";
  /** Environment to read `KUBECONFIG`, `KUBERNETES_SERVICE_HOST/PORT` and `HOME` from. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Root prefix of the service account files (tests); default "" (i.e. `/var/run/secrets/…`). */
  readonly inClusterRoot?: string;
}

/** What {@link loadKubeConfig} found: the configuration, where it came from, and its namespace. */
export interface LoadedKubeConfig {
  readonly kubeConfig: KubeConfig;
  readonly source: KubeConfigSource;
  /** Namespace of the chosen context, or of the service account; `default` when unset. */
  readonly namespace: string;
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Thrown when no usable configuration is found, or a requested context does not exist. */
export class KubeConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KubeConfigError";
  }
}

/**
 * Which configuration `loadKubeConfig` would load (the way kubectl and controller-runtime choose): an
 * explicit path, else the files listed in `KUBECONFIG`, else the in-cluster service account, else
 * `~/.kube/config`. Throws `KubeConfigError` when there is none.
 */
export function selectKubeConfig(options: LoadKubeConfigOptions = {}): ConfigSelection {
  const env = options.env ?? process.env;
  const inClusterMode = options.inCluster ?? "auto";
  const root = options.inClusterRoot ?? "";
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "";
  const inClusterAvailable = host !== "" && port !== "" && fs.existsSync(path.join(root, SERVICE_ACCOUNT_DIR, "token"));

  if (inClusterMode === "only") {
    if (!inClusterAvailable) {
      throw new KubeConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT or the token file is missing");
    }
    return { kind: "in-cluster", root, host, port };
  }
  if (options.kubeconfig) return { kind: "file", paths: [options.kubeconfig], required: true };
  if (env.KUBECONFIG) {
    const paths = env.KUBECONFIG.split(path.delimiter).filter((p) => p.length > 0);
    return { kind: "file", paths, required: false };
  }
  if (inClusterMode === "auto" && inClusterAvailable) return { kind: "in-cluster", root, host, port };
  const file = path.join(env.HOME ?? os.homedir(), ".kube", "config");
  if (!fs.existsSync(file)) {
    throw new KubeConfigError(
      `no kubeconfig: pass one explicitly, set KUBECONFIG, run in a cluster, or create ${file}`,
    );
  }
  return { kind: "file", paths: [file], required: true };
}

/**
 * Loads a kubeconfig into client-node's `KubeConfig` (see `selectKubeConfig` for which one): several
 * `KUBECONFIG` files are merged (first occurrence of each name wins, missing files skipped); the in-cluster
 * service account's token file is re-read periodically. Imports client-node on first use.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): LoadedKubeConfig {
  const selection = selectKubeConfig(options);
  const KubeConfigClass = clientNode().KubeConfig;
  let kc: KubeConfig;
  let source: KubeConfigSource;
  if (selection.kind === "in-cluster") {
    kc = new KubeConfigClass();
    withEnv({ KUBERNETES_SERVICE_HOST: selection.host, KUBERNETES_SERVICE_PORT: selection.port }, () =>
      kc.loadFromCluster(selection.root),
    );
    source = { kind: "in-cluster" };
  } else {
    kc = loadFiles(selection.paths, selection.required);
    source = { kind: "file", paths: selection.paths };
  }

  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) {
      throw new KubeConfigError(`context ${JSON.stringify(options.context)} not found in the kubeconfig`);
    }
    kc.setCurrentContext(options.context);
  }
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (ctx === null) {
    throw new KubeConfigError(
      kc.getCurrentContext()
        ? `current context ${JSON.stringify(kc.getCurrentContext())} not found in the kubeconfig`
        : "the kubeconfig has no current context; choose one with a context option",
    );
  }
  if (kc.getCluster(ctx.cluster) === null) {
    throw new KubeConfigError(`cluster ${JSON.stringify(ctx.cluster)} of context ${ctx.name} not found`);
  }
  const namespace = ctx.namespace?.trim() || "default";
  return { kubeConfig: kc, source, namespace };
}

/** The server, credentials and namespace of the selected context: everything a client needs. */
export interface ResolvedKubeConfig {
  readonly server: string;
  readonly proxyUrl?: string;
  /** Name of the context in use. */
  readonly context: string;
  /** Namespace of the context, or of the service account; `default` when unset. */
  readonly namespace: string;
  readonly source: KubeConfigSource;
  readonly credentials: CredentialProvider;
}

/**
 * Resolves the configuration `loadKubeConfig` would load to a server and credentials. Configurations with
 * static credentials (client certificates, a token, basic auth, impersonation) and the in-cluster service
 * account are read without importing `@kubernetes/client-node` (which costs ~19 MiB of heap and ~0.35 s);
 * everything else (exec plugins, auth providers, token files, …) goes through client-node's `KubeConfig`.
 */
export function resolveKubeConfig(
  options: LoadKubeConfigOptions & { readonly credentialRefresh?: KubeConfigCredentialsOptions } = {},
): ResolvedKubeConfig {
  const selection = selectKubeConfig(options);
  const fast = loadStaticKubeConfig(selection, options.context, options.credentialRefresh);
  if (fast !== undefined) {
    const source: KubeConfigSource =
      selection.kind === "file" ? { kind: "file", paths: selection.paths } : { kind: "in-cluster" };
    return { ...fast, context: fast.contextName, source };
  }
  const loaded = loadKubeConfig(options);
  const kc = loaded.kubeConfig;
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new KubeConfigError("the kubeconfig has no current cluster");
  return {
    server: cluster.server,
    ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
    context: kc.getCurrentContext(),
    namespace: loaded.namespace,
    source: loaded.source,
    credentials: kubeConfigCredentials(kc, options.credentialRefresh),
  };
}

const requireModule = createRequire(import.meta.url);
/** client-node, imported synchronously on first use (it is heavy; see `resolveKubeConfig`). */
function clientNode(): typeof import("@kubernetes/client-node") {
  return requireModule("@kubernetes/client-node") as typeof import("@kubernetes/client-node");
}

function loadFiles(paths: readonly string[], required: boolean): KubeConfig {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext: string | undefined;
  let loaded = 0;
  for (const p of paths) {
    if (!required && !fs.existsSync(p)) continue;
    const k = new (clientNode().KubeConfig)();
    try {
      k.loadFromFile(p);
    } catch (cause) {
      throw new KubeConfigError(`cannot load kubeconfig ${p}: ${(cause as Error).message}`, { cause });
    }
    loaded++;
    for (const c of k.getClusters()) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of k.getUsers()) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of k.getContexts()) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    if (!currentContext && k.getCurrentContext()) currentContext = k.getCurrentContext();
  }
  if (loaded === 0) throw new KubeConfigError(`none of the kubeconfig files exist: ${paths.join(path.delimiter)}`);
  const kc = new (clientNode().KubeConfig)();
  kc.loadFromOptions({ clusters, users, contexts, currentContext });
  return kc;
}

/** client-node reads `process.env` directly; run `fn` with `env` applied when it is not process.env. */
function withEnv(env: Readonly<Record<string, string | undefined>>, fn: () => void): void {
  if (env === process.env) {
    fn();
    return;
  }
  const keys = ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"] as const;
  const saved = keys.map((k) => process.env[k]);
  try {
    for (const k of keys) {
      const v = env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fn();
  } finally {
    keys.forEach((k, i) => {
      const v = saved[i];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
  }
}

export type { Cluster, Context, User };
