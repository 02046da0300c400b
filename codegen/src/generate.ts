// From CRDs (and OpenAPI v3 documents of the apiserver, see builtin.ts) to the generated files, entirely in
// memory (nothing is written here, so an input that cannot be generated leaves no half-written output behind).
//
// Layout of the output folder:
//   meta.ts, runtime.ts                       shared model types and client runtime (static)
//   <group>/<version>/<kind>.ts               models, constants, readonly variants, type guard
//   <group>/<version>/<kind>.client.ts        typed client
//   <group>/<version>/<kind>.informer.ts      typed lister and informer constructor
//   <group>/<version>/index.ts                everything of the group/version
import { generateBuiltins } from "./builtin.ts";
import { type Crd, type CrdVersion, notACrd, readCrd } from "./crd.ts";
import {
  assemble,
  constObject,
  header,
  IMPORT_EXTENSIONS,
  type ImportExtension,
  Imports,
  moduleSource,
  type Style,
  staticSource,
  style,
} from "./emit.ts";
import { CodegenError, formatLocation } from "./errors.ts";
import { compareStrings, type InputDocument } from "./load.ts";
import type { Decl, ModuleId } from "./model.ts";
import { camelCase, GLOBAL_TYPE_NAMES, kindModuleNames, NameRegistry } from "./names.ts";
import { isOpenApiDocument, readOpenApi } from "./openapi.ts";
import {
  compareSources,
  functionHead,
  interfaceHead,
  methodSignature,
  renderDecl,
  renderDoc,
  renderImport,
} from "./render.ts";
import { code, SchemaConverter } from "./schema.ts";

export { IMPORT_EXTENSIONS, type ImportExtension, isGeneratedText } from "./emit.ts";

export interface GenerateOptions {
  /** The command shown in file headers ("Regenerate with …"); default `npm run codegen`. */
  readonly command?: string;
  /** Extension of generated relative imports; default `js`. */
  readonly importExtension?: ImportExtension;
  /**
   * Whether a document that is not a CustomResourceDefinition is an error (as it was before there was a
   * choice); by default it is skipped and listed in `GenerateResult.ignored`.
   */
  readonly strict?: boolean;
}

export interface GeneratedFile {
  /** Path relative to the output folder, with `/` separators. */
  readonly path: string;
  readonly content: string;
}

export interface GeneratedKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly source: string;
  readonly namespaced: boolean;
  readonly statusSubresource: boolean;
  readonly scaleSubresource: boolean;
}

export interface GenerateResult {
  /** Every output file, sorted by path. */
  readonly files: readonly GeneratedFile[];
  /** Every generated kind/version, sorted. */
  readonly kinds: readonly GeneratedKind[];
  /** CRDs read. */
  readonly crds: number;
  /** OpenAPI documents read (one per group/version of built-in kinds). */
  readonly openapi: number;
  /** Resources of the OpenAPI documents left out, `group/version Kind (why)`: those that cannot be listed and watched. */
  readonly leftOut: readonly string[];
  /** Versions skipped because they are not served (`group/version Kind`). */
  readonly skipped: readonly string[];
  /** Input documents skipped because they are not CRDs, one line each (never with `strict`). */
  readonly ignored: readonly string[];
}

/** Names of the shared files, and what the group/version index re-exports from them. */
const META_TYPES = ["Condition", "ConditionStatus", "EmbeddedObject", "EmbeddedResource"];
const RUNTIME_TYPES = [
  "CustomResourcePatchOptions",
  "ResourceVerbs",
  "Scale",
  "ScaleVerbs",
  "StatusVerbName",
  "StatusVerbs",
];

