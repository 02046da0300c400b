// Typed REST verbs for any group/version/resource, on top of the transport.
import type { KubeConfig } from "@kubernetes/client-node";
import {
  type KubeConfigCredentialsOptions,
  kubeConfigCredentials,
  type LoadKubeConfigOptions,
  type ResolvedKubeConfig,
  resolveKubeConfig,
} from "./config.ts";
import type { CredentialProvider } from "./credentials.ts";
import { decodeWatchStream, type LineSplitterOptions, type ObjectWatchEvent } from "./decoder.ts";
import { apiErrorFromStatus, type RequestDescription } from "./errors.ts";
import type { RetrySetting } from "./retry.ts";
import {
  type HttpMethod,
  type HttpRequest,
  type QueryParams,
  type StreamResponse,
  Transport,
  type TransportOptions,
} from "./transport.ts";
import {
  apiVersionOf,
  type DeepReadonly,
  type KubeList,
  type KubeObject,
  type ResourceDescriptor,
  type Status,
} from "./types.ts";

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the call (and, for watches, the stream); the call rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's retry policy for this call (`false`: no retries). */
  readonly retry?: RetrySetting | undefined;
}

/** A label or field selector: the string form (`a=b,c!=d`) or a map of equalities. */
export type Selector = string | Readonly<Record<string, string>>;

/** Label and field selectors of a list, watch or delete-collection. */
export interface SelectorOptions {
  readonly labelSelector?: Selector | undefined;
  readonly fieldSelector?: Selector | undefined;
}

/** How `resourceVersion` is interpreted on list (and watch-list). */
export type ResourceVersionMatch = "NotOlderThan" | "Exact";

/** Options of `get`. */
export interface GetOptions extends CallOptions {
  /** `"0"` allows a possibly stale read from the watch cache. */
  readonly resourceVersion?: string | undefined;
}

/** Options of `list` (one page) and `listAll`: selectors, paging and which resource version to read. */
export interface ListOptions extends CallOptions, SelectorOptions {
  /** Page size; the response's `metadata.continue` is set when more remain. */
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  /** Unset: consistent read (etcd quorum); `"0"`: any (watch cache); else see `resourceVersionMatch`. */
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: ResourceVersionMatch | undefined;
  readonly timeoutSeconds?: number | undefined;
}

/** Options of `watch`: where to start, bookmarks, watch-list, timeouts. */
export interface WatchOptions extends CallOptions, SelectorOptions {
  /** Start after this resource version (unset: "now", after synthetic ADDs of the current state). */
  readonly resourceVersion?: string | undefined;
  /** With `sendInitialEvents`: `NotOlderThan`. */
  readonly resourceVersionMatch?: ResourceVersionMatch | undefined;
  readonly allowWatchBookmarks?: boolean | undefined;
  /** Server-side timeout; the server then ends the stream cleanly. */
  readonly timeoutSeconds?: number | undefined;
  /**
   * Watch-list: the current state first as ADDED events, then a BOOKMARK annotated
   * `k8s.io/initial-events-end` (`INITIAL_EVENTS_END_ANNOTATION`), then changes.
   */
  readonly sendInitialEvents?: boolean | undefined;
  /** Fail with `IdleTimeoutError` when no bytes arrive for this long (a watchdog). Default: never. */
  readonly idleTimeoutMs?: number | undefined;
  /** Longest event accepted (bytes). */
  readonly maxLineBytes?: LineSplitterOptions["maxLineBytes"];
}

/** Options of `create`, `update` and `updateStatus`: field manager, dry run, field validation. */
export interface WriteOptions extends CallOptions {
  readonly fieldManager?: string | undefined;
  /** Validate and answer without persisting (`dryRun=All`). */
  readonly dryRun?: boolean | undefined;
  readonly fieldValidation?: "Ignore" | "Warn" | "Strict" | undefined;
}

/** Content types of PATCH: merge (RFC 7386), json (RFC 6902), strategic (built-in types only), apply (SSA). */
export type PatchType = "merge" | "json" | "strategic" | "apply";

