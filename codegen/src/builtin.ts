// Built-in kinds from the apiserver's OpenAPI v3 documents (one per group/version) → typed packages, laid
// out as k8s.io/api is: one folder per Go package of the schemas (`io.k8s.api.core.v1` → `core/v1`,
// `io.k8s.apimachinery.pkg.apis.meta.v1` → `meta/v1`), each with
//   <pkg>/types.ts                  every interface and enum of the package that the resources reach
//   <pkg>/<kind>.ts                 constants, readonly variants, list type and type guard of a resource
//   <pkg>/<kind>.client.ts          typed client (the verbs and subresources the paths offer)
//   <pkg>/<kind>.informer.ts        typed lister and informer constructor
//   <pkg>/index.ts                  everything of the package
// and at the root `index.ts` (each package as a namespace: `corev1`, `appsv1`, …), `runtime.ts` and
// `builtin-runtime.ts`. Only schemas reachable from the resources are generated. `ObjectMeta` and the other
// types the client itself defines are the client's; schemas that are not objects with properties
// (`Time`, `Quantity`, `IntOrString`, `RawExtension`) are written inline where they are used.
import { posix } from "node:path";
import { assemble, constObject, header, Imports, moduleSource, type Style, staticSource } from "./emit.ts";
import { CodegenError, type JsonPath } from "./errors.ts";
import type { GeneratedFile, GeneratedKind } from "./generate.ts";
import { compareStrings, isRecord } from "./load.ts";
import { type Decl, ref, T, type TsType, union } from "./model.ts";
import { camelCase, GLOBAL_TYPE_NAMES, kindModuleNames, NameRegistry } from "./names.ts";
import {
  apiVersion,
  groupVersionKinds,
  type OpenApiGroupVersion,
  type OpenApiResource,
  SCHEMA_REF_PREFIX,
} from "./openapi.ts";
import {
  compareSources,
  functionHead,
  interfaceHead,
  methodSignature,
  renderDecl,
  renderDoc,
  renderImport,
} from "./render.ts";
import { code, type ResolvedRef, type Schema, SchemaConverter } from "./schema.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

/** Schemas whose TypeScript type `@minitask/client` defines (the wire types the transport itself needs). */
const CLIENT_TYPES: Record<string, string> = {
  [`${META}.ObjectMeta`]: "ObjectMeta",
  [`${META}.ListMeta`]: "ListMeta",
  [`${META}.OwnerReference`]: "OwnerReference",
  [`${META}.ManagedFieldsEntry`]: "ManagedFieldsEntry",
  [`${META}.Status`]: "Status",
  [`${META}.StatusDetails`]: "StatusDetails",
  [`${META}.StatusCause`]: "StatusCause",
};

const APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";

/**
 * Schemas without a type in the documents (Go types with custom JSON marshalling) whose values are known:
 * the type, in terms of other schemas.
 */
const UNTYPED_SCHEMAS: Record<string, (r: (name: string) => TsType) => { type: TsType; note: string }> = {
  [`${APIEXT}.JSONSchemaPropsOrBool`]: (r) => ({
    type: union([r(`${APIEXT}.JSONSchemaProps`), T.boolean]),
    note: "A schema, or a boolean (`JSONSchemaPropsOrBool`).",
  }),
  [`${APIEXT}.JSONSchemaPropsOrArray`]: (r) => ({
    type: union([r(`${APIEXT}.JSONSchemaProps`), { k: "array", of: r(`${APIEXT}.JSONSchemaProps`) }]),
    note: "A schema, or a list of schemas (`JSONSchemaPropsOrArray`).",
  }),
  [`${APIEXT}.JSONSchemaPropsOrStringArray`]: (r) => ({
    type: union([r(`${APIEXT}.JSONSchemaProps`), { k: "array", of: T.string }]),
    note: "A schema, or a list of property names (`JSONSchemaPropsOrStringArray`).",
  }),
  [`${APIEXT}.JSON`]: () => ({ type: T.unknown, note: "Any JSON value (`apiextensions/v1.JSON`)." }),
};

