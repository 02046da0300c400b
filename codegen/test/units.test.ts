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
    expect(r.take("Foo")).toBe(false);
    expect(r.take("Bar")).toBe(true);
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
