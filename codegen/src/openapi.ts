// Reads the OpenAPI v3 documents the apiserver serves per group/version (`/openapi/v3/api/v1`,
// `/openapi/v3/apis/apps/v1`, …): the named schemas (`components.schemas`, e.g.
// `io.k8s.api.core.v1.Pod`) and, from the paths and their `x-kubernetes-action` /
// `x-kubernetes-group-version-kind` extensions, which kinds are resources: their plural, scope, verbs
// and subresources. As k8s-openapi and client-gen do, a kind is a resource when it has a collection
// path of its own; only resources that can be listed and watched are generated (informers need both).
import { CodegenError, type JsonPath, type Location } from "./errors.ts";
import { compareStrings, type InputDocument, isRecord } from "./load.ts";
import type { Schema } from "./schema.ts";

/** One resource of a group/version, as the document's paths describe it. */
export interface OpenApiResource {
  /** Name of its schema, e.g. `io.k8s.api.core.v1.Pod`. */
  readonly schemaName: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
  /** Verbs the paths offer: get, list, watch, create, update, patch, delete, deletecollection. */
  readonly verbs: readonly string[];
  readonly statusSubresource: boolean;
  readonly scaleSubresource: boolean;
  /** Other subresources (`log`, `exec`, `eviction`, …), not typed. */
  readonly otherSubresources: readonly string[];
}

/** A group/version's document. */
export interface OpenApiGroupVersion {
  readonly input: InputDocument;
  /** `""` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly schemas: Readonly<Record<string, Schema>>;
  /** Resources that can be listed and watched, sorted by kind. */
  readonly resources: readonly OpenApiResource[];
  /** Resources of the group/version left out (`Kind (why)`), e.g. ones without list or watch. */
  readonly skipped: readonly string[];
}

/** Whether a parsed document is an OpenAPI 3 document (rather than a manifest). */
export function isOpenApiDocument(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value.openapi === "string" &&
    value.openapi.startsWith("3.") &&
    isRecord(value.components) &&
    isRecord(value.components.schemas)
  );
}

export const SCHEMA_REF_PREFIX = "#/components/schemas/";

const ACTION_VERBS: Record<string, string> = {
  get: "get",
  list: "list",
  post: "create",
  put: "update",
  patch: "patch",
  delete: "delete",
  deletecollection: "deletecollection",
  watch: "watch",
  watchlist: "watch",
};
const VERB_ORDER = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const METHODS = ["get", "put", "post", "delete", "patch", "options", "head"];

/** `/api/v1/…` or `/apis/<group>/<version>/…`, then an optional namespace, the plural, a name, a subresource. */
const PATH =
  /^\/(?:api|apis\/([^/]+))\/([^/]+)\/(watch\/)?(?:(namespaces\/\{namespace\})\/)?([^/{}]+)(?:\/\{name\}(?:\/([^/{}]+))?)?(\/.*)?$/;

interface Operation {
  readonly action: string;
  readonly kind: string | undefined;
  readonly group: string | undefined;
  readonly version: string | undefined;
  readonly watchParam: boolean;
}