/** Notes for scalar schemas written inline, beyond what their format says. */
const SCALAR_NOTES: Record<string, string> = {
  "io.k8s.apimachinery.pkg.api.resource.Quantity":
    "A quantity (`resource.Quantity`), such as `100m`, `2`, `1.5Gi` or `128974848`; the apiserver returns it as a string.",
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "An integer or a string (`intstr.IntOrString`).",
  "io.k8s.apimachinery.pkg.runtime.RawExtension": "Any JSON object (`runtime.RawExtension`).",
  [`${META}.Time`]: "A time (`meta/v1.Time`): an RFC 3339 date-time string with seconds, e.g. `2006-01-02T15:04:05Z`.",
  [`${META}.MicroTime`]:
    "A time (`meta/v1.MicroTime`): an RFC 3339 date-time string with microseconds, e.g. `2006-01-02T15:04:05.000000Z`.",
};

/** What the generation of built-in kinds produced. */
export interface BuiltinOutput {
  readonly files: GeneratedFile[];
  readonly kinds: GeneratedKind[];
  /** Resources left out, `group/version Kind (why)`. */
  readonly skipped: string[];
}

/** Where a schema's type comes from. */
type Placement =
  | { readonly k: "client"; readonly name: string }
  | { readonly k: "inline"; readonly schema: Schema }
  | { readonly k: "untyped"; readonly name: string }
  | { readonly k: "declared"; readonly pkg: string; readonly short: string };

interface Source {
  readonly schema: Schema;
  readonly gv: OpenApiGroupVersion;
}

interface Package {
  /** Go package of the schemas, e.g. `io.k8s.api.core.v1`. */
  readonly name: string;
  /** Output folder, e.g. `core/v1`. */
  readonly dir: string;
  /** Schema names declared here. */
  readonly schemas: string[];
  readonly resources: OpenApiResource[];
}

/** `io.k8s.api.core.v1.Pod` → `io.k8s.api.core.v1`, `Pod`. */
function splitName(name: string): { pkg: string; short: string } {
  const i = name.lastIndexOf(".");
  return { pkg: name.slice(0, i), short: name.slice(i + 1) };
}

/** `io.k8s.api.core.v1` → `core/v1`; a package without a version keeps its last segment (`resource`). */
export function packageDir(pkg: string): string {
  const parts = pkg.split(".");
  const last = parts[parts.length - 1] ?? pkg;
  if (/^v\d+((alpha|beta)\d+)?$/.test(last) && parts.length >= 2) return `${parts[parts.length - 2]}/${last}`;
  return last;
}

/** `core/v1` → `corev1`, the name of the package's namespace in the root index. */
export function namespaceName(dir: string): string {
  return dir.replace(/[^A-Za-z0-9]/g, "");
}

