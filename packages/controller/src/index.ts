// @minitask/controller — the controller runtime: worker-loop controllers over rate-limited work queues,
// a Manager that runs them (informers, leader election, probes, metrics, ordered shutdown), a builder
// that wires their watches, predicates, finalizers, events, metrics and shutdown signals.
// biome-ignore-all assist/source/organizeImports: the exports are grouped by topic, several statements per module

// The Manager and the builder.
export { Manager, type ManagerOptions, type Runnable, type LeaderElectionConfig } from "./manager.ts";
export type { SecureMetricsOptions } from "./manager.ts";
export { LeaderElectionLostError, type ShardingConfig } from "./manager.ts";
export { controllerFor, ControllerBuilder, type BuilderControllerOptions, type WatchOptions } from "./builder.ts";
export { objectKey } from "./builder.ts";

// Controllers and the reconcile contract.
export { Controller, type ControllerOptions, type Syncable } from "./controller.ts";
export type { ReconcileFunc, ReconcileContext, Result } from "./controller.ts";
export { TerminalError, ReconcileTimeoutError } from "./controller.ts";

// Event handlers that enqueue keys, and predicates that filter events.
export { enqueueObject, enqueueOwner, enqueueByIndex, enqueueMapped, controllerOwnerKey } from "./enqueue.ts";
export { unwrapTombstone, type KeyMapper, type KeySink, type OwnerMatch } from "./enqueue.ts";
export { type Predicate, predicate, and, or, not, filterEvents } from "./predicates.ts";
export { generationChanged, labelsChanged, annotationsChanged, resourceVersionChanged } from "./predicates.ts";

// Finalizers.
export { reconcileFinalizer, addFinalizer, removeFinalizer, hasFinalizer } from "./finalizers.ts";
export type { FinalizerClient, FinalizerOptions, FinalizerOutcome } from "./finalizers.ts";

// Leader election and events.
export { LeaderElector, type LeaderElectionOptions, defaultIdentity } from "./leaderelection.ts";
export { type Lease, type LeaseClient, microTime } from "./leaderelection.ts";
export { EventRecorder, type EventRecorderOptions, type EventType, type EventV1 } from "./events.ts";

// Sharding: active-active replicas over bucket Leases.
export { ShardCoordinator, type ShardingOptions, type ShardListener, type ShardLeaseClient } from "./sharding.ts";
export { bucketOf, planShards, shareOf, type ShardView, type ShardPlan, type ShardMetrics } from "./sharding.ts";
export { SHARD_GROUP_LABEL, SHARD_ROLE_LABEL } from "./sharding.ts";

// Metrics, probes and the endpoint server.
export { createRuntimeMetrics, type RuntimeMetrics, type RuntimeMetricsOptions, informerObserver } from "./metrics.ts";
export type { ControllerMetrics, InformerMetrics, ReconcileResultLabel } from "./metrics.ts";
export { EndpointServer, type EndpointsOptions, type HealthCheck, parseBindAddress } from "./server.ts";
export { RequestAuthorizer, type RequestAuthorizerOptions, apiserverReviews } from "./metrics-auth.ts";
export type { AccessReviews, AccessDecision, UserInfo } from "./metrics-auth.ts";
export { readServingCertificate, selfSignedCertificate, type ServingCertificate } from "./serving-cert.ts";

// Logging (the toolkit's one logger shape, from @minitask/informers) and shutdown signals.
export { type Logger, type LogFn, type LogFields, silentLogger } from "./logging.ts";
export { createLogger, type LoggerOptions, LOG_LEVELS, parseLogLevel } from "./logging.ts";
export { handleShutdownSignals, type ShutdownOptions, type ShutdownSignals } from "./signals.ts";
