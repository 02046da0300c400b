// `start --pod-template FILE`: a TaskRun's spec.podTemplate read from a YAML or JSON file and checked here.
// The check matters: the CRD's schema prunes fields it does not list, so a misspelt `nodeSelctor` would be
// dropped without a word and the run would land anywhere. Unknown fields are refused (at the top level, and in
// tolerations, imagePullSecrets, affinity and securityContext one level down); the values themselves are
// validated by the apiserver when the controller creates the pod.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { TaskRunSpec } from "../contract.ts";
import { CliError } from "./errors.ts";

export type PodTemplate = NonNullable<TaskRunSpec["podTemplate"]>;

type Kind = "string" | "map of strings" | "mapping" | "list of mappings";

const FIELDS: Readonly<Record<keyof PodTemplate, Kind>> = {
  affinity: "mapping",
  imagePullSecrets: "list of mappings",
  nodeSelector: "map of strings",
  priorityClassName: "string",
  runtimeClassName: "string",
  schedulerName: "string",
  securityContext: "mapping",
  tolerations: "list of mappings",
};

/** The fields allowed one level down (core/v1 Toleration, LocalObjectReference, Affinity, PodSecurityContext). */
const NESTED: Readonly<Partial<Record<keyof PodTemplate, readonly string[]>>> = {
  tolerations: ["key", "operator", "value", "effect", "tolerationSeconds"],
  imagePullSecrets: ["name"],
  affinity: ["nodeAffinity", "podAffinity", "podAntiAffinity"],
  securityContext: [
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxChangePolicy",
    "seLinuxOptions",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
    "windowsOptions",
  ],
};

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function checkKind(field: string, kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case "string":
      return typeof value === "string" ? undefined : "must be a string";
    case "mapping":
      return isMapping(value) ? undefined : "must be a mapping";
    case "map of strings": {
      if (!isMapping(value)) return "must be a mapping of strings";
      const bad = Object.entries(value).find(([, v]) => typeof v !== "string");
      return bad ? `${field}.${bad[0]} must be a string (quote it: "${String(bad[1])}")` : undefined;
    }
    case "list of mappings":
      if (!Array.isArray(value)) return "must be a list";
      return value.every(isMapping) ? undefined : "must be a list of mappings";
  }
}

function unknownIn(obj: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  return Object.keys(obj).find((k) => !allowed.includes(k));
}

/** Checks a parsed pod template; returns the problem (without the file name), or undefined. */
export function podTemplateProblem(doc: unknown): string | undefined {
  if (doc === null || doc === undefined) return "is empty";
  if (!isMapping(doc)) return "must be a mapping of pod template fields (nodeSelector, tolerations, …)";
  const allowed = Object.keys(FIELDS).sort();
  const unknown = unknownIn(doc, allowed);
  if (unknown !== undefined) {
    const whole =
      "kind" in doc || "spec" in doc || "podTemplate" in doc
        ? " (give only the pod template's fields, not a whole manifest)"
        : "";
    return `unknown field "${unknown}"${whole}; a pod template may have: ${allowed.join(", ")}`;
  }
  for (const [field, value] of Object.entries(doc)) {
    const kind = FIELDS[field as keyof PodTemplate];
    const wrong = checkKind(field, kind, value);
    if (wrong !== undefined) return wrong.startsWith(`${field}.`) ? wrong : `${field} ${wrong}`;
    const nested = NESTED[field as keyof PodTemplate];
    if (nested === undefined) continue;
    const items = Array.isArray(value) ? (value as Record<string, unknown>[]) : [value as Record<string, unknown>];
    for (const [i, item] of items.entries()) {
      const bad = unknownIn(item, nested);
      if (bad !== undefined) {
        const at = Array.isArray(value) ? `${field}[${i}]` : field;
        return `unknown field "${at}.${bad}"; ${at} may have: ${nested.join(", ")}`;
      }
    }
    if (field === "imagePullSecrets" && items.some((s) => typeof s.name !== "string")) {
      return "each of imagePullSecrets needs a name (a Secret's name)";
    }
  }
  return undefined;
}

/** Reads and checks the file of --pod-template (YAML, or JSON, which is YAML too). */
export function readPodTemplate(file: string): PodTemplate {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder" : (code ?? String(err));
    throw new CliError(`cannot read --pod-template "${file}": ${why}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new CliError(`--pod-template "${file}" is not valid YAML or JSON: ${first}`);
  }
  const problem = podTemplateProblem(doc);
  if (problem !== undefined) throw new CliError(`--pod-template "${file}": ${problem}`);
  return doc as PodTemplate;
}