/** Generates the packages of every resource in `gvs`. Throws `CodegenError` for what it cannot generate. */
export function generateBuiltins(gvs: readonly OpenApiGroupVersion[], st: Style): BuiltinOutput {
  const docs = [...gvs].sort((a, b) => compareStrings(a.input.source, b.input.source));
  const loc = (gv: OpenApiGroupVersion) => ({ source: gv.input.source, document: gv.input.document });
  const schemaPath = (gv: OpenApiGroupVersion, name: string): JsonPath => [
    ...gv.input.basePath,
    "components",
    "schemas",
    name,
  ];

  // Resources, each once.
  const resources = new Map<string, OpenApiResource & { gv: OpenApiGroupVersion }>();
  const seenGvk = new Map<string, string>();
  const skipped: string[] = [];
  for (const gv of docs) {
    for (const s of gv.skipped) skipped.push(`${apiVersion(gv)} ${s}`);
    for (const r of gv.resources) {
      const key = `${apiVersion(r)} ${r.kind}`;
      const prior = seenGvk.get(key);
      if (prior !== undefined) {
        throw new CodegenError(loc(gv), schemaPath(gv, r.schemaName), `${key} is also defined in ${prior}`);
      }
      seenGvk.set(key, gv.input.source);
      resources.set(r.schemaName, { ...r, gv });
    }
  }

  // Every schema once: from the document of its own package's resources when there is one, else the first.
  const owners = new Map<string, OpenApiGroupVersion>();
  for (const r of resources.values()) owners.set(splitName(r.schemaName).pkg, r.gv);
  const sources = new Map<string, Source>();
  const conflicts = new Map<string, string>();
  for (const gv of docs) {
    for (const [name, schema] of Object.entries(gv.schemas)) {
      const prior = sources.get(name);
      if (prior !== undefined && !sameSchema(prior.schema, schema)) {
        conflicts.set(name, prior.gv === owners.get(splitName(name).pkg) ? gv.input.source : prior.gv.input.source);
      }
      if (prior === undefined || (gv === owners.get(splitName(name).pkg) && prior.gv !== gv)) {
        sources.set(name, { schema, gv });
      }
    }
  }

  // Reachable schemas, from the resources.
  const placement = (name: string): Placement => {
    const client = CLIENT_TYPES[name];
    if (client !== undefined) return { k: "client", name: client };
    if (name in UNTYPED_SCHEMAS) return { k: "untyped", name };
    const src = sources.get(name);
    if (src === undefined) throw new Error(`no schema ${name}`);
    const props = src.schema.properties;
    if (isRecord(props) && Object.keys(props).length > 0) return { k: "declared", ...splitName(name) };
    return { k: "inline", schema: src.schema };
  };
  const reached = new Set<string>();
  const queue = [...resources.keys()].sort(compareStrings);
  const refsOf = (name: string): string[] => {
    const src = sources.get(name);
    if (src === undefined) return [];
    const out: string[] = [];
    collectRefs(src.schema, out);
    return out;
  };
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (reached.has(name)) continue;
    reached.add(name);
    if (!sources.has(name) && CLIENT_TYPES[name] === undefined) {
      throw new CodegenError({ source: "(inputs)" }, undefined, `no document defines the schema ${name}`);
    }
    const conflict = conflicts.get(name);
    const src = sources.get(name);
    if (conflict !== undefined && src !== undefined) {
      throw new CodegenError(
        loc(src.gv),
        schemaPath(src.gv, name),
        `defined differently in ${conflict}; generate these documents separately`,
      );
    }
    const p = placement(name);
    if (p.k === "client") continue;
    if (p.k === "untyped") {
      queue.push(`${APIEXT}.JSONSchemaProps`);
      continue;
    }
    for (const r of refsOf(name)) {
      if (!r.startsWith(SCHEMA_REF_PREFIX)) continue;
      queue.push(r.slice(SCHEMA_REF_PREFIX.length));
    }
  }

  // Packages of the declared schemas.
  const packages = new Map<string, Package>();
  const dirs = new Map<string, string>();
  for (const name of [...reached].sort(compareStrings)) {
    const p = placement(name);
    if (p.k !== "declared") continue;
    let pkg = packages.get(p.pkg);
    if (pkg === undefined) {
      const dir = packageDir(p.pkg);
      const other = dirs.get(dir);
      if (other !== undefined) {
        throw new CodegenError({ source: "(inputs)" }, undefined, `packages ${other} and ${p.pkg} would share ${dir}`);
      }
      dirs.set(dir, p.pkg);
      pkg = { name: p.pkg, dir, schemas: [], resources: [] };
      packages.set(p.pkg, pkg);
    }
    pkg.schemas.push(name);
    const r = resources.get(name);
    if (r !== undefined) pkg.resources.push(r);
  }

  const files: GeneratedFile[] = [];
  const kinds: GeneratedKind[] = [];
  for (const pkg of [...packages.values()].sort((a, b) => compareStrings(a.dir, b.dir))) {
    files.push(...packageFiles(pkg, { sources, resources, placement, st }));
    for (const r of pkg.resources) {
      const gv = resources.get(r.schemaName)?.gv;
      kinds.push({
        group: r.group,
        version: r.version,
        kind: r.kind,
        source: gv?.input.source ?? "",
        namespaced: r.namespaced,
        statusSubresource: r.statusSubresource,
        scaleSubresource: r.scaleSubresource,
      });
    }
  }
  const dirsSorted = [...packages.values()].map((p) => p.dir).sort(compareStrings);
  files.push({ path: "index.ts", content: rootIndex(dirsSorted, docs, st) });
  files.push({ path: "builtin-runtime.ts", content: header([], st.command) + staticSource("builtin-runtime") });
  return { files, kinds, skipped: skipped.sort(compareStrings) };
}

