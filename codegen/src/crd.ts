// Validates a manifest as an `apiextensions.k8s.io/v1` CustomResourceDefinition and extracts what the
// generator needs. Everything it rejects is reported with the JSON path of the offending value.
import { CodegenError, type JsonPath } from "./errors.ts";
import { type InputDocument, isRecord } from "./load.ts";

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly deprecated: boolean;
  readonly deprecationWarning: string | undefined;
  /** The `openAPIV3Schema` of this version. */
  readonly schema: Record<string, unknown>;
  /** JSON path of `schema` in its document. */
  readonly schemaPath: JsonPath;
  readonly statusSubresource: boolean;
  readonly scaleSubresource: boolean;
}

export interface Crd {
  readonly input: InputDocument;
  /** `metadata.name`, e.g. `taskruns.minitask.myorg.dev`. */
  readonly name: string;
  readonly group: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly namespaced: boolean;
  readonly versions: readonly CrdVersion[];
}

const CRD_API_VERSION = "apiextensions.k8s.io/v1";
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * Why a manifest value is not a CustomResourceDefinition at all (another kind, a kustomization, not an
 * object), or undefined when it is one (of any API version: an old one is an error, not a skip).
 */
export function notACrd(value: unknown): string | undefined {
  if (!isRecord(value)) return "not a CustomResourceDefinition: the document is not an object";
  if (value.kind === "CustomResourceDefinition") return undefined;
  if (value.kind === undefined) return "not a CustomResourceDefinition (no kind)";
  return `not a CustomResourceDefinition (kind ${JSON.stringify(value.kind)})`;
}

/** Checks that `doc` is a v1 CRD and reads it. */
export function readCrd(doc: InputDocument): Crd {
  const loc = { source: doc.source, document: doc.document };
  const base = doc.basePath;
  const fail = (path: JsonPath, detail: string): never => {
    throw new CodegenError(loc, [...base, ...path], detail);
  };
  const v = doc.value;
  if (!isRecord(v)) fail([], "not a CustomResourceDefinition: the document is not an object");
  const obj = v as Record<string, unknown>;
  if (obj.kind !== "CustomResourceDefinition") {
    fail(["kind"], `not a CustomResourceDefinition (kind ${JSON.stringify(obj.kind ?? null)})`);
  }
  if (obj.apiVersion !== CRD_API_VERSION) {
    fail(["apiVersion"], `unsupported apiVersion ${JSON.stringify(obj.apiVersion ?? null)} (need ${CRD_API_VERSION})`);
  }
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const spec = obj.spec;
  if (!isRecord(spec)) return fail(["spec"], "must be an object");
  const group = str(spec.group, ["spec", "group"], fail);
  if (!DNS_SUBDOMAIN.test(group)) fail(["spec", "group"], `invalid group ${JSON.stringify(group)}`);
  const names = spec.names;
  if (!isRecord(names)) return fail(["spec", "names"], "must be an object");
  const kind = str(names.kind, ["spec", "names", "kind"], fail);
  if (!KIND.test(kind)) fail(["spec", "names", "kind"], `kind ${JSON.stringify(kind)} is not an identifier`);
  const plural = str(names.plural, ["spec", "names", "plural"], fail);
  if (!DNS_LABEL.test(plural)) fail(["spec", "names", "plural"], `invalid plural ${JSON.stringify(plural)}`);
  const listKind =
    names.listKind === undefined ? `${kind}List` : str(names.listKind, ["spec", "names", "listKind"], fail);
  const singular =
    names.singular === undefined ? kind.toLowerCase() : str(names.singular, ["spec", "names", "singular"], fail);
  const shortNames = strList(names.shortNames, ["spec", "names", "shortNames"], fail);
  const categories = strList(names.categories, ["spec", "names", "categories"], fail);
  const scope = spec.scope;
  if (scope !== "Namespaced" && scope !== "Cluster") {
    fail(["spec", "scope"], `must be Namespaced or Cluster, not ${JSON.stringify(scope ?? null)}`);
  }
  const name = typeof metadata.name === "string" ? metadata.name : `${plural}.${group}`;
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) {
    return fail(["spec", "versions"], "must be a non-empty list");
  }
  const seen = new Set<string>();
  const versions = spec.versions.map((ver: unknown, i: number): CrdVersion => {
    const at: JsonPath = ["spec", "versions", i];
    if (!isRecord(ver)) return fail(at, "must be an object");
    const vname = str(ver.name, [...at, "name"], fail);
    if (!DNS_LABEL.test(vname)) fail([...at, "name"], `invalid version ${JSON.stringify(vname)}`);
    if (seen.has(vname)) fail([...at, "name"], `duplicate version ${JSON.stringify(vname)}`);
    seen.add(vname);
    const served = bool(ver.served, [...at, "served"], fail, true);
    const storage = bool(ver.storage, [...at, "storage"], fail, false);
    const deprecated = bool(ver.deprecated, [...at, "deprecated"], fail, false);
    const deprecationWarning =
      ver.deprecationWarning === undefined
        ? undefined
        : str(ver.deprecationWarning, [...at, "deprecationWarning"], fail);
    const schemaHolder = ver.schema;
    if (!isRecord(schemaHolder) || !isRecord(schemaHolder.openAPIV3Schema)) {
      return fail([...at, "schema", "openAPIV3Schema"], "missing: every version needs a schema");
    }
    const sub = ver.subresources === undefined ? {} : ver.subresources;
    if (!isRecord(sub)) return fail([...at, "subresources"], "must be an object");
    return {
      name: vname,
      served,
      storage,
      deprecated,
      deprecationWarning,
      schema: schemaHolder.openAPIV3Schema,
      schemaPath: [...base, ...at, "schema", "openAPIV3Schema"],
      statusSubresource: sub.status !== undefined && sub.status !== null,
      scaleSubresource: sub.scale !== undefined && sub.scale !== null,
    };
  });
  return {
    input: doc,
    name,
    group,
    kind,
    listKind,
    plural,
    singular,
    shortNames,
    categories,
    namespaced: scope === "Namespaced",
    versions,
  };
}

function str(v: unknown, path: JsonPath, fail: (p: JsonPath, d: string) => never): string {
  if (typeof v !== "string" || v.length === 0) return fail(path, "must be a non-empty string");
  return v;
}

function bool(v: unknown, path: JsonPath, fail: (p: JsonPath, d: string) => never, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") return fail(path, "must be a boolean");
  return v;
}

function strList(v: unknown, path: JsonPath, fail: (p: JsonPath, d: string) => never): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(path, "must be a list of strings");
  return v.map((s: unknown, i: number) => str(s, [...path, i], fail));
}