/** Options of `patch` and `patchStatus`: the patch type is required. */
export interface PatchOptions extends WriteOptions {
  readonly type: PatchType;
  /** Server-side apply only: take ownership of conflicting fields. */
  readonly force?: boolean | undefined;
}

/** Options of server-side `apply` and `applyStatus`. */
export interface ApplyOptions extends CallOptions {
  /** Required for server-side apply. */
  readonly fieldManager: string;
  readonly force?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
  readonly fieldValidation?: "Ignore" | "Warn" | "Strict" | undefined;
}

/** A JSON Patch (RFC 6902) operation. */
export type JsonPatchOperation =
  | { readonly op: "add" | "replace" | "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "move" | "copy"; readonly from: string; readonly path: string };

/** What happens to a deleted object's dependents (the garbage collector's propagation policy). */
export type PropagationPolicy = "Foreground" | "Background" | "Orphan";

/** Options of `delete`: propagation, grace period, preconditions, dry run. */
export interface DeleteOptions extends CallOptions {
  readonly propagationPolicy?: PropagationPolicy | undefined;
  readonly gracePeriodSeconds?: number | undefined;
  /** Delete only if the object still has this uid / resource version (else Conflict). */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string } | undefined;
  readonly dryRun?: boolean | undefined;
}

/** Options of `deleteCollection`: those of `delete` plus selectors and list options. */
export interface DeleteCollectionOptions extends DeleteOptions, SelectorOptions {
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: ResourceVersionMatch | undefined;
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
}

/** An open watch. Iterate it once; `close()` (or leaving the loop) ends it and frees the connection. */
export interface WatchStream<T> extends AsyncIterable<ObjectWatchEvent<T>>, AsyncDisposable {
  /**
   * Resource version of the last event received (object or bookmark); where to resume after the stream
   * ends. Undefined before the first event.
   */
  readonly resourceVersion: string | undefined;
  /** Ends the watch; a pending or later `next()` finishes cleanly (done). Idempotent. */
  close(): void;
}

/** An object (or `DeepReadonly` view of one, as handed out by caches) accepted by write verbs. */
export type Writable<T> = T | DeepReadonly<T>;

function selectorString(s: Selector | undefined): string | undefined {
  if (s === undefined || typeof s === "string") return s;
  const parts = Object.entries(s).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? undefined : parts.join(",");
}

function writeQuery(o: {
  readonly fieldManager?: string | undefined;
  readonly dryRun?: boolean | undefined;
  readonly fieldValidation?: string | undefined;
  readonly force?: boolean | undefined;
}): QueryParams {
  return {
    fieldManager: o.fieldManager,
    dryRun: o.dryRun ? "All" : undefined,
    fieldValidation: o.fieldValidation,
    force: o.force === undefined ? undefined : String(o.force),
  };
}

function deleteBody(o: DeleteOptions): string {
  const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
  if (o.propagationPolicy !== undefined) body.propagationPolicy = o.propagationPolicy;
  if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.preconditions !== undefined) body.preconditions = o.preconditions;
  if (o.dryRun) body.dryRun = ["All"];
  return JSON.stringify(body);
}

const patchContentTypes: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

const CLOSED = Symbol("watch closed");

/**
 * Verbs on one resource, in one namespace (or across all namespaces / cluster-scoped when `namespace`
 * is undefined). Cheap to create; wrap it with a model type: `client.resource<ConfigMap>(configMaps, ns)`.
 */
export class ResourceClient<T extends KubeObject = KubeObject> {
  readonly descriptor: ResourceDescriptor;
  /** The namespace of this handle; undefined for cluster-scoped resources and all-namespace handles. */
  readonly namespace: string | undefined;
  readonly #transport: Transport;
  readonly #apiVersion: string;
  readonly #basePath: string;
  readonly #metricResource: string;

  constructor(transport: Transport, descriptor: ResourceDescriptor, namespace?: string) {
    this.#transport = transport;
    this.descriptor = descriptor;
    this.namespace = descriptor.namespaced === false ? undefined : namespace;
    this.#apiVersion = apiVersionOf(descriptor);
    this.#basePath =
      descriptor.group === "" ? `/api/${descriptor.version}` : `/apis/${descriptor.group}/${descriptor.version}`;
    this.#metricResource = descriptor.resource;
  }

