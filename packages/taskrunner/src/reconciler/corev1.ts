// The core/v1 types the task runner reads and writes: @minitask/api's (generated from the apiserver's
// OpenAPI), under the names this module has always exported. One difference: a container status needs only
// its `name` here, because `trimPod` keeps just the names and states of the containers in the cache (the
// apiserver always sends `image`, `imageID`, `ready` and `restartCount`).
import type { corev1 } from "@minitask/api";

export type KeySelector = corev1.ConfigMapKeySelector;
export type EnvVar = corev1.EnvVar;
export type EnvFromSource = corev1.EnvFromSource;
export type VolumeMount = corev1.VolumeMount;
export type KeyToPath = corev1.KeyToPath;
export type Volume = corev1.Volume;
export type SeccompProfile = corev1.SeccompProfile;
export type SecurityContext = corev1.SecurityContext;
export type PodSecurityContext = corev1.PodSecurityContext;
export type Container = corev1.Container;
export type ContainerState = corev1.ContainerState;
export type PodCondition = corev1.PodCondition;

/** A container's status as the cache keeps it: `name` and, when known, the rest of `corev1.ContainerStatus`. */
export type ContainerStatus = Pick<corev1.ContainerStatus, "name"> & Partial<corev1.ContainerStatus>;

/** `corev1.PodStatus` with container statuses as the cache keeps them. */
export interface PodStatus extends Omit<corev1.PodStatus, "containerStatuses" | "initContainerStatuses"> {
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
}

/** `corev1.Pod` with container statuses as the cache keeps them. */
export interface Pod extends Omit<corev1.Pod, "status"> {
  status?: PodStatus;
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
