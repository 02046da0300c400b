// @minitask/workqueue — client-go `util/workqueue` semantics for TypeScript: a deduplicating work queue that never
// hands one key to two workers at once, delayed and rate-limited adds, rate limiters, metrics hooks and an
// injectable clock. No Kubernetes knowledge and no runtime dependencies.
// biome-ignore-all assist/source/organizeImports: the exports are grouped by topic, several statements per module

// Queues: plain, delaying, rate-limiting and priority, and their constructors.
export { WorkQueue, type Queue, type QueueOptions, type AddOptions, type GetResult } from "./queue.ts";
export type { KeyFunction, DelayingQueue } from "./queue.ts";
export { DelayingWorkQueue } from "./delaying.ts";
export { RateLimitingWorkQueue, type RateLimitingQueue, type RateLimitingQueueOptions } from "./rate-limiting.ts";
export { newQueue, newDelayingQueue, newRateLimitingQueue, newPriorityQueue } from "./rate-limiting.ts";
export { type PriorityQueue, isRateLimitingQueue } from "./rate-limiting.ts";

// Workers.
export { runWorkers, type RunWorkersOptions, type WorkHandler } from "./workers.ts";

// Rate limiters (client-go's), with their defaults.
export type { RateLimiter, ItemRateLimiterOptions } from "./rate-limiters.ts";
export { ItemExponentialFailureRateLimiter, newItemExponentialFailureRateLimiter } from "./rate-limiters.ts";
export { BucketRateLimiter, newBucketRateLimiter } from "./rate-limiters.ts";
export { ItemFastSlowRateLimiter, newItemFastSlowRateLimiter } from "./rate-limiters.ts";
export { MaxOfRateLimiter, newMaxOfRateLimiter } from "./rate-limiters.ts";
export { WithMaxWaitRateLimiter, newWithMaxWaitRateLimiter } from "./rate-limiters.ts";
export { defaultControllerRateLimiter, type DefaultControllerRateLimiterOptions } from "./rate-limiters.ts";
export { defaultItemBasedRateLimiter } from "./rate-limiters.ts";
export { DEFAULT_BASE_DELAY_MS, DEFAULT_MAX_DELAY_MS, DEFAULT_QPS, DEFAULT_BURST } from "./rate-limiters.ts";

// Metrics hooks (client-go's workqueue_* metrics).
export { type MetricsProvider, WORKQUEUE_METRICS, UNFINISHED_WORK_UPDATE_PERIOD_MS } from "./metrics.ts";
export type { MetricDescriptor, MetricKind } from "./metrics.ts";
export type { CounterMetric, GaugeMetric, SettableGaugeMetric, HistogramMetric } from "./metrics.ts";

// The one injectable clock of the toolkit.
export { type Clock, type Timer, realClock, FakeClock, sleep, flushPromises } from "./clock.ts";