  /** The same resource in another namespace. */
  inNamespace(namespace: string): ResourceClient<T> {
    return new ResourceClient<T>(this.#transport, this.descriptor, namespace);
  }

  /** The same resource across all namespaces (list/watch), or by each object's namespace (writes). */
  allNamespaces(): ResourceClient<T> {
    return new ResourceClient<T>(this.#transport, this.descriptor, undefined);
  }

  /** Path of the collection, an object, or a subresource. */
  path(name?: string, subresource?: string, namespace: string | undefined = this.namespace): string {
    let p = this.#basePath;
    if (this.descriptor.namespaced !== false && namespace !== undefined) {
      p += `/namespaces/${encodeURIComponent(namespace)}`;
    }
    p += `/${this.descriptor.resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource !== undefined) p += `/${subresource}`;
    return p;
  }

  #objectPath(name: string, subresource?: string, objectNamespace?: string): string {
    if (name.length === 0) throw new TypeError(`${this.descriptor.resource}: a name is required`);
    const ns = this.namespace ?? objectNamespace;
    if (this.descriptor.namespaced !== false && ns === undefined) {
      throw new TypeError(`${this.descriptor.resource} is namespaced: use inNamespace(ns) or set metadata.namespace`);
    }
    return this.path(name, subresource, ns);
  }

  #req(
    method: HttpMethod,
    verb: string,
    path: string,
    opts: CallOptions,
    extra: Partial<Omit<HttpRequest, "method" | "path">> = {},
    subresource?: string,
  ): HttpRequest {
    return {
      method,
      path,
      signal: opts.signal,
      retry: opts.retry,
      metric: {
        verb,
        resource: subresource ? `${this.#metricResource}/${subresource}` : this.#metricResource,
        group: this.descriptor.group,
      },
      ...extra,
    };
  }

  /** Fills `apiVersion` and `kind` when the object lacks them. */
  #withTypeMeta(obj: Writable<T>): Writable<T> {
    if (obj.apiVersion !== undefined && obj.kind !== undefined) return obj;
    return {
      ...obj,
      apiVersion: obj.apiVersion ?? this.#apiVersion,
      ...(obj.kind === undefined && this.descriptor.kind !== undefined ? { kind: this.descriptor.kind } : {}),
    };
  }

