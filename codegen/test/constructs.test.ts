// One test per schema construct: what the golden output (checked against the generator by
// golden.test.ts) says for it. The fixtures are fixtures/constructs.yaml (every construct),
// multiversion.yaml, collisions.yaml and roundtrip.yaml.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { goldenDir, readText } from "./support/helpers.ts";

const gv = "fixtures.codegen.minitask.dev";
const widget = readText(join(goldenDir, "constructs", gv, "v1/widget.ts"));
const widgetClient = readText(join(goldenDir, "constructs", gv, "v1/widget.client.ts"));
const widgetInformer = readText(join(goldenDir, "constructs", gv, "v1/widget.informer.ts"));
const gizmoV1 = readText(join(goldenDir, "multiversion", gv, "v1/gizmo.ts"));
const gizmoV1Client = readText(join(goldenDir, "multiversion", gv, "v1/gizmo.client.ts"));
const gizmoAlpha = readText(join(goldenDir, "multiversion", gv, "v1alpha1/gizmo.ts"));
const gizmoAlphaClient = readText(join(goldenDir, "multiversion", gv, "v1alpha1/gizmo.client.ts"));
const gadgetClient = readText(join(goldenDir, "roundtrip", "codegen-test.minitask.dev/v1/gadget.client.ts"));

/** The body of `export interface NAME … { … }` in `text`. */
function iface(text: string, name: string): string {
  const start = text.indexOf(`export interface ${name} `);
  if (start < 0) throw new Error(`no interface ${name}`);
  return text.slice(start, text.indexOf("\n}\n", start) + 2);
}

/** A property line of an interface, with the TSDoc just above it. */
function prop(body: string, key: string): { line: string; doc: string } {
  const lines = body.split("\n");
  const i = lines.findIndex((l) => l.startsWith(`  ${key}?: `) || l.startsWith(`  ${key}: `));
  if (i < 0) throw new Error(`no property ${key} in\n${body}`);
  let j = i;
  if (lines[i - 1]?.trim().endsWith("*/")) {
    while (j > 0 && !lines[j - 1]?.trim().startsWith("/**")) j--;
    j--;
  }
  return { line: lines[i] as string, doc: lines.slice(j, i).join("\n") };
}

const spec = iface(widget, "WidgetSpec");