/** Generates every file for the given manifests. Throws `CodegenError` for input it cannot generate. */
export function generate(docs: readonly InputDocument[], options: GenerateOptions = {}): GenerateResult {
  const command = options.command ?? "npm run codegen";
  const importExtension = options.importExtension ?? "js";
  if (!IMPORT_EXTENSIONS.includes(importExtension)) {
    throw new TypeError(
      `importExtension must be one of ${IMPORT_EXTENSIONS.join(", ")}, not ${String(importExtension)}`,
    );
  }
  const st = style(command, importExtension);
  const ignored: string[] = [];
  const openapiDocs = docs.filter((doc) => isOpenApiDocument(doc.value));
  const manifests = docs.filter((doc) => !isOpenApiDocument(doc.value));
  const crdDocs = options.strict
    ? manifests
    : manifests.filter((doc) => {
        const why = notACrd(doc.value);
        if (why !== undefined) ignored.push(`${formatLocation(doc)}: ${why}, skipped`);
        return why === undefined;
      });
  const crds = crdDocs.map(readCrd);
  const byName = new Map<string, Crd>();
  for (const crd of crds) {
    const key = `${crd.group}/${crd.kind}`;
    const prior = byName.get(key);
    if (prior !== undefined) {
      throw new CodegenError(
        { source: crd.input.source, document: crd.input.document },
        [...crd.input.basePath, "spec", "names", "kind"],
        `kind ${crd.kind} of group ${crd.group} is also defined in ${prior.input.source}`,
      );
    }
    byName.set(key, crd);
  }

  // Group served versions by group/version.
  const groups = new Map<string, { group: string; version: string; entries: { crd: Crd; version: CrdVersion }[] }>();
  const skipped: string[] = [];
  for (const crd of crds) {
    for (const version of crd.versions) {
      if (!version.served) {
        skipped.push(`${crd.group}/${version.name} ${crd.kind}`);
        continue;
      }
      const key = `${crd.group}/${version.name}`;
      let g = groups.get(key);
      if (g === undefined) {
        g = { group: crd.group, version: version.name, entries: [] };
        groups.set(key, g);
      }
      g.entries.push({ crd, version });
    }
  }

  const files: GeneratedFile[] = [];
  // meta.ts holds what CRD schemas share; built-in kinds have their own meta/v1.
  if (crds.length > 0 || openapiDocs.length === 0) {
    files.push({ path: "meta.ts", content: header([], command) + staticSource("meta") });
  }
  files.push({ path: "runtime.ts", content: header([], command) + staticSource("runtime") });
  const kinds: GeneratedKind[] = [];
  for (const key of [...groups.keys()].sort(compareStrings)) {
    const g = groups.get(key)!;
    g.entries.sort((a, b) => compareStrings(a.crd.kind, b.crd.kind));
    files.push(...generateGroupVersion(g.group, g.version, g.entries, st));
    for (const { crd, version } of g.entries) {
      kinds.push({
        group: g.group,
        version: g.version,
        kind: crd.kind,
        source: crd.input.source,
        namespaced: crd.namespaced,
        statusSubresource: version.statusSubresource,
        scaleSubresource: version.scaleSubresource,
      });
    }
  }
  const leftOut: string[] = [];
  if (openapiDocs.length > 0) {
    const builtins = generateBuiltins(openapiDocs.map(readOpenApi), st);
    const taken = new Set(files.map((f) => f.path));
    for (const f of builtins.files) {
      if (taken.has(f.path)) {
        throw new CodegenError({ source: "(inputs)" }, undefined, `a CRD and a built-in package both write ${f.path}`);
      }
      files.push(f);
    }
    kinds.push(...builtins.kinds);
    leftOut.push(...builtins.skipped);
  }
  files.sort((a, b) => compareStrings(a.path, b.path));
  return {
    files,
    kinds,
    crds: crds.length,
    openapi: openapiDocs.length,
    leftOut,
    skipped: skipped.sort(compareStrings),
    ignored,
  };
}

interface KindOutput {
  readonly crd: Crd;
  readonly version: CrdVersion;
  readonly fileBase: string;
  readonly decls: Decl[];
  readonly specName: string | undefined;
  readonly statusName: string | undefined;
  /** Names of the read-only aliases of spec and status (undefined: none, or no free name). */
  readonly readonlySpec: string | undefined;
  readonly readonlyStatus: string | undefined;
}

