// Structural OpenAPI v3 schemas (as CRDs have them) → TypeScript declarations.
//
// Each object with properties becomes an interface named after its path (`TaskRunStatusStep`), each enum a
// literal-union alias; maps become records, lists arrays. Descriptions, defaults, formats, constraints,
// list/map types and CEL rules become TSDoc. What the type system cannot say (oneOf between required
// fields, patterns) is written down in TSDoc instead; what cannot be generated at all is a CodegenError
// with the JSON path of the schema node.
import { CodegenError, type JsonPath, type Location } from "./errors.ts";
import { isRecord } from "./load.ts";
import { type Decl, type InterfaceDecl, type PropertyDecl, ref, T, type TsType, union } from "./model.ts";
import { itemName, type NameRegistry, pascalCase } from "./names.ts";

export type Schema = Record<string, unknown>;

/** Keywords that a CRD schema may not use (the apiserver rejects them) and that we cannot express. */
const FORBIDDEN_KEYWORDS = ["$ref", "patternProperties", "dependencies", "additionalItems", "definitions"];
const TYPES = new Set(["string", "integer", "number", "boolean", "array", "object"]);

/** A converted schema node: its type, and the documentation for the property that holds it. */
interface Converted {
  readonly type: TsType;
  readonly doc: string[];
  /** Whether a named declaration (an interface) was made for the node, carrying its own TSDoc. */
  readonly declared: boolean;
}

/** The result of typing a node: its type, whether it got a declaration, notes about nested values. */
interface Typed {
  readonly type: TsType;
  readonly declared: boolean;
  readonly inner?: string[];
}

/** What the root of a version's schema becomes. */
export interface KindModel {
  /** Declarations in output order (the kind's interface first). */
  readonly decls: Decl[];
  /** Name of the spec / status interfaces when the schema has such properties (for readonly aliases). */
  readonly specName: string | undefined;
  readonly statusName: string | undefined;
}

export interface KindSchemaInput {
  readonly schema: Schema;
  readonly path: JsonPath;
  /** Type name of the object (normally the kind). */
  readonly typeName: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** Lines that head the object interface's TSDoc (after the schema's description). */
  readonly headerDoc: readonly string[];
  /** Block tags that end the object interface's TSDoc (e.g. `@deprecated`). */
  readonly trailingDoc: readonly string[];
}

/** What a `$ref` stands for: the type to use, and notes for the TSDoc of the property that holds it. */
export interface ResolvedRef {
  readonly type: TsType;
  readonly notes: readonly string[];
  /** Whether the type is written inline (a scalar) rather than named: its notes then also reach lists and maps of it. */
  readonly inline: boolean;
}

/** How to read schemas that are not a CRD's: the OpenAPI v3 documents the apiserver serves. */
export interface OpenApiSemantics {
  /** Resolves a `$ref` (e.g. `#/components/schemas/io.k8s.api.core.v1.PodSpec`) found at `path`. */
  readonly resolveRef: (ref: string, path: JsonPath) => ResolvedRef;
}

/** One named schema of an OpenAPI document (a component), declared under its own name. */
export interface ComponentInput {
  readonly name: string;
  readonly schema: Schema;
  readonly path: JsonPath;
  /** For a kind: its `apiVersion` and `kind` (written as literals) — `metadata` is the client's `ObjectMeta`. */
  readonly kind?: { readonly apiVersion: string; readonly kind: string };
  /** Lines after the schema's description in the declaration's TSDoc. */
  readonly headerDoc?: readonly string[];
}

export class SchemaConverter {
  readonly #names: NameRegistry;
  #loc: Location;
  readonly #openapi: OpenApiSemantics | undefined;
  #decls: Decl[] = [];
  /** Declarations by the canonical JSON of their schema: equal schemas share one declaration. */
  #shared = new Map<string, string>();

