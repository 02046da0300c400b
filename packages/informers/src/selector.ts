// Label selectors for listers, as apimachinery's `pkg/labels`: the apiserver's syntax (`a=b`, `a==b`, `a!=b`,
// `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<7`; comma = AND), a map of equalities, or a list of requirements.
// Keys are qualified names and values label values, validated as the apiserver validates them, so a selector the
// apiserver accepts is accepted here and one it rejects is rejected with the reason. Parsed strings are cached.
//
// The grammar (apimachinery's lexer and parser, in our words):
//   whitespace is exactly ' ', '\t', '\r', '\n'; the special characters `=!(),<>` form the longest operator token
//   they can (`==`, `!=`, else one character); any other run of characters is an identifier, and `in`/`notin` are
//   keywords only where an operator is expected (so `in=notin` is key `in`, value `notin`).
//   selector    := '' | requirement (',' requirement)*
//   requirement := '!' key | key | key ('=' | '==' | '!=' | '>' | '<') value? | key ('in' | 'notin') '(' list ')'
// Requirements come out sorted by key (stable), values of a set sorted and de-duplicated.

/** A requirement's operator, spelled as apimachinery's `selection.Operator`. */
export type LabelOperator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

/** One requirement of a label selector (apimachinery's `labels.Requirement`). Build it with {@link labelRequirement}. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** One value for `=`, `==`, `!=`, `gt`, `lt`; one or more for `in`/`notin`; none for `exists` and `!`. */
  readonly values: readonly string[];
}

/** A label selector: the string form, a map of required `key=value` pairs, or a list of requirements (AND). */
export type LabelSelector = string | Readonly<Record<string, string>> | readonly LabelRequirement[];

/** A compiled selector. */
export interface LabelMatcher {
  /** True when the selector selects everything (it has no requirements). */
  readonly empty: boolean;
  readonly requirements: readonly LabelRequirement[];
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The value `key` must have, when the selector pins it to one (`=`, `==`, or `in` with one value). */
  requiresExactMatch(key: string): string | undefined;
  /** The canonical string form (what the apiserver would get): requirements joined by `,`. */
  toString(): string;
}

/** A selector (label or field) or a requirement that is not valid; thrown by the selector functions and by listers. */
export class SelectorParseError extends Error {
  /** Where in a requirement the problem is (`key`, `values`, `values[0][key]`, `operator`), when it is in one. */
  readonly field: string | undefined;
  constructor(selector: string, message: string, options: { kind?: "label" | "field"; field?: string } = {}) {
    super(`invalid ${options.kind ?? "label"} selector ${JSON.stringify(selector)}: ${message}`);
    this.name = "SelectorParseError";
    this.field = options.field;
  }
}

// ---- validation (apimachinery's IsQualifiedName and IsValidLabelValue)

const NAME_MAX = 63;
const PREFIX_MAX = 253;
const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const NAME_RULE = "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";