function generateGroupVersion(
  group: string,
  version: string,
  entries: readonly { crd: Crd; version: CrdVersion }[],
  st: Style,
): GeneratedFile[] {
  const registry = new NameRegistry([...GLOBAL_TYPE_NAMES]);
  const fileBases = new Map<string, string>();
  // Every kind's fixed names first, so that a clash is reported rather than renamed.
  for (const { crd } of entries) {
    const loc = { source: crd.input.source, document: crd.input.document };
    const at = [...crd.input.basePath, "spec", "names", "kind"];
    if (GLOBAL_TYPE_NAMES.includes(crd.kind)) {
      throw new CodegenError(loc, at, `kind ${crd.kind} would shadow the TypeScript type ${crd.kind}`);
    }
    for (const n of [crd.kind, ...kindModuleNames(crd.kind)]) {
      if (!registry.take(n)) {
        throw new CodegenError(loc, at, `the generated name ${n} of kind ${crd.kind} clashes with another kind's`);
      }
    }
    const base = crd.kind.toLowerCase();
    const other = fileBases.get(base);
    if (other !== undefined) {
      throw new CodegenError(loc, at, `kinds ${crd.kind} and ${other} would share the file name ${base}.ts`);
    }
    fileBases.set(base, crd.kind);
  }
  // Shared names may be used by schema-derived declarations only when no kind took them.
  for (const n of [...META_TYPES, ...RUNTIME_TYPES]) registry.take(n);
  for (const n of ["ObjectMeta", "DeepReadonly", "KubeList", "KubeClient", "GroupVersionResource"]) registry.take(n);
  for (const n of [
    "ResourceDescriptor",
    "Lister",
    "NamespaceLister",
    "SharedIndexInformer",
    "SharedInformerFactory",
    "ForResourceOptions",
  ]) {
    registry.take(n);
  }
  // The read-only aliases of spec and status come next: they yield to another kind's names (kinds `Foo`
  // and `FooSpec` in one group/version), and are named after the spec/status type then.
  const readonlyTaken = new Map<string, boolean>();
  for (const { crd } of entries) {
    for (const n of [`Readonly${crd.kind}Spec`, `Readonly${crd.kind}Status`]) readonlyTaken.set(n, registry.take(n));
  }
  const readonlyName = (preferred: string, typeName: string | undefined): string | undefined => {
    if (typeName === undefined) return undefined;
    if (readonlyTaken.get(preferred) === true) return preferred;
    return registry.take(`Readonly${typeName}`) ? `Readonly${typeName}` : undefined;
  };

  const kindNames = new Set(entries.map((e) => e.crd.kind));
  const outputs: KindOutput[] = entries.map(({ crd, version: v }) => {
    const converter = new SchemaConverter(registry, { source: crd.input.source, document: crd.input.document });
    const model = converter.convertKind({
      schema: v.schema,
      path: v.schemaPath,
      typeName: crd.kind,
      apiVersion: `${group}/${version}`,
      kind: crd.kind,
      headerDoc: kindDoc(crd, v, group, version),
      trailingDoc: v.deprecated ? [deprecation(crd, v)] : [],
    });
    return {
      crd,
      version: v,
      fileBase: crd.kind.toLowerCase(),
      ...model,
      readonlySpec: readonlyName(`Readonly${crd.kind}Spec`, model.specName),
      readonlyStatus: readonlyName(`Readonly${crd.kind}Status`, model.statusName),
    };
  });

  const dir = `${group}/${version}`;
  const files: GeneratedFile[] = [];
  for (const out of outputs) {
    files.push({ path: `${dir}/${out.fileBase}.ts`, content: modelFile(out, group, version, kindNames, st) });
    files.push({ path: `${dir}/${out.fileBase}.client.ts`, content: clientFile(out, kindNames, st) });
    files.push({ path: `${dir}/${out.fileBase}.informer.ts`, content: informerFile(out, kindNames, st) });
  }
  files.push({ path: `${dir}/index.ts`, content: indexFile(outputs, kindNames, st) });
  return files;
}

function kindDoc(crd: Crd, v: CrdVersion, group: string, version: string): string[] {
  const facts = [`${crd.namespaced ? "namespaced" : "cluster-scoped"}`, `plural ${code(crd.plural)}`];
  if (crd.shortNames.length > 0) facts.push(`short names ${crd.shortNames.map(code).join(", ")}`);
  if (crd.categories.length > 0) facts.push(`categories ${crd.categories.map(code).join(", ")}`);
  const subs = [v.statusSubresource ? "status" : "", v.scaleSubresource ? "scale" : ""].filter((s) => s !== "");
  facts.push(subs.length > 0 ? `subresources: ${subs.join(", ")}` : "no subresources");
  if (v.storage) facts.push("storage version");
  return [`Kind ${code(crd.kind)} of ${code(`${group}/${version}`)} (${facts.join("; ")}).`];
}

function deprecation(crd: Crd, v: CrdVersion): string {
  return `@deprecated ${v.deprecationWarning ?? `${crd.group}/${v.name} ${crd.kind} is deprecated.`}`;
}

