// TaskRun + Task → the one Pod that runs the steps in order: every step but the last is an init
// container (init containers run one after another and a failing one stops the rest), the last step is
// the main container. The pod name is deterministic, so a retried or restarted reconcile can never make
// a second pod.
//
// Locked down by default (docs/security.md): no service-account token unless the run names a
// ServiceAccount, the runtime's default seccomp profile, and every step without privilege escalation and
// without capabilities. A step's (or the stepTemplate's) securityContext and the run's podTemplate are merged
// over these defaults field by field: what a Task or TaskRun may loosen is decided by the namespace's Pod
// Security admission, which checks the pod when the controller creates it. Running as non-root is asked for
// (runAsNonRoot: true) only in a namespace that enforces Pod Security `restricted`, which requires it:
// elsewhere most images, busybox among them, run as root.
import type { DeepReadonly } from "@minitask/client";
import {
  ANNOTATION_TASKRUN_NAME,
  GROUP,
  LABEL_MANAGED_BY,
  LABEL_TASK,
  LABEL_TASKRUN,
  labelValue,
  MANAGED_BY,
  podNameFor,
  type ReadonlyTask,
  type ReadonlyTaskRun,
  type ResolvedStep,
  resolvedSteps,
  type Sidecar,
  type Step,
  sidecarContainerName,
  stepContainerName,
  type TaskRunSpec,
} from "../contract.ts";
import type { Container, EnvVar, Pod, PodSecurityContext, SecurityContext, Volume, VolumeMount } from "./corev1.ts";
import { type ParamValueOf, paramVariables, resolveParams, substitute, substituteArgs } from "./params.ts";
import { messageLimit, RESULTS_DIR, RESULTS_VOLUME, SCRIPT_ENV, stepRunner } from "./results.ts";
import { bindWorkspaces } from "./workspaces.ts";

/** Every step container's securityContext (the Pod Security `restricted` profile, but for runAsNonRoot). */
export function stepSecurityContext(): SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Runs `$MINITASK_SCRIPT` as a file, so that a script starting with `#!` gets its own interpreter. */
const RUN_SHEBANG_SCRIPT = `f="$(mktemp)" && printf "%s" "$${SCRIPT_ENV}" > "$f" && chmod +x "$f" && unset ${SCRIPT_ENV} && exec "$f"`;

/** What every container of the pod shares: the substitutions, the workspace mounts, the results. */
interface PodContext {
  readonly sub: (s: string) => string;
  /** `sub` for command and args, where `$(params.NAME[*])` expands an array param into its elements. */
  readonly subArgs: (list: readonly string[]) => string[];
  readonly mounts: readonly VolumeMount[];
  readonly results: readonly string[];
  /** Bytes of termination message each container may use. */
  readonly messageLimit: number;
}

type ContainerSource = ResolvedStep | DeepReadonly<Sidecar>;

type StepEnv = DeepReadonly<NonNullable<Step["env"]>[number]>;

function envOf(src: ContainerSource, sub: (s: string) => string): EnvVar[] {
  return (src.env ?? []).map((e: StepEnv) => {
    const ref = (k: { name: string; key: string; optional?: boolean }) => ({
      name: sub(k.name),
      key: sub(k.key),
      ...(k.optional !== undefined ? { optional: k.optional } : {}),
    });
    const from = e.valueFrom;
    const valueFrom: EnvVar["valueFrom"] = from
      ? {
          ...(from.secretKeyRef ? { secretKeyRef: ref(from.secretKeyRef) } : {}),
          ...(from.configMapKeyRef ? { configMapKeyRef: ref(from.configMapKeyRef) } : {}),
          ...(from.fieldRef ? { fieldRef: { fieldPath: from.fieldRef.fieldPath } } : {}),
        }
      : undefined;
    return {
      name: e.name,
      ...(e.value !== undefined ? { value: sub(e.value) } : {}),
      ...(valueFrom ? { valueFrom } : {}),
    };
  });
}

