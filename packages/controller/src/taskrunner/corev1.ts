// The slice of core/v1 Pod the task runner reads and writes, typed as the JSON the apiserver sends
// (timestamps are RFC 3339 strings). @kubernetes/client-node's models turn timestamps into Date objects
// during its own deserialisation, which our undici transport does not do, so they would mistype these.
import type { KubeObject } from "@minitask/client";

export interface EnvVar {
  name: string;
  value?: string;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  workingDir?: string;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  securityContext?: Record<string, unknown>;
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