  async get(name: string, options: GetOptions = {}): Promise<T> {
    return (await this.#transport.requestJson(
      this.#req("GET", "get", this.#objectPath(name), options, {
        query: { resourceVersion: options.resourceVersion },
      }),
    )) as T;
  }

  /** One page (or everything, without `limit`). Items get `apiVersion`/`kind` filled in. */
  async list(options: ListOptions = {}): Promise<KubeList<T>> {
    const list = (await this.#transport.requestJson(
      this.#req("GET", "list", this.path(), options, {
        query: {
          labelSelector: selectorString(options.labelSelector),
          fieldSelector: selectorString(options.fieldSelector),
          limit: options.limit,
          continue: options.continue,
          resourceVersion: options.resourceVersion,
          resourceVersionMatch: options.resourceVersionMatch,
          timeoutSeconds: options.timeoutSeconds,
        },
      }),
    )) as KubeList<T>;
    list.metadata ??= {};
    list.items ??= [];
    const apiVersion = list.apiVersion ?? this.#apiVersion;
    const kind = this.descriptor.kind ?? list.kind?.replace(/List$/, "");
    for (const item of list.items) {
      item.apiVersion ??= apiVersion;
      if (kind !== undefined) item.kind ??= kind;
    }
    return list;
  }

  /**
   * Lists page by page, following `continue` until the last page. A continue token that expired while
   * paging fails with `GoneError` (the caller decides whether to relist without pagination).
   */
  async *listPages(options: ListOptions = {}): AsyncGenerator<KubeList<T>, void, undefined> {
    let cont = options.continue;
    for (;;) {
      // With a continue token the server fixes the snapshot; resourceVersion must not be sent again.
      const page = await this.list(
        cont === undefined
          ? options
          : { ...options, continue: cont, resourceVersion: undefined, resourceVersionMatch: undefined },
      );
      yield page;
      cont = page.metadata.continue || undefined;
      if (cont === undefined) return;
    }
  }

  /**
   * All items across pages, in one list whose `resourceVersion` is the snapshot's (from the first
   * page; all pages of a paginated list come from the same snapshot).
   */
  async listAll(options: ListOptions = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let first: KubeList<T> | undefined;
    for await (const page of this.listPages(options)) {
      first ??= page;
      for (const item of page.items) items.push(item);
    }
    const head = first as KubeList<T>;
    return {
      ...(head.apiVersion !== undefined ? { apiVersion: head.apiVersion } : {}),
      ...(head.kind !== undefined ? { kind: head.kind } : {}),
      metadata: {
        ...(head.metadata.resourceVersion !== undefined ? { resourceVersion: head.metadata.resourceVersion } : {}),
      },
      items,
    };
  }

  /**
   * Opens a watch; resolves once the server has answered (HTTP errors reject here: e.g. `GoneError`
   * for a too-old `resourceVersion` when the server says so up front). The stream yields ADDED,
   * MODIFIED, DELETED and BOOKMARK events as they arrive. It ends:
   *  - cleanly (iteration done) when the server closes the stream (e.g. after `timeoutSeconds`) or on
   *    `close()`;
   *  - by throwing the typed `ApiError` of an in-stream `ERROR` event — `GoneError` for 410
   *    (Expired/Gone: relist);
   *  - by throwing `WatchDecodeError` for a malformed line, `NetworkError` for a broken connection
   *    (`IdleTimeoutError` after `idleTimeoutMs` without bytes), or the signal's reason on abort.
   */
  async watch(options: WatchOptions = {}): Promise<WatchStream<T>> {
    const closer = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, closer.signal]) : closer.signal;
    const req = this.#req(
      "GET",
      "watch",
      this.path(),
      { ...options, signal },
      {
        query: {
          watch: "true",
          labelSelector: selectorString(options.labelSelector),
          fieldSelector: selectorString(options.fieldSelector),
          resourceVersion: options.resourceVersion,
          resourceVersionMatch: options.resourceVersionMatch,
          allowWatchBookmarks: options.allowWatchBookmarks,
          timeoutSeconds: options.timeoutSeconds,
          sendInitialEvents: options.sendInitialEvents,
        },
        idleTimeoutMs: options.idleTimeoutMs,
        idempotent: true,
      },
    );
    const description: RequestDescription = { method: "GET", url: this.#transport.url(req.path, req.query) };
    const response = await this.#transport.requestStream(req);
    return new WatchStreamImpl<T>(response, closer, description, options.maxLineBytes);
  }

  async create(obj: Writable<T>, options: WriteOptions = {}): Promise<T> {
    const ns = this.namespace ?? obj.metadata?.namespace;
    if (this.descriptor.namespaced !== false && ns === undefined) {
      throw new TypeError(`${this.descriptor.resource} is namespaced: use inNamespace(ns) or set metadata.namespace`);
    }
    return (await this.#transport.requestJson(
      this.#req("POST", "create", this.path(undefined, undefined, ns), options, {
        query: writeQuery(options),
        body: JSON.stringify(this.#withTypeMeta(obj)),
      }),
    )) as T;
  }

  /** Replaces the object (PUT). Send `metadata.resourceVersion` for optimistic concurrency (Conflict). */
  async update(obj: Writable<T>, options: WriteOptions = {}): Promise<T> {
    return this.#put(obj, undefined, options);
  }

  /** Replaces the status subresource (PUT …/status); other changes in `obj` are ignored by the server. */
  async updateStatus(obj: Writable<T>, options: WriteOptions = {}): Promise<T> {
    return this.#put(obj, "status", options);
  }

  async #put(obj: Writable<T>, subresource: string | undefined, options: WriteOptions): Promise<T> {
    const name = obj.metadata?.name ?? "";
    return (await this.#transport.requestJson(
      this.#req(
        "PUT",
        "update",
        this.#objectPath(name, subresource, obj.metadata?.namespace),
        options,
        { query: writeQuery(options), body: JSON.stringify(this.#withTypeMeta(obj)) },
        subresource,
      ),
    )) as T;
  }

  /**
   * Patches an object. `patch` is an array of operations for `type: "json"`, an object otherwise
   * (a partial object for merge/strategic, a fully specified intent for apply).
   */
  async patch(
    name: string,
    patch: readonly JsonPatchOperation[] | object,
    options: PatchOptions,
    subresource?: string,
  ): Promise<T> {
    if ((options.type === "json") !== Array.isArray(patch)) {
      throw new TypeError(
        options.type === "json" ? "a JSON patch is an array of operations" : `a ${options.type} patch is an object`,
      );
    }
    if (options.type === "apply" && !options.fieldManager) {
      throw new TypeError("server-side apply needs a fieldManager");
    }
    return (await this.#transport.requestJson(
      this.#req(
        "PATCH",
        "patch",
        this.#objectPath(name, subresource),
        options,
        {
          query: writeQuery(options),
          body: JSON.stringify(patch),
          contentType: patchContentTypes[options.type],
        },
        subresource,
      ),
    )) as T;
  }

  /** Patches the status subresource. */
  patchStatus(name: string, patch: readonly JsonPatchOperation[] | object, options: PatchOptions): Promise<T> {
    return this.patch(name, patch, options, "status");
  }

  /**
   * Server-side apply: `obj` states the fields `fieldManager` owns (name from `metadata.name`;
   * `apiVersion`/`kind` filled in from the descriptor when missing). Creates the object if needed.
   */
  async apply(obj: Writable<T> | DeepPartialObject<T>, options: ApplyOptions): Promise<T> {
    return this.#apply(obj as KubeObject, undefined, options);
  }

  /** Server-side apply of the status subresource. */
  async applyStatus(obj: Writable<T> | DeepPartialObject<T>, options: ApplyOptions): Promise<T> {
    return this.#apply(obj as KubeObject, "status", options);
  }

  async #apply(obj: KubeObject, subresource: string | undefined, options: ApplyOptions): Promise<T> {
    const name = obj.metadata?.name ?? "";
    const body = this.#withTypeMeta(obj as Writable<T>);
    return (await this.#transport.requestJson(
      this.#req(
        "PATCH",
        "patch",
        this.#objectPath(name, subresource, obj.metadata?.namespace),
        options,
        {
          query: writeQuery(options),
          body: JSON.stringify(body),
          contentType: patchContentTypes.apply,
        },
        subresource,
      ),
    )) as T;
  }

  /**
   * Deletes an object. Resolves with the object when deletion is pending (finalizers, graceful
   * deletion) or the server returns it, else with a `Status`; tell them apart with `isStatus`.
   */
  async delete(name: string, options: DeleteOptions = {}): Promise<T | Status> {
    return (await this.#transport.requestJson(
      this.#req("DELETE", "delete", this.#objectPath(name), options, {
        query: { dryRun: options.dryRun ? "All" : undefined },
        body: deleteBody(options),
      }),
    )) as T | Status;
  }

  /** Deletes every object matching the selectors (in this namespace, or cluster-wide). */
  async deleteCollection(options: DeleteCollectionOptions = {}): Promise<KubeList<T> | Status> {
    return (await this.#transport.requestJson(
      this.#req("DELETE", "deletecollection", this.path(), options, {
        query: {
          labelSelector: selectorString(options.labelSelector),
          fieldSelector: selectorString(options.fieldSelector),
          resourceVersion: options.resourceVersion,
          resourceVersionMatch: options.resourceVersionMatch,
          limit: options.limit,
          continue: options.continue,
          dryRun: options.dryRun ? "All" : undefined,
        },
        body: deleteBody(options),
      }),
    )) as KubeList<T> | Status;
  }
}

