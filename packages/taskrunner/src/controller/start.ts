// The composition root of minitask-controller, wired explicitly from the primitives: a client, a
// shared informer factory (TaskRuns, Tasks, and only our own Pods), a rate-limited queue fed by event
// handlers, a Controller with N workers, optional leader election, events, metrics and health.
import { builtinResources, KubeClient } from "@minitask/client";
import type { Logger, ShutdownSignals } from "@minitask/controller";
import {
  Controller,
  createRuntimeMetrics,
  defaultIdentity,
  EndpointServer,
  EventRecorder,
  enqueueByIndex,
  enqueueObject,
  enqueueOwner,
  informerLogger,
  informerObserver,
  LeaderElector,
  parseBindAddress,
} from "@minitask/controller";
import { metaNamespaceKeyFunc, newLister, SharedInformerFactory } from "@minitask/informers";
import { GROUP, LABEL_MANAGED_BY, MANAGED_BY, type Task, type TaskRun } from "../contract.ts";
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

export const TASK_REF_INDEX = "spec.taskRef";

export interface ControllerConfig {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Watch one namespace; undefined = all. */
  readonly namespace?: string | undefined;
  readonly workers: number;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly metricsBindAddress: string;
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
  const metrics = createRuntimeMetrics();
  const client = KubeClient.load({ kubeconfig: cfg.kubeconfig, context: cfg.context, observer: metrics.restClient });
  await preflight(client, {
    namespace: cfg.namespace,
    leaderElectionNamespace: cfg.leaderElectionNamespace,
    leaderElection: cfg.leaderElect,
  });
  const identity = defaultIdentity();
  log.info({ server: String(client.transport.server), namespace: cfg.namespace ?? "(all)", identity }, "starting");

  const watchIdleTimeoutMs = cfg.watchIdleTimeoutMs ?? envDuration("MINITASK_WATCH_IDLE_TIMEOUT");
  // Informers get their own client (connection pool): long-lived watches that share a pool with bursts
  // of writes see their events delayed (measured in the informer benchmark).
  const watchClient = KubeClient.load({
    kubeconfig: cfg.kubeconfig,
    context: cfg.context,
    observer: metrics.restClient,
  });
  const factory = new SharedInformerFactory(watchClient, {
    ...(cfg.namespace ? { namespace: cfg.namespace } : {}),
    ...(watchIdleTimeoutMs !== undefined ? { reflector: { watchIdleTimeoutMs } } : {}),
    ...(cfg.watchList !== undefined ? { watchList: cfg.watchList } : {}),
    observer: informerObserver(metrics.informer),
    logger: informerLogger(log.child({ component: "informers" })),
  });
  const taskRunInformer = newTaskRunInformer(factory);
  const taskInformer = newTaskInformer(factory);
  // Only the pods we made: the cache stays small however many other pods the cluster runs.
  const podInformer = factory.forResource<Pod>(builtinResources.pods, {
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
  });
  podInformer.setTransform(trimPod);
  taskRunInformer.addIndexers({
    [TASK_REF_INDEX]: (tr) => (tr.spec?.taskRef ? [`${tr.metadata?.namespace ?? ""}/${tr.spec.taskRef}`] : []),
  });

  const events = new EventRecorder({
    client,
    reportingController: `${GROUP}/taskrun-controller`,
    reportingInstance: identity,
    logger: log,
  });
  const reconciler = new TaskRunReconciler({
    taskRuns: taskRunLister(taskRunInformer),
    tasks: taskLister(taskInformer),
    pods: newLister(podInformer.getIndexer()),
    taskRunClient: taskRunClient(client),
    podClient: client.resource<Pod>(builtinResources.pods),
    events,
    imagePullTimeoutMs: cfg.imagePullTimeoutMs,
    ttlAfterFinishedMs: cfg.ttlAfterFinishedMs,
  });
  const controller = new Controller({
    name: "taskrun",
    reconcile: reconciler.reconcile,
    workers: cfg.workers,
    reconcileTimeoutMs: cfg.reconcileTimeoutMs,
    waitFor: [taskRunInformer, taskInformer, podInformer],
    logger: log,
    metrics: metrics.controller,
    queueMetrics: metrics.workqueue,
  });
  taskRunInformer.addEventHandler(enqueueObject<TaskRun>(controller.queue));
  podInformer.addEventHandler(enqueueOwner<Pod>(controller.queue, { kind: "TaskRun", group: GROUP }));
  taskInformer.addEventHandler(
    enqueueByIndex<Task, TaskRun>(controller.queue, taskRunInformer.getIndexer(), TASK_REF_INDEX, (t) =>
      t.metadata?.name ? `${t.metadata.namespace ?? ""}/${t.metadata.name}` : undefined,
    ),
  );