interface Context {
  readonly sources: ReadonlyMap<string, Source>;
  readonly resources: ReadonlyMap<string, OpenApiResource & { gv: OpenApiGroupVersion }>;
  readonly placement: (name: string) => Placement;
  readonly st: Style;
}

interface ResourceOutput {
  readonly r: OpenApiResource;
  readonly fileBase: string;
  readonly readonlySpec: { alias: string; type: string } | undefined;
  readonly readonlyStatus: { alias: string; type: string } | undefined;
}

function packageFiles(pkg: Package, ctx: Context): GeneratedFile[] {
  const { st } = ctx;
  const registry = new NameRegistry([...GLOBAL_TYPE_NAMES]);
  const shortOf = new Map<string, string>();
  for (const name of pkg.schemas) {
    const { short } = splitName(name);
    if (!registry.take(short)) {
      throw new CodegenError({ source: "(inputs)" }, undefined, `${name}: the name ${short} is taken in ${pkg.dir}`);
    }
    shortOf.set(name, short);
  }
  const fileBases = new Map<string, string>([
    ["types", "(the types file)"],
    ["index", "(the index)"],
  ]);
  for (const r of pkg.resources) {
    const src = ctx.sources.get(r.schemaName) as Source;
    const where = { source: src.gv.input.source, document: src.gv.input.document };
    for (const n of kindModuleNames(r.kind)) {
      if (!registry.take(n)) {
        throw new CodegenError(where, undefined, `the generated name ${n} of kind ${r.kind} is taken in ${pkg.dir}`);
      }
    }
    const base = r.kind.toLowerCase();
    const other = fileBases.get(base);
    if (other !== undefined) {
      throw new CodegenError(
        where,
        undefined,
        `kind ${r.kind} and ${other} would share the file ${pkg.dir}/${base}.ts`,
      );
    }
    fileBases.set(base, r.kind);
  }
  for (const n of ["DeepReadonly", "KubeList", "KubeClient", "GroupVersionResource", "ResourceDescriptor"]) {
    registry.take(n);
  }
  for (const n of ["Lister", "NamespaceLister", "SharedIndexInformer", "SharedInformerFactory", "ForResourceOptions"]) {
    registry.take(n);
  }

  // The declarations, in name order; resources get their kind's literal apiVersion and kind.
  const usedSources = new Set<string>();
  const resolveRef = (target: string, path: JsonPath): ResolvedRef => {
    if (!target.startsWith(SCHEMA_REF_PREFIX)) {
      throw new CodegenError({ source: "(inputs)" }, path, `unsupported $ref ${JSON.stringify(target)}`);
    }
    const name = target.slice(SCHEMA_REF_PREFIX.length);
    return resolveIn(name, pkg, ctx, scratch);
  };
  const scratch = new SchemaConverter(new NameRegistry(), { source: "(scalar schemas)" }, { resolveRef });
  let converter: SchemaConverter | undefined;
  const specStatus = new Map<string, { specName: string | undefined; statusName: string | undefined }>();
  const decls: Decl[] = [];
  for (const name of [...pkg.schemas].sort((a, b) => compareStrings(shortOf.get(a) ?? a, shortOf.get(b) ?? b))) {
    const src = ctx.sources.get(name) as Source;
    usedSources.add(src.gv.input.source);
    const where = { source: src.gv.input.source, document: src.gv.input.document };
    converter ??= new SchemaConverter(registry, where, { resolveRef });
    converter.setLocation(where);
    const r = ctx.resources.get(name);
    const gvks = groupVersionKinds(src.schema);
    const props = isRecord(src.schema.properties) ? src.schema.properties : {};
    const only = gvks.length === 1 ? gvks[0] : undefined;
    const isKind = only !== undefined && "metadata" in props && "kind" in props;
    const result = converter.declareComponent({
      name: shortOf.get(name) as string,
      schema: src.schema,
      path: [...src.gv.input.basePath, "components", "schemas", name],
      ...(isKind && only ? { kind: { apiVersion: apiVersion(only), kind: only.kind } } : {}),
      ...(r !== undefined ? { headerDoc: [kindDoc(r)] } : {}),
    });
    if (r !== undefined) specStatus.set(name, result);
    decls.push(...converter.takeDecls());
  }

  const readonlyAlias = (kind: string, part: "Spec" | "Status", typeName: string | undefined) => {
    if (typeName === undefined) return undefined;
    for (const alias of [`Readonly${kind}${part}`, `Readonly${typeName}`]) {
      if (registry.take(alias)) return { alias, type: typeName };
    }
    return undefined;
  };
  const outputs: ResourceOutput[] = pkg.resources.map((r) => {
    const ss = specStatus.get(r.schemaName);
    return {
      r,
      fileBase: r.kind.toLowerCase(),
      readonlySpec: readonlyAlias(r.kind, "Spec", ss?.specName),
      readonlyStatus: readonlyAlias(r.kind, "Status", ss?.statusName),
    };
  });

  const dir = pkg.dir;
  const localNames = new Set(decls.map((d) => d.name));
  const files: GeneratedFile[] = [];
  // types.ts
  {
    const imports = new Imports((n) => localNames.has(n));
    const resolve = (name: string, module: Parameters<typeof moduleSource>[1]) =>
      imports.use(moduleSource(st, module, dir), name);
    const body = decls.map((d) => renderDecl(d, resolve)).join("\n");
    const srcs = [...usedSources].sort(compareStrings);
    files.push({ path: `${dir}/types.ts`, content: assemble(srcs, st, imports, body) });
  }
  for (const out of outputs) {
    const source = ctx.resources.get(out.r.schemaName)?.gv.input.source ?? "";
    files.push({ path: `${dir}/${out.fileBase}.ts`, content: kindFile(out, source, st) });
    files.push({ path: `${dir}/${out.fileBase}.client.ts`, content: clientFile(out, source, st) });
    files.push({ path: `${dir}/${out.fileBase}.informer.ts`, content: informerFile(out, source, st) });
  }
  files.push({ path: `${dir}/index.ts`, content: packageIndex(outputs, [...usedSources].sort(compareStrings), st) });
  return files;
}

