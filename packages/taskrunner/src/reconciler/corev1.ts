// The slice of core/v1 Pod the task runner reads and writes, typed as the JSON the apiserver sends
// (timestamps are RFC 3339 strings). @kubernetes/client-node's models turn timestamps into Date objects
// during its own deserialisation, which our undici transport does not do, so they would mistype these.
import type { KubeObject } from "@minitask/client";

export interface KeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: KeySelector;
    configMapKeyRef?: KeySelector;
    fieldRef?: { fieldPath: string };
  };
}

export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface KeyToPath {
  key: string;
  path: string;
}

/** The volume sources a workspace binding can name. */
export interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string | number };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[] };
}

export interface SeccompProfile {
  type: "RuntimeDefault" | "Localhost" | "Unconfined";
  localhostProfile?: string;
}

/** The container securityContext fields the task runner sets. */
export interface SecurityContext {
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: SeccompProfile;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
}

export interface PodSecurityContext {
  seccompProfile?: SeccompProfile;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  workingDir?: string;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  securityContext?: SecurityContext;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  volumeMounts?: VolumeMount[];
  /** `Always` on an init container: a native sidecar. */
  restartPolicy?: "Always";
  terminationMessagePath?: string;
  terminationMessagePolicy?: "File" | "FallbackToLogsOnError";
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}

export interface ContainerStatus {
  name: string;
  state?: ContainerState;
  ready?: boolean;
  restartCount?: number;
  image?: string;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Pod extends KubeObject {
  spec?: {
    restartPolicy?: string;
    initContainers?: Container[];
    containers: Container[];
    serviceAccountName?: string;
    automountServiceAccountToken?: boolean;
    activeDeadlineSeconds?: number;
    nodeName?: string;
    enableServiceLinks?: boolean;
    securityContext?: PodSecurityContext;
    volumes?: Volume[];
    // A TaskRun's podTemplate, passed through (the apiserver validates them).
    nodeSelector?: Record<string, string>;
    tolerations?: Record<string, unknown>[];
    affinity?: Record<string, unknown>;
    imagePullSecrets?: { name: string }[];
    priorityClassName?: string;
    runtimeClassName?: string;
    schedulerName?: string;
  };
  status?: {
    phase?: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: PodCondition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/**
 * The informer transform for our pods: keeps only what the reconciler and the dashboard read (identity,
 * owner, labels, node, container names, phase and container states), so 10,000 cached pods stay small.
 */
export function trimPod(pod: Pod): Pod {
  const m = pod.metadata ?? {};
  const names = (cs: readonly Container[] | undefined) => cs?.map((c) => ({ name: c.name, image: c.image }));
  const states = (cs: readonly ContainerStatus[] | undefined) =>
    cs?.map((c) => ({ name: c.name, ...(c.state ? { state: c.state } : {}) }));
  const s = pod.status;
  const trimmed: Pod = {
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
      ...(m.deletionTimestamp !== undefined ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
      ...(m.ownerReferences !== undefined ? { ownerReferences: m.ownerReferences } : {}),
    },
    spec: {
      ...(pod.spec?.nodeName !== undefined ? { nodeName: pod.spec.nodeName } : {}),
      ...(pod.spec?.initContainers ? { initContainers: names(pod.spec.initContainers) ?? [] } : {}),
      containers: names(pod.spec?.containers) ?? [],
    },
  };
  if (s) {
    trimmed.status = {
      ...(s.phase !== undefined ? { phase: s.phase } : {}),
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      ...(s.message !== undefined ? { message: s.message } : {}),
      ...(s.initContainerStatuses ? { initContainerStatuses: states(s.initContainerStatuses) ?? [] } : {}),
      ...(s.containerStatuses ? { containerStatuses: states(s.containerStatuses) ?? [] } : {}),
    };
  }
  return trimmed;
}
