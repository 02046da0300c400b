// $(params.NAME), $(workspaces.NAME.path) and $(results.NAME.path) substitution, and parameter checking.
import type { DeepReadonly } from "@minitask/client";
import { type ParamSpec, type ParamValue, Reasons } from "../contract.ts";

export class InvalidParamsError extends Error {
  override readonly name = "InvalidParamsError";
  readonly missing: readonly string[];
  readonly unknown: readonly string[];
  /** `message` replaces the generated one (for params that are malformed rather than missing or unknown). */
  constructor(missing: readonly string[], unknown: readonly string[], message?: string) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing required param${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    if (unknown.length) parts.push(`unknown param${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`);
    super(message ?? parts.join("; "));
    this.missing = missing;
    this.unknown = unknown;
  }
}

/** A param's value: a string, or a list of strings for `type: array`. */
export type ParamValueOf = string | readonly string[];

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/**
 * Resolves the values of every declared param: the run's value, else the default, each checked against the
 * param's type (`string`, the default, or `array`). Throws InvalidParamsError.
 */
export function resolveParams(
  declared: readonly DeepReadonly<ParamSpec>[] | undefined,
  given: readonly DeepReadonly<ParamValue>[] | undefined,
): Map<string, ParamValueOf> {
  // The schema guarantees a list of {name, value}, but a relaxed or older CRD may not: fail cleanly
  // (InvalidParams) instead of throwing on every reconcile.
  const raw: unknown = given;
  if (raw !== undefined && !Array.isArray(raw)) {
    throw new InvalidParamsError([], [], `spec.params must be a list of {name, value} pairs, not ${describe(raw)}`);
  }
  for (const g of (raw ?? []) as unknown[]) {
    const p = g as { name?: unknown; value?: unknown } | null;
    if (
      typeof p !== "object" ||
      p === null ||
      typeof p.name !== "string" ||
      (typeof p.value !== "string" && !isStringList(p.value))
    ) {
      throw new InvalidParamsError(
        [],
        [],
        `spec.params entry ${describe(g)} is not a {name, value} pair with a string or a list of strings`,
      );
    }
  }
  const values = new Map<string, ParamValueOf>();
  const decl = new Map((declared ?? []).map((p) => [p.name, p]));
  const unknown = (given ?? []).map((g) => g.name).filter((n) => !decl.has(n));
  const givenMap = new Map((given ?? []).map((g) => [g.name, g.value as unknown]));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const p of declared ?? []) {
    const fromRun = givenMap.has(p.name);
    const v = fromRun ? givenMap.get(p.name) : (p.default as unknown);
    if (v === undefined) {
      missing.push(p.name);
      continue;
    }
    const type = p.type ?? "string";
    if (type === "array" ? !isStringList(v) : typeof v !== "string") {
      const what = type === "array" ? "an array (a list of strings)" : "a string";
      mismatched.push(`param ${p.name} is ${what}, but its ${fromRun ? "value" : "default"} is ${describe(v)}`);
      continue;
    }
    values.set(p.name, v as ParamValueOf);
  }
  if (missing.length || unknown.length) throw new InvalidParamsError(missing.sort(), unknown.sort());
  if (mismatched.length) throw new InvalidParamsError([], [], mismatched.join("; "));
  return values;
}

/** A short JSON rendering of a bad value for messages. */
function describe(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

const REF = /\$\((params|workspaces|results)\.([a-zA-Z0-9_.-]+)(?:\[(\*|\d+)\])?\)/g;
const WHOLE_ARRAY = /^\$\(params\.([a-zA-Z0-9_.-]+)\[\*\]\)$/;

/** The values `substitute` replaces references with, keyed `params.NAME`, `workspaces.NAME.path`, …. */
export type Variables = ReadonlyMap<string, ParamValueOf>;

/**
 * Replaces `$(params.NAME)`, `$(params.NAME[N])` (an element of an array param), `$(workspaces.NAME.path)`,
 * `$(workspaces.NAME.bound)` and `$(results.NAME.path)` with `vars`. A reference to something the Task does not
 * declare is an error naming it (InvalidParamsError, or InvalidSpecError for workspaces and results), and so is an
 * array param used as one string (`$(params.NAME[*])` is only for a whole element of command or args, see
 * {@link substituteArgs}). Other `$(…)` text is left alone. One pass: a substituted value is not expanded again.
 */
export function substitute(text: string, vars: Variables): string {
  return text.replace(REF, (whole, kind: string, rest: string, index: string | undefined) => {
    const v = vars.get(`${kind}.${rest}`);
    if (v === undefined) {
      if (kind === "params") throw new InvalidParamsError([], [`${rest} (referenced as ${whole} but not declared)`]);
      const reason = kind === "workspaces" ? Reasons.InvalidWorkspaces : Reasons.InvalidResults;
      throw new InvalidSpecError(
        reason,
        `${whole} refers to a ${kind === "workspaces" ? "workspace" : "result"} the task does not declare`,
      );
    }
    if (typeof v === "string") {
      if (index === undefined) return v;
      throw new InvalidParamsError([], [], `${whole}: param ${rest} is a string, not an array`);
    }
    if (index === undefined || index === "*") {
      throw new InvalidParamsError(
        [],
        [],
        `${whole}: array param ${rest} can be used as $(params.${rest}[*]) only as a whole element of command or ` +
          `args, or one element at a time as $(params.${rest}[N])`,
      );
    }
    const element = v[Number(index)];
    if (element === undefined) {
      throw new InvalidParamsError([], [], `${whole}: array param ${rest} has ${v.length} elements`);
    }
    return element;
  });
}

/** `substitute` over a command or args list, where an element that is exactly `$(params.NAME[*])` becomes the array. */
export function substituteArgs(list: readonly string[], vars: Variables): string[] {
  return list.flatMap((element) => {
    const whole = WHOLE_ARRAY.exec(element);
    const v = whole ? vars.get(`params.${whole[1]}`) : undefined;
    return Array.isArray(v) ? [...(v as readonly string[])] : [substitute(element, vars)];
  });
}

/** The run's `$(params.NAME)` variables, for `substitute`. */
export function paramVariables(params: ReadonlyMap<string, ParamValueOf>): Map<string, ParamValueOf> {
  return new Map([...params].map(([k, v]) => [`params.${k}`, v]));
}

/** A TaskRun that cannot run as written, for a reason other than its params (the reason is one of `Reasons`). */
export class InvalidSpecError extends Error {
  override readonly name = "InvalidSpecError";
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}
