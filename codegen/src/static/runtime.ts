// Shared runtime of generated typed clients: the client interfaces composed per kind, the scale
// subresource and the type-guard helper.
// (Copied verbatim into the root of every codegen output folder.)
import {
  type GetOptions,
  type JsonPatchOperation,
  type KubeObject,
  type ObjectMeta,
  type PatchOptions,
  type PatchType,
  ResourceClient,
  type Transport,
  type Writable,
  type WriteOptions,
} from "@minitask/client";

/** Patch options for custom resources: merge, JSON or server-side apply patches (no strategic merge patch). */
export interface CustomResourcePatchOptions extends Omit<PatchOptions, "type"> {
  readonly type: Exclude<PatchType, "strategic">;
}

/** Verbs of the status subresource. */
export type StatusVerbName = "updateStatus" | "patchStatus" | "applyStatus";

/**
 * The verbs of every typed client: get, list, listPages, listAll, watch, create, update, patch, apply,
 * delete, deleteCollection. Each kind's client adds `inNamespace`/`allNamespaces` when it is namespaced,
 * and the status (and scale) verbs when it has those subresources.
 */
export interface ResourceVerbs<T extends KubeObject>
  extends Omit<ResourceClient<T>, "inNamespace" | "allNamespaces" | "patch" | StatusVerbName> {
  /**
   * Patches an object: `type: "merge"` with a partial object, `"json"` with a list of operations, or
   * `"apply"` (server-side apply, needs `fieldManager`).
   */
  patch(name: string, patch: readonly JsonPatchOperation[] | object, options: CustomResourcePatchOptions): Promise<T>;
}

/** Verbs of the status subresource: replace, patch or apply only `status`. */
export interface StatusVerbs<T extends KubeObject> extends Pick<ResourceClient<T>, "updateStatus" | "applyStatus"> {
  /** Patches the status subresource (see `patch`). */
  patchStatus(
    name: string,
    patch: readonly JsonPatchOperation[] | object,
    options: CustomResourcePatchOptions,
  ): Promise<T>;
}

/** `autoscaling/v1 Scale`: what the scale subresource reads and writes. */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}

/** Verbs of the scale subresource. */
export interface ScaleVerbs {
  getScale(name: string, options?: GetOptions): Promise<Scale>;
  /** Replaces the scale (`spec.replicas`); send `metadata.resourceVersion` for optimistic concurrency. */
  updateScale(name: string, scale: Writable<Scale>, options?: WriteOptions): Promise<Scale>;
  patchScale(
    name: string,
    patch: readonly JsonPatchOperation[] | object,
    options: CustomResourcePatchOptions,
  ): Promise<Scale>;
}

/** A resource client with the scale subresource verbs. */
export class ScalableResourceClient<T extends KubeObject> extends ResourceClient<T> implements ScaleVerbs {
  readonly #transport: Transport;

  constructor(transport: Transport, descriptor: ResourceClient<T>["descriptor"], namespace?: string) {
    super(transport, descriptor, namespace);
    this.#transport = transport;
  }

  override inNamespace(namespace: string): ScalableResourceClient<T> {
    return new ScalableResourceClient<T>(this.#transport, this.descriptor, namespace);
  }

  override allNamespaces(): ScalableResourceClient<T> {
    return new ScalableResourceClient<T>(this.#transport, this.descriptor, undefined);
  }

  #scalePath(name: string, objectNamespace?: string): string {
    if (name.length === 0) throw new TypeError(`${this.descriptor.resource}: a name is required`);
    const ns = this.namespace ?? objectNamespace;
    if (this.descriptor.namespaced !== false && ns === undefined) {
      throw new TypeError(`${this.descriptor.resource} is namespaced: use inNamespace(ns)`);
    }
    return this.path(name, "scale", ns);
  }

  #metric(verb: string): { verb: string; resource: string; group: string } {
    return { verb, resource: `${this.descriptor.resource}/scale`, group: this.descriptor.group };
  }

  async getScale(name: string, options: GetOptions = {}): Promise<Scale> {
    return (await this.#transport.requestJson({
      method: "GET",
      path: this.#scalePath(name),
      query: { resourceVersion: options.resourceVersion },
      signal: options.signal,
      retry: options.retry,
      idempotent: true,
      metric: this.#metric("get"),
    })) as Scale;
  }

  async updateScale(name: string, scale: Writable<Scale>, options: WriteOptions = {}): Promise<Scale> {
    const body = { apiVersion: "autoscaling/v1", kind: "Scale", ...scale };
    return (await this.#transport.requestJson({
      method: "PUT",
      path: this.#scalePath(name, scale.metadata?.namespace),
      query: {
        fieldManager: options.fieldManager,
        dryRun: options.dryRun ? "All" : undefined,
        fieldValidation: options.fieldValidation,
      },
      body: JSON.stringify(body),
      signal: options.signal,
      retry: options.retry,
      metric: this.#metric("update"),
    })) as Scale;
  }

  async patchScale(
    name: string,
    patch: readonly JsonPatchOperation[] | object,
    options: CustomResourcePatchOptions,
  ): Promise<Scale> {
    return (await this.patch(name, patch, options, "scale")) as unknown as Scale;
  }
}

/** Whether `obj` is an object with this `apiVersion` and `kind`. */
export function hasTypeMeta(obj: unknown, apiVersion: string, kind: string): boolean {
  if (typeof obj !== "object" || obj === null) return false;
  const o = obj as { apiVersion?: unknown; kind?: unknown };
  return o.apiVersion === apiVersion && o.kind === kind;
}
