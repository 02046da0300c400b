// Field selectors, as apimachinery's `pkg/fields`: `metadata.name=x,status.phase!=Running` — terms joined by `,`,
// each `field=value`, `field==value` or `field!=value`; in values `\,`, `\=` and `\\` stand for `,`, `=` and `\`
// (any other backslash sequence is an error). Terms come out sorted; a missing field reads as "".
import { SelectorParseError } from "./selector.ts";

/** A field requirement's operator (`==` is read as `=`). */
export type FieldOperator = "=" | "!=";

/** One term of a field selector. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** The unescaped value. */
  readonly value: string;
}

/** A field selector: the string form, a map of required `field=value` pairs, or a list of requirements (AND). */
export type FieldSelector = string | Readonly<Record<string, string>> | readonly FieldRequirement[];

/** The fields of an object: a map, or a function giving a field's value (undefined or "" when it has none). */
export type Fields = Readonly<Record<string, string>> | ((field: string) => string | undefined);

/** A compiled field selector. */
export interface FieldMatcher {
  /** True when the selector selects everything. */
  readonly empty: boolean;
  readonly requirements: readonly FieldRequirement[];
  matches(fields: Fields): boolean;
  /** The value `field` must have, when an `=` term pins it. */
  requiresExactMatch(field: string): string | undefined;
  /** The canonical string form (values escaped). */
  toString(): string;
}

/** Rewrites a term; returning `["", ""]` drops it (apimachinery's `TransformFunc`). */
export type FieldTransform = (field: string, value: string) => readonly [field: string, value: string];

/** Escapes `\`, `,` and `=` in a value with a backslash. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** Undoes {@link escapeFieldValue}; throws {@link SelectorParseError} on an unknown escape or an unescaped `,`/`=`. */
export function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\") {
      const n = value[i + 1];
      if (n !== "\\" && n !== "," && n !== "=") {
        throw new SelectorParseError(value, `invalid escape sequence ${JSON.stringify(`\\${n ?? ""}`)}`, {
          kind: "field",
        });
      }
      out += n;
      i++;
    } else if (c === "," || c === "=") {
      throw new SelectorParseError(value, `unescaped ${JSON.stringify(c)} in a value`, { kind: "field" });
    } else {
      out += c;
    }
  }
  return out;
}

/** @internal The terms of a selector: split at commas that are not escaped (no terms for ""). */
export function splitFieldTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "\\") i++;
    else if (c === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** @internal A term split at its first operator (`!=`, `==` or `=`), value still escaped; undefined without one. */
export function splitFieldTerm(term: string): { field: string; op: "=" | "==" | "!="; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ["!=", "==", "="] as const) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, value: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function compile(reqs: readonly FieldRequirement[]): FieldMatcher {
  if (reqs.length === 0) return everything;
  const frozen = Object.freeze([...reqs]);
  const text = frozen.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(",");
  return {
    empty: false,
    requirements: frozen,
    matches(fields) {
      const get =
        typeof fields === "function" ? fields : (f: string) => (Object.hasOwn(fields, f) ? fields[f] : undefined);
      for (const r of frozen) {
        const v = get(r.field) ?? "";
        if ((v === r.value) !== (r.operator === "=")) return false;
      }
      return true;
    },
    requiresExactMatch(field) {
      return frozen.find((r) => r.field === field && r.operator === "=")?.value;
    },
    toString: () => text,
  };
}

const everything: FieldMatcher = Object.freeze({
  empty: true,
  requirements: Object.freeze([]),
  matches: () => true,
  requiresExactMatch: () => undefined,
  toString: () => "",
});

function parse(selector: string, transform: FieldTransform | undefined): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  for (const term of splitFieldTerms(selector).sort()) {
    if (term === "") continue;
    const split = splitFieldTerm(term);
    if (split === undefined) {
      throw new SelectorParseError(
        selector,
        `cannot understand ${JSON.stringify(term)} (expected field=value, field==value or field!=value)`,
        {
          kind: "field",
        },
      );
    }
    let value: string;
    try {
      value = unescapeFieldValue(split.value);
    } catch (err) {
      if (err instanceof SelectorParseError) {
        throw new SelectorParseError(selector, `in ${JSON.stringify(term)}: ${err.message.replace(/^[^:]*: /, "")}`, {
          kind: "field",
        });
      }
      throw err;
    }
    let field = split.field;
    if (transform !== undefined) {
      [field, value] = transform(field, value);
      if (field === "" && value === "") continue;
    }
    reqs.push(Object.freeze({ field, operator: split.op === "!=" ? "!=" : "=", value }));
  }
  return reqs;
}

const cache = new Map<string, FieldMatcher>();
const CACHE_MAX = 256;

/**
 * Compiles a field selector: a string is parsed (throws {@link SelectorParseError}; `transform` rewrites or drops
 * each term, as apimachinery's `ParseAndTransformSelector`), a map becomes equalities sorted by field, a list of
 * requirements is used in its order.
 */
export function fieldSelectorMatcher(
  selector: FieldSelector | undefined,
  options: { readonly transform?: FieldTransform } = {},
): FieldMatcher {
  if (selector === undefined) return everything;
  if (typeof selector !== "string") {
    if (Array.isArray(selector)) return compile(selector as readonly FieldRequirement[]);
    const set = selector as Readonly<Record<string, string>>;
    return compile(
      Object.keys(set)
        .sort()
        .map((field) => Object.freeze({ field, operator: "=" as const, value: set[field]! })),
    );
  }
  if (options.transform !== undefined) return compile(parse(selector, options.transform));
  let m = cache.get(selector);
  if (m === undefined) {
    m = compile(parse(selector, undefined));
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(selector, m);
  }
  return m;
}

/** The string form of a field selector (for the apiserver); a map is written sorted, its values escaped. */
export function fieldSelectorString(selector: FieldSelector | undefined): string | undefined {
  if (selector === undefined || typeof selector === "string") return selector;
  return fieldSelectorMatcher(selector).toString();
}

/**
 * The value of a dotted field path of an object, as a field selector compares it: strings as they are, numbers and
 * booleans in their JSON spelling, anything else (missing, null, objects, arrays) as "". Any path works here; the
 * apiserver supports only some fields per resource (`metadata.name`, `metadata.namespace`, and e.g. a Pod's
 * `status.phase`, `spec.nodeName`), so an informer-side selector may use paths the apiserver would reject.
 */
export function objectFieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur) || !Object.hasOwn(cur, part)) return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === "string" ? cur : typeof cur === "number" || typeof cur === "boolean" ? String(cur) : "";
}
