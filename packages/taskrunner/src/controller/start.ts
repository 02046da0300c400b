// The composition root of minitask-controller: a Manager (clients, informers, leader election, probes,
// metrics, ordered shutdown) and one controller built on it — TaskRuns, the Pods they own (only ours),
// and the Tasks they name — whose reconcile is the TaskRunReconciler.
import { builtinResources, type KubeObject } from "@minitask/client";
import {
  type Controller,
  controllerFor,
  LeaderElectionLostError,
  type Logger,
  Manager,
  parseBindAddress,
  type ShutdownSignals,
} from "@minitask/controller";
import { metaNamespaceKeyFunc, newLister, type SharedInformerFactory } from "@minitask/informers";
import { GROUP, LABEL_MANAGED_BY, MANAGED_BY, TaskResource, type TaskRun, TaskRunResource } from "../contract.ts";
import { Dashboard } from "../dashboard/server.ts";
import { parseDuration } from "../duration.ts";
import {
  taskInformer as newTaskInformer,
  taskRunInformer as newTaskRunInformer,
  taskLister,
  taskRunClient,
  taskRunLister,
} from "../generated/minitask.myorg.dev/v1/index.ts";
import { type Pod, trimPod } from "../reconciler/corev1.ts";
import { TaskRunReconciler } from "../reconciler/reconciler.ts";
import { preflight } from "./preflight.ts";

/** The namespace label Pod Security admission enforces. */
const POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce";

/** The TaskRun index of `namespace/taskRef`: which runs a Task wakes. */
export const TASK_REF_INDEX = "spec.taskRef";

/** minitask-controller's settings (its flags, parsed). */
export interface ControllerConfig {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Watch one namespace; undefined = all. */
  readonly namespace?: string | undefined;
  readonly workers: number;
  readonly leaderElect: boolean;
  /**
   * Active-active with this many buckets (`--sharding --shard-buckets N`): the bucket and member Leases live in
   * `leaderElectionNamespace`, named after `leaderElectionId`, with the leader-election timings.
   */
  readonly shardBuckets?: number | undefined;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly metricsBindAddress: string;
  /** HTTPS + TokenReview/SubjectAccessReview on /metrics (see `SecureMetricsOptions`). Default off. */
  readonly metricsSecure?: boolean | undefined;
  /** `tls.crt` + `tls.key` for the secure metrics server; default self-signed. */
  readonly metricsCertDir?: string | undefined;
  readonly healthProbeBindAddress: string;
  readonly shutdownTimeoutMs: number;
  readonly reconcileTimeoutMs: number;
  readonly imagePullTimeoutMs: number;
  readonly ttlAfterFinishedMs?: number | undefined;
  readonly watchList?: boolean | "auto";
  /** Live dashboard address ("0" or undefined: off). A bare ":PORT" binds to 127.0.0.1 only. */
  readonly dashboardBindAddress?: string | undefined;
  /**
   * Informer watchdog: re-open a watch that received no bytes for this long (0 disables). Default: the
   * informers' default (180 s), or the `MINITASK_WATCH_IDLE_TIMEOUT` environment variable (a duration).
   */
  readonly watchIdleTimeoutMs?: number | undefined;
  /**
   * Serve `/debug/caches` (every informer's keys and resource versions, as JSON) on the metrics address.
   * Default: off, or on when the environment has `MINITASK_DEBUG_CACHES=1` (the reliability suite).
   */
  readonly debugCaches?: boolean | undefined;
}