/** The fields a step and a sidecar have in common, as a container. */
function baseContainer(name: string, src: ContainerSource, ctx: PodContext): Container {
  const c: Container = { name, image: ctx.sub(src.image) };
  if (src.command) c.command = ctx.subArgs(src.command);
  if (src.args) c.args = ctx.subArgs(src.args);
  const env = envOf(src, ctx.sub);
  if (env.length) c.env = env;
  if (src.workingDir !== undefined) c.workingDir = ctx.sub(src.workingDir);
  // Workspaces first, then the container's own mounts of the Task's volumes.
  const mounts = [...ctx.mounts, ...(src.volumeMounts ?? []).map((m) => ({ ...m, mountPath: ctx.sub(m.mountPath) }))];
  if (mounts.length) c.volumeMounts = mounts.map((m) => ({ ...m }));
  // Passed through as written (the CRD keeps unknown fields); the apiserver validates it with the pod.
  c.securityContext = { ...stepSecurityContext(), ...(structuredClone(src.securityContext) as SecurityContext) };
  return c;
}

function stepContainer(step: ResolvedStep, ctx: PodContext): Container {
  const c = baseContainer(stepContainerName(step.name), step, ctx);
  if (step.envFrom?.length) {
    c.envFrom = step.envFrom.map((f) => ({
      ...(f.prefix !== undefined ? { prefix: f.prefix } : {}),
      ...(f.secretRef ? { secretRef: { ...f.secretRef, name: ctx.sub(f.secretRef.name) } } : {}),
      ...(f.configMapRef ? { configMapRef: { ...f.configMapRef, name: ctx.sub(f.configMapRef.name) } } : {}),
    }));
  }
  if (step.imagePullPolicy) c.imagePullPolicy = step.imagePullPolicy;
  if (step.script !== undefined) {
    const script = ctx.sub(step.script);
    const shebang = script.startsWith("#!");
    const continueOnError = step.onError === "continue";
    if (ctx.results.length || continueOnError) {
      // The runner runs the script from a file, then reports its results and exit status (results.ts).
      c.command = [
        "/bin/sh",
        "-c",
        stepRunner({ results: ctx.results, continueOnError, limit: ctx.messageLimit, shebang }),
      ];
      c.env = [...(c.env ?? []), { name: SCRIPT_ENV, value: script }];
      c.terminationMessagePath = "/dev/termination-log";
      c.terminationMessagePolicy = "File";
    } else if (shebang) {
      // Run the file itself so the kernel honours its interpreter line.
      c.command = ["/bin/sh", "-c", RUN_SHEBANG_SCRIPT];
      c.env = [...(c.env ?? []), { name: SCRIPT_ENV, value: script }];
    } else {
      c.command = ["/bin/sh", "-c", script];
    }
  }
  if (ctx.results.length)
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: RESULTS_VOLUME, mountPath: RESULTS_DIR }];
  if (step.resources) {
    const r: NonNullable<Container["resources"]> = {};
    if (step.resources.limits) r.limits = { ...step.resources.limits };
    if (step.resources.requests) r.requests = { ...step.resources.requests };
    c.resources = r;
  }
  return c;
}

/** A sidecar: an init container with `restartPolicy: Always` (a Kubernetes native sidecar), before the steps. */
function sidecarContainer(sidecar: DeepReadonly<Sidecar>, ctx: PodContext): Container {
  const c = baseContainer(sidecarContainerName(sidecar.name), sidecar, ctx);
  if (sidecar.script !== undefined) c.command = ["/bin/sh", "-c", ctx.sub(sidecar.script)];
  c.restartPolicy = "Always";
  return c;
}

export interface BuildPodOptions {
  /** Milliseconds left of the run's timeout (becomes activeDeadlineSeconds); undefined = none. */
  readonly remainingMs?: number | undefined;
  /** Extra annotations on the pod (tests use kwok hooks through this). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Require a non-root user (`runAsNonRoot: true`): the namespace enforces Pod Security `restricted`. */
  readonly runAsNonRoot?: boolean;
  /** Which attempt of a run with retries this pod is (0, the first, by default): it names the pod. */
  readonly attempt?: number;
}

