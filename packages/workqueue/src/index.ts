// @minitask/workqueue — client-go `util/workqueue` semantics for TypeScript: a deduplicating work queue that never
// hands one key to two workers at once, delayed and rate-limited adds, rate limiters, metrics hooks and an
// injectable clock. No Kubernetes knowledge and no runtime dependencies.

export { type Clock, FakeClock, flushPromises, realClock, sleep, type Timer } from "./clock.ts";
export { DelayingWorkQueue } from "./delaying.ts";
export {
  type CounterMetric,
  type GaugeMetric,
  type HistogramMetric,
  type MetricDescriptor,
  type MetricKind,
  type MetricsProvider,
  type SettableGaugeMetric,
  UNFINISHED_WORK_UPDATE_PERIOD_MS,
  WORKQUEUE_METRICS,
} from "./metrics.ts";
export {
  type AddOptions,
  type DelayingQueue,
  type GetResult,
  type KeyFunction,
  type Queue,
  type QueueOptions,
  WorkQueue,
} from "./queue.ts";
export {
  BucketRateLimiter,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_BURST,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_QPS,
  type DefaultControllerRateLimiterOptions,
  defaultControllerRateLimiter,
  defaultItemBasedRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  type ItemRateLimiterOptions,
  MaxOfRateLimiter,
  newBucketRateLimiter,
  newItemExponentialFailureRateLimiter,
  newItemFastSlowRateLimiter,
  newMaxOfRateLimiter,
  newWithMaxWaitRateLimiter,
  type RateLimiter,
  WithMaxWaitRateLimiter,
} from "./rate-limiters.ts";
export {
  isRateLimitingQueue,
  newDelayingQueue,
  newPriorityQueue,
  newQueue,
  newRateLimitingQueue,
  type PriorityQueue,
  type RateLimitingQueue,
  type RateLimitingQueueOptions,
  RateLimitingWorkQueue,
} from "./rate-limiting.ts";
export { type RunWorkersOptions, runWorkers, type WorkHandler } from "./workers.ts";