/** The type a reference to `name` has in package `pkg`. */
function resolveIn(name: string, pkg: Package, ctx: Context, scratch: SchemaConverter): ResolvedRef {
  const p = ctx.placement(name);
  switch (p.k) {
    case "client":
      return { type: ref(p.name, "client"), notes: [], inline: false };
    case "declared":
      return {
        type: p.pkg === pkg.name ? ref(p.short) : ref(p.short, `pkg:${packageDir(p.pkg)}`),
        notes: [],
        inline: false,
      };
    case "untyped": {
      const u = (UNTYPED_SCHEMAS[p.name] as (typeof UNTYPED_SCHEMAS)[string])((n) => {
        const r = resolveIn(n, pkg, ctx, scratch);
        return r.type;
      });
      return { type: u.type, notes: [u.note], inline: true };
    }
    case "inline": {
      const path: JsonPath = ["components", "schemas", name];
      const type = scratch.inlineType(p.schema, path, splitName(name).short);
      if (scratch.takeDecls().length > 0) {
        throw new CodegenError({ source: "(inputs)" }, path, "a scalar schema with an enum cannot be written inline");
      }
      const known = SCALAR_NOTES[name];
      const notes = known !== undefined ? [known] : scratch.valueNotes(p.schema, path);
      return { type, notes, inline: true };
    }
  }
}

