// Shared runtime of generated typed clients of built-in kinds (from the apiserver's OpenAPI documents):
// the verbs of each client, with strategic merge patches, which built-in kinds support and custom
// resources do not.
// (Copied verbatim into the root of every codegen output folder that has built-in kinds.)
import type { JsonPatchOperation, KubeObject, PatchOptions, ResourceClient, Transport } from "@minitask/client";
import { ScalableResourceClient, type Scale, type ScaleVerbs } from "./runtime.ts";

/** The methods of each verb (`watch` → `watch`, `list` → `list`, `listPages`, `listAll`, …). */
export interface BuiltinVerbMethods {
  get: "get";
  list: "list" | "listPages" | "listAll";
  watch: "watch";
  create: "create";
  update: "update";
  patch: "patch" | "apply";
  delete: "delete";
  deletecollection: "deleteCollection";
}

/**
 * The verbs of a built-in kind's typed client: get, list, listPages, listAll, watch, create, update,
 * patch (merge, JSON, strategic merge or apply), apply, delete, deleteCollection — fewer when the API
 * offers fewer. Namespaced kinds add `inNamespace`/`allNamespaces`, kinds with subresources their verbs.
 */
export type BuiltinResourceVerbs<T extends KubeObject> = Omit<
  ResourceClient<T>,
  "inNamespace" | "allNamespaces" | "updateStatus" | "patchStatus" | "applyStatus"
>;

/** Verbs of the status subresource: replace, patch (any patch type) or apply only `status`. */
export type BuiltinStatusVerbs<T extends KubeObject> = Pick<
  ResourceClient<T>,
  "updateStatus" | "patchStatus" | "applyStatus"
>;

/** Verbs of the scale subresource (`autoscaling/v1 Scale`); patches may be strategic merge patches. */
export interface BuiltinScaleVerbs extends Omit<ScaleVerbs, "patchScale"> {
  patchScale(name: string, patch: readonly JsonPatchOperation[] | object, options: PatchOptions): Promise<Scale>;
}

/** A resource client with the scale subresource verbs, for built-in kinds. */
export class BuiltinScalableResourceClient<T extends KubeObject>
  extends ScalableResourceClient<T>
  implements BuiltinScaleVerbs
{
  readonly #transport: Transport;

  constructor(transport: Transport, descriptor: ResourceClient<T>["descriptor"], namespace?: string) {
    super(transport, descriptor, namespace);
    this.#transport = transport;
  }

  override inNamespace(namespace: string): BuiltinScalableResourceClient<T> {
    return new BuiltinScalableResourceClient<T>(this.#transport, this.descriptor, namespace);
  }

  override allNamespaces(): BuiltinScalableResourceClient<T> {
    return new BuiltinScalableResourceClient<T>(this.#transport, this.descriptor, undefined);
  }

  override async patchScale(
    name: string,
    patch: readonly JsonPatchOperation[] | object,
    options: PatchOptions,
  ): Promise<Scale> {
    return (await this.patch(name, patch, options, "scale")) as unknown as Scale;
  }
}
