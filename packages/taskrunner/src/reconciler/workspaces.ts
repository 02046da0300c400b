// A Task's workspaces and a TaskRun's bindings → the pod's volumes, every container's mounts, and the
// $(workspaces.NAME.path) / $(workspaces.NAME.bound) variables. Tekton's rules: a binding for each declared
// workspace unless it is optional, no binding for an undeclared one, exactly one source per binding (the CRD
// checks that), mountPath /workspace/NAME by default.
import type { ReadonlyTask, ReadonlyTaskRun } from "../contract.ts";
import { Reasons } from "../contract.ts";
import type { Volume, VolumeMount } from "./corev1.ts";
import { InvalidSpecError } from "./params.ts";

export interface BoundWorkspaces {
  readonly volumes: Volume[];
  readonly mounts: VolumeMount[];
  /** `workspaces.NAME.path` and `workspaces.NAME.bound`, for `substitute`. */
  readonly variables: Map<string, string>;
}

/** Checks the run's bindings against the Task's workspaces; throws InvalidSpecError (InvalidWorkspaces). */
export function bindWorkspaces(task: ReadonlyTask, run: ReadonlyTaskRun): BoundWorkspaces {
  const declared = task.spec?.workspaces ?? [];
  const bindings = new Map((run.spec?.workspaces ?? []).map((b) => [b.name, b]));
  const taskName = task.metadata?.name ?? "";
  const unknown = [...bindings.keys()].filter((n) => !declared.some((w) => w.name === n));
  if (unknown.length) {
    throw new InvalidSpecError(
      Reasons.InvalidWorkspaces,
      `the run binds ${unknown.map((n) => `"${n}"`).join(", ")}, which task "${taskName}" does not declare`,
    );
  }
  const missing = declared.filter((w) => !w.optional && !bindings.has(w.name)).map((w) => w.name);
  if (missing.length) {
    throw new InvalidSpecError(
      Reasons.InvalidWorkspaces,
      `workspace${missing.length > 1 ? "s" : ""} ${missing.map((n) => `"${n}"`).join(", ")} of task "${taskName}" ` +
        "not bound: bind each in spec.workspaces with emptyDir, persistentVolumeClaim, configMap or secret",
    );
  }
  const out: BoundWorkspaces = { volumes: [], mounts: [], variables: new Map() };
  declared.forEach((w, i) => {
    const b = bindings.get(w.name);
    const path = w.mountPath ?? `/workspace/${w.name}`;
    out.variables.set(`workspaces.${w.name}.bound`, b ? "true" : "false");
    out.variables.set(`workspaces.${w.name}.path`, b ? path : "");
    if (!b) return;
    const volume = `workspace-${i}`;
    const v: Volume = { name: volume };
    if (b.emptyDir) {
      v.emptyDir = {
        ...(b.emptyDir.medium ? { medium: b.emptyDir.medium } : {}),
        ...(b.emptyDir.sizeLimit !== undefined ? { sizeLimit: b.emptyDir.sizeLimit } : {}),
      };
    } else if (b.persistentVolumeClaim) {
      v.persistentVolumeClaim = { ...b.persistentVolumeClaim };
    } else if (b.configMap) {
      v.configMap = {
        name: b.configMap.name,
        ...(b.configMap.items ? { items: b.configMap.items.map((x) => ({ ...x })) } : {}),
      };
    } else if (b.secret) {
      v.secret = {
        secretName: b.secret.secretName,
        ...(b.secret.items ? { items: b.secret.items.map((x) => ({ ...x })) } : {}),
      };
    }
    const readOnly = Boolean(w.readOnly || b.persistentVolumeClaim?.readOnly || b.configMap || b.secret);
    out.volumes.push(v);
    out.mounts.push({
      name: volume,
      mountPath: path,
      ...(readOnly ? { readOnly: true } : {}),
      ...(b.subPath ? { subPath: b.subPath } : {}),
    });
  });
  return out;
}