  let elector: LeaderElector | undefined;
  const servers: EndpointServer[] = [];
  const readyChecks = {
    "informers-synced": () => factory.syncStatus().size > 0 && [...factory.syncStatus().values()].every(Boolean),
    ...(cfg.leaderElect ? { "leader-election": () => elector?.isRunning() ?? false } : {}),
  };
  const debugCaches = cfg.debugCaches ?? process.env.MINITASK_DEBUG_CACHES === "1";
  const cacheView = (inf: {
    getIndexer(): { list(): readonly { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }[] };
  }) =>
    Object.fromEntries(
      inf
        .getIndexer()
        .list()
        .map((o) => [metaNamespaceKeyFunc(o), o.metadata?.resourceVersion ?? ""]),
    );
  const jsonRoutes = debugCaches
    ? {
        "/debug/caches": () => ({
          taskruns: cacheView(taskRunInformer),
          tasks: cacheView(taskInformer),
          pods: cacheView(podInformer),
        }),
      }
    : undefined;
  const metricsAddr = parseBindAddress(cfg.metricsBindAddress);
  const healthAddr = parseBindAddress(cfg.healthProbeBindAddress);
  let metricsPort: number | undefined;
  let healthPort: number | undefined;
  if (metricsAddr && healthAddr && metricsAddr.port === healthAddr.port && metricsAddr.port !== 0) {
    const s = new EndpointServer({ registry: metrics.registry, readyChecks, ...(jsonRoutes ? { jsonRoutes } : {}) });
    servers.push(s);
    metricsPort = healthPort = await s.listen(metricsAddr.host, metricsAddr.port);
  } else {
    if (metricsAddr) {
      const s = new EndpointServer({
        registry: metrics.registry,
        health: false,
        ...(jsonRoutes ? { jsonRoutes } : {}),
      });
      servers.push(s);
      metricsPort = await s.listen(metricsAddr.host, metricsAddr.port);
    }
    if (healthAddr) {
      const s = new EndpointServer({ readyChecks });
      servers.push(s);
      healthPort = await s.listen(healthAddr.host, healthAddr.port);
    }
  }
  log.info({ metricsPort, healthPort }, "serving metrics and health probes");

  let dashboard: Dashboard | undefined;
  let dashboardPort: number | undefined;
  const dashAddr = cfg.dashboardBindAddress ? parseBindAddress(cfg.dashboardBindAddress) : undefined;
  if (dashAddr) {
    // Read-only, but still: a bare ":PORT" means localhost for the dashboard, not every interface.
    const host = cfg.dashboardBindAddress?.trim().startsWith(":") ? "127.0.0.1" : dashAddr.host;
    dashboard = new Dashboard({ taskRuns: taskRunInformer, tasks: taskInformer });
    dashboardPort = await dashboard.listen(host, dashAddr.port);
    log.info({ url: `http://${host.includes(":") ? `[${host}]` : host}:${dashboardPort}/` }, "dashboard listening");
  }

  factory.start();

  const runControllerWhile = async (active: AbortSignal, force: AbortSignal) => {
    await controller.run(active, force);
  };

  const done = (async () => {
    try {
      if (cfg.leaderElect) {
        const lost = new AbortController();
        elector = new LeaderElector({
          client,
          namespace: cfg.leaderElectionNamespace,
          name: cfg.leaderElectionId,
          identity,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: cfg.renewDeadlineMs,
          retryPeriodMs: cfg.retryPeriodMs,
          logger: log,
          metric: metrics.leaderElection,
          onStartedLeading: async (leading) => {
            // Stop taking work the moment leadership ends (before the renew deadline has passed),
            // and cancel in-flight reconciles too: never two active leaders.
            const stop = AbortSignal.any([signals.stop, leading]);
            const force = AbortSignal.any([signals.force, leading]);
            await runControllerWhile(stop, force);
            if (leading.aborted && !signals.stop.aborted) lost.abort();
          },
        });
        await elector.run(signals.stop);
        if (lost.signal.aborted) {
          log.error("leadership lost; exiting so that a fresh process campaigns again");
          signals.trigger("leadership lost");
          process.exitCode = 1;
        }
      } else {
        await runControllerWhile(signals.stop, signals.force);
      }
    } finally {
      await factory.shutdown();
      // Bounded by the shutdown grace period: pending events are dropped when it runs out.
      await events.close(signals.force);
      await Promise.all(servers.map((s) => s.close()));
      await dashboard?.close();
      await client.close();
      await watchClient.close();
      log.info("stopped");
    }
  })();
  return { done, metricsPort, healthPort, dashboardPort, identity, factory, taskRunController: controller };
}
