// Wire types of the Kubernetes API that the transport itself needs. Timestamps stay strings, as on the
// wire (RFC 3339); nothing here converts them. Codegen-generated models are expected to be structurally
// compatible with `KubeObject`.

/** Makes a value and everything reachable from it read-only (what a cache hands out). */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<DeepReadonly<E>>
    : T extends ReadonlyMap<infer K, infer V>
      ? ReadonlyMap<DeepReadonly<K>, DeepReadonly<V>>
      : T extends ReadonlySet<infer E>
        ? ReadonlySet<DeepReadonly<E>>
        : T extends object
          ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
          : T;

/** `metadata.ownerReferences[]`: an owner of the object (`controller: true` for its managing controller). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** `metadata.managedFields[]`: which manager set which fields (server-side apply bookkeeping). */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: "Apply" | "Update" | (string & {});
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/** `metadata` of an object (`ObjectMeta`): name, namespace, labels, annotations, versions, owners, finalizers. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  /** `null` in what `kubectl create --dry-run -o yaml` writes. */
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

/** Any Kubernetes object: typed clients narrow this with their own models. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** `metadata` of a list: its resource version and the continue token of the next page. */
export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  selfLink?: string;
}

/** A list response (`ConfigMapList`, …). Items get `apiVersion`/`kind` filled in by the client. */
export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

/** One cause of a failure in `Status.details.causes` (e.g. a field that failed validation). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** `Status.details`: the object the failure is about, its causes and a retry hint. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** `meta.k8s.io/v1 Status` (served as `v1 Status`). */
export interface Status {
  apiVersion?: string;
  kind?: string;
  metadata?: ListMeta;
  status?: "Success" | "Failure" | (string & {});
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** True when `value` looks like a `Status` object (kind `Status`). */
export function isStatus(value: unknown): value is Status {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "Status";
}

/** A resource of an API group version, e.g. `{ group: "", version: "v1", resource: "configmaps" }`. */
export interface GroupVersionResource {
  /** `""` for the core (legacy) group served under `/api`. */
  readonly group: string;
  readonly version: string;
  /** The plural resource name, e.g. `configmaps`. */
  readonly resource: string;
}

/** A resource plus what the client needs to talk about its objects. */
export interface ResourceDescriptor extends GroupVersionResource {
  /** Kind of one object, e.g. `ConfigMap`; used to fill `kind` into list items and applied objects. */
  readonly kind?: string;
  /** Whether objects live in namespaces; defaults to true. Cluster-scoped handles ignore a namespace. */
  readonly namespaced?: boolean;
}

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(gv: { readonly group: string; readonly version: string }): string {
  return gv.group === "" ? gv.version : `${gv.group}/${gv.version}`;
}

/** A few built-in resources the controller library uses. */
export const builtinResources = {
  configMaps: { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true },
  secrets: { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true },
  pods: { group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true },
  events: { group: "", version: "v1", resource: "events", kind: "Event", namespaced: true },
  namespaces: { group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false },
  serviceAccounts: { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
  eventsV1: { group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", namespaced: true },
  leases: { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true },
  customResourceDefinitions: {
    group: "apiextensions.k8s.io",
    version: "v1",
    resource: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
  },
  tokenReviews: {
    group: "authentication.k8s.io",
    version: "v1",
    resource: "tokenreviews",
    kind: "TokenReview",
    namespaced: false,
  },
  subjectAccessReviews: {
    group: "authorization.k8s.io",
    version: "v1",
    resource: "subjectaccessreviews",
    kind: "SubjectAccessReview",
    namespaced: false,
  },
} as const satisfies Record<string, ResourceDescriptor>;
