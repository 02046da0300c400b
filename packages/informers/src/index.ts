// @minitask/informers — client-go `tools/cache` for TypeScript: a reflector (paginated list + watch, or watch-list
// streaming) that never gives up silently, an indexed cache handing out deep-readonly objects, shared informers with
// per-handler buffers delivering events in order, a factory, typed listers, a mutation cache for read-your-writes,
// and the toolkit's one logger shape.

export type { BackoffOptions } from "./backoff.ts";
export { type ForResourceOptions, SharedInformerFactory, type SharedInformerFactoryOptions } from "./factory.ts";
export type {
  AddEventHandlerOptions,
  HandlerRegistration,
  HandlerStats,
  ResourceEventHandler,
} from "./handler-buffers.ts";
export {
  type NewInformerOptions,
  newSharedIndexInformer,
  SharedIndexInformer,
  type SharedIndexInformerOptions,
  stripManagedFields,
} from "./informer.ts";
export {
  DeletedFinalStateUnknown,
  deletionHandlingMetaNamespaceKeyFunc,
  finalStateOf,
  type HasMetadata,
  isDeletedFinalStateUnknown,
  type KeyFunc,
  metaNamespaceKeyFunc,
  splitMetaNamespaceKey,
} from "./keys.ts";
export { ListDecodeError } from "./list-stream.ts";
export { type Lister, type NamespaceLister, newLister } from "./lister.ts";
export { consoleLogger, type LogFields, type LogFn, type Logger, silentLogger } from "./logger.ts";
export { MutationCache, type MutationCacheOptions, type VersionedObject } from "./mutation-cache.ts";
export type {
  CountedEventType,
  InformerCounters,
  InformerLabels,
  InformerObserver,
  RecoveryAction,
  ReflectorPhase,
  WatchErrorInfo,
} from "./observe.ts";
export {
  type ListerWatcher,
  MissingInitialEventsEndError,
  Reflector,
  type ReflectorOptions,
  type ReflectorSink,
  ShortWatchError,
  UnexpectedObjectError,
  type WatchListMode,
} from "./reflector.ts";
export { type LabelMatcher, type LabelSelector, labelSelectorMatcher, SelectorParseError } from "./selector.ts";
export {
  IndexedCache,
  type IndexedCacheOptions,
  type Indexer,
  type IndexFunc,
  metaNamespaceIndexFunc,
  NAMESPACE_INDEX,
  type Store,
  type StoreChange,
} from "./store.ts";