function modelFile(out: KindOutput, group: string, version: string, kindNames: Set<string>, st: Style): string {
  const MODULES = st.modules;
  const { crd } = out;
  const K = crd.kind;
  const imports = new Imports((n) => kindNames.has(n));
  const resolve = (name: string, module: ModuleId) =>
    imports.use(moduleSource(st, module, `${group}/${version}`), name);
  const link = `{@link ${K}}`;
  let body = "";
  body += `${renderDoc([`API version of ${link} objects.`])}export const ${K}ApiVersion = ${JSON.stringify(`${group}/${version}`)};\n`;
  body += `${renderDoc([`Kind of ${link} objects.`])}export const ${K}Kind = ${JSON.stringify(K)};\n`;
  body += `${renderDoc([`Plural resource name of ${link} objects (\`${crd.plural}.${group}\`).`])}export const ${K}Plural = ${JSON.stringify(crd.plural)};\n`;
  body += constObject(`${K}GVK`, `Group, version and kind of ${link}.`, [
    ["group", group],
    ["version", version],
    ["kind", K],
  ]);
  body += constObject(
    `${K}GVR`,
    `Group, version and resource of ${link}.`,
    [
      ["group", group],
      ["version", version],
      ["resource", crd.plural],
    ],
    imports.use(MODULES.client, "GroupVersionResource"),
  );
  body += constObject(
    `${K}Resource`,
    `What clients and informers need to know about ${link} (${crd.namespaced ? "namespaced" : "cluster-scoped"}).`,
    [
      ["group", group],
      ["version", version],
      ["resource", crd.plural],
      ["kind", K],
      ["namespaced", crd.namespaced],
    ],
    imports.use(MODULES.client, "ResourceDescriptor"),
  );
  body += "\n";
  const dr = imports.use(MODULES.client, "DeepReadonly");
  body += `${renderDoc([`A ${link} as caches hand it out: deeply read-only.`])}export type Readonly${K} = ${dr}<${K}>;\n`;
  if (out.specName !== undefined && out.readonlySpec !== undefined) {
    body += `${renderDoc([`A {@link ${out.specName}} as caches hand it out: deeply read-only.`])}export type ${out.readonlySpec} = ${dr}<${out.specName}>;\n`;
  }
  if (out.statusName !== undefined && out.readonlyStatus !== undefined) {
    body += `${renderDoc([`A {@link ${out.statusName}} as caches hand it out: deeply read-only.`])}export type ${out.readonlyStatus} = ${dr}<${out.statusName}>;\n`;
  }
  body += `${renderDoc([`A list of ${link} objects (\`${crd.listKind}\`).`])}export type ${K}List = ${imports.use(MODULES.client, "KubeList")}<${K}>;\n`;
  body += "\n";
  body += renderDoc([`Whether \`obj\` is a ${link}: checks \`apiVersion\` and \`kind\` only, not the schema.`]);
  body += functionHead("export function", `is${K}`, ["obj: unknown"], `obj is ${K}`);
  body += `  return ${imports.use(MODULES.runtime, "hasTypeMeta", false)}(obj, ${K}ApiVersion, ${K}Kind);\n}\n`;
  for (const d of out.decls) body += `\n${renderDecl(d, resolve)}`;
  return assemble([crd.input.source], st, imports, body);
}