/** Checks an OpenAPI document of one group/version and reads its schemas and resources. */
export function readOpenApi(doc: InputDocument): OpenApiGroupVersion {
  const loc: Location = { source: doc.source, document: doc.document };
  const fail = (path: JsonPath, detail: string): never => {
    throw new CodegenError(loc, [...doc.basePath, ...path], detail);
  };
  const v = doc.value;
  if (!isOpenApiDocument(v)) fail([], "not an OpenAPI 3 document (no openapi version or components.schemas)");
  const value = v as { components: { schemas: Record<string, unknown> }; paths?: unknown };
  const schemas: Record<string, Schema> = {};
  for (const [name, schema] of Object.entries(value.components.schemas)) {
    if (!isRecord(schema)) fail(["components", "schemas", name], "a schema must be an object");
    schemas[name] = schema as Schema;
  }
  if (!isRecord(value.paths) || Object.keys(value.paths).length === 0) {
    return fail(["paths"], "no paths: the document of one group/version (/openapi/v3/api/v1, …) is needed");
  }
  let gv: { group: string; version: string } | undefined;
  // plural → what its paths say
  const byPlural = new Map<
    string,
    { namespaced: boolean; ops: { op: Operation; item: boolean; sub: string | undefined }[] }
  >();
  for (const path of Object.keys(value.paths).sort(compareStrings)) {
    const m = PATH.exec(path);
    if (m === null) continue;
    const [, group = "", version = "", watchPrefix, ns, plural = "", sub, rest] = m;
    if (gv === undefined) gv = { group, version };
    else if (gv.group !== group || gv.version !== version) {
      fail(["paths", path], `paths of two group/versions in one document (${apiVersion(gv)} and ${group}/${version})`);
    }
    if (watchPrefix !== undefined || rest !== undefined) continue; // deprecated watch paths; proxy paths
    const item = path.includes("/{name}");
    const entry = byPlural.get(plural) ?? { namespaced: false, ops: [] };
    if (ns !== undefined) entry.namespaced = true;
    const pathItem = (value.paths as Record<string, unknown>)[path];
    if (!isRecord(pathItem)) continue;
    for (const method of METHODS) {
      const op = pathItem[method];
      if (!isRecord(op) || typeof op["x-kubernetes-action"] !== "string") continue;
      const gvk = op["x-kubernetes-group-version-kind"];
      const params = Array.isArray(op.parameters) ? op.parameters : [];
      const allParams = [...params, ...(Array.isArray(pathItem.parameters) ? pathItem.parameters : [])];
      entry.ops.push({
        op: {
          action: op["x-kubernetes-action"],
          kind: isRecord(gvk) && typeof gvk.kind === "string" ? gvk.kind : undefined,
          group: isRecord(gvk) && typeof gvk.group === "string" ? gvk.group : undefined,
          version: isRecord(gvk) && typeof gvk.version === "string" ? gvk.version : undefined,
          watchParam: allParams.some((p) => isRecord(p) && p.name === "watch"),
        },
        item,
        sub,
      });
    }
    byPlural.set(plural, entry);
  }
  if (gv === undefined) return fail(["paths"], "no Kubernetes API paths (/api/v1/…, /apis/<group>/<version>/…)");
  const { group, version } = gv;

  const resources: OpenApiResource[] = [];
  const skipped: string[] = [];
  for (const [plural, entry] of [...byPlural].sort((a, b) => compareStrings(a[0], b[0]))) {
    const main = entry.ops.filter((o) => o.sub === undefined);
    const list = main.find((o) => !o.item && o.op.action === "list");
    if (list === undefined) continue; // not a resource of its own (e.g. a create-only one such as bindings)
    const kind = list.op.kind;
    if (kind === undefined || list.op.group !== group || list.op.version !== version) continue;
    const verbs = new Set<string>();
    for (const o of main) {
      if (o.op.kind !== kind) continue;
      const verb = ACTION_VERBS[o.op.action];
      if (verb !== undefined) verbs.add(verb);
      if (o.op.action === "list" && o.op.watchParam) verbs.add("watch");
    }
    const subs = new Map<string, Operation[]>();
    for (const o of entry.ops) {
      if (o.sub === undefined) continue;
      subs.set(o.sub, [...(subs.get(o.sub) ?? []), o.op]);
    }
    const statusSubresource = (subs.get("status") ?? []).some((o) => o.action === "put" && o.kind === kind);
    const scaleSubresource = (subs.get("scale") ?? []).some((o) => o.action === "put" && o.kind === "Scale");
    const otherSubresources = [...subs.keys()]
      .filter((s) => !(s === "status" && statusSubresource) && !(s === "scale" && scaleSubresource))
      .sort(compareStrings);
    const schemaName = kindSchema(schemas, group, version, kind);
    if (schemaName === undefined) {
      skipped.push(`${kind} (no schema with its x-kubernetes-group-version-kind)`);
      continue;
    }
    if (!verbs.has("list") || !verbs.has("watch")) {
      skipped.push(`${kind} (cannot be ${verbs.has("list") ? "watched" : "listed"})`);
      continue;
    }
    resources.push({
      schemaName,
      group,
      version,
      kind,
      plural,
      namespaced: entry.namespaced,
      verbs: VERB_ORDER.filter((x) => verbs.has(x)),
      statusSubresource,
      scaleSubresource,
      otherSubresources,
    });
  }
  resources.sort((a, b) => compareStrings(a.kind, b.kind));
  return { input: doc, group, version, schemas, resources, skipped: skipped.sort(compareStrings) };
}

/** The schema whose `x-kubernetes-group-version-kind` names exactly this kind (and only it). */
function kindSchema(
  schemas: Readonly<Record<string, Schema>>,
  group: string,
  version: string,
  kind: string,
): string | undefined {
  const found = Object.keys(schemas)
    .filter((name) => {
      const gvks = groupVersionKinds(schemas[name] as Schema);
      return gvks.length === 1 && gvks[0]?.group === group && gvks[0].version === version && gvks[0].kind === kind;
    })
    .sort(compareStrings);
  return found[0];
}

/** The `x-kubernetes-group-version-kind` entries of a schema. */
export function groupVersionKinds(schema: Schema): { group: string; version: string; kind: string }[] {
  const gvks = schema["x-kubernetes-group-version-kind"];
  if (!Array.isArray(gvks)) return [];
  return gvks.flatMap((g: unknown) =>
    isRecord(g) && typeof g.group === "string" && typeof g.version === "string" && typeof g.kind === "string"
      ? [{ group: g.group, version: g.version, kind: g.kind }]
      : [],
  );
}

/** `v1` or `apps/v1`. */
export function apiVersion(gv: { readonly group: string; readonly version: string }): string {
  return gv.group === "" ? gv.version : `${gv.group}/${gv.version}`;
}