/**
 * Builds the pod; throws InvalidParamsError for missing/unknown params and InvalidSpecError for workspace
 * bindings that do not fit the Task or references to undeclared workspaces and results.
 */
export function buildPod(run: ReadonlyTaskRun, task: ReadonlyTask, opts: BuildPodOptions = {}): Pod {
  const name = run.metadata?.name ?? "";
  const spec = run.spec;
  const params = resolveParams(task.spec?.params, spec?.params);
  const workspaces = bindWorkspaces(task, run);
  const results = (task.spec?.results ?? []).map((r) => r.name);
  const vars = new Map<string, ParamValueOf>([
    ...paramVariables(params),
    ...workspaces.variables,
    ...results.map((r) => [`results.${r}.path`, `${RESULTS_DIR}/${r}`] as const),
  ]);
  const sidecars = task.spec?.sidecars ?? [];
  const resolved = resolvedSteps(task);
  const containers = resolved.length + sidecars.length;
  const ctx: PodContext = {
    sub: (text) => substitute(text, vars),
    subArgs: (list) => substituteArgs(list, vars),
    mounts: workspaces.mounts,
    results,
    messageLimit: messageLimit(containers),
  };
  const steps = resolved.map((s) => stepContainer(s, ctx));
  const main = steps.pop();
  if (!main) throw new Error(`task ${task.metadata?.name} has no steps`);
  const init = [...sidecars.map((s) => sidecarContainer(s, ctx)), ...steps];
  const volumes: Volume[] = [
    ...workspaces.volumes,
    ...(results.length ? [{ name: RESULTS_VOLUME, emptyDir: {} }] : []),
    // The Task's own volumes, as written (the apiserver validates them with the pod).
    ...((task.spec?.volumes ?? []).map((v) => structuredClone(v)) as Volume[]),
  ];
  const sa = spec?.serviceAccountName;
  const template = spec?.podTemplate;
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podNameFor(name, opts.attempt),
      namespace: run.metadata?.namespace,
      labels: {
        [LABEL_TASKRUN]: labelValue(name),
        [LABEL_TASK]: labelValue(spec?.taskRef ?? ""),
        [LABEL_MANAGED_BY]: MANAGED_BY,
      },
      annotations: { [ANNOTATION_TASKRUN_NAME]: name, ...(opts.annotations ?? {}) },
      ownerReferences: [
        {
          apiVersion: `${GROUP}/v1`,
          kind: "TaskRun",
          name,
          uid: run.metadata?.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      restartPolicy: "Never",
      ...(init.length ? { initContainers: init } : {}),
      containers: [main],
      ...(volumes.length ? { volumes } : {}),
      enableServiceLinks: false,
      // Without a ServiceAccount the pod still runs as the namespace's `default` one: no token of it.
      ...(sa ? { serviceAccountName: sa } : { automountServiceAccountToken: false }),
      securityContext: {
        seccompProfile: { type: "RuntimeDefault" },
        ...(opts.runAsNonRoot ? { runAsNonRoot: true } : {}),
        ...(structuredClone(template?.securityContext) as PodSecurityContext | undefined),
      },
      ...podTemplateFields(template),
      ...(opts.remainingMs !== undefined
        ? { activeDeadlineSeconds: Math.max(1, Math.ceil(opts.remainingMs / 1000)) }
        : {}),
    },
  };
  return pod;
}

/** The podTemplate's scheduling and image fields, copied onto the pod spec (securityContext is merged above). */
function podTemplateFields(template: DeepReadonly<TaskRunSpec["podTemplate"]>): Partial<NonNullable<Pod["spec"]>> {
  if (!template) return {};
  const { securityContext: _merged, ...fields } = structuredClone(template) as Record<string, unknown>;
  return fields as Partial<NonNullable<Pod["spec"]>>;
}

/** Step container names in run order. */
export function stepContainerNames(task: ReadonlyTask): string[] {
  return (task.spec?.steps ?? []).map((s) => stepContainerName(s.name));
}
