// `-p NAME=VALUE` parsing and the check of a run's params against its Task, before anything is created.
import type { Task } from "../contract.ts";
import { parseDuration } from "../duration.ts";
import type { RunParam, TaskParam } from "./api.ts";
import { CliError } from "./errors.ts";

/** Parses repeated `-p NAME=VALUE` flags (the value may contain `=`; a repeated name is an error). */
export function parseParamFlags(flags: readonly string[]): RunParam[] {
  const out: RunParam[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new CliError(`invalid param "${flag}": expected NAME=VALUE`);
    const name = flag.slice(0, eq);
    if (out.some((p) => p.name === name)) throw new CliError(`param "${name}" is given more than once`);
    out.push({ name, value: flag.slice(eq + 1) });
  }
  return out;
}

/** `name (required)`, `greeting (default "hello")`. */
function describeParam(p: TaskParam): string {
  return p.default === undefined ? `${p.name} (required)` : `${p.name} (default ${JSON.stringify(p.default)})`;
}

/** What the task expects, for messages: `it takes: a (required), b (default "x")` or `it takes no params`. */
export function expectedParams(task: Task): string {
  const params = task.spec?.params ?? [];
  if (params.length === 0) return "it takes no params";
  return `it takes: ${params.map(describeParam).join(", ")}`;
}

export interface ParamCheck {
  readonly unknown: readonly string[];
  readonly missing: readonly string[];
}

export function checkParams(task: Task, given: readonly RunParam[]): ParamCheck {
  const declared = task.spec?.params ?? [];
  const names = new Set(declared.map((p) => p.name));
  const givenNames = new Set(given.map((p) => p.name));
  return {
    unknown: given.map((p) => p.name).filter((n) => !names.has(n)),
    missing: declared.filter((p) => p.default === undefined && !givenNames.has(p.name)).map((p) => p.name),
  };
}

/** Throws the one-line error for params that do not match the task. */
export function validateParams(task: Task, given: readonly RunParam[]): void {
  const { unknown, missing } = checkParams(task, given);
  if (unknown.length === 0 && missing.length === 0) return;
  const quote = (ns: readonly string[]) => ns.map((n) => `"${n}"`).join(", ");
  const problems: string[] = [];
  if (unknown.length > 0) problems.push(`unknown param${unknown.length > 1 ? "s" : ""} ${quote(unknown)}`);
  if (missing.length > 0) problems.push(`missing required param${missing.length > 1 ? "s" : ""} ${quote(missing)}`);
  const name = task.metadata?.name ?? "";
  throw new CliError(
    `task "${name}": ${problems.join(" and ")}; ${expectedParams(task)} (set them with -p NAME=VALUE)`,
  );
}

/**
 * The values as the Task's param types want them: `-p flags=-v,-race` for a param of `type: array` is the list
 * ["-v", "-race"] (split on commas, as tkn does); string params stay as given.
 */
export function typedParams(task: Task, given: readonly RunParam[]): RunParam[] {
  const arrays = new Set((task.spec?.params ?? []).filter((p) => p.type === "array").map((p) => p.name));
  return given.map((p) =>
    arrays.has(p.name) && typeof p.value === "string" ? { name: p.name, value: p.value.split(",") } : p,
  );
}

/**
 * Checks --timeout with the controller's own parser of `spec.timeout` (Go durations: `90s`, `1h30m`, `0` for
 * none), so the plugin accepts exactly what the controller will.
 */
export function validateTimeout(timeout: string): void {
  let ok = timeout.trim() === timeout;
  try {
    parseDuration(timeout);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CliError(`invalid --timeout "${timeout}": expected a duration such as 90s, 10m or 1h30m (0 for none)`);
  }
}

/** `k=v` annotations. */
export function parseAnnotations(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new CliError(`invalid annotation "${flag}": expected KEY=VALUE`);
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

/** A whole number from a flag (`--retries 2`, `--keep 5`), within `[min, max]`; the one-line error otherwise. */
export function parseCount(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliError(`invalid ${flag} "${text}": expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

/** --retries: the CRD allows 0 to 100. */
export function parseRetries(text: string): number {
  return parseCount("--retries", text, 0, 100);
}
