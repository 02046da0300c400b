// Metrics in client-go's shape: the queue asks a provider for one metric object per series (label `name` = the
// queue's name) and pushes updates into it. This package depends on no metrics library; the controller package
// adapts a provider to prom-client using the names below.

/** A gauge that goes up and down by one. */
export interface GaugeMetric {
  inc(): void;
  dec(): void;
}

/** A gauge set to an absolute value. */
export interface SettableGaugeMetric {
  set(value: number): void;
}

/** A monotonically increasing counter. */
export interface CounterMetric {
  inc(): void;
}

/** A distribution of observed values (seconds, for the queue). */
export interface HistogramMetric {
  observe(value: number): void;
}

/** Creates the metric objects of one named queue (client-go's `workqueue.MetricsProvider`). */
export interface MetricsProvider {
  /** `workqueue_depth`: items waiting to be processed (added and not yet handed out). */
  newDepthMetric(name: string): GaugeMetric;
  /** `workqueue_adds_total`: adds that were not collapsed into an item already waiting. */
  newAddsMetric(name: string): CounterMetric;
  /** `workqueue_queue_duration_seconds`: time from add to get. */
  newLatencyMetric(name: string): HistogramMetric;
  /** `workqueue_work_duration_seconds`: time from get to done. */
  newWorkDurationMetric(name: string): HistogramMetric;
  /** `workqueue_unfinished_work_seconds`: summed age of all in-progress items, refreshed periodically. */
  newUnfinishedWorkSecondsMetric(name: string): SettableGaugeMetric;
  /** `workqueue_longest_running_processor_seconds`: age of the oldest in-progress item, refreshed periodically. */
  newLongestRunningProcessorSecondsMetric(name: string): SettableGaugeMetric;
  /** `workqueue_retries_total`: calls of `addAfter`/`addRateLimited` while the queue is running. */
  newRetriesMetric(name: string): CounterMetric;
}

/** The kind of a metric series, for adapters that register them. */
export type MetricKind = "gauge" | "counter" | "histogram";

/** Describes one workqueue metric as client-go / component-base registers it. */
export interface MetricDescriptor {
  /** Full Prometheus name, e.g. `workqueue_depth`. */
  readonly name: string;
  readonly kind: MetricKind;
  readonly help: string;
  /** Label names; always `["name"]`. */
  readonly labels: readonly string[];
  /** Histogram buckets in seconds (histograms only). */
  readonly buckets?: readonly number[];
  /** The {@link MetricsProvider} method that creates this metric. */
  readonly providerMethod: keyof MetricsProvider;
}

/** Prometheus subsystem of every workqueue metric. */
export const WORKQUEUE_SUBSYSTEM = "workqueue";

// component-base uses ExponentialBuckets(10e-9, 10, 10): 1e-8 s .. 10 s.
const durationBuckets: readonly number[] = Object.freeze(Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i));

/** The seven workqueue metrics, with client-go's names, help texts and buckets. */
export const WORKQUEUE_METRICS: readonly MetricDescriptor[] = Object.freeze([
  {
    name: "workqueue_depth",
    kind: "gauge",
    help: "Current depth of workqueue",
    labels: ["name"],
    providerMethod: "newDepthMetric",
  },
  {
    name: "workqueue_adds_total",
    kind: "counter",
    help: "Total number of adds handled by workqueue",
    labels: ["name"],
    providerMethod: "newAddsMetric",
  },
  {
    name: "workqueue_queue_duration_seconds",
    kind: "histogram",
    help: "How long in seconds an item stays in workqueue before being requested.",
    labels: ["name"],
    buckets: durationBuckets,
    providerMethod: "newLatencyMetric",
  },
  {
    name: "workqueue_work_duration_seconds",
    kind: "histogram",
    help: "How long in seconds processing an item from workqueue takes.",
    labels: ["name"],
    buckets: durationBuckets,
    providerMethod: "newWorkDurationMetric",
  },
  {
    name: "workqueue_unfinished_work_seconds",
    kind: "gauge",
    help:
      "How many seconds of work has done that is in progress and hasn't been observed by work_duration. " +
      "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate " +
      "at which this increases.",
    labels: ["name"],
    providerMethod: "newUnfinishedWorkSecondsMetric",
  },
  {
    name: "workqueue_longest_running_processor_seconds",
    kind: "gauge",
    help: "How many seconds has the longest running processor for workqueue been running.",
    labels: ["name"],
    providerMethod: "newLongestRunningProcessorSecondsMetric",
  },
  {
    name: "workqueue_retries_total",
    kind: "counter",
    help: "Total number of retries handled by workqueue",
    labels: ["name"],
    providerMethod: "newRetriesMetric",
  },
] satisfies MetricDescriptor[]);

/** How often the unfinished-work gauges are refreshed (client-go: 500 ms). */
export const UNFINISHED_WORK_UPDATE_PERIOD_MS = 500;

/** @internal The metric objects of one queue; absent (null) when the queue has no name or no provider. */
export interface QueueMetrics {
  readonly depth: GaugeMetric;
  readonly adds: CounterMetric;
  readonly latency: HistogramMetric;
  readonly workDuration: HistogramMetric;
  readonly unfinishedWork: SettableGaugeMetric;
  readonly longestRunning: SettableGaugeMetric;
  readonly retries: CounterMetric;
}

/** @internal */
export function createQueueMetrics(provider: MetricsProvider | undefined, name: string): QueueMetrics | null {
  if (provider === undefined || name === "") return null;
  return {
    depth: provider.newDepthMetric(name),
    adds: provider.newAddsMetric(name),
    latency: provider.newLatencyMetric(name),
    workDuration: provider.newWorkDurationMetric(name),
    unfinishedWork: provider.newUnfinishedWorkSecondsMetric(name),
    longestRunning: provider.newLongestRunningProcessorSecondsMetric(name),
    retries: provider.newRetriesMetric(name),
  };
}