/** Recursively optional (for apply configurations). */
export type DeepPartialObject<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartialObject<T[K]> }
    : T;

class WatchStreamImpl<T> implements WatchStream<T> {
  readonly #response: StreamResponse;
  readonly #closer: AbortController;
  readonly #description: RequestDescription;
  readonly #maxLineBytes: number | undefined;
  #resourceVersion: string | undefined;
  #iterated = false;

  constructor(
    response: StreamResponse,
    closer: AbortController,
    description: RequestDescription,
    maxLineBytes: number | undefined,
  ) {
    this.#response = response;
    this.#closer = closer;
    this.#description = description;
    this.#maxLineBytes = maxLineBytes;
  }

  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  close(): void {
    if (!this.#closer.signal.aborted) this.#closer.abort(CLOSED);
    this.#response.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<ObjectWatchEvent<T>> {
    if (this.#iterated) throw new Error("a watch stream can be iterated only once");
    this.#iterated = true;
    return this.#events();
  }

  async *#events(): AsyncGenerator<ObjectWatchEvent<T>, void, undefined> {
    try {
      const events = decodeWatchStream(
        this.#response.body,
        this.#maxLineBytes === undefined ? {} : { maxLineBytes: this.#maxLineBytes },
      );
      for await (const event of events) {
        if (event.type === "ERROR") {
          const status = event.object;
          throw apiErrorFromStatus(status, {
            code: typeof status.code === "number" ? status.code : 500,
            request: this.#description,
            fromWatchEvent: true,
          });
        }
        const rv = (event.object as KubeObject).metadata?.resourceVersion;
        if (rv !== undefined) this.#resourceVersion = rv;
        yield event as ObjectWatchEvent<T>;
      }
    } catch (err) {
      if (this.#closer.signal.aborted && this.#closer.signal.reason === CLOSED) return;
      throw err;
    } finally {
      this.close();
    }
  }
}

/** `/version` of the apiserver. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit?: string;
  buildDate?: string;
  goVersion?: string;
  platform?: string;
}

/** One resource of a group version, as discovery lists it (`APIResource`). */
export interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
}

/** `/apis/<group>/<version>` (or `/api/v1`): the resources of one group version (`apiResources`). */
export interface ApiResourceList {
  kind?: string;
  apiVersion?: string;
  groupVersion: string;
  resources: ApiResource[];
}

/** One API group and its versions, as discovery lists it (`APIGroup`). */
export interface ApiGroup {
  name: string;
  versions: { groupVersion: string; version: string }[];
  preferredVersion?: { groupVersion: string; version: string };
}

/** `/apis`: the API groups the server serves (`apiGroups`). */
export interface ApiGroupList {
  kind?: string;
  apiVersion?: string;
  groups: ApiGroup[];
}

/** Options of `podLogs` (the `pods/log` subresource): container, follow, previous, limits. */
export interface PodLogOptions extends CallOptions {
  readonly container?: string | undefined;
  readonly follow?: boolean | undefined;
  readonly previous?: boolean | undefined;
  readonly sinceSeconds?: number | undefined;
  readonly tailLines?: number | undefined;
  readonly timestamps?: boolean | undefined;
  readonly limitBytes?: number | undefined;
}

/** Options of a {@link KubeClient}: the transport's (retries, rate limit, agent, observer …) plus these. */
export interface KubeClientOptions extends Omit<TransportOptions, "server" | "credentials" | "proxyUrl"> {
  /** Namespace used by `client.defaultNamespace`; default from the kubeconfig context, else `default`. */
  readonly namespace?: string;
  readonly credentialRefresh?: KubeConfigCredentialsOptions;
}

/** The client of one apiserver. Create one per process and share it. */
export class KubeClient implements AsyncDisposable {
  readonly transport: Transport;
  /** Namespace of the kubeconfig context (or the in-cluster service account), or `default`. */
  readonly defaultNamespace: string;

