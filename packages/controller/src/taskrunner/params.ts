// $(params.NAME) substitution and parameter checking.
import type { DeepReadonly } from "@minitask/client";
import type { ParamSpec, ParamValue } from "./types.ts";

export class InvalidParamsError extends Error {
  override readonly name = "InvalidParamsError";
  readonly missing: readonly string[];
  readonly unknown: readonly string[];
  constructor(missing: readonly string[], unknown: readonly string[]) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing required param${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
    if (unknown.length) parts.push(`unknown param${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`);
    super(parts.join("; "));
    this.missing = missing;
    this.unknown = unknown;
  }
}

/** Resolves the values of every declared param: the run's value, else the default. Throws InvalidParamsError. */
export function resolveParams(
  declared: readonly DeepReadonly<ParamSpec>[] | undefined,
  given: readonly DeepReadonly<ParamValue>[] | undefined,
): Map<string, string> {
  const values = new Map<string, string>();
  const decl = new Map((declared ?? []).map((p) => [p.name, p]));
  const unknown = (given ?? []).map((g) => g.name).filter((n) => !decl.has(n));
  const givenMap = new Map((given ?? []).map((g) => [g.name, g.value]));
  const missing: string[] = [];
  for (const p of declared ?? []) {
    const v = givenMap.get(p.name) ?? p.default;
    if (v === undefined) missing.push(p.name);
    else values.set(p.name, v);
  }
  if (missing.length || unknown.length) throw new InvalidParamsError(missing.sort(), unknown.sort());
  return values;
}

const REF = /\$\(params\.([a-zA-Z_][a-zA-Z0-9_.-]*)\)/g;

/** Replaces `$(params.NAME)`; a reference to an undeclared param is an error. */
export function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(REF, (whole, name: string) => {
    const v = values.get(name);
    if (v === undefined) throw new InvalidParamsError([], [`${name} (referenced as ${whole} but not declared)`]);
    return v;
  });
}