  /**
   * `openapi`: read the schemas as the apiserver's OpenAPI documents (built-in types) rather than CRD
   * schemas: `$ref`s are resolved through it, a `required` property stays required whatever its
   * `default` (the documents give Go's zero values as defaults, which are not applied before validation),
   * zero-value defaults are not documented, an object without properties holds any fields, and a schema
   * without a type is `unknown`.
   */
  constructor(names: NameRegistry, location: Location, openapi?: OpenApiSemantics) {
    this.#names = names;
    this.#loc = location;
    this.#openapi = openapi;
  }

  /** Where the schemas converted next come from (for errors): a converter may read several documents. */
  setLocation(location: Location): void {
    this.#loc = location;
  }

  /** The declarations made since the last call (components and the enums they use), in order. */
  takeDecls(): Decl[] {
    const out = this.#decls;
    this.#decls = [];
    return out;
  }

  /**
   * Declares one component of an OpenAPI document as an interface named `input.name` (which the caller
   * has taken in the registry); returns the names of its spec and status types, as `convertKind` does.
   * Enums it uses are declared beside it and shared by equal enums of later components.
   */
  declareComponent(input: ComponentInput): { specName: string | undefined; statusName: string | undefined } {
    const { schema, path } = input;
    this.#checkNode(schema, path);
    const props = this.#properties(schema, path);
    const required = this.#required(schema, path);
    const decl: InterfaceDecl = { k: "interface", name: input.name, doc: [], extends: [], props: [], index: undefined };
    this.#decls.push(decl);
    decl.doc = paragraphs(this.#description(schema), [...(input.headerDoc ?? [])], this.#typeNotes(schema, path));
    const kind = input.kind;
    if (kind !== undefined) {
      decl.props.push(
        { key: "apiVersion", optional: true, type: { k: "literal", value: kind.apiVersion }, doc: [] },
        { key: "kind", optional: true, type: { k: "literal", value: kind.kind }, doc: [] },
        { key: "metadata", optional: true, type: ref("ObjectMeta", "client"), doc: [] },
      );
    }
    let specName: string | undefined;
    let statusName: string | undefined;
    for (const [key, sub] of props) {
      if (kind !== undefined && (key === "apiVersion" || key === "kind" || key === "metadata")) continue;
      const c = this.#convert(sub, [...path, "properties", key], child(input.name, key));
      const optional = this.#optional(required, key, sub) || (kind !== undefined && key === "status");
      decl.props.push(this.#property(key, optional, c));
      if (kind !== undefined && c.type.k === "ref") {
        if (key === "spec") specName = c.type.name;
        if (key === "status") statusName = c.type.name;
      }
    }
    if (schema["x-kubernetes-preserve-unknown-fields"] === true) decl.index = T.unknown;
    return { specName, statusName };
  }

  /** The notes a property gets for a value of this schema (format, constraints): for `$ref`s resolved inline. */
  valueNotes(schema: Schema, path: JsonPath): string[] {
    return this.#propertyNotes(schema, path);
  }

  /** The type of a schema written inline (a scalar component referenced by `$ref`). */
  inlineType(schema: Schema, path: JsonPath, name: string): TsType {
    return this.#convert(schema, path, { base: name, segment: "" }).type;
  }

  #optional(required: ReadonlySet<string>, key: string, sub: unknown): boolean {
    return this.#openapi !== undefined ? !required.has(key) : optionalProperty(required, key, sub);
  }

  #fail(path: JsonPath, detail: string): never {
    throw new CodegenError(this.#loc, path, detail);
  }

  /** Converts the root schema of one kind/version. */
  convertKind(input: KindSchemaInput): KindModel {
    this.#decls = [];
    this.#shared = new Map();
    const { schema, path } = input;
    this.#checkNode(schema, path);
    if (schema.type !== "object") this.#fail([...path, "type"], "the root schema must have type object");
    if (schema.additionalProperties !== undefined) {
      this.#fail([...path, "additionalProperties"], "not allowed at the root of a CRD schema");
    }
    const props = this.#properties(schema, path);
    const required = this.#required(schema, path);
    const decl: InterfaceDecl = {
      k: "interface",
      name: input.typeName,
      doc: [],
      extends: [],
      props: [],
      index: undefined,
    };
    this.#decls.push(decl);
    decl.doc = paragraphs(this.#description(schema), [...input.headerDoc], this.#typeNotes(schema, path), [
      ...input.trailingDoc,
    ]);
    decl.props.push(
      { key: "apiVersion", optional: true, type: { k: "literal", value: input.apiVersion }, doc: [] },
      { key: "kind", optional: true, type: { k: "literal", value: input.kind }, doc: [] },
      { key: "metadata", optional: true, type: ref("ObjectMeta", "client"), doc: [] },
    );
    let specName: string | undefined;
    let statusName: string | undefined;
    for (const [key, sub] of props) {
      if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
      const subPath = [...path, "properties", key];
      const c = this.#convert(sub, subPath, child(input.typeName, key));
      decl.props.push(this.#property(key, this.#optional(required, key, sub) || key === "status", c));
      if (c.type.k === "ref" && c.type.module === undefined) {
        if (key === "spec") specName = c.type.name;
        if (key === "status") statusName = c.type.name;
      }
    }
    if (schema["x-kubernetes-preserve-unknown-fields"] === true) decl.index = T.unknown;
    return { decls: this.#decls, specName, statusName };
  }

  /** Checks keywords every node must get right. */
  #checkNode(node: unknown, path: JsonPath): asserts node is Schema {
    if (!isRecord(node)) this.#fail(path, "a schema must be an object");
    for (const kw of FORBIDDEN_KEYWORDS) {
      if (kw === "$ref" && this.#openapi !== undefined) continue;
      if (kw in node)
        this.#fail([...path, kw], `unsupported schema keyword ${kw} (CRD schemas must be self-contained)`);
    }
    if (node.type !== undefined && (typeof node.type !== "string" || !TYPES.has(node.type))) {
      this.#fail([...path, "type"], `unsupported type ${JSON.stringify(node.type)}`);
    }
    if (node.nullable !== undefined && typeof node.nullable !== "boolean") {
      this.#fail([...path, "nullable"], "must be a boolean");
    }
    if (node.description !== undefined && typeof node.description !== "string") {
      this.#fail([...path, "description"], "must be a string");
    }
  }

  #properties(node: Schema, path: JsonPath): [string, unknown][] {
    const props = node.properties;
    if (props === undefined) return [];
    if (!isRecord(props)) return this.#fail([...path, "properties"], "must be an object");
    return Object.keys(props)
      .sort(compare)
      .map((k) => [k, props[k]]);
  }

  #required(node: Schema, path: JsonPath): Set<string> {
    const req = node.required;
    if (req === undefined) return new Set();
    if (!Array.isArray(req) || !req.every((r) => typeof r === "string")) {
      return this.#fail([...path, "required"], "must be a list of strings");
    }
    return new Set(req as string[]);
  }