  constructor(transport: Transport, options: { readonly defaultNamespace?: string } = {}) {
    this.transport = transport;
    this.defaultNamespace = options.defaultNamespace ?? "default";
  }

  /** A client for a server URL and credentials (no kubeconfig). */
  static forServer(
    server: string,
    options: KubeClientOptions & { readonly credentials?: CredentialProvider; readonly proxyUrl?: string } = {},
  ): KubeClient {
    return new KubeClient(new Transport({ ...options, server }), { defaultNamespace: options.namespace ?? "default" });
  }

  /** A client for the current context of a loaded `KubeConfig`. */
  static fromKubeConfig(kc: KubeConfig, options: KubeClientOptions = {}): KubeClient {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    const ctx = kc.getContextObject(kc.getCurrentContext());
    const transport = new Transport({
      ...options,
      server: cluster.server,
      proxyUrl: cluster.proxyUrl,
      credentials: kubeConfigCredentials(kc, options.credentialRefresh),
    });
    return new KubeClient(transport, { defaultNamespace: options.namespace ?? (ctx?.namespace?.trim() || "default") });
  }

  /** A client for a resolved configuration (see `resolveKubeConfig`). */
  static fromResolved(resolved: ResolvedKubeConfig, options: KubeClientOptions = {}): KubeClient {
    return KubeClient.forServer(resolved.server, {
      ...options,
      ...(resolved.proxyUrl !== undefined ? { proxyUrl: resolved.proxyUrl } : {}),
      credentials: resolved.credentials,
      namespace: options.namespace ?? resolved.namespace,
    });
  }

