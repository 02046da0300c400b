// @minitask/informers — client-go `tools/cache` for TypeScript: a reflector (paginated list + watch, or watch-list
// streaming) that never gives up silently, an indexed cache handing out deep-readonly objects, shared informers with
// per-handler buffers delivering events in order, a factory, typed listers, a mutation cache for read-your-writes,
// and the toolkit's one logger shape.
// biome-ignore-all assist/source/organizeImports: the exports are grouped by topic, several statements per module

// Informers: the shared factory and the one informer type.
export { SharedInformerFactory, type SharedInformerFactoryOptions, type ForResourceOptions } from "./factory.ts";
export { SharedIndexInformer, type SharedIndexInformerOptions, stripManagedFields } from "./informer.ts";
export { newSharedIndexInformer, type NewInformerOptions } from "./informer.ts";

// Event handlers.
export type { ResourceEventHandler, AddEventHandlerOptions } from "./handler-buffers.ts";
export type { HandlerRegistration, HandlerStats } from "./handler-buffers.ts";

// The cache, its keys and indexes, tombstones, listers, label and field selectors.
export type { Store, Indexer, IndexFunc, StoreChange } from "./store.ts";
export { IndexedCache, type IndexedCacheOptions, metaNamespaceIndexFunc, NAMESPACE_INDEX } from "./store.ts";
export { metaNamespaceKeyFunc, splitMetaNamespaceKey, type KeyFunc, type HasMetadata } from "./keys.ts";
export { DeletedFinalStateUnknown, isDeletedFinalStateUnknown, finalStateOf } from "./keys.ts";
export { deletionHandlingMetaNamespaceKeyFunc } from "./keys.ts";
export { newLister, type Lister, type NamespaceLister } from "./lister.ts";
export { type LabelSelector, labelSelectorMatcher, type LabelMatcher, SelectorParseError } from "./selector.ts";
export { labelRequirement, type LabelRequirement, type LabelOperator, labelSelectorString } from "./selector.ts";
export { type FieldSelector, fieldSelectorMatcher, type FieldMatcher, type FieldRequirement } from "./fields.ts";
export { escapeFieldValue, unescapeFieldValue, fieldSelectorString, objectFieldValue } from "./fields.ts";

// Read-your-writes.
export { MutationCache, type MutationCacheOptions, type VersionedObject } from "./mutation-cache.ts";

// The reflector underneath (list + watch of one resource into a sink) and the errors it reports.
export { Reflector, type ReflectorOptions, type ReflectorSink, type ListerWatcher } from "./reflector.ts";
export { type WatchListMode, MissingInitialEventsEndError } from "./reflector.ts";
export { ShortWatchError, UnexpectedObjectError } from "./reflector.ts";
export { ListDecodeError } from "./list-stream.ts";
export type { BackoffOptions } from "./backoff.ts";

// Observation: counters, observer hooks, watch errors.
export type { InformerLabels, InformerCounters, CountedEventType, InformerObserver } from "./observe.ts";
export type { WatchErrorInfo, ReflectorPhase, RecoveryAction } from "./observe.ts";

// Logging: the toolkit's one logger shape (pino's call order), and two loggers.
export { type Logger, type LogFn, type LogFields, consoleLogger, silentLogger } from "./logger.ts";