/** Why `key` is not a qualified name (`[prefix/]name`), or undefined when it is one. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  let name = key;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) return "the prefix before '/' must be non-empty";
    if (prefix.length > PREFIX_MAX) return `the prefix must be no more than ${PREFIX_MAX} characters`;
    if (!DNS_SUBDOMAIN.test(prefix)) {
      return "the prefix must be a DNS subdomain: lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character";
    }
  } else if (parts.length > 2) {
    return "a qualified name is a name with an optional DNS subdomain prefix and one '/' (e.g. 'example.com/MyName')";
  }
  if (name.length === 0) return "the name must be non-empty";
  if (name.length > NAME_MAX) return `the name must be no more than ${NAME_MAX} characters`;
  if (!NAME.test(name)) return `the name must consist of ${NAME_RULE}`;
  return undefined;
}

/** Why `value` is not a label value, or undefined when it is one (the empty string is one). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > NAME_MAX) return `must be no more than ${NAME_MAX} characters`;
  if (value.length > 0 && !NAME.test(value)) return `must be empty or consist of ${NAME_RULE}`;
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Go's strconv.ParseInt(s, 10, 64), or undefined. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** What is wrong with a requirement (where, and why), or undefined when it is valid. */
function requirementProblem(
  key: string,
  operator: LabelOperator,
  values: readonly string[],
): { field: string; message: string } | undefined {
  const keyProblem = qualifiedNameProblem(key);
  if (keyProblem !== undefined) return { field: "key", message: `key ${JSON.stringify(key)}: ${keyProblem}` };
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0) return { field: "values", message: `'${operator}' needs at least one value` };
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1) return { field: "values", message: `'${operator}' needs exactly one value` };
      break;
    case "exists":
    case "!":
      if (values.length !== 0) return { field: "values", message: "'exists' and '!' take no values" };
      break;
    case "gt":
    case "lt": {
      if (values.length !== 1) return { field: "values", message: `'${operator}' needs exactly one value` };
      const i = values.findIndex((v) => parseInt64(v) === undefined);
      if (i >= 0) {
        return { field: `values[${i}]`, message: `'${operator}' needs an integer, got ${JSON.stringify(values[i])}` };
      }
      break;
    }
    default:
      return { field: "operator", message: `unsupported operator ${JSON.stringify(operator)}` };
  }
  for (let i = 0; i < values.length; i++) {
    const problem = labelValueProblem(values[i]!);
    if (problem !== undefined) {
      return { field: `values[${i}][${key}]`, message: `value ${JSON.stringify(values[i])} of ${key}: ${problem}` };
    }
  }
  return undefined;
}

/**
 * A validated requirement (apimachinery's `NewRequirement`): the key must be a qualified name and each value a label
 * value; `in`/`notin` need values, `=`/`==`/`!=` exactly one, `gt`/`lt` exactly one integer, `exists`/`!` none.
 * Throws {@link SelectorParseError} (its `field` says where) otherwise.
 */
export function labelRequirement(
  key: string,
  operator: LabelOperator,
  values: readonly string[] = [],
): LabelRequirement {
  const problem = requirementProblem(key, operator, values);
  if (problem !== undefined) {
    const text = `${key} ${operator} (${values.join(",")})`;
    throw new SelectorParseError(text, problem.message, { field: problem.field });
  }
  return Object.freeze({ key, operator, values: Object.freeze([...values]) });
}