  /** One property of an interface. */
  #property(key: string, optional: boolean, c: Converted): PropertyDecl {
    return { key, optional, type: c.type, doc: c.doc };
  }

  /** Converts a node; `hint` names the declaration made for it, if one is needed. */
  #convert(node: unknown, path: JsonPath, hint: Hint): Converted {
    this.#checkNode(node, path);
    const target = this.#openapi !== undefined ? refOf(node) : undefined;
    if (target !== undefined && this.#openapi !== undefined) {
      const at = typeof node.$ref === "string" ? [...path, "$ref"] : [...path, "allOf", 0, "$ref"];
      const r = this.#openapi.resolveRef(target, at);
      const doc = paragraphs(
        this.#description(node),
        [...this.#propertyNotes(node, path), ...r.notes],
        this.#default(node),
      );
      return { type: node.nullable === true ? union([r.type, T.null]) : r.type, doc, declared: !r.inline };
    }
    const { type, declared, inner } = this.#typeOf(node, path, hint);
    const nullable = node.nullable === true;
    const doc = paragraphs(
      this.#description(node),
      [...this.#propertyNotes(node, path), ...(declared ? [] : this.#typeNotes(node, path)), ...(inner ?? [])],
      this.#default(node),
    );
    return { type: nullable ? union([type, T.null]) : type, doc, declared };
  }

  /** The `@defaultValue` line; none for OpenAPI documents' zero values (`""`, `0`, `false`, `{}`, `[]`). */
  #default(node: Schema): string[] {
    const d = node.default;
    if (d === undefined) return [];
    if (this.#openapi !== undefined && isZeroValue(d)) return [];
    return [`@defaultValue ${code(JSON.stringify(d))}`];
  }

  /** The type of a node (without `| null`); `declared` when a named declaration carries its type notes. */
  #typeOf(node: Schema, path: JsonPath, hint: Hint): Typed {
    if (node["x-kubernetes-int-or-string"] === true) return { type: union([T.number, T.string]), declared: false };
    const type = node.type;
    if (type === undefined) {
      const branches = this.#typedBranches(node, path, hint);
      if (branches !== undefined) return { type: branches, declared: false };
      if (node["x-kubernetes-embedded-resource"] === true) return this.#embedded(node, path, hint);
      if (node["x-kubernetes-preserve-unknown-fields"] === true) return { type: T.unknown, declared: false };
      if (node.anyOf !== undefined || node.oneOf !== undefined) return { type: T.unknown, declared: false };
      if (this.#openapi !== undefined) return { type: T.unknown, declared: false };
      return this.#fail(
        path,
        "schema without type (not structural): set type, x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields",
      );
    }
    switch (type) {
      case "string":
      case "integer":
      case "number":
      case "boolean": {
        const literal = this.#enumType(node, path, hint);
        if (literal !== undefined) return { type: literal, declared: false };
        return { type: type === "string" ? T.string : type === "boolean" ? T.boolean : T.number, declared: false };
      }
      case "array": {
        const items = node.items;
        if (items === undefined) return this.#fail(path, "array schema without items");
        if (Array.isArray(items))
          return this.#fail([...path, "items"], "tuple schemas (items as a list) are not supported");
        const item = this.#convert(items, [...path, "items"], {
          base: hint.base,
          segment: itemName(hint.segment),
          alternatives: [`${hint.segment}Item`],
        });
        return { type: { k: "array", of: item.type }, declared: false, inner: nestedNotes("Each item", item) };
      }
      default:
        return this.#object(node, path, hint);
    }
  }

  #object(node: Schema, path: JsonPath, hint: Hint): Typed {
    if (node["x-kubernetes-embedded-resource"] === true) return this.#embedded(node, path, hint);
    const props = this.#properties(node, path);
    const addl = node.additionalProperties;
    const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
    if (addl === false) this.#fail([...path, "additionalProperties"], "additionalProperties: false is not supported");
    if (props.length > 0 && addl !== undefined) {
      this.#fail([...path, "additionalProperties"], "properties and additionalProperties cannot be combined");
    }
    if (props.length > 0) {
      if (isConditionShape(node)) return { type: ref("Condition", "meta"), declared: false };
      return { type: ref(this.#interface(node, path, hint, props, [])), declared: true };
    }
    if (addl === true) return { type: { k: "record", of: T.unknown }, declared: false };
    if (addl !== undefined) {
      const value = this.#convert(addl, [...path, "additionalProperties"], { base: hintName(hint), segment: "Value" });
      return { type: { k: "record", of: value.type }, declared: false, inner: nestedNotes("Each value", value) };
    }
    // A CRD's object without properties keeps no fields (the apiserver prunes them); in the apiserver's own
    // documents it is free-form JSON (runtime.RawExtension, FieldsV1).
    const open = preserve || this.#openapi !== undefined;
    return { type: { k: "record", of: open ? T.unknown : T.never }, declared: false };
  }

  /** Declares an interface for an object node; returns its name. */
  #interface(node: Schema, path: JsonPath, hint: Hint, props: [string, unknown][], ext: TsType[]): string {
    const key = `interface:${canonical(node)}`;
    const existing = this.#shared.get(key);
    if (existing !== undefined) return existing;
    const name = this.#names.claim(hintName(hint), hintAlternatives(hint));
    this.#shared.set(key, name);
    const decl: InterfaceDecl = { k: "interface", name, doc: [], extends: ext, props: [], index: undefined };
    this.#decls.push(decl);
    decl.doc = paragraphs(this.#description(node), this.#typeNotes(node, path));
    const required = this.#required(node, path);
    for (const [key, sub] of props) {
      const subPath = [...path, "properties", key];
      const c = this.#convert(sub, subPath, child(name, key));
      decl.props.push(this.#property(key, this.#optional(required, key, sub), c));
    }
    if (node["x-kubernetes-preserve-unknown-fields"] === true) decl.index = T.unknown;
    return name;
  }

  /** `x-kubernetes-embedded-resource`: a Kubernetes object (apiVersion, kind, metadata) inside another. */
  #embedded(node: Schema, path: JsonPath, hint: Hint): Typed {
    const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
    const props = this.#properties(node, path).filter(([k]) => k !== "apiVersion" && k !== "kind" && k !== "metadata");
    if (props.length === 0) {
      return { type: ref(preserve ? "EmbeddedResource" : "EmbeddedObject", "meta"), declared: false };
    }
    return { type: ref(this.#interface(node, path, hint, props, [ref("EmbeddedObject", "meta")])), declared: true };
  }

  /** A literal union for `enum` (or for anyOf/oneOf branches that are all enums). */
  #enumType(node: Schema, path: JsonPath, hint: Hint): TsType | undefined {
    let values: unknown[] | undefined;
    if (node.enum !== undefined) {
      if (!Array.isArray(node.enum) || node.enum.length === 0) return this.#fail([...path, "enum"], "must be a list");
      values = node.enum;
    } else {
      for (const kw of ["anyOf", "oneOf"] as const) {
        const branches = node[kw];
        if (!Array.isArray(branches) || branches.length === 0) continue;
        if (!branches.every((b) => isRecord(b) && Array.isArray(b.enum) && Object.keys(b).length === 1)) continue;
        values = branches.flatMap((b) => (b as { enum: unknown[] }).enum);
      }
    }
    if (values === undefined) return undefined;
    if (!values.every((v) => v === null || ["string", "number", "boolean"].includes(typeof v))) return undefined;
    const literals = union(values.map((v) => ({ k: "literal", value: v as string | number | boolean | null })));
    const key = `enum:${JSON.stringify(literals)}:${JSON.stringify(node.description ?? "")}`;
    const existing = this.#shared.get(key);
    if (existing !== undefined) return ref(existing);
    const name = this.#names.claim(hintName(hint), hintAlternatives(hint));
    this.#shared.set(key, name);
    this.#decls.push({ k: "alias", name, doc: this.#description(node), type: literals });
    return ref(name);
  }

  /**
   * A union for anyOf/oneOf branches that each carry a type (not structural, but unambiguous); undefined
   * when the branches only restrict values.
   */
  #typedBranches(node: Schema, path: JsonPath, hint: Hint): TsType | undefined {
    for (const kw of ["anyOf", "oneOf"] as const) {
      const branches = node[kw];
      if (branches === undefined) continue;
      if (!Array.isArray(branches) || branches.length === 0)
        return this.#fail([...path, kw], "must be a non-empty list");
      if (
        !branches.every((b) => isRecord(b) && (typeof b.type === "string" || b["x-kubernetes-int-or-string"] === true))
      ) {
        continue;
      }
      return union(
        branches.map((b, i) => {
          const c = this.#convert(b, [...path, kw, i], { base: hintName(hint), segment: `Variant${i + 1}` });
          return c.type;
        }),
      );
    }
    return undefined;
  }

  /**
   * The description's lines; a line starting with `@` gets it escaped, as only the generator's own lines
   * may be TSDoc block tags (`@deprecated not really` in a description must not deprecate the field).
   */
  #description(node: Schema): string[] {
    const d = typeof node.description === "string" ? node.description : "";
    return trimBlank(d.split("\n").map((l) => l.trimEnd().replace(/^@/, "\\@")));
  }

  /** Notes about the value of a property: format, default, constraints, list semantics. */
  #propertyNotes(node: Schema, path: JsonPath): string[] {
    const notes: string[] = [];
    if (node["x-kubernetes-int-or-string"] === true) notes.push("An integer or a string (x-kubernetes-int-or-string).");
    const format = node.format;
    if (typeof format === "string") {
      notes.push(
        format === "date-time"
          ? "An RFC 3339 date-time string, e.g. `2006-01-02T15:04:05Z` (format: date-time)."
          : `Format: ${code(format)}.`,
      );
    }
    const constraints: string[] = [];
    for (const kw of ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"]) {
      if (typeof node[kw] === "number") constraints.push(`${kw} ${node[kw]}`);
    }
    if (typeof node.minimum === "number") {
      constraints.push(`${node.exclusiveMinimum === true ? "exclusiveMinimum" : "minimum"} ${node.minimum}`);
    }
    if (typeof node.maximum === "number") {
      constraints.push(`${node.exclusiveMaximum === true ? "exclusiveMaximum" : "maximum"} ${node.maximum}`);
    }
    if (typeof node.multipleOf === "number") constraints.push(`multipleOf ${node.multipleOf}`);
    if (node.uniqueItems === true) constraints.push("uniqueItems");
    if (typeof node.pattern === "string") constraints.push(`pattern ${code(node.pattern)}`);
    if (constraints.length > 0) notes.push(`Constraints: ${constraints.join(", ")}.`);
    if (Array.isArray(node.enum) && (node.type === "array" || node.type === "object" || node.type === undefined)) {
      notes.push(`One of: ${node.enum.map((v) => code(JSON.stringify(v))).join(", ")}.`);
    }
    const listType = node["x-kubernetes-list-type"];
    if (listType !== undefined) {
      const keys = node["x-kubernetes-list-map-keys"];
      if (listType === "map") {
        const ks = Array.isArray(keys) ? keys.map((k) => code(String(k))).join(", ") : "(no keys)";
        notes.push(
          `List type \`map\` (x-kubernetes-list-type), keyed by ${ks} (x-kubernetes-list-map-keys): ` +
            "items are unique by key and merged by key on server-side apply.",
        );
      } else if (listType === "set") {
        notes.push("List type `set` (x-kubernetes-list-type): items are unique scalars, merged on server-side apply.");
      } else if (listType === "atomic") {
        notes.push("List type `atomic` (x-kubernetes-list-type): replaced as a whole on server-side apply.");
      } else {
        this.#fail([...path, "x-kubernetes-list-type"], `unknown list type ${JSON.stringify(listType)}`);
      }
    }
    const strategy = node["x-kubernetes-patch-strategy"];
    if (typeof strategy === "string") {
      const key = node["x-kubernetes-patch-merge-key"];
      notes.push(
        `Strategic merge patch: ${code(strategy)}${typeof key === "string" ? ` by ${code(key)}` : ""} ` +
          "(x-kubernetes-patch-strategy" +
          (typeof key === "string" ? ", x-kubernetes-patch-merge-key)." : ")."),
      );
    }
    const mapType = node["x-kubernetes-map-type"];
    if (mapType === "atomic") notes.push("Map type `atomic` (x-kubernetes-map-type): replaced as a whole on apply.");
    if (mapType === "granular")
      notes.push("Map type `granular` (x-kubernetes-map-type): merged field by field on apply.");
    return notes;
  }

  /** Notes about the shape of a value: unknown fields, embedded objects, union branches, CEL rules. */
  #typeNotes(node: Schema, path: JsonPath): string[] {
    const notes: string[] = [];
    if (node["x-kubernetes-embedded-resource"] === true) {
      notes.push(
        "An embedded Kubernetes object (x-kubernetes-embedded-resource): `apiVersion` and `kind` are required.",
      );
    }
    if (node["x-kubernetes-preserve-unknown-fields"] === true) {
      notes.push("Fields not listed here are kept (x-kubernetes-preserve-unknown-fields).");
    }
    const typedUnion = node.type === undefined && node["x-kubernetes-int-or-string"] !== true;
    for (const kw of ["anyOf", "oneOf", "allOf"] as const) {
      const branches = node[kw];
      if (!Array.isArray(branches)) continue;
      const rendered = branches.map((b) => code(JSON.stringify(b))).join("; ");
      const all = branches.every((b) => isRecord(b));
      const typed = all && branches.every((b) => typeof (b as Schema).type === "string");
      const enums =
        all && branches.every((b) => Array.isArray((b as Schema).enum) && Object.keys(b as Schema).length === 1);
      const what = kw === "anyOf" ? "at least one of" : kw === "oneOf" ? "exactly one of" : "all of";
      if (node["x-kubernetes-int-or-string"] === true && kw === "anyOf") continue;
      if (kw !== "allOf" && typedUnion && typed) {
        notes.push(`${kw}: ${what} these schemas (expressed as a union): ${rendered}.`);
      } else if (kw !== "allOf" && enums && node.enum === undefined) {
        notes.push(`${kw}: ${what} these value sets (expressed as a union of literals): ${rendered}.`);
      } else if (kw !== "allOf" && node.type === undefined && node["x-kubernetes-preserve-unknown-fields"] !== true) {
        notes.push(`${kw}: ${what} ${rendered}. Not expressible as a TypeScript type: the value is \`unknown\`.`);
      } else {
        notes.push(`${kw}: ${what} ${rendered} must hold (validated by the apiserver, not expressed in the type).`);
      }
    }
    if (node.not !== undefined) {
      notes.push(`not: ${code(JSON.stringify(node.not))} must not hold (validated by the apiserver).`);
    }
    const rules = node["x-kubernetes-validations"];
    if (rules !== undefined) {
      if (!Array.isArray(rules)) return this.#fail([...path, "x-kubernetes-validations"], "must be a list");
      notes.push("Validation rules (x-kubernetes-validations, CEL):");
      rules.forEach((r, i) => {
        if (!isRecord(r) || typeof r.rule !== "string") {
          this.#fail([...path, "x-kubernetes-validations", i, "rule"], "must be a string");
        }
        const rule = code(r.rule.replace(/\s*\n\s*/g, " ").trim());
        const parts = [`- ${rule}`];
        if (typeof r.message === "string") parts.push(`: ${r.message.replace(/\s*\n\s*/g, " ")}`);
        else if (typeof r.messageExpression === "string") parts.push(`: message from ${code(r.messageExpression)}`);
        const extra: string[] = [];
        if (typeof r.reason === "string") extra.push(`reason ${r.reason}`);
        if (typeof r.fieldPath === "string") extra.push(`field ${code(r.fieldPath)}`);
        if (r.optionalOldSelf === true) extra.push("optionalOldSelf");
        if (extra.length > 0) parts.push(` (${extra.join(", ")})`);
        notes.push(parts.join(""));
      });
    }
    return notes;
  }
}

