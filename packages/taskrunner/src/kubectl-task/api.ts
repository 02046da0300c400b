// The plugin's view of the API: the generated Task/TaskRun models and clients, the few core resources it
// reads (pods, events), and the client built from the global flags.
import { builtinResources, type KubeClient, type KubeObject, type ResourceClient } from "@minitask/client";
import {
  type TaskClient,
  type TaskRunClient,
  type TaskRunSpecParam,
  type TaskSpecParam,
  taskClient,
  taskRunClient,
} from "../generated/minitask.myorg.dev/v1/index.ts";

export type TaskParam = TaskSpecParam;
export type RunParam = TaskRunSpecParam;

/** The state of one container of a Pod (core/v1 ContainerState), as far as the plugin shows it. */
export interface ContainerState {
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
  waiting?: { reason?: string; message?: string };
}

/** A container's status in a Pod (core/v1 ContainerStatus), the fields the plugin reads. */
export interface ContainerStatus {
  name: string;
  state?: ContainerState;
  restartCount?: number;
}

/** The slice of a Pod the plugin reads. */
export interface Pod extends KubeObject {
  spec?: {
    initContainers?: { name: string; image?: string }[];
    containers?: { name: string; image?: string }[];
  };
  status?: { phase?: string; initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
}

/** A core/v1 Event (what `kubectl describe` lists). */
export interface CoreEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string };
}

/** Typed handles on the resources of one namespace (or all namespaces when `namespace` is undefined). */
export class Api {
  readonly client: KubeClient;
  readonly namespace: string;

  constructor(client: KubeClient, namespace: string) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Tasks of the namespace (or of every namespace, for list/watch). */
  tasks(allNamespaces = false): TaskClient {
    return taskClient(this.client, allNamespaces ? undefined : this.namespace);
  }

  /** TaskRuns of the namespace (or of every namespace, for list/watch). */
  taskRuns(allNamespaces = false): TaskRunClient {
    return taskRunClient(this.client, allNamespaces ? undefined : this.namespace);
  }

  pods(): ResourceClient<Pod> {
    return this.client.resource<Pod>(builtinResources.pods, this.namespace);
  }

  events(): ResourceClient<CoreEvent> {
    return this.client.resource<CoreEvent>(builtinResources.events, this.namespace);
  }
}