/** The string form of one requirement (apimachinery's `Requirement.String`; set values sorted). */
function requirementString(r: LabelRequirement): string {
  const values = r.values.length === 1 ? r.values[0]! : [...r.values].sort().join(",");
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${values})`;
    case "gt":
      return `${r.key}>${values}`;
    case "lt":
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

// ---- lexer and parser

/** @internal A token of the selector lexer (exported for the conformance tests). */
export type LabelToken =
  | "end"
  | "identifier"
  | "in"
  | "notin"
  | "="
  | "=="
  | "!="
  | "!"
  | ">"
  | "<"
  | "("
  | ")"
  | ","
  | "error";

const SPECIAL_TOKENS: ReadonlySet<string> = new Set(["=", "==", "!=", "!", ">", "<", "(", ")", ","]);
const isWhitespace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isSpecial = (c: string) => "=!(),<>".includes(c);

/** @internal Splits a selector into tokens, ending with `end` (apimachinery's `Lexer`). */
export function lexLabelSelector(s: string): { token: LabelToken; literal: string }[] {
  const out: { token: LabelToken; literal: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isWhitespace(s[i]!)) i++;
    if (i >= s.length) {
      out.push({ token: "end", literal: "" });
      return out;
    }
    const start = i;
    if (isSpecial(s[i]!)) {
      // The longest run of special characters that is a token.
      let best = "";
      while (i < s.length && isSpecial(s[i]!)) {
        const candidate = s.slice(start, i + 1);
        if (SPECIAL_TOKENS.has(candidate)) best = candidate;
        else if (best !== "") break;
        i++;
      }
      i = start + best.length;
      out.push(
        best === "" ? { token: "error", literal: s.slice(start, i) } : { token: best as LabelToken, literal: best },
      );
    } else {
      while (i < s.length && !isSpecial(s[i]!) && !isWhitespace(s[i]!)) i++;
      const word = s.slice(start, i);
      out.push({ token: word === "in" || word === "notin" ? word : "identifier", literal: word });
    }
  }
}

function parseString(selector: string): LabelRequirement[] {
  const tokens = lexLabelSelector(selector);
  let pos = 0;
  const fail = (message: string): never => {
    throw new SelectorParseError(selector, message);
  };
  // Where values (and keys) are expected, the keywords `in` and `notin` are plain identifiers.
  const peek = () => {
    const t = tokens[pos]!;
    return t.token === "in" || t.token === "notin" ? { token: "identifier" as const, literal: t.literal } : t;
  };
  const next = () => {
    const t = peek();
    if (t.token !== "end") pos++;
    return t;
  };
  const shown = (t: { token: LabelToken; literal: string }) =>
    t.token === "end" ? "the end of the selector" : `'${t.literal}'`;
  const requirement = (
    at: { token: LabelToken; literal: string },
    key: string,
    op: LabelOperator,
    values: string[],
  ) => {
    const problem = requirementProblem(key, op, values);
    if (problem !== undefined) fail(`${problem.message} (at ${shown(at)})`);
    return Object.freeze({ key, operator: op, values: Object.freeze(values) });
  };

  const reqs: LabelRequirement[] = [];
  if (peek().token === "end") return reqs;
  for (;;) {
    let t = next();
    let negated = false;
    if (t.token === "!") {
      negated = true;
      t = next();
    }
    if (t.token !== "identifier") fail(`found ${shown(t)}, expected a key${negated ? "" : " or '!'"}`);
    const keyToken = t;
    const key = t.literal;
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem !== undefined) fail(`key ${JSON.stringify(key)}: ${keyProblem}`);
    const after = peek().token;
    if (negated || after === "end" || after === ",") {
      reqs.push(requirement(keyToken, key, negated ? "!" : "exists", []));
    } else {
      const opToken = tokens[pos++]!; // operators are read without turning keywords into identifiers
      let op: LabelOperator;
      let values: string[];
      switch (opToken.token) {
        case "in":
        case "notin": {
          op = opToken.token;
          const open = next();
          if (open.token !== "(") fail(`found ${shown(open)}, expected '(' after '${op}'`);
          values = [...parseList()].sort();
          break;
        }
        case "=":
        case "==":
        case "!=":
        case ">":
        case "<": {
          op = opToken.token === ">" ? "gt" : opToken.token === "<" ? "lt" : opToken.token;
          const v = peek();
          if (v.token === "end" || v.token === ",") values = [""];
          else if (v.token === "identifier") values = [next().literal];
          else values = fail(`found ${shown(v)}, expected a value after '${opToken.literal}'`);
          break;
        }
        default:
          op = fail(`found ${shown(opToken)}, expected an operator: in, notin, =, ==, !=, >, <`);
          values = [];
      }
      reqs.push(requirement(opToken, key, op, values));
    }
    const sep = next();
    if (sep.token === "end") break;
    if (sep.token !== ",") fail(`found ${shown(sep)}, expected ',' or the end of the selector`);
    const following = peek().token;
    if (following !== "identifier" && following !== "!") fail(`found ${shown(peek())}, expected a key after ','`);
  }
  // Stable, by key (apimachinery sorts too, so two spellings of one selector print the same).
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  /** The values of `( … )` up to and including `)`; empty entries are "" (`()`, `(a,)`, `(,a)`). */
  function parseList(): Set<string> {
    const values = new Set<string>();
    let expectValue = true;
    for (;;) {
      const t = next();
      if (t.token === ")") {
        if (expectValue) values.add("");
        return values;
      }
      if (t.token === ",") {
        if (expectValue) values.add("");
        expectValue = true;
        continue;
      }
      if (t.token === "identifier" && expectValue) {
        values.add(t.literal);
        expectValue = false;
        continue;
      }
      fail(`found ${shown(t)}, expected ${expectValue ? "a value, ',' or ')'" : "',' or ')'"}`);
    }
  }
}

// ---- matchers

function compile(reqs: readonly LabelRequirement[]): LabelMatcher {
  if (reqs.length === 0) return everything;
  type Check = (labels: Readonly<Record<string, string>> | undefined) => boolean;
  const checks: Check[] = reqs.map((r): Check => {
    const key = r.key;
    const get = (labels: Readonly<Record<string, string>> | undefined) =>
      labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
    switch (r.operator) {
      case "=":
      case "==":
      case "in": {
        const set = new Set(r.values);
        return (labels) => {
          const v = get(labels);
          return v !== undefined && set.has(v);
        };
      }
      case "!=":
      case "notin": {
        const set = new Set(r.values);
        return (labels) => {
          const v = get(labels);
          return v === undefined || !set.has(v);
        };
      }
      case "exists":
        return (labels) => get(labels) !== undefined;
      case "!":
        return (labels) => get(labels) === undefined;
      case "gt":
      case "lt": {
        const bound = r.values.length === 1 ? parseInt64(r.values[0]!) : undefined;
        const gt = r.operator === "gt";
        return (labels) => {
          const v = get(labels);
          const n = v === undefined || bound === undefined ? undefined : parseInt64(v);
          return n !== undefined && bound !== undefined && (gt ? n > bound : n < bound);
        };
      }
      default:
        return () => false;
    }
  });
  const frozen = Object.freeze([...reqs]);
  const text = frozen.map(requirementString).join(",");
  return {
    empty: false,
    requirements: frozen,
    matches(labels) {
      for (const check of checks) if (!check(labels)) return false;
      return true;
    },
    requiresExactMatch(key) {
      const r = frozen.find((q) => q.key === key);
      if (r === undefined || r.values.length !== 1) return undefined;
      return r.operator === "=" || r.operator === "==" || r.operator === "in" ? r.values[0] : undefined;
    },
    toString: () => text,
  };
}

const everything: LabelMatcher = Object.freeze({
  empty: true,
  requirements: Object.freeze([]),
  matches: () => true,
  requiresExactMatch: () => undefined,
  toString: () => "",
});
const cache = new Map<string, LabelMatcher>();
const CACHE_MAX = 256;

/** The requirements of a map selector, sorted by key (apimachinery's `SelectorFromSet`; values are not validated). */
function fromSet(set: Readonly<Record<string, string>>): LabelRequirement[] {
  return Object.keys(set)
    .sort()
    .map((key) => Object.freeze({ key, operator: "=" as const, values: Object.freeze([set[key]!]) }));
}

/**
 * Compiles a label selector: a string is parsed (throws {@link SelectorParseError} when the apiserver would reject
 * it), a map becomes sorted equalities (not validated, as apimachinery's `SelectorFromSet`; `validate: true`
 * validates them, as `ValidatedSelectorFromSet`), a list of requirements is used in its order.
 */
export function labelSelectorMatcher(
  selector: LabelSelector | undefined,
  options: { readonly validate?: boolean } = {},
): LabelMatcher {
  if (selector === undefined) return everything;
  if (typeof selector !== "string") {
    if (isRequirementList(selector)) return compile(selector);
    const set = selector as Readonly<Record<string, string>>;
    if (options.validate === true)
      return compile(
        Object.keys(set)
          .sort()
          .map((k) => labelRequirement(k, "=", [set[k]!])),
      );
    return compile(fromSet(set));
  }
  let m = cache.get(selector);
  if (m === undefined) {
    m = compile(parseString(selector));
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(selector, m);
  }
  return m;
}

function isRequirementList(selector: object): selector is readonly LabelRequirement[] {
  return Array.isArray(selector);
}

/** The string form of a selector (for the apiserver); a map is written in sorted key order. */
export function labelSelectorString(selector: LabelSelector | undefined): string | undefined {
  if (selector === undefined || typeof selector === "string") return selector;
  return labelSelectorMatcher(selector).toString();
}
