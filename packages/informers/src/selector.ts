// Label selectors for listers: the apiserver's syntax (`a=b`, `a==b`, `a!=b`, `a in (x,y)`,
// `a notin (x)`, `a`, `!a`, comma = AND), or a map of equalities. Parsed once and cached.

/** A label selector: the string form or a map of required `key=value` pairs. */
export type LabelSelector = string | Readonly<Record<string, string>>;

type Requirement =
  | { readonly op: "eq"; readonly key: string; readonly value: string }
  | { readonly op: "ne"; readonly key: string; readonly value: string }
  | { readonly op: "in"; readonly key: string; readonly values: ReadonlySet<string> }
  | { readonly op: "notin"; readonly key: string; readonly values: ReadonlySet<string> }
  | { readonly op: "exists"; readonly key: string }
  | { readonly op: "notexists"; readonly key: string };

/** A compiled selector: `matches(labels)`. */
export interface LabelMatcher {
  /** True when the selector selects everything. */
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/** A label selector that does not parse (thrown by `labelSelectorMatcher` and by listers). */
export class SelectorParseError extends Error {
  constructor(selector: string, message: string) {
    super(`invalid label selector ${JSON.stringify(selector)}: ${message}`);
    this.name = "SelectorParseError";
  }
}

const KEY = /^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?)?$/;

function parseString(selector: string): Requirement[] {
  const reqs: Requirement[] = [];
  let i = 0;
  const s = selector;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const word = (): string => {
    const start = i;
    while (i < s.length && !/[\s,=!()]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const checkKey = (k: string) => {
    if (!KEY.test(k)) throw new SelectorParseError(selector, `bad key ${JSON.stringify(k)}`);
  };
  const checkValue = (v: string) => {
    if (!VALUE.test(v) || v.length > 63) throw new SelectorParseError(selector, `bad value ${JSON.stringify(v)}`);
  };
  ws();
  if (i >= s.length) return reqs;
  for (;;) {
    ws();
    if (s[i] === "!") {
      i++;
      ws();
      const key = word();
      checkKey(key);
      reqs.push({ op: "notexists", key });
    } else {
      const key = word();
      checkKey(key);
      ws();
      if (i >= s.length || s[i] === ",") {
        reqs.push({ op: "exists", key });
      } else if (s.startsWith("==", i) || s[i] === "=") {
        i += s.startsWith("==", i) ? 2 : 1;
        ws();
        const value = word();
        checkValue(value);
        reqs.push({ op: "eq", key, value });
      } else if (s.startsWith("!=", i)) {
        i += 2;
        ws();
        const value = word();
        checkValue(value);
        reqs.push({ op: "ne", key, value });
      } else {
        const op = word();
        if (op !== "in" && op !== "notin") throw new SelectorParseError(selector, `unexpected ${JSON.stringify(op)}`);
        ws();
        if (s[i] !== "(") throw new SelectorParseError(selector, "expected (");
        i++;
        const values = new Set<string>();
        for (;;) {
          ws();
          const v = word();
          checkValue(v);
          values.add(v);
          ws();
          if (s[i] === ",") {
            i++;
            continue;
          }
          if (s[i] === ")") {
            i++;
            break;
          }
          throw new SelectorParseError(selector, "expected , or )");
        }
        reqs.push({ op, key, values });
      }
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ",") throw new SelectorParseError(selector, `unexpected ${JSON.stringify(s[i])}`);
    i++;
  }
  return reqs;
}

function compile(reqs: readonly Requirement[]): LabelMatcher {
  if (reqs.length === 0) return everything;
  return {
    empty: false,
    matches(labels) {
      for (const r of reqs) {
        const has = labels !== undefined && Object.hasOwn(labels, r.key);
        const v = has ? labels[r.key] : undefined;
        switch (r.op) {
          case "eq":
            if (v !== r.value) return false;
            break;
          case "ne":
            if (v === r.value) return false;
            break;
          case "in":
            if (v === undefined || !r.values.has(v)) return false;
            break;
          case "notin":
            if (v !== undefined && r.values.has(v)) return false;
            break;
          case "exists":
            if (!has) return false;
            break;
          case "notexists":
            if (has) return false;
            break;
        }
      }
      return true;
    },
  };
}

const everything: LabelMatcher = { empty: true, matches: () => true };
const cache = new Map<string, LabelMatcher>();
const CACHE_MAX = 256;

/** Compiles a label selector (throws `SelectorParseError` on bad syntax). */
export function labelSelectorMatcher(selector: LabelSelector | undefined): LabelMatcher {
  if (selector === undefined) return everything;
  if (typeof selector !== "string") {
    return compile(Object.entries(selector).map(([key, value]) => ({ op: "eq", key, value }) as const));
  }
  let m = cache.get(selector);
  if (m === undefined) {
    m = compile(parseString(selector));
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(selector, m);
  }
  return m;
}

/** The string form of a selector (for the apiserver). */
export function labelSelectorString(selector: LabelSelector | undefined): string | undefined {
  if (selector === undefined || typeof selector === "string") return selector;
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