  /**
   * Loads the configuration (explicit path, `KUBECONFIG`, in-cluster, `~/.kube/config`; see
   * `selectKubeConfig`) and creates a client for it. Static credentials and the in-cluster service account
   * are read without importing `@kubernetes/client-node`; see `resolveKubeConfig`.
   */
  static load(options: LoadKubeConfigOptions & KubeClientOptions = {}): KubeClient {
    return KubeClient.fromResolved(resolveKubeConfig(options), options);
  }

  /** Verbs on one resource; pass a namespace for namespaced resources (or none for all namespaces). */
  resource<T extends KubeObject = KubeObject>(descriptor: ResourceDescriptor, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this.transport, descriptor, namespace);
  }

  /** Raw request; parses JSON. The type parameter is an unchecked assertion about the response. */
  async requestJson<R = unknown>(req: HttpRequest): Promise<R> {
    return (await this.transport.requestJson(req)) as R;
  }

  /** Raw request; the body as text. */
  requestText(req: HttpRequest): Promise<string> {
    return this.transport.requestText(req);
  }

  /** Raw request; the body as a stream (e.g. followed logs). */
  requestStream(req: HttpRequest): Promise<StreamResponse> {
    return this.transport.requestStream(req);
  }

  /** `GET /version`. */
  version(options: CallOptions = {}): Promise<VersionInfo> {
    return this.requestJson<VersionInfo>({
      method: "GET",
      path: "/version",
      ...options,
      metric: { verb: "get", resource: "version" },
    });
  }

  /** `GET /apis` (the groups besides the core group). */
  apiGroups(options: CallOptions = {}): Promise<ApiGroupList> {
    return this.requestJson<ApiGroupList>({
      method: "GET",
      path: "/apis",
      ...options,
      metric: { verb: "get", resource: "discovery" },
    });
  }

  /** Resources of one group version (`v1`, `apps/v1`, …). */
  apiResources(groupVersion: string, options: CallOptions = {}): Promise<ApiResourceList> {
    const path = groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
    return this.requestJson<ApiResourceList>({
      method: "GET",
      path,
      ...options,
      metric: { verb: "get", resource: "discovery" },
    });
  }

  /** Pod logs as a stream of bytes (`follow: true` keeps it open). */
  podLogs(namespace: string, pod: string, options: PodLogOptions = {}): Promise<StreamResponse> {
    return this.requestStream({
      method: "GET",
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
      query: {
        container: options.container,
        follow: options.follow,
        previous: options.previous,
        sinceSeconds: options.sinceSeconds,
        tailLines: options.tailLines,
        timestamps: options.timestamps,
        limitBytes: options.limitBytes,
      },
      accept: "*/*",
      signal: options.signal,
      retry: options.retry,
      metric: { verb: "get", resource: "pods/log" },
    });
  }

  /** Ends open watches and closes the connection pool. */
  close(): Promise<void> {
    return this.transport.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