function kindDoc(r: OpenApiResource): string {
  const facts = [r.namespaced ? "namespaced" : "cluster-scoped", `plural ${code(r.plural)}`];
  const subs = [r.statusSubresource ? "status" : "", r.scaleSubresource ? "scale" : ""].filter((s) => s !== "");
  facts.push(subs.length > 0 ? `subresources: ${subs.join(", ")}` : "no status or scale subresource");
  if (r.otherSubresources.length > 0) facts.push(`not typed: ${r.otherSubresources.map(code).join(", ")}`);
  if (r.verbs.length < 8) facts.push(`verbs: ${r.verbs.join(", ")}`);
  return `Kind ${code(r.kind)} of ${code(apiVersion(r))} (${facts.join("; ")}).`;
}

function kindFile(out: ResourceOutput, source: string, st: Style): string {
  const { r } = out;
  const K = r.kind;
  const imports = new Imports(() => false);
  imports.use(`./types${st.ext}`, K);
  const link = `{@link ${K}}`;
  const av = apiVersion(r);
  const qualified = r.group === "" ? r.plural : `${r.plural}.${r.group}`;
  let body = "";
  body += `${renderDoc([`API version of ${link} objects.`])}export const ${K}ApiVersion = ${JSON.stringify(av)};\n`;
  body += `${renderDoc([`Kind of ${link} objects.`])}export const ${K}Kind = ${JSON.stringify(K)};\n`;
  body += `${renderDoc([`Plural resource name of ${link} objects (\`${qualified}\`).`])}export const ${K}Plural = ${JSON.stringify(r.plural)};\n`;
  body += constObject(`${K}GVK`, `Group, version and kind of ${link}.`, [
    ["group", r.group],
    ["version", r.version],
    ["kind", K],
  ]);
  body += constObject(
    `${K}GVR`,
    `Group, version and resource of ${link}.`,
    [
      ["group", r.group],
      ["version", r.version],
      ["resource", r.plural],
    ],
    imports.use("@minitask/client", "GroupVersionResource"),
  );
  body += constObject(
    `${K}Resource`,
    `What clients and informers need to know about ${link} (${r.namespaced ? "namespaced" : "cluster-scoped"}).`,
    [
      ["group", r.group],
      ["version", r.version],
      ["resource", r.plural],
      ["kind", K],
      ["namespaced", r.namespaced],
    ],
    imports.use("@minitask/client", "ResourceDescriptor"),
  );
  body += "\n";
  const dr = imports.use("@minitask/client", "DeepReadonly");
  body += `${renderDoc([`A ${link} as caches hand it out: deeply read-only.`])}export type Readonly${K} = ${dr}<${K}>;\n`;
  for (const ro of [out.readonlySpec, out.readonlyStatus]) {
    if (ro === undefined) continue;
    imports.use(`./types${st.ext}`, ro.type);
    body += `${renderDoc([`A {@link ${ro.type}} as caches hand it out: deeply read-only.`])}export type ${ro.alias} = ${dr}<${ro.type}>;\n`;
  }
  body += `${renderDoc([`A list of ${link} objects (\`${K}List\`).`])}export type ${K}List = ${imports.use("@minitask/client", "KubeList")}<${K}>;\n`;
  body += "\n";
  body += renderDoc([`Whether \`obj\` is a ${link}: checks \`apiVersion\` and \`kind\` only, not the schema.`]);
  body += functionHead("export function", `is${K}`, ["obj: unknown"], `obj is ${K}`);
  body += `  return ${imports.use(st.modules.runtime, "hasTypeMeta", false)}(obj, ${K}ApiVersion, ${K}Kind);\n}\n`;
  return assemble([source], st, imports, body);
}

/** Methods of the verbs a resource lacks (omitted from its client's type). */
const VERB_METHODS: Record<string, string[]> = {
  get: ["get"],
  list: ["list", "listPages", "listAll"],
  watch: ["watch"],
  create: ["create"],
  update: ["update"],
  patch: ["patch", "apply"],
  delete: ["delete"],
  deletecollection: ["deleteCollection"],
};

