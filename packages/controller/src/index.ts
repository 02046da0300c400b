export {
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  type ReconcileFunc,
  ReconcileTimeoutError,
  type Result,
  type Syncable,
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
  defaultIdentity,
  type LeaderElectionOptions,
  LeaderElector,
  type Lease,
  microTime,
} from "./leaderelection.ts";
export { createLogger, LOG_LEVELS, type Logger, type LoggerOptions, parseLogLevel, silentLogger } from "./logging.ts";
export {
  type ControllerMetrics,
  createRuntimeMetrics,
  type InformerMetrics,
  informerLogger,
  informerObserver,
  type ReconcileResultLabel,
  type RuntimeMetrics,
  type RuntimeMetricsOptions,
} from "./metrics.ts";
export { EndpointServer, type EndpointsOptions, type HealthCheck, parseBindAddress } from "./server.ts";
export { handleShutdownSignals, type ShutdownOptions, type ShutdownSignals } from "./signals.ts";