describe("schema constructs", () => {
  it("types: string, integer, number, boolean, array, object", () => {
    expect(prop(spec, "name").line).toBe("  name: string;");
    expect(prop(spec, "count").line).toBe("  count: number;");
    expect(prop(spec, "ratio").line).toBe("  ratio?: number;");
    expect(prop(spec, "enabled").line).toBe("  enabled?: boolean;");
    expect(prop(spec, "tags").line).toBe("  tags?: string[];");
    expect(prop(spec, "class").line).toBe("  class?: WidgetSpecClass;");
    expect(prop(spec, "count").doc).toContain("Format: `int32`.");
    expect(prop(spec, "ratio").doc).toContain("Constraints: minimum 0, exclusiveMaximum 1.");
  });

  it("required: required properties are not optional; others are", () => {
    expect(prop(spec, "name").line).not.toContain("?");
    expect(prop(spec, "count").line).not.toContain("?");
    expect(prop(spec, "enabled").line).toContain("?");
    // The root's `required: [spec]` (roundtrip fixture); status is always optional.
    const gadget = readText(join(goldenDir, "roundtrip", "codegen-test.minitask.dev/v1/gadget.ts"));
    expect(iface(gadget, "Gadget")).toContain("  spec: GadgetSpec;\n  status?: GadgetStatus;");
  });

  it("nullable: `| null`", () => {
    expect(prop(spec, "nickname").line).toBe("  nickname?: string | null;");
    expect(prop(spec, "nullableObject").line).toBe("  nullableObject?: WidgetSpecNullableObject | null;");
    expect(prop(spec, "nullableList").line).toBe("  nullableList?: number[] | null;");
    expect(prop(spec, "name").line).not.toContain("null");
  });

  it("enum: literal unions, named after the property", () => {
    expect(prop(spec, "mode").line).toBe("  mode?: WidgetSpecMode;");
    expect(widget).toContain('/** How fast. */\nexport type WidgetSpecMode = "Fast" | "Slow" | "True";');
    expect(widget).toContain("export type WidgetSpecLevel = 1 | 2 | 3;");
    expect(widget).toContain('export type WidgetSpecChoice = "a" | "b" | null;');
    expect(prop(spec, "modes").line).toBe("  modes?: WidgetSpecModesItem[];");
    expect(widget).toContain('export type WidgetSpecModesItem = "Read" | "Write";');
  });

  it("required with a default: optional, as the apiserver fills it in before it validates", () => {
    expect(prop(spec, "tier").line).toBe("  tier?: string;");
    expect(prop(spec, "name").line).toBe("  name: string;");
    expect(prop(spec, "tier").doc).toContain('@defaultValue `"Fast"`');
  });

  it("descriptions cannot make TSDoc tags: a line starting with @ is escaped", () => {
    expect(prop(spec, "tier").doc).toContain("   * \\@deprecated not really: a description line");
    expect(prop(spec, "tier").doc).not.toMatch(/^\s*\* @deprecated/m);
  });

  it("default: documented in TSDoc as @defaultValue", () => {
    expect(prop(spec, "replicas").doc).toContain("@defaultValue `1`");
    expect(prop(spec, "strategy").doc).toContain('@defaultValue `{"type":"RollingUpdate"}`');
    expect(prop(spec, "replicas").line).toBe("  replicas?: number;");
  });

  it("format date-time: a string documented as RFC 3339", () => {
    const p = prop(spec, "deadline");
    expect(p.line).toBe("  deadline?: string;");
    expect(p.doc).toContain("When the widget expires.");
    expect(p.doc).toContain("An RFC 3339 date-time string");
  });

  it("x-kubernetes-int-or-string: number | string", () => {
    expect(prop(spec, "port").line).toBe("  port?: number | string;");
    expect(prop(spec, "port").doc).toContain("(x-kubernetes-int-or-string)");
    expect(prop(spec, "maxUnavailable").line).toBe("  maxUnavailable?: number | string | null;");
    expect(prop(spec, "limits").line).toBe("  limits?: Record<string, number | string>;");
    expect(prop(spec, "limits").doc).toContain("Each value: An integer or a string");
  });

  it("x-kubernetes-preserve-unknown-fields: unknown, Record<string, unknown>, index signatures; never {}", () => {
    expect(prop(spec, "anything").line).toBe("  anything?: unknown;");
    expect(prop(spec, "config").line).toBe("  config?: Record<string, unknown>;");
    expect(iface(widget, "WidgetSpecExtensible")).toContain("  known?: string;\n  [key: string]: unknown;\n}");
    expect(widget).not.toMatch(/: \{\};/);
    expect(prop(spec, "free").line).toBe("  free?: Record<string, unknown>;");
    expect(prop(spec, "empty").line).toBe("  empty?: Record<string, never>;");
  });

  it("x-kubernetes-embedded-resource: a Kubernetes object type", () => {
    expect(prop(spec, "template").line).toBe("  template?: EmbeddedResource;");
    expect(prop(spec, "bareObject").line).toBe("  bareObject?: EmbeddedObject;");
    expect(iface(widget, "WidgetSpecTypedTemplate")).toContain(
      "export interface WidgetSpecTypedTemplate extends EmbeddedObject {\n  data?: Record<string, string>;\n}",
    );
    const meta = readText(join(goldenDir, "constructs", "meta.ts"));
    expect(iface(meta, "EmbeddedObject")).toContain("  apiVersion: string;\n  kind: string;\n  metadata?: ObjectMeta;");
  });

  it("additionalProperties: records (of scalars, int-or-string and objects)", () => {
    expect(prop(spec, "labels").line).toBe("  labels?: Record<string, string>;");
    expect(prop(spec, "ports").line).toBe("  ports?: Record<string, WidgetSpecPortsValue>;");
    expect(iface(widget, "WidgetSpecPortsValue")).toContain(
      "  port: number;\n  protocol?: WidgetSpecPortsValueProtocol;",
    );
  });

  it("arrays and x-kubernetes-list-type / list-map-keys / map-type: documented", () => {
    expect(prop(spec, "matrix").line).toBe("  matrix?: number[][];");
    expect(prop(spec, "rules").line).toBe("  rules?: WidgetSpecRule[];");
    expect(prop(spec, "rules").doc).toContain("List type `map` (x-kubernetes-list-type), keyed by `name`, `namespace`");
    expect(prop(spec, "tags").doc).toContain("List type `set`");
    expect(prop(spec, "args").doc).toContain("List type `atomic`");
    expect(prop(spec, "selector").doc).toContain("Map type `atomic`");
  });

  it("anyOf/oneOf: unions where expressible, else unknown; always explained in TSDoc", () => {
    expect(prop(spec, "size").line).toBe("  size?: WidgetSpecSize;");
    expect(widget).toContain('export type WidgetSpecSize = "small" | "medium" | "large";');
    expect(prop(spec, "value").line).toBe("  value?: string | string[] | WidgetSpecValueVariant3;");
    expect(prop(spec, "value").doc).toContain("(expressed as a union)");
    expect(prop(spec, "opaque").line).toBe("  opaque?: unknown;");
    expect(prop(spec, "opaque").doc).toContain("Not expressible as a TypeScript type: the value is `unknown`.");
    const source = widget.slice(widget.indexOf("/**\n * Exactly one of git or url."));
    expect(source).toMatch(
      /^\/\*\*\n \* Exactly one of git or url\.\n \*\n \* oneOf: exactly one of .*not expressed in the type\)\.\n \*\/\nexport interface WidgetSpecSource \{/,
    );
  });

  it("x-kubernetes-validations: rules quoted in TSDoc, with messages", () => {
    const window = widget.slice(
      widget.indexOf("/**\n * Validation rules"),
      widget.indexOf("export interface WidgetSpecWindow"),
    );
    expect(window).toContain(" * - `self.start <= self.end`: start must not be after end\n");
    expect(window).toContain(
      " * - `timestamp(self.end) - timestamp(self.start) <= duration('24h')`: message from `'window too long: ' + self.end` (reason FieldValueInvalid, field `.end`)\n",
    );
    expect(prop(spec, "immutable").doc).toContain("- `self == oldSelf`: immutable");
  });

  it("names: keywords stay bare (valid TypeScript), non-identifiers are quoted", () => {
    expect(prop(spec, "default").line).toBe("  default?: string;");
    expect(prop(spec, "class").line).toBe("  class?: WidgetSpecClass;");
    expect(iface(widget, "WidgetSpecClass")).toContain("  constructor?: string;\n  delete?: boolean;");
    expect(prop(spec, '"x-kubernetes-foo"').line).toBe('  "x-kubernetes-foo"?: string;');
    expect(prop(spec, '"123abc"').line).toBe('  "123abc"?: string;');
    expect(prop(spec, '"a.b"').line).toBe('  "a.b"?: WidgetSpecAB;');
    expect(prop(spec, '"with space"').line).toBe('  "with space"?: string;');
    expect(prop(spec, "naïve").line).toBe("  naïve?: string;");
  });

  it("descriptions become TSDoc with comment terminators and tags escaped", () => {
    expect(widget).toContain(" * Comment terminators *\\/ and \\@tags in descriptions are escaped.\n");
  });

  it("conditions: the standard shape reuses the shared Condition type; look-alikes do not", () => {
    const status = iface(widget, "WidgetStatus");
    expect(prop(status, "conditions").line).toBe("  conditions?: Condition[];");
    expect(prop(status, "legacyConditions").line).toBe("  legacyConditions?: WidgetStatusLegacyCondition[];");
    expect(widget).toContain('import type { Condition, EmbeddedObject, EmbeddedResource } from "../../meta.js";');
    // A kind named Condition keeps its name; the shared type is imported under another.
    const kind = readText(join(goldenDir, "collisions", gv, "v1/condition.ts"));
    expect(kind).toContain('import type { Condition as Condition_ } from "../../meta.js";');
    expect(kind).toContain("  conditions?: Condition_[];");
    expect(kind).toContain("export interface Condition {");
  });

  it("names of nested types never clash: a kind's name wins, equal schemas share one declaration", () => {
    const foo = readText(join(goldenDir, "collisions", gv, "v1/foo.ts"));
    // The path name FooBar is the kind's: the nested type takes a meaningful name, not a number.
    expect(foo).toContain("  bar?: FooBarType;");
    expect(foo.match(/export interface FooBarType \{/g)).toHaveLength(1);
    expect(foo).not.toContain("FooSpecBar");
  });

  it("multiple versions: one folder per served version, unserved ones skipped, deprecations marked", () => {
    expect(iface(gizmoAlpha, "GizmoSpec")).toContain("  size?: number;");
    expect(iface(gizmoV1, "GizmoSpec")).toContain("  size: number | string;");
    expect(gizmoAlpha).toContain(
      " * @deprecated fixtures.codegen.minitask.dev/v1alpha1 Gizmo is deprecated; use fixtures.codegen.minitask.dev/v1\n */\nexport interface Gizmo {",
    );
    expect(gizmoAlphaClient).toContain("@deprecated");
    expect(gizmoV1).not.toContain("@deprecated");
    expect(() => readText(join(goldenDir, "multiversion", gv, "v1beta1/gizmo.ts"))).toThrow();
  });

  it("constants: apiVersion, kind, plural, GVK, GVR and the resource descriptor with its scope", () => {
    expect(widget).toContain('export const WidgetApiVersion = "fixtures.codegen.minitask.dev/v1";');
    expect(widget).toContain('export const WidgetKind = "Widget";');
    expect(widget).toContain('export const WidgetPlural = "widgets";');
    // Explicit literal types (isolatedDeclarations needs no inference), checked against the client's types.
    expect(widget).toContain(
      "export const WidgetGVK: {\n" +
        '  readonly group: "fixtures.codegen.minitask.dev";\n  readonly version: "v1";\n  readonly kind: "Widget";\n' +
        '} = {\n  group: "fixtures.codegen.minitask.dev",\n  version: "v1",\n  kind: "Widget",\n} as const;',
    );
    expect(widget).toContain("  readonly namespaced: false;\n} = {");
    expect(widget).toContain("  namespaced: false,\n} as const satisfies ResourceDescriptor;");
    expect(widget).toContain('  readonly resource: "widgets";\n} = {');
    expect(widget).toContain('  resource: "widgets",\n} as const satisfies GroupVersionResource;');
    expect(gizmoV1).toContain("  namespaced: true,\n} as const satisfies ResourceDescriptor;");
  });

  it("type guard, readonly variants and list type", () => {
    expect(widget).toContain(
      "export function isWidget(obj: unknown): obj is Widget {\n  return hasTypeMeta(obj, WidgetApiVersion, WidgetKind);\n}",
    );
    expect(widget).toContain("export type ReadonlyWidget = DeepReadonly<Widget>;");
    expect(widget).toContain("export type ReadonlyWidgetSpec = DeepReadonly<WidgetSpec>;");
    expect(widget).toContain("export type WidgetList = KubeList<Widget>;");
  });

  it("clients respect scope and subresources", () => {
    // Cluster-scoped, no subresources: no namespace argument, no status verbs.
    expect(widgetClient).toContain("export interface WidgetClient extends ResourceVerbs<Widget> {}\n");
    expect(widgetClient).toContain("export function widgetClient(client: KubeClient): WidgetClient {");
    // Namespaced with status and scale.
    expect(gizmoV1Client).toContain(
      "export interface GizmoClient extends ResourceVerbs<Gizmo>, StatusVerbs<Gizmo>, ScaleVerbs {",
    );
    expect(gizmoV1Client).toContain("  inNamespace(namespace: string): GizmoClient;");
    expect(gizmoV1Client).toContain(
      "return new ScalableResourceClient<Gizmo>(client.transport, GizmoResource, namespace);",
    );
    // Namespaced, status only, in an older version: no scale.
    expect(gizmoAlphaClient).toContain("export interface GizmoClient extends ResourceVerbs<Gizmo> {");
    expect(gadgetClient).toContain("StatusVerbs<Gadget>, ScaleVerbs");
  });

  it("listers and informers respect scope", () => {
    expect(widgetInformer).toContain('export type WidgetLister = Omit<Lister<Widget>, "namespace">;');
    expect(widgetInformer).toContain('options?: Omit<ForResourceOptions, "namespace">');
    expect(widgetInformer).not.toContain("NamespaceLister");
    const gizmoInformer = readText(join(goldenDir, "multiversion", gv, "v1/gizmo.informer.ts"));
    expect(gizmoInformer).toContain("export type GizmoNamespaceLister = NamespaceLister<Gizmo>;");
    expect(gizmoInformer).toContain("return factory.forResource<Gizmo>(GizmoResource, options);");
    expect(gizmoInformer).toContain("return newLister(informer.getIndexer());");
  });
});