function clientFile(out: ResourceOutput, source: string, st: Style): string {
  const { r } = out;
  const K = r.kind;
  const lower = camelCase(K);
  const imports = new Imports(() => false);
  imports.use(`./types${st.ext}`, K);
  imports.use(`./${out.fileBase}${st.ext}`, `${K}Resource`, false);
  const rt = st.modules["builtin-runtime"];
  const missing = Object.keys(VERB_METHODS).filter((v) => !r.verbs.includes(v));
  const omitted = missing.flatMap((v) => VERB_METHODS[v] ?? []);
  const base = `${imports.use(rt, "BuiltinResourceVerbs")}<${K}>`;
  const ext = [omitted.length > 0 ? `Omit<${base}, ${omitted.map((m) => JSON.stringify(m)).join(" | ")}>` : base];
  if (r.statusSubresource) ext.push(`${imports.use(rt, "BuiltinStatusVerbs")}<${K}>`);
  if (r.scaleSubresource) ext.push(imports.use(rt, "BuiltinScaleVerbs"));
  const kube = imports.use("@minitask/client", "KubeClient");
  const verbs = [r.verbs.join(", ")];
  if (r.statusSubresource) verbs.push("the status subresource (updateStatus, patchStatus, applyStatus)");
  else verbs.push("no status subresource");
  if (r.scaleSubresource) verbs.push("the scale subresource (getScale, updateScale, patchScale)");
  const qualified = r.group === "" ? `${r.plural}/${r.version}` : `${r.plural}.${r.group}/${r.version}`;
  let body = renderDoc([
    `Typed client of {@link ${K}} (\`${qualified}\`, ${r.namespaced ? "namespaced" : "cluster-scoped"}): ${verbs.join("; ")}.`,
  ]);
  const head = interfaceHead(`${K}Client`, ext);
  body += r.namespaced ? head : `${head.slice(0, -2)}{}\n`;
  if (r.namespaced) {
    body += renderDoc(["The same resource in another namespace."], "  ");
    body += methodSignature("inNamespace", ["namespace: string"], `${K}Client`);
    body += renderDoc(
      ["The same resource across all namespaces (list, watch), or in each object's namespace (writes)."],
      "  ",
    );
    body += methodSignature("allNamespaces", [], `${K}Client`);
    body += "}\n";
  }
  body += "\n";
  if (r.namespaced) {
    body += renderDoc([
      `A typed client of {@link ${K}} objects in \`namespace\` (all namespaces, or each object's own, when undefined).`,
    ]);
    body += functionHead("export function", `${lower}Client`, [`client: ${kube}`, "namespace?: string"], `${K}Client`);
  } else {
    body += renderDoc([`A typed client of {@link ${K}} objects (cluster-scoped).`]);
    body += functionHead("export function", `${lower}Client`, [`client: ${kube}`], `${K}Client`);
  }
  const nsArg = r.namespaced ? ", namespace" : "";
  if (r.scaleSubresource) {
    const scalable = imports.use(rt, "BuiltinScalableResourceClient", false);
    body += `  return new ${scalable}<${K}>(client.transport, ${K}Resource${nsArg});\n}\n`;
  } else {
    body += `  return client.resource<${K}>(${K}Resource${nsArg});\n}\n`;
  }
  return assemble([source], st, imports, body);
}

