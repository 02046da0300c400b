// Naming: type names derived from schema paths, identifiers, file names, and a registry that keeps every
// exported name of a group/version unique.

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/** Reserved words that cannot name a binding (they are fine as property names). */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "as implements interface let package private protected public static yield any boolean number string symbol " +
    "type from of await async unknown never object undefined"
  ).split(" "),
);

/** Whether `s` can be written as a property name without quotes. */
export function isIdentifierName(s: string): boolean {
  return IDENTIFIER.test(s);
}

/** Whether `s` can name a type or a variable. */
export function isBindingName(s: string): boolean {
  return IDENTIFIER.test(s) && !RESERVED.has(s);
}

/** A property key as written in an interface: bare when it is an identifier name, else quoted. */
export function propertyKey(name: string): string {
  return isIdentifierName(name) ? name : JSON.stringify(name);
}

/** `http-get` → `HttpGet`, `httpGet` → `HttpGet`, `x.y_z` → `XYZ`, `` → `Field`. */
export function pascalCase(name: string): string {
  const parts = name.split(/[^\p{L}\p{N}]+/u).filter((p) => p.length > 0);
  const out = parts.map((p) => (p[0] ?? "").toUpperCase() + p.slice(1)).join("");
  return out.length === 0 ? "Field" : out;
}

/** `TaskRun` → `taskRun`, `URLMap` → `urlMap`, `API` → `api`. */
export function camelCase(name: string): string {
  const m = /^[A-Z]+/.exec(name);
  if (m === null) return name;
  const run = m[0];
  if (run.length === name.length) return name.toLowerCase();
  if (run.length === 1) return run.toLowerCase() + name.slice(1);
  const keep = /[a-z]/.test(name.charAt(run.length)) ? run.length - 1 : run.length;
  return name.slice(0, keep).toLowerCase() + name.slice(keep);
}

/** Plural words that are not a regular plural of a singular by dropping `s`/`es` (lower case). */
const IRREGULAR_PLURALS: Record<string, string | undefined> = {
  aliases: "alias",
  statuses: "status",
  indices: "index",
  vertices: "vertex",
  matrices: "matrix",
  criteria: "criterion",
  analyses: "analysis",
  // the same in both numbers: the item gets `Item`
  series: undefined,
  species: undefined,
  news: undefined,
};

/**
 * The name of one item of a list property: `steps` → `Step`, `policies` → `Policy`, `addresses` →
 * `Address`, `hostAliases` → `HostAlias`, `podIPs` → `PodIP`. Only regular plurals are singularised:
 * names that do not look plural get `Item` (`env` → `EnvItem`, `tls` → `TlsItem`, `series` → `SeriesItem`).
 */
export function itemName(property: string): string {
  const p = pascalCase(property);
  // The last word: an upper-case run and what follows it (`IPs`, `Aliases`, `Tls`).
  const word = /[A-Z]*[^A-Z]*$/.exec(p)?.[0] ?? p;
  const head = p.slice(0, p.length - word.length);
  const lower = word.toLowerCase();
  if (lower in IRREGULAR_PLURALS) {
    const singular = IRREGULAR_PLURALS[lower];
    return singular === undefined ? `${p}Item` : head + word.charAt(0) + singular.slice(1);
  }
  if (/^[A-Z]{2,}s$/.test(word)) return p.slice(0, -1); // an acronym's plural: IPs, CIDRs, URLs
  const stem = word.replace(/(?:ies|es|s)$/, "");
  if (!/[aeiouy]/i.test(stem) && !/^[A-Z]{2,}$/.test(stem)) return `${p}Item`; // tls, dns: not plurals
  if (/[^aeiou]ies$/.test(p)) return `${p.slice(0, -3)}y`;
  if (/(ss|x|ch|sh|zz)es$/.test(p)) return p.slice(0, -2);
  if (/[^su]s$/.test(p) && p.length > 2) return p.slice(0, -1);
  return `${p}Item`;
}

/** Names that generated declarations must not shadow (used unqualified in generated code). */
export const GLOBAL_TYPE_NAMES: readonly string[] = ["Record", "Promise", "Omit", "Pick", "Exclude", "Array"];

/** Hands out unique names: the first claim of `Foo` gets `Foo`, the next ones `Foo2`, `Foo3`, … */
export class NameRegistry {
  readonly #used = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.#used.add(r);
  }

  has(name: string): boolean {
    return this.#used.has(name);
  }

  /** Takes exactly `name`; false when it is already taken. */
  take(name: string): boolean {
    if (this.#used.has(name)) return false;
    this.#used.add(name);
    return true;
  }

  /**
   * A free name based on `base`: `base` itself, else the first free of `alternatives` (meaningful
   * names), else `base2`, `base3`, …
   */
  claim(base: string, alternatives: readonly string[] = []): string {
    for (const name of [base, ...alternatives]) {
      if (this.take(name)) return name;
    }
    let name = base;
    for (let i = 2; this.#used.has(name); i++) name = `${base}${i}`;
    this.#used.add(name);
    return name;
  }
}

/**
 * The names a kind's generated module declares besides the kind's own type (its list, constants, guard, client,
 * lister and informer); CRD and built-in generation both claim them in their registries, which refuse clashes.
 */
export function kindModuleNames(kind: string): string[] {
  const lower = camelCase(kind);
  return [
    `Readonly${kind}`,
    `${kind}List`,
    `${kind}ApiVersion`,
    `${kind}Kind`,
    `${kind}Plural`,
    `${kind}GVK`,
    `${kind}GVR`,
    `${kind}Resource`,
    `is${kind}`,
    `${kind}Client`,
    `${lower}Client`,
    `${kind}Lister`,
    `${kind}NamespaceLister`,
    `${kind}Informer`,
    `${lower}Informer`,
    `${lower}Lister`,
  ];
}