function clientFile(out: KindOutput, kindNames: Set<string>, st: Style): string {
  const MODULES = st.modules;
  const { crd, version: v } = out;
  const K = crd.kind;
  const lower = camelCase(K);
  const imports = new Imports((n) => kindNames.has(n));
  imports.use(`./${out.fileBase}${st.ext}`, K);
  imports.use(`./${out.fileBase}${st.ext}`, `${K}Resource`, false);
  const ext = [`${imports.use(MODULES.runtime, "ResourceVerbs")}<${K}>`];
  if (v.statusSubresource) ext.push(`${imports.use(MODULES.runtime, "StatusVerbs")}<${K}>`);
  if (v.scaleSubresource) ext.push(imports.use(MODULES.runtime, "ScaleVerbs"));
  const kube = imports.use(MODULES.client, "KubeClient");
  const verbs = ["get, list, watch, create, update, patch, apply, delete, deleteCollection"];
  if (v.statusSubresource) verbs.push("the status subresource (updateStatus, patchStatus, applyStatus)");
  else verbs.push("no status subresource");
  if (v.scaleSubresource) verbs.push("the scale subresource (getScale, updateScale, patchScale)");
  let body = renderDoc([
    `Typed client of {@link ${K}} (\`${crd.plural}.${crd.group}/${v.name}\`, ${crd.namespaced ? "namespaced" : "cluster-scoped"}): ${verbs.join("; ")}.`,
  ]);
  const head = interfaceHead(`${K}Client`, ext);
  body += crd.namespaced ? head : `${head.slice(0, -2)}{}\n`;
  if (crd.namespaced) {
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
  const deprecated = v.deprecated ? ["", deprecation(crd, v)] : [];
  if (crd.namespaced) {
    body += renderDoc([
      `A typed client of {@link ${K}} objects in \`namespace\` (all namespaces, or each object's own, when undefined).`,
      ...deprecated,
    ]);
    body += functionHead("export function", `${lower}Client`, [`client: ${kube}`, "namespace?: string"], `${K}Client`);
  } else {
    body += renderDoc([`A typed client of {@link ${K}} objects (cluster-scoped).`, ...deprecated]);
    body += functionHead("export function", `${lower}Client`, [`client: ${kube}`], `${K}Client`);
  }
  const nsArg = crd.namespaced ? ", namespace" : "";
  if (v.scaleSubresource) {
    const scalable = imports.use(MODULES.runtime, "ScalableResourceClient", false);
    body += `  return new ${scalable}<${K}>(client.transport, ${K}Resource${nsArg});\n}\n`;
  } else {
    body += `  return client.resource<${K}>(${K}Resource${nsArg});\n}\n`;
  }
  return assemble([crd.input.source], st, imports, body);
}

function informerFile(out: KindOutput, kindNames: Set<string>, st: Style): string {
  const MODULES = st.modules;
  const { crd } = out;
  const K = crd.kind;
  const lower = camelCase(K);
  const imports = new Imports((n) => kindNames.has(n));
  imports.use(`./${out.fileBase}${st.ext}`, K);
  imports.use(`./${out.fileBase}${st.ext}`, `${K}Resource`, false);
  const lister = imports.use(MODULES.informers, "Lister");
  const informer = imports.use(MODULES.informers, "SharedIndexInformer");
  const factory = imports.use(MODULES.informers, "SharedInformerFactory");
  const newLister = imports.use(MODULES.informers, "newLister", false);
  const options = imports.use(MODULES.informers, "ForResourceOptions");
  let body = "";
  if (crd.namespaced) {
    body += renderDoc([
      `Reads {@link ${K}} objects from an informer's cache (deeply read-only), in all namespaces or one.`,
    ]);
    body += `export type ${K}Lister = ${lister}<${K}>;\n`;
    body += renderDoc([`Reads {@link ${K}} objects of one namespace from an informer's cache.`]);
    body += `export type ${K}NamespaceLister = ${imports.use(MODULES.informers, "NamespaceLister")}<${K}>;\n`;
  } else {
    body += renderDoc([`Reads {@link ${K}} objects from an informer's cache (deeply read-only; cluster-scoped).`]);
    body += `export type ${K}Lister = Omit<${lister}<${K}>, "namespace">;\n`;
  }
  body += renderDoc([`The shared informer of {@link ${K}} objects.`]);
  body += `export type ${K}Informer = ${informer}<${K}>;\n\n`;
  const optType = crd.namespaced ? options : `Omit<${options}, "namespace">`;
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
  return assemble([crd.input.source], st, imports, body);
}

function indexFile(outputs: readonly KindOutput[], kindNames: Set<string>, st: Style): string {
  const MODULES = st.modules;
  const sources = [...new Set(outputs.map((o) => o.crd.input.source))].sort(compareStrings);
  const lines: string[] = [];
  const meta = META_TYPES.filter((n) => !kindNames.has(n)).map((name) => ({ name, typeOnly: true }));
  const runtime = RUNTIME_TYPES.filter((n) => !kindNames.has(n)).map((name) => ({ name, typeOnly: true }));
  if (meta.length > 0) lines.push(renderImport("export", MODULES.meta, meta));
  if (runtime.length > 0) lines.push(renderImport("export", MODULES.runtime, runtime));
  const locals = outputs.flatMap((o) => [
    `./${o.fileBase}.client${st.ext}`,
    `./${o.fileBase}.informer${st.ext}`,
    `./${o.fileBase}${st.ext}`,
  ]);
  for (const l of locals.sort(compareSources)) lines.push(`export * from ${JSON.stringify(l)};\n`);
  return `${header(sources, st.command)}\n${lines.join("")}`;
}