function informerFile(out: ResourceOutput, source: string, st: Style): string {
  const { r } = out;
  const K = r.kind;
  const lower = camelCase(K);
  const imports = new Imports(() => false);
  imports.use(`./types${st.ext}`, K);
  imports.use(`./${out.fileBase}${st.ext}`, `${K}Resource`, false);
  const inf = "@minitask/informers";
  const lister = imports.use(inf, "Lister");
  const informer = imports.use(inf, "SharedIndexInformer");
  const factory = imports.use(inf, "SharedInformerFactory");
  const newLister = imports.use(inf, "newLister", false);
  const options = imports.use(inf, "ForResourceOptions");
  let body = "";
  if (r.namespaced) {
    body += renderDoc([
      `Reads {@link ${K}} objects from an informer's cache (deeply read-only), in all namespaces or one.`,
    ]);
    body += `export type ${K}Lister = ${lister}<${K}>;\n`;
    body += renderDoc([`Reads {@link ${K}} objects of one namespace from an informer's cache.`]);
    body += `export type ${K}NamespaceLister = ${imports.use(inf, "NamespaceLister")}<${K}>;\n`;
  } else {
    body += renderDoc([`Reads {@link ${K}} objects from an informer's cache (deeply read-only; cluster-scoped).`]);
    body += `export type ${K}Lister = Omit<${lister}<${K}>, "namespace">;\n`;
  }
  body += renderDoc([`The shared informer of {@link ${K}} objects.`]);
  body += `export type ${K}Informer = ${informer}<${K}>;\n\n`;
  const optType = r.namespaced ? options : `Omit<${options}, "namespace">`;
  body += renderDoc([
    `The shared informer of {@link ${K}} objects from \`factory\` (one per resource and options; start the factory to run it).`,
  ]);
  body += functionHead(
    "export function",
    `${lower}Informer`,
    [`factory: ${factory}`, `options?: ${optType}`],
    `${K}Informer`,
  );
  body += `  return factory.forResource<${K}>(${K}Resource, options);\n}\n\n`;
  body += renderDoc([`A lister over the cache of \`informer\`.`]);
  body += functionHead("export function", `${lower}Lister`, [`informer: ${K}Informer`], `${K}Lister`);
  body += `  return ${newLister}(informer.getIndexer());\n}\n`;
  return assemble([source], st, imports, body);
}

function packageIndex(outputs: readonly ResourceOutput[], sources: readonly string[], st: Style): string {
  const locals = [
    `./types${st.ext}`,
    ...outputs.flatMap((o) => [
      `./${o.fileBase}.client${st.ext}`,
      `./${o.fileBase}.informer${st.ext}`,
      `./${o.fileBase}${st.ext}`,
    ]),
  ];
  const lines = locals.sort(compareSources).map((l) => `export * from ${JSON.stringify(l)};\n`);
  return `${header(sources, st.command)}\n${lines.join("")}`;
}

function rootIndex(dirs: readonly string[], docs: readonly OpenApiGroupVersion[], st: Style): string {
  const lines = dirs.map(
    (d) => `export * as ${namespaceName(d)} from ${JSON.stringify(`./${posix.join(d, "index")}${st.ext}`)};\n`,
  );
  const rt = [
    renderImport("export", `./builtin-runtime${st.ext}`, [
      { name: "BuiltinResourceVerbs", typeOnly: true },
      { name: "BuiltinScaleVerbs", typeOnly: true },
      { name: "BuiltinStatusVerbs", typeOnly: true },
    ]),
    renderImport("export", `./runtime${st.ext}`, [{ name: "Scale", typeOnly: true }]),
  ];
  const sources = docs.map((d) => d.input.source);
  return `${header(sources, st.command)}\n${rt.join("")}${lines.join("")}`;
}

/** Every `$ref` in a schema. */
function collectRefs(node: unknown, out: string[]): void {
  if (Array.isArray(node)) {
    for (const x of node) collectRefs(x, out);
    return;
  }
  if (!isRecord(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === "$ref" && typeof v === "string") out.push(v);
    else if (k === "properties" && isRecord(v)) for (const p of Object.values(v)) collectRefs(p, out);
    else if (k === "items" || k === "additionalProperties" || k === "not") collectRefs(v, out);
    else if (k === "allOf" || k === "anyOf" || k === "oneOf") collectRefs(v, out);
  }
}

/** Equal schemas, apart from the kinds they are listed for (documents list only their own group's). */
function sameSchema(a: Schema, b: Schema): boolean {
  const strip = (s: Schema) => {
    const { "x-kubernetes-group-version-kind": _g, ...rest } = s;
    return JSON.stringify(rest);
  };
  return strip(a) === strip(b);
}
