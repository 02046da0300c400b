// The common kubeconfig without @kubernetes/client-node: a context whose user authenticates with client
// certificates, a bearer token, or a username and password (and perhaps impersonates with `as`), or the
// in-cluster service account. Importing client-node costs ~19 MiB of heap, ~50 MB of RSS and ~0.35 s of
// start-up in every process (its `KubeConfig` module pulls in the whole generated API), which is most of an
// idle controller's memory and of a `kubectl task` call's start-up. Everything this module does not
// recognise (exec plugins, auth providers, token files, unknown fields) is left to client-node, and for what
// it does recognise it reproduces client-node's reading exactly: the same merge of several files, the same
// paths made absolute against each file's folder, the same credentials (a test compares the two).
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { type Clock, realClock } from "@minitask/workqueue";
import { parse as parseYaml } from "yaml";
import { type CredentialProvider, type Credentials, type TlsMaterial, tlsKeyOf } from "./credentials.ts";

/** What `KubeClient.load` needs from a kubeconfig. */
export interface StaticKubeConfig {
  readonly server: string;
  readonly proxyUrl?: string;
  readonly contextName: string;
  /** Namespace of the context (or service account), `default` when unset. */
  readonly namespace: string;
  readonly credentials: CredentialProvider;
}

/** Where the configuration comes from, chosen by `loadKubeConfig`'s rules. */
export type ConfigSelection =
  | { readonly kind: "file"; readonly paths: readonly string[]; readonly required: boolean }
  | { readonly kind: "in-cluster"; readonly root: string; readonly host: string; readonly port: string };

interface RawCluster {
  readonly server: string;
  readonly caFile?: string;
  readonly caData?: string;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string;
  readonly proxyUrl?: string;
}
interface RawUser {
  readonly certFile?: string;
  readonly certData?: string;
  readonly keyFile?: string;
  readonly keyData?: string;
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
  readonly impersonateUser?: string;
}
interface RawContext {
  readonly cluster: string;
  readonly user?: string;
  readonly namespace?: string;
}

const CLUSTER_KEYS = new Set([
  "server",
  "certificate-authority",
  "certificate-authority-data",
  "insecure-skip-tls-verify",
  "tls-server-name",
  "proxy-url",
  "extensions",
]);
const USER_KEYS = new Set([
  "client-certificate",
  "client-certificate-data",
  "client-key",
  "client-key-data",
  "token",
  "username",
  "password",
  "as",
]);

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The selected configuration when it is one this module handles completely; `undefined` when client-node
 * must load it (including every malformed case, so that its error messages are the ones users see).
 */
export function loadStaticKubeConfig(
  selection: ConfigSelection,
  context: string | undefined,
  options: { readonly refreshIntervalMs?: number; readonly clock?: Clock } = {},
): StaticKubeConfig | undefined {
  if (selection.kind === "in-cluster") return inCluster(selection, context, options);
  const merged = mergeFiles(selection.paths, selection.required);
  if (merged === undefined) return undefined;
  const contextName = context ?? merged.currentContext;
  if (contextName === undefined) return undefined;
  const ctx = merged.contexts.get(contextName);
  if (ctx === undefined || ctx.user === undefined) return undefined;
  const cluster = merged.clusters.get(ctx.cluster);
  const user = merged.users.get(ctx.user);
  if (cluster === undefined || user === undefined) return undefined;
  return {
    server: cluster.server,
    ...(cluster.proxyUrl !== undefined ? { proxyUrl: cluster.proxyUrl } : {}),
    contextName,
    namespace: ctx.namespace?.trim() || "default",
    credentials: fileCredentials(cluster, user, options),
  };
}

interface Merged {
  readonly clusters: Map<string, RawCluster>;
  readonly users: Map<string, RawUser>;
  readonly contexts: Map<string, RawContext>;
  readonly currentContext?: string;
}