/** A duration from the environment (test and debugging knobs, deliberately not flags). */
function envDuration(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === "") return undefined;
  try {
    return parseDuration(v);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

/** Whether `--dashboard-bind-address` turns the dashboard on ("0" and "" leave it off). */
function dashboardEnabled(addr: string | undefined): boolean {
  return addr !== undefined && parseBindAddress(addr) !== undefined;
}

/** A started controller: its ports, identity, informers and the TaskRun controller. */
export interface RunningController {
  /** Resolves when the controller has shut down cleanly. */
  readonly done: Promise<void>;
  readonly metricsPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly dashboardPort: number | undefined;
  readonly identity: string;
  readonly factory: SharedInformerFactory;
  readonly taskRunController: Controller;
}

/** Starts everything; `signals.stop` begins a graceful shutdown. Throws PreflightError on start-up problems. */
export async function startController(
  cfg: ControllerConfig,
  log: Logger,
  signals: ShutdownSignals,
): Promise<RunningController> {
  const watchIdleTimeoutMs = cfg.watchIdleTimeoutMs ?? envDuration("MINITASK_WATCH_IDLE_TIMEOUT");
  // Only the pods we made: the cache stays small however many other pods the cluster runs.
  const ownPods = { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` };
  const debugCaches = cfg.debugCaches ?? process.env.MINITASK_DEBUG_CACHES === "1";
  const mgr: Manager = new Manager({
    kubeconfig: cfg.kubeconfig,
    context: cfg.context,
    logger: log,
    informers: {
      ...(cfg.namespace ? { namespace: cfg.namespace } : {}),
      ...(watchIdleTimeoutMs !== undefined ? { reflector: { watchIdleTimeoutMs } } : {}),
      ...(cfg.watchList !== undefined ? { watchList: cfg.watchList } : {}),
    },
    leaderElection: cfg.leaderElect
      ? {
          namespace: cfg.leaderElectionNamespace,
          name: cfg.leaderElectionId,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: cfg.renewDeadlineMs,
          retryPeriodMs: cfg.retryPeriodMs,
        }
      : undefined,
    sharding: cfg.shardBuckets
      ? {
          group: cfg.leaderElectionId,
          buckets: cfg.shardBuckets,
          namespace: cfg.leaderElectionNamespace,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: cfg.renewDeadlineMs,
          retryPeriodMs: cfg.retryPeriodMs,
        }
      : undefined,
    metricsBindAddress: cfg.metricsBindAddress,
    ...(cfg.metricsSecure ? { metricsSecure: { certDir: cfg.metricsCertDir } } : {}),
    healthProbeBindAddress: cfg.healthProbeBindAddress,
    ...(debugCaches ? { debugRoutes: { "/debug/caches": () => cacheView() } } : {}),
  });
  await preflight(mgr.client, {
    namespace: cfg.namespace,
    leaderElectionNamespace: cfg.leaderElectionNamespace,
    leaderElection: cfg.leaderElect,
    sharding: cfg.shardBuckets !== undefined,
    metricsSecure: cfg.metricsSecure === true,
    dashboard: dashboardEnabled(cfg.dashboardBindAddress),
  });
  log.info(
    { server: String(mgr.client.transport.server), namespace: cfg.namespace ?? "(all)", identity: mgr.identity },
    "starting",
  );

  const taskRunInformer = newTaskRunInformer(mgr.informers);
  const taskInformer = newTaskInformer(mgr.informers);
  const podInformer = mgr.informers.forResource<Pod>(builtinResources.pods, ownPods);
  // Which namespaces enforce Pod Security `restricted` (their step pods must ask for runAsNonRoot): names and
  // labels only, and only the watched namespace with --namespace.
  const namespaceInformer = mgr.informers.forResource<KubeObject>(
    builtinResources.namespaces,
    cfg.namespace ? { fieldSelector: `metadata.name=${cfg.namespace}` } : {},
  );
  namespaceInformer.setTransform((n) => ({
    metadata: {
      name: n.metadata?.name ?? "",
      labels: n.metadata?.labels ?? {},
      resourceVersion: n.metadata?.resourceVersion ?? "",
    },
  }));
  taskRunInformer.addIndexers({
    [TASK_REF_INDEX]: (tr) => (tr.spec?.taskRef ? [`${tr.metadata?.namespace ?? ""}/${tr.spec.taskRef}`] : []),
  });
  const reconciler = new TaskRunReconciler({
    taskRuns: taskRunLister(taskRunInformer),
    tasks: taskLister(taskInformer),
    pods: newLister(podInformer.getIndexer()),
    taskRunClient: taskRunClient(mgr.client),
    podClient: mgr.client.resource<Pod>(builtinResources.pods),
    events: mgr.eventRecorder(`${GROUP}/taskrun-controller`),
    imagePullTimeoutMs: cfg.imagePullTimeoutMs,
    ttlAfterFinishedMs: cfg.ttlAfterFinishedMs,
    enforcesRestricted: (ns) =>
      namespaceInformer.getIndexer().getByKey(ns)?.metadata?.labels?.[POD_SECURITY_ENFORCE] === "restricted",
  });
  const controller = controllerFor<TaskRun>(mgr, TaskRunResource)
    .owns<Pod>(builtinResources.pods, { ...ownPods, transform: trimPod })
    // A Task wakes the runs that name it (a run waiting for its Task to appear).
    .watches(TaskResource, (task) =>
      task.metadata?.name ? taskRunInformer.getIndexer().indexKeys(TASK_REF_INDEX, metaNamespaceKeyFunc(task)) : [],
    )
    .withOptions({ name: "taskrun", workers: cfg.workers, reconcileTimeoutMs: cfg.reconcileTimeoutMs })
    .complete(reconciler.reconcile);

  const cacheView = () => {
    const view = (inf: {
      getIndexer(): {
        list(): readonly { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }[];
      };
    }) =>
      Object.fromEntries(
        inf
          .getIndexer()
          .list()
          .map((o) => [metaNamespaceKeyFunc(o), o.metadata?.resourceVersion ?? ""]),
      );
    return {
      taskruns: view(taskRunInformer),
      tasks: view(taskInformer),
      pods: view(podInformer),
      namespaces: view(namespaceInformer),
    };
  };

  const { metrics: metricsPort, health: healthPort } = await mgr.listen();
  let dashboard: Dashboard | undefined;
  let dashboardPort: number | undefined;
  const dashAddr = cfg.dashboardBindAddress ? parseBindAddress(cfg.dashboardBindAddress) : undefined;
  if (dashAddr) {
    // Read-only, but still: a bare ":PORT" means localhost for the dashboard, not every interface.
    const host = cfg.dashboardBindAddress?.trim().startsWith(":") ? "127.0.0.1" : dashAddr.host;
    dashboard = new Dashboard({
      taskRuns: taskRunInformer,
      tasks: taskInformer,
      pods: podInformer,
      client: mgr.client,
      allowedHosts: [host],
      logger: log,
    });
    dashboardPort = await dashboard.listen(host, dashAddr.port);
    log.info({ url: `http://${host.includes(":") ? `[${host}]` : host}:${dashboardPort}/` }, "dashboard listening");
  }

  const done = (async () => {
    try {
      await mgr.start(signals.stop, signals.force);
    } catch (err) {
      if (!(err instanceof LeaderElectionLostError)) throw err;
      log.error("leadership lost; exiting so that a fresh process campaigns again");
      signals.trigger("leadership lost");
      process.exitCode = 1;
    } finally {
      await dashboard?.close();
    }
  })();
  return {
    done,
    metricsPort,
    healthPort,
    dashboardPort,
    identity: mgr.identity,
    factory: mgr.informers,
    taskRunController: controller,
  };
}
