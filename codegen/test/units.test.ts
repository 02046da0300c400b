// The generator's small parts: names, JSON paths, TSDoc escaping, import ordering, manifest parsing,
// and the detection of the standard condition shape.
import { describe, expect, it } from "vitest";
import { CodegenError, formatJsonPath } from "../src/errors.ts";
import { generate } from "../src/generate.ts";
import { parseManifests } from "../src/load.ts";
import { camelCase, itemName, NameRegistry, pascalCase, propertyKey } from "../src/names.ts";
import { compareNames, compareSources, escapeDoc, renderDoc, renderType } from "../src/render.ts";
import { isConditionShape } from "../src/schema.ts";

describe("names", () => {
  it("derives type names from property names", () => {
    expect(pascalCase("httpGet")).toBe("HttpGet");
    expect(pascalCase("x-kubernetes-foo")).toBe("XKubernetesFoo");
    expect(pascalCase("a.b_c d")).toBe("ABCD");
    expect(pascalCase("123abc")).toBe("123abc");
    expect(pascalCase("$")).toBe("Field");
    expect(itemName("steps")).toBe("Step");
    expect(itemName("policies")).toBe("Policy");
    expect(itemName("addresses")).toBe("Address");
    expect(itemName("matchExpressions")).toBe("MatchExpression");
    expect(itemName("env")).toBe("EnvItem");
    expect(itemName("status")).toBe("StatusItem");
    expect(itemName("args")).toBe("Arg");
    // Only regular plurals are singularised.
    expect(itemName("tls")).toBe("TlsItem");
    expect(itemName("dns")).toBe("DnsItem");
    expect(itemName("hostAliases")).toBe("HostAlias");
    expect(itemName("statuses")).toBe("Status");
    expect(itemName("series")).toBe("SeriesItem");
    expect(itemName("timeSeries")).toBe("TimeSeriesItem");
    expect(itemName("entries")).toBe("Entry");
    expect(itemName("podIPs")).toBe("PodIP");
    expect(itemName("CIDRs")).toBe("CIDR");
    expect(itemName("TLS")).toBe("TLSItem");
    expect(itemName("indices")).toBe("Index");
  });

  it("derives function names from kinds", () => {
    expect(camelCase("TaskRun")).toBe("taskRun");
    expect(camelCase("URLMap")).toBe("urlMap");
    expect(camelCase("API")).toBe("api");
    expect(camelCase("task")).toBe("task");
  });

  it("quotes property names only when they are not identifier names", () => {
    expect(propertyKey("default")).toBe("default");
    expect(propertyKey("naïve")).toBe("naïve");
    expect(propertyKey("$ref")).toBe("$ref");
    expect(propertyKey("x-y")).toBe('"x-y"');
    expect(propertyKey("1a")).toBe('"1a"');
    expect(propertyKey('say "hi"')).toBe('"say \\"hi\\""');
  });

  it("hands out unique names deterministically", () => {
    const r = new NameRegistry(["Record"]);
    expect(r.claim("Foo")).toBe("Foo");
    expect(r.claim("Foo")).toBe("Foo2");
    expect(r.claim("Foo")).toBe("Foo3");
    expect(r.claim("Record")).toBe("Record2");
    expect(r.claim("Baz", ["BazItem", "BazType"])).toBe("Baz");
    expect(r.claim("Baz", ["BazItem", "BazType"])).toBe("BazItem");
    expect(r.claim("Baz", ["BazItem", "BazType"])).toBe("BazType");
    expect(r.claim("Baz", ["BazItem", "BazType"])).toBe("Baz2");
    expect(r.take("Foo")).toBe(false);
    expect(r.take("Bar")).toBe(true);
  });
});