/** Reads and merges the files (first definition of a name wins); undefined for anything unusual. */
function mergeFiles(paths: readonly string[], required: boolean): Merged | undefined {
  const clusters = new Map<string, RawCluster>();
  const users = new Map<string, RawUser>();
  const contexts = new Map<string, RawContext>();
  let currentContext: string | undefined;
  let loaded = 0;
  for (const file of paths) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      if (required || fs.existsSync(file)) return undefined;
      continue;
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      return undefined;
    }
    if (!isRecord(doc)) return undefined;
    const dir = path.dirname(file);
    const fileClusters = entries(doc.clusters, "cluster", (c) => readCluster(c, dir));
    const fileUsers = entries(doc.users, "user", (u) => readUser(u, dir));
    const fileContexts = entries(doc.contexts, "context", readContext);
    if (fileClusters === undefined || fileUsers === undefined || fileContexts === undefined) return undefined;
    // Within one file a repeated name is an error for client-node; leave such files to it.
    if (!addAll(clusters, fileClusters) || !addAll(users, fileUsers) || !addAll(contexts, fileContexts)) {
      return undefined;
    }
    const cc = doc["current-context"];
    if (cc !== undefined && cc !== null && typeof cc !== "string") return undefined;
    if (currentContext === undefined && typeof cc === "string" && cc !== "") currentContext = cc;
    loaded++;
  }
  if (loaded === 0) return undefined;
  return { clusters, users, contexts, ...(currentContext !== undefined ? { currentContext } : {}) };
}

function addAll<T>(into: Map<string, T>, items: readonly (readonly [string, T])[]): boolean {
  const seen = new Set<string>();
  for (const [name, item] of items) {
    if (seen.has(name)) return false;
    seen.add(name);
    if (!into.has(name)) into.set(name, item);
  }
  return true;
}

/** `[{ name, <field>: {...} }]` → `[name, read(value)]`; undefined if any entry is not understood. */
function entries<T>(
  list: unknown,
  field: string,
  read: (v: Record<string, unknown>) => T | undefined,
): (readonly [string, T])[] | undefined {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return undefined;
  const out: (readonly [string, T])[] = [];
  for (const e of list) {
    if (!isRecord(e) || typeof e.name !== "string" || e.name === "") return undefined;
    const body = e[field] ?? (field === "user" ? {} : undefined);
    if (!isRecord(body)) return undefined;
    const item = read(body);
    if (item === undefined) return undefined;
    out.push([e.name, item]);
  }
  return out;
}

function readCluster(c: Record<string, unknown>, dir: string): RawCluster | undefined {
  if (!Object.keys(c).every((k) => CLUSTER_KEYS.has(k))) return undefined;
  const server = optString(c.server);
  const caFile = optString(c["certificate-authority"]);
  const caData = optString(c["certificate-authority-data"]);
  const tlsServerName = optString(c["tls-server-name"]);
  const proxyUrl = optString(c["proxy-url"]);
  const skip = c["insecure-skip-tls-verify"];
  if ([server, caFile, caData, tlsServerName, proxyUrl].includes(null) || !server) return undefined;
  if (skip !== undefined && skip !== null && typeof skip !== "boolean") return undefined;
  return dropUndefined({
    server: server.replace(/\/$/, ""),
    caFile: caFile ? absolute(dir, caFile) : undefined,
    caData: caData || undefined,
    skipTLSVerify: skip === true,
    tlsServerName: tlsServerName || undefined,
    proxyUrl: proxyUrl || undefined,
  });
}

function readUser(u: Record<string, unknown>, dir: string): RawUser | undefined {
  if (!Object.keys(u).every((k) => USER_KEYS.has(k))) return undefined;
  const values = {
    certFile: optString(u["client-certificate"]),
    certData: optString(u["client-certificate-data"]),
    keyFile: optString(u["client-key"]),
    keyData: optString(u["client-key-data"]),
    token: optString(u.token),
    username: optString(u.username),
    password: optString(u.password),
    impersonateUser: optString(u.as),
  };
  if (Object.values(values).includes(null)) return undefined;
  // client-node sends "name:undefined" for a username without a password; leave that oddity to it.
  if (values.username && values.password === undefined) return undefined;
  return dropUndefined({
    certFile: values.certFile ? absolute(dir, values.certFile) : undefined,
    certData: values.certData || undefined,
    keyFile: values.keyFile ? absolute(dir, values.keyFile) : undefined,
    keyData: values.keyData || undefined,
    token: values.token || undefined,
    username: values.username || undefined,
    password: values.password ?? undefined,
    impersonateUser: values.impersonateUser || undefined,
  });
}

