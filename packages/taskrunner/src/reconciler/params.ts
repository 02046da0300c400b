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

/** Resolves the values of every declared param: the run's value, else the default. Throws InvalidParamsError. */
export function resolveParams(
  declared: readonly DeepReadonly<ParamSpec>[] | undefined,
  given: readonly DeepReadonly<ParamValue>[] | undefined,
): Map<string, string> {
  // The schema guarantees a list of {name, value} strings, but a relaxed or older CRD may not: fail
  // cleanly (InvalidParams) instead of throwing on every reconcile.
  const raw: unknown = given;
  if (raw !== undefined && !Array.isArray(raw)) {
    throw new InvalidParamsError([], [], `spec.params must be a list of {name, value} pairs, not ${describe(raw)}`);
  }
  for (const g of (raw ?? []) as unknown[]) {
    const p = g as { name?: unknown; value?: unknown } | null;
    if (typeof p !== "object" || p === null || typeof p.name !== "string" || typeof p.value !== "string") {
      throw new InvalidParamsError([], [], `spec.params entry ${describe(g)} is not a {name, value} pair of strings`);
    }
  }
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

const REF = /\$\((params|workspaces|results)\.([a-zA-Z0-9_.-]+)\)/g;

/**
 * Replaces `$(params.NAME)`, `$(workspaces.NAME.path)`, `$(workspaces.NAME.bound)` and `$(results.NAME.path)`
 * with `vars` (keyed `params.NAME`, `workspaces.NAME.path`, …). A reference to something the Task does not declare
 * is an error naming it (InvalidParamsError, or InvalidSpecError for workspaces and results). Other `$(…)` text is
 * left alone. One pass: a substituted value is not expanded again.
 */
export function substitute(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(REF, (whole, kind: string, rest: string) => {
    const v = vars.get(`${kind}.${rest}`);
    if (v !== undefined) return v;
    if (kind === "params") throw new InvalidParamsError([], [`${rest} (referenced as ${whole} but not declared)`]);
    const reason = kind === "workspaces" ? Reasons.InvalidWorkspaces : Reasons.InvalidResults;
    throw new InvalidSpecError(
      reason,
      `${whole} refers to a ${kind === "workspaces" ? "workspace" : "result"} the task does not declare`,
    );
  });
}

/** The run's `$(params.NAME)` variables, for `substitute`. */
export function paramVariables(params: ReadonlyMap<string, string>): Map<string, string> {
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
