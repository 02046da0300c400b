// TaskRun + Task → the one Pod that runs the steps in order: every step but the last is an init
// container (init containers run one after another and a failing one stops the rest), the last step is
// the main container. The pod name is deterministic, so a retried or restarted reconcile can never make
// a second pod.
//
// Locked down by default (docs/security.md): no service-account token unless the run names a
// ServiceAccount, the runtime's default seccomp profile, and every step without privilege escalation and
// without capabilities. The Task API has no securityContext field yet, so a Task cannot loosen (or tighten)
// any of this. Running as non-root is asked for (runAsNonRoot: true) only in a namespace that enforces Pod
// Security `restricted`, which requires it: elsewhere most images, busybox among them, run as root.
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
  type Step,
  stepContainerName,
} from "../contract.ts";
import type { Container, Pod, SecurityContext } from "./corev1.ts";
import { resolveParams, substitute } from "./params.ts";

/** Where a step's script goes when it names its own interpreter (`#!`). */
const SCRIPT_ENV = "MINITASK_SCRIPT";
const RUN_SHEBANG_SCRIPT =
  'f="$(mktemp)" && printf "%s" "$MINITASK_SCRIPT" > "$f" && chmod +x "$f" && unset MINITASK_SCRIPT && exec "$f"';

/** Every step container's securityContext (the Pod Security `restricted` profile, but for runAsNonRoot). */
export function stepSecurityContext(): SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function stepContainer(step: DeepReadonly<Step>, params: ReadonlyMap<string, string>): Container {
  const sub = (s: string) => substitute(s, params);
  const c: Container = { name: stepContainerName(step.name), image: sub(step.image) };
  const env = (step.env ?? []).map((e) => ({
    name: e.name,
    ...(e.value !== undefined ? { value: sub(e.value) } : {}),
  }));
  if (step.script !== undefined) {
    const script = sub(step.script);
    if (script.startsWith("#!")) {
      // Run the file itself so the kernel honours its interpreter line.
      c.command = ["/bin/sh", "-c", RUN_SHEBANG_SCRIPT];
      env.push({ name: SCRIPT_ENV, value: script });
    } else {
      c.command = ["/bin/sh", "-c", script];
    }
  } else {
    if (step.command) c.command = step.command.map(sub);
    if (step.args) c.args = step.args.map(sub);
  }
  if (env.length) c.env = env;
  if (step.workingDir !== undefined) c.workingDir = sub(step.workingDir);
  if (step.resources) {
    const r: NonNullable<Container["resources"]> = {};
    if (step.resources.limits) r.limits = { ...step.resources.limits };
    if (step.resources.requests) r.requests = { ...step.resources.requests };
    c.resources = r;
  }
  c.securityContext = stepSecurityContext();
  return c;
}

export interface BuildPodOptions {
  /** Milliseconds left of the run's timeout (becomes activeDeadlineSeconds); undefined = none. */
  readonly remainingMs?: number | undefined;
  /** Extra annotations on the pod (tests use kwok hooks through this). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Require a non-root user (`runAsNonRoot: true`): the namespace enforces Pod Security `restricted`. */
  readonly runAsNonRoot?: boolean;
}

/** Builds the pod; throws InvalidParamsError for missing/unknown params. */
export function buildPod(run: ReadonlyTaskRun, task: ReadonlyTask, opts: BuildPodOptions = {}): Pod {
  const name = run.metadata?.name ?? "";
  const spec = run.spec;
  const params = resolveParams(task.spec?.params, spec?.params);
  const steps = (task.spec?.steps ?? []).map((s) => stepContainer(s, params));
  const main = steps.pop();
  if (!main) throw new Error(`task ${task.metadata?.name} has no steps`);
  const sa = spec?.serviceAccountName;
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podNameFor(name),
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
      ...(steps.length ? { initContainers: steps } : {}),
      containers: [main],
      enableServiceLinks: false,
      // Without a ServiceAccount the pod still runs as the namespace's `default` one: no token of it.
      ...(sa ? { serviceAccountName: sa } : { automountServiceAccountToken: false }),
      securityContext: {
        seccompProfile: { type: "RuntimeDefault" },
        ...(opts.runAsNonRoot ? { runAsNonRoot: true } : {}),
      },
      ...(opts.remainingMs !== undefined
        ? { activeDeadlineSeconds: Math.max(1, Math.ceil(opts.remainingMs / 1000)) }
        : {}),
    },
  };
  return pod;
}

/** Step container names in run order. */
export function stepContainerNames(task: ReadonlyTask): string[] {
  return (task.spec?.steps ?? []).map((s) => stepContainerName(s.name));
}
