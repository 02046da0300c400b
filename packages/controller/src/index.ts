// @minitask/controller — the controller runtime: worker-loop controllers over rate-limited work queues,
// a Manager that runs them (informers, leader election, probes, metrics, ordered shutdown), a builder
// that wires their watches, predicates, finalizers, events, metrics and shutdown signals.
export {
  type BuilderControllerOptions,
  ControllerBuilder,
  controllerFor,
  objectKey,
  type WatchOptions,
} from "./builder.ts";
export {
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileFunc,
  ReconcileTimeoutError,
  type Result,
  type Syncable,
  TerminalError,
} from "./controller.ts";
export {
  controllerOwnerKey,
  enqueueByIndex,
  enqueueMapped,
  enqueueObject,
  enqueueOwner,
  type KeyMapper,
  type KeySink,
  type OwnerMatch,
  unwrapTombstone,
} from "./enqueue.ts";
export { EventRecorder, type EventRecorderOptions, type EventType, type EventV1 } from "./events.ts";
export {
  addFinalizer,
  type FinalizerClient,
  type FinalizerOptions,
  type FinalizerOutcome,
  hasFinalizer,
  reconcileFinalizer,
  removeFinalizer,
} from "./finalizers.ts";
export {
  defaultIdentity,
  type LeaderElectionOptions,
  LeaderElector,
  type Lease,
  type LeaseClient,
  microTime,
} from "./leaderelection.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type LogFn,
  type Logger,
  type LoggerOptions,
  parseLogLevel,
  silentLogger,
} from "./logging.ts";
export {
  type LeaderElectionConfig,
  LeaderElectionLostError,
  Manager,
  type ManagerOptions,
  type Runnable,
} from "./manager.ts";
export {
  type ControllerMetrics,
  createRuntimeMetrics,
  type InformerMetrics,
  informerObserver,
  type ReconcileResultLabel,
  type RuntimeMetrics,
  type RuntimeMetricsOptions,
} from "./metrics.ts";
export {
  and,
  annotationsChanged,
  filterEvents,
  generationChanged,
  labelsChanged,
  not,
  or,
  type Predicate,
  predicate,
  resourceVersionChanged,
} from "./predicates.ts";
export { EndpointServer, type EndpointsOptions, type HealthCheck, parseBindAddress } from "./server.ts";
export { handleShutdownSignals, type ShutdownOptions, type ShutdownSignals } from "./signals.ts";
