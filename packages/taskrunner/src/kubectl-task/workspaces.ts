// `-w NAME=emptyDir|pvc:CLAIM|configmap:NAME|secret:NAME` parsing, the check of a run's workspace bindings
// against its Task (Tekton's rules, as the controller applies them: a binding for every declared workspace
// unless it is optional, none for an undeclared one), and the one-line form of a binding that `describe`
// prints (the same words as the flag).
import type { Task, WorkspaceBinding, WorkspaceDeclaration } from "../contract.ts";
import { CliError } from "./errors.ts";

export const WORKSPACE_FORMS = "NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME";

/** A Kubernetes object name (RFC 1123 subdomain), as claims, ConfigMaps and Secrets are named. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseOne(flag: string): WorkspaceBinding {
  const eq = flag.indexOf("=");
  const bad = (why: string): CliError => new CliError(`invalid workspace "${flag}": ${why}`);
  if (eq <= 0) throw bad(`expected ${WORKSPACE_FORMS}`);
  const name = flag.slice(0, eq);
  const source = flag.slice(eq + 1);
  const colon = source.indexOf(":");
  const kind = (colon < 0 ? source : source.slice(0, colon)).toLowerCase();
  const ref = colon < 0 ? undefined : source.slice(colon + 1);
  if (kind === "emptydir") {
    if (ref !== undefined) throw bad("emptyDir takes no name (NAME=emptyDir)");
    return { name, emptyDir: {} };
  }
  const known: Record<string, [what: string, form: string]> = {
    pvc: ["claim", "NAME=pvc:CLAIM"],
    configmap: ["ConfigMap", "NAME=configmap:NAME"],
    secret: ["Secret", "NAME=secret:NAME"],
  };
  const [what, form] = known[kind] ?? [];
  if (what === undefined) throw bad(`unknown source "${source}"; expected ${WORKSPACE_FORMS}`);
  if (ref === undefined || ref === "") throw bad(`${kind} needs the ${what}'s name (${form})`);
  if (ref.length > 253 || !OBJECT_NAME.test(ref)) {
    throw bad(`"${ref}" is not a valid ${what} name (lower-case letters, digits, '-' and '.')`);
  }
  if (kind === "pvc") return { name, persistentVolumeClaim: { claimName: ref } };
  if (kind === "configmap") return { name, configMap: { name: ref } };
  return { name, secret: { secretName: ref } };
}

/** Parses repeated `-w` flags (a repeated workspace name is an error). */
export function parseWorkspaceFlags(flags: readonly string[]): WorkspaceBinding[] {
  const out: WorkspaceBinding[] = [];
  for (const flag of flags) {
    const b = parseOne(flag);
    if (out.some((o) => o.name === b.name)) throw new CliError(`workspace "${b.name}" is bound more than once`);
    out.push(b);
  }
  return out;
}

/** `source`, `cache (optional)`: what a task declares, for messages. */
export function expectedWorkspaces(task: Task): string {
  const declared = task.spec?.workspaces ?? [];
  if (declared.length === 0) return "it declares no workspaces";
  return `it declares: ${declared.map((w) => (w.optional ? `${w.name} (optional)` : w.name)).join(", ")}`;
}

/** Throws the one-line error for bindings that do not fit the task (unknown names, unbound required ones). */
export function validateWorkspaces(task: Task, given: readonly WorkspaceBinding[]): void {
  const declared = task.spec?.workspaces ?? [];
  const unknown = given.map((b) => b.name).filter((n) => !declared.some((w) => w.name === n));
  const missing = declared.filter((w) => !w.optional && !given.some((b) => b.name === w.name)).map((w) => w.name);
  if (unknown.length === 0 && missing.length === 0) return;
  const quote = (ns: readonly string[]) => ns.map((n) => `"${n}"`).join(", ");
  const problems: string[] = [];
  if (unknown.length > 0) problems.push(`unknown workspace${unknown.length > 1 ? "s" : ""} ${quote(unknown)}`);
  if (missing.length > 0) problems.push(`unbound workspace${missing.length > 1 ? "s" : ""} ${quote(missing)}`);
  throw new CliError(
    `task "${task.metadata?.name ?? ""}": ${problems.join(" and ")}; ${expectedWorkspaces(task)} (bind them with -w ${WORKSPACE_FORMS})`,
  );
}

const keys = (n: number): string => `${n} key${n > 1 ? "s" : ""}`;

/** A binding in the words of `-w`: `emptyDir`, `pvc:CLAIM`, `configmap:NAME`, `secret:NAME` (+ details). */
export function bindingText(b: WorkspaceBinding): string {
  const extras: string[] = [];
  let text: string;
  if (b.persistentVolumeClaim) {
    text = `pvc:${b.persistentVolumeClaim.claimName}`;
    if (b.persistentVolumeClaim.readOnly) extras.push("read-only");
  } else if (b.configMap) {
    text = `configmap:${b.configMap.name}`;
    if (b.configMap.items?.length) extras.push(keys(b.configMap.items.length));
  } else if (b.secret) {
    text = `secret:${b.secret.secretName}`;
    if (b.secret.items?.length) extras.push(keys(b.secret.items.length));
  } else if (b.emptyDir) {
    text = "emptyDir";
    if (b.emptyDir.medium) extras.push(b.emptyDir.medium);
    if (b.emptyDir.sizeLimit !== undefined) extras.push(`sizeLimit ${b.emptyDir.sizeLimit}`);
  } else {
    text = "?";
  }
  if (b.subPath) extras.push(`subPath ${b.subPath}`);
  return extras.length ? `${text} (${extras.join(", ")})` : text;
}

/** Where a declared workspace is mounted, as the controller mounts it. */
export function mountPathOf(w: WorkspaceDeclaration): string {
  return w.mountPath ?? `/workspace/${w.name}`;
}

/** Whether the controller mounts a bound workspace read-only (declared so, or a read-only source). */
export function mountedReadOnly(w: WorkspaceDeclaration, b: WorkspaceBinding): boolean {
  return Boolean(w.readOnly || b.persistentVolumeClaim?.readOnly || b.configMap || b.secret);
}