/**
 * Whether an object schema is the standard `metav1.Condition`: exactly its fields, with its types and its
 * required set, so that the shared `Condition` type describes it exactly.
 */
export function isConditionShape(node: Schema): boolean {
  const props = node.properties;
  if (!isRecord(props)) return false;
  if (node["x-kubernetes-preserve-unknown-fields"] === true || node.nullable === true) return false;
  const expected: Record<string, string> = {
    type: "string",
    status: "string",
    observedGeneration: "integer",
    lastTransitionTime: "string",
    reason: "string",
    message: "string",
  };
  const keys = Object.keys(props);
  if (!keys.every((k) => k in expected)) return false;
  const must = ["type", "status", "lastTransitionTime", "reason", "message"];
  if (!must.every((k) => k in props)) return false;
  for (const k of keys) {
    const p = props[k];
    if (!isRecord(p) || p.type !== expected[k] || p.nullable === true) return false;
    if (p["x-kubernetes-int-or-string"] === true || p["x-kubernetes-preserve-unknown-fields"] === true) return false;
  }
  const status = props.status as Schema;
  const values = Array.isArray(status.enum) ? [...status.enum].sort() : undefined;
  if (JSON.stringify(values) !== JSON.stringify(["False", "True", "Unknown"])) return false;
  const required = Array.isArray(node.required) ? [...node.required].sort() : [];
  return JSON.stringify(required) === JSON.stringify([...must].sort());
}