/** A CRD of `group` with a v1 schema whose root properties are `props` (YAML, indented 12 spaces). */
function crdText(kind: string, props: string, group = "names.codegen.minitask.dev"): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${kind.toLowerCase()}s.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {kind: ${kind}, plural: ${kind.toLowerCase()}s}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
${props}
`;
}

describe("names of generated declarations", () => {
  const generated = (text: string, file: string) => {
    const files = generate(parseManifests(text, "crds.yaml")).files;
    return files.find((f) => f.path === `names.codegen.minitask.dev/v1/${file}`)?.content ?? "";
  };

  it("kinds Foo and FooSpec in one group/version: not a clash; Foo's spec type takes another name", () => {
    const foo = crdText("Foo", "            spec: {type: object, properties: {a: {type: string}}}");
    const fooSpec = crdText("FooSpec", "            spec: {type: object, properties: {b: {type: string}}}");
    const text = `${foo}---\n${fooSpec}`;
    const a = generated(text, "foo.ts");
    expect(a).toContain("  spec?: FooSpecType;");
    expect(a).toContain("export interface FooSpecType {");
    expect(a).toContain("export type ReadonlyFooSpecType = DeepReadonly<FooSpecType>;");
    const b = generated(text, "foospec.ts");
    expect(b).toContain("export interface FooSpec {");
    expect(b).toContain("export type ReadonlyFooSpec = DeepReadonly<FooSpec>;");
    expect(b).toContain("export type ReadonlyFooSpecSpec = DeepReadonly<FooSpecSpec>;");
  });

  it("a list item whose singular name is taken is named after the list, not numbered", () => {
    const props = `            spec:
              type: object
              properties:
                mirror: {type: object, properties: {host: {type: string}}}
                mirrors: {type: array, items: {type: object, properties: {host: {type: string}, weight: {type: integer}}}}`;
    const text = generated(crdText("Route", props), "route.ts");
    expect(text).toContain("  mirror?: RouteSpecMirror;");
    expect(text).toContain("  mirrors?: RouteSpecMirrorsItem[];");
    expect(text).not.toMatch(/RouteSpecMirror2/);
  });

  it("structurally equal objects share one declaration even when their nested descriptions differ", () => {
    const props = `            spec:
              type: object
              properties:
                primary:
                  type: object
                  description: The primary.
                  properties:
                    host: {type: string, description: Host of the primary.}
                    description: {type: string, description: A property called description.}
                backup:
                  type: object
                  properties:
                    host: {type: string, description: Host of the backup.}
                    description: {type: string}
                other:
                  type: object
                  properties:
                    host: {type: string}`;
    const text = generated(crdText("Link", props), "link.ts");
    expect(text).toContain("  backup?: LinkSpecBackup;");
    expect(text).toContain("  primary?: LinkSpecBackup;");
    expect(text).toContain("  other?: LinkSpecOther;");
    expect(text.match(/export interface LinkSpec[A-Za-z]* \{/g)).toEqual([
      "export interface LinkSpec {",
      "export interface LinkSpecBackup {",
      "export interface LinkSpecOther {",
    ]);
  });
});

describe("printing", () => {
  it("formats JSON paths", () => {
    expect(formatJsonPath([])).toBe("$");
    expect(formatJsonPath(["spec", "versions", 0, "schema", "properties", "a.b", "x-kubernetes-list-type"])).toBe(
      '$.spec.versions[0].schema.properties["a.b"].x-kubernetes-list-type',
    );
    const e = new CodegenError({ source: "crds/a.yaml", document: 2 }, ["kind"], "not a CRD");
    expect(e.message).toBe("crds/a.yaml (document 2): $.kind: not a CRD");
  });

  it("escapes comment terminators and tags in TSDoc", () => {
    expect(escapeDoc("a */ b")).toBe("a *\\/ b");
    expect(escapeDoc("@param x and mail@example.com")).toBe("\\@param x and mail@example.com");
    expect(renderDoc([])).toBe("");
    expect(renderDoc(["one line"], "  ")).toBe("  /** one line */\n");
    expect(renderDoc(["a", "", "b"])).toBe("/**\n * a\n *\n * b\n */\n");
    expect(renderDoc(["@defaultValue `1`"])).toBe("/**\n * @defaultValue `1`\n */\n");
  });

  it("renders type expressions", () => {
    expect(
      renderType({
        k: "array",
        of: {
          k: "union",
          of: [
            { k: "keyword", name: "number" },
            { k: "keyword", name: "string" },
          ],
        },
      }),
    ).toBe("(number | string)[]");
    expect(renderType({ k: "record", of: { k: "literal", value: "a" } })).toBe('Record<string, "a">');
    expect(renderType({ k: "ref", name: "Condition", module: "meta" }, (n) => `${n}_`)).toBe("Condition_");
  });

  it("orders imports as the formatter's organizer does", () => {
    expect(["Zed", "abc", "ResourceVerbs", "hasTypeMeta", "a10", "a9"].sort(compareNames)).toEqual([
      "a9",
      "a10",
      "abc",
      "hasTypeMeta",
      "ResourceVerbs",
      "Zed",
    ]);
    expect(["./task.ts", "@minitask/client", "../../meta.ts", "./task.client.ts"].sort(compareSources)).toEqual([
      "@minitask/client",
      "../../meta.ts",
      "./task.client.ts",
      "./task.ts",
    ]);
  });
});

describe("reading manifests", () => {
  it("reads plain scalars as kubectl does: the YAML 1.2 core schema plus the 1.1 booleans", () => {
    const [doc] = parseManifests(
      "a: [E164, e2, ., -., 12:30, 1:2:3, 2006-01-02, 0x1F, 1e3, .5, -1, ~, null, y, Yes, ON, n, no, Off, True]\n",
      "f.yaml",
    );
    expect(doc?.value).toEqual({
      a: [
        "E164",
        "e2",
        ".",
        "-.",
        "12:30",
        "1:2:3",
        "2006-01-02",
        31,
        1000,
        0.5,
        -1,
        null,
        null,
        true,
        true,
        true,
      ].concat([false, false, false, true]),
    });
    expect(parseManifests("b: &b {x: 1}\nc: {<<: *b, z: 2}\n", "f.yaml")[0]?.value).toEqual({
      b: { x: 1 },
      c: { x: 1, z: 2 },
    });
  });

  it("generates what such scalars are: an enum of E164 and a default of 12:30 stay strings", () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: phones.yaml.codegen.minitask.dev}
spec:
  group: yaml.codegen.minitask.dev
  scope: Namespaced
  names: {kind: Phone, plural: phones}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                format: {type: string, enum: [E164, national, e2, .]}
                at: {type: string, default: 12:30}
`;
    const files = generate(parseManifests(crd, "phone.yaml")).files;
    const phone = files.find((f) => f.path === "yaml.codegen.minitask.dev/v1/phone.ts")?.content ?? "";
    expect(phone).toContain('export type PhoneSpecFormat = "E164" | "national" | "e2" | ".";');
    expect(phone).toContain('@defaultValue `"12:30"`');
  });

  it("reads the YAML 1.1 booleans kubectl reads (y/yes/on), multi-document files and Lists", () => {
    const docs = parseManifests("a: y\nb: 'y'\n---\n---\nkind: List\nitems:\n  - x: 1\n  - x: 2\n", "f.yaml");
    expect(docs.map((d) => [d.document, d.basePath, d.value])).toEqual([
      [1, [], { a: true, b: "y" }],
      [3, ["items", 0], { x: 1 }],
      [3, ["items", 1], { x: 2 }],
    ]);
  });

  it("reads JSON", () => {
    expect(parseManifests('{"kind": "X", "a": [1]}', "f.json")).toEqual([
      { source: "f.json", document: undefined, basePath: [], value: { kind: "X", a: [1] } },
    ]);
  });

  it("rejects duplicate keys", () => {
    expect(() => parseManifests("a: 1\na: 2\n", "f.yaml")).toThrow(/^f\.yaml: invalid YAML at line 2, column 1: /);
  });
});

describe("the standard condition shape", () => {
  const props = {
    type: { type: "string" },
    status: { type: "string", enum: ["True", "False", "Unknown"] },
    observedGeneration: { type: "integer" },
    lastTransitionTime: { type: "string", format: "date-time" },
    reason: { type: "string" },
    message: { type: "string" },
  };
  const required = ["type", "status", "lastTransitionTime", "reason", "message"];

  it("is metav1.Condition, with or without observedGeneration", () => {
    expect(isConditionShape({ type: "object", properties: props, required })).toBe(true);
    const { observedGeneration: _, ...without } = props;
    expect(isConditionShape({ type: "object", properties: without, required })).toBe(true);
  });

  it("is not a look-alike the shared type would misdescribe", () => {
    expect(isConditionShape({ type: "object", properties: props, required: ["type", "status"] })).toBe(false);
    expect(isConditionShape({ type: "object", properties: { ...props, extra: { type: "string" } }, required })).toBe(
      false,
    );
    expect(isConditionShape({ type: "object", properties: { ...props, status: { type: "string" } }, required })).toBe(
      false,
    );
    expect(isConditionShape({ type: "object", properties: props, required, nullable: true })).toBe(false);
  });
});