function readContext(c: Record<string, unknown>): RawContext | undefined {
  const cluster = optString(c.cluster);
  const user = optString(c.user);
  const namespace = optString(c.namespace);
  if (!cluster || user === null || namespace === null) return undefined;
  return dropUndefined({ cluster, user: user || undefined, namespace: namespace || undefined });
}

/** Credentials for a file user, re-read (files may be rotated) every `refreshIntervalMs` or on a 401. */
function fileCredentials(
  cluster: RawCluster,
  user: RawUser,
  options: { readonly refreshIntervalMs?: number; readonly clock?: Clock },
): CredentialProvider {
  const headers: Record<string, string> = {};
  if (user.impersonateUser !== undefined) headers["impersonate-user"] = user.impersonateUser;
  if (user.token !== undefined) headers.authorization = `Bearer ${user.token}`.trim();
  else if (user.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`;
  }
  return cachedProvider(options, () => {
    const tls: TlsMaterial = dropUndefined({
      ca: fileOrData(cluster.caFile, cluster.caData),
      cert: fileOrData(user.certFile, user.certData),
      key: fileOrData(user.keyFile, user.keyData),
      // client-node (which we match) only lets `http:` through with this set; TLS is unused there anyway.
      rejectUnauthorized: cluster.skipTLSVerify || cluster.server.startsWith("http:") ? false : undefined,
      servername: cluster.tlsServerName,
    });
    return { headers, tls };
  });
}

function inCluster(
  selection: Extract<ConfigSelection, { kind: "in-cluster" }>,
  context: string | undefined,
  options: { readonly refreshIntervalMs?: number; readonly clock?: Clock },
): StaticKubeConfig | undefined {
  const contextName = "inClusterContext";
  if (context !== undefined && context !== contextName) return undefined;
  const { root, host, port } = selection;
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const server = `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const nsFile = path.join(root, SA_DIR, "namespace");
  const namespace = fs.existsSync(nsFile) ? fs.readFileSync(nsFile, "utf8").trim() || "default" : "default";
  const caFile = `${root}${SA_DIR}/ca.crt`;
  const tokenFile = `${root}${SA_DIR}/token`;
  return {
    server,
    contextName,
    namespace,
    // The token is re-read on every refresh: kubelet rotates projected service account tokens.
    credentials: cachedProvider(options, () => ({
      headers: { authorization: `Bearer ${fs.readFileSync(tokenFile, "utf8")}`.trim() },
      tls: dropUndefined({
        ca: fileOrData(caFile, undefined),
        rejectUnauthorized: scheme === "http" ? false : undefined,
      }),
    })),
  };
}

/** The same caching rules as `kubeConfigCredentials`: reuse for `refreshIntervalMs`, re-read on demand. */
function cachedProvider(
  options: { readonly refreshIntervalMs?: number; readonly clock?: Clock },
  read: () => { headers: Record<string, string>; tls: TlsMaterial },
): CredentialProvider {
  const refreshIntervalMs = options.refreshIntervalMs ?? 60_000;
  const clock = options.clock ?? realClock;
  let cached: { creds: Credentials; at: number } | undefined;
  return {
    refreshable: true,
    get: async (opts = {}) => {
      if (!opts.forceRefresh && cached !== undefined && clock.now() - cached.at < refreshIntervalMs) {
        return cached.creds;
      }
      const { headers, tls } = read();
      const tlsKey = tlsKeyOf(tls);
      const prev = cached?.creds;
      const creds: Credentials = {
        headers,
        tls: prev !== undefined && prev.tlsKey === tlsKey ? prev.tls : tls,
        tlsKey,
      };
      cached = { creds, at: clock.now() };
      return creds;
    },
  };
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return fs.readFileSync(file);
  if (data) return Buffer.from(data, "base64");
  return undefined;
}

function absolute(dir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(dir, p);
}

/** A string, undefined when absent, null when present but not a string. */
function optString(v: unknown): string | undefined | null {
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