/**
 * Whether a property is optional in the generated type: not `required`, or required with a `default` (the
 * apiserver defaults a missing value before it validates, so a manifest may leave it out).
 */
function optionalProperty(required: ReadonlySet<string>, key: string, sub: unknown): boolean {
  return !required.has(key) || (isRecord(sub) && sub.default !== undefined);
}

/**
 * The schema name a node refers to: `$ref`, or an `allOf` of one `$ref` (how OpenAPI v3 documents put a
 * description or default beside a reference).
 */
function refOf(node: Schema): string | undefined {
  if (typeof node.$ref === "string") return node.$ref;
  const all = node.allOf;
  if (Array.isArray(all) && all.length === 1) {
    const only = all[0];
    if (isRecord(only) && typeof only.$ref === "string" && Object.keys(only).length === 1) return only.$ref;
  }
  return undefined;
}

/** Go's zero values, which the apiserver's documents give as the `default` of non-pointer fields. */
function isZeroValue(v: unknown): boolean {
  if (v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isRecord(v) && Object.keys(v).length === 0;
}

/** A TSDoc code span (double backticks when the text has one). */
export function code(s: string): string {
  if (!s.includes("`")) return `\`${s}\``;
  return `\`\` ${s} \`\``;
}

/**
 * A key for schemas that generate the same declaration: key-sorted JSON without the node's own
 * `description`, `default` and `nullable` (they document or wrap the property, not the declared type), and
 * without the descriptions of nested schemas (equal shapes documented in other words are one type; the
 * declaration keeps the words of its first use).
 */
function canonical(node: Schema): string {
  const { description: _d, default: _def, nullable: _n, ...rest } = node;
  return JSON.stringify(withoutDescriptions(rest), (_k, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort(compare)
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/** A schema without the `description` of any nested schema (property names called `description` stay). */
function withoutDescriptions(node: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "description") continue;
    if (k === "properties" && isRecord(v)) {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([p, sub]) => [p, isRecord(sub) ? withoutDescriptions(sub) : sub]),
      );
    } else if ((k === "items" || k === "additionalProperties" || k === "not") && isRecord(v)) {
      out[k] = withoutDescriptions(v);
    } else if ((k === "anyOf" || k === "oneOf" || k === "allOf") && Array.isArray(v)) {
      out[k] = v.map((b: unknown) => (isRecord(b) ? withoutDescriptions(b) : b));
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** What the TSDoc of an undeclared item or map value says, folded into one line of its container's. */
function nestedNotes(what: string, c: Converted): string[] {
  if (c.declared) return [];
  const text = c.doc
    .filter((l) => l !== "")
    .map((l) => l.replace(/^@defaultValue /, "Default: "))
    .join(" ");
  return text === "" ? [] : [`${what}: ${text}`];
}

/** Non-empty groups of lines, separated by blank lines. */
function paragraphs(...groups: string[][]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    if (g.length === 0) continue;
    if (out.length > 0) out.push("");
    out.push(...g);
  }
  return out;
}

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a] === "") a++;
  while (b > a && lines[b - 1] === "") b--;
  return lines.slice(a, b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How to name a declaration made for a node: `base` (the parent's name) + `segment` (from the property);
 * when that name is taken, `base` + one of `alternatives`, then `…Type`, before a number.
 */
interface Hint {
  readonly base: string;
  readonly segment: string;
  readonly alternatives?: readonly string[];
}

function hintName(h: Hint): string {
  return h.base + h.segment;
}

function hintAlternatives(h: Hint): string[] {
  return [...(h.alternatives ?? []).map((a) => h.base + a), `${hintName(h)}Type`];
}

function child(parent: string, key: string): Hint {
  return { base: parent, segment: pascalCase(key) };
}
