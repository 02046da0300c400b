// Test helpers shared by the workqueue tests (not a test file itself).
import { flushPromises, type GetResult, type MetricsProvider } from "../src/index.ts";

/** Whether `promise` has settled once every pending continuation has run, and with what. */
export async function peek<T>(
  promise: Promise<T>,
): Promise<{ state: "pending" } | { state: "fulfilled"; value: T } | { state: "rejected"; reason: unknown }> {
  let result: { state: "pending" } | { state: "fulfilled"; value: T } | { state: "rejected"; reason: unknown } = {
    state: "pending",
  };
  promise.then(
    (value) => {
      result = { state: "fulfilled", value };
    },
    (reason: unknown) => {
      result = { state: "rejected", reason };
    },
  );
  await flushPromises();
  return result;
}

/** The item of a `get` result, failing the test when the queue reported shutdown. */
export function itemOf<T>(result: GetResult<T>): T {
  if (result.shutdown) throw new Error("expected an item, got shutdown");
  return result.item;
}

/** A metrics provider that records every update, per metric kind and queue name. */
export class RecordingMetrics implements MetricsProvider {
  readonly gauges = new Map<string, number>();
  readonly counters = new Map<string, number>();
  readonly observations = new Map<string, number[]>();

  #gauge(metric: string, name: string) {
    const key = `${metric}{${name}}`;
    return {
      inc: () => this.gauges.set(key, (this.gauges.get(key) ?? 0) + 1),
      dec: () => this.gauges.set(key, (this.gauges.get(key) ?? 0) - 1),
      set: (v: number) => this.gauges.set(key, v),
    };
  }
  #counter(metric: string, name: string) {
    const key = `${metric}{${name}}`;
    return { inc: () => this.counters.set(key, (this.counters.get(key) ?? 0) + 1) };
  }
  #histogram(metric: string, name: string) {
    const key = `${metric}{${name}}`;
    return {
      observe: (v: number) => {
        const list = this.observations.get(key) ?? [];
        list.push(v);
        this.observations.set(key, list);
      },
    };
  }
  newDepthMetric(name: string) {
    return this.#gauge("depth", name);
  }
  newAddsMetric(name: string) {
    return this.#counter("adds_total", name);
  }
  newLatencyMetric(name: string) {
    return this.#histogram("queue_duration_seconds", name);
  }
  newWorkDurationMetric(name: string) {
    return this.#histogram("work_duration_seconds", name);
  }
  newUnfinishedWorkSecondsMetric(name: string) {
    return this.#gauge("unfinished_work_seconds", name);
  }
  newLongestRunningProcessorSecondsMetric(name: string) {
    return this.#gauge("longest_running_processor_seconds", name);
  }
  newRetriesMetric(name: string) {
    return this.#counter("retries_total", name);
  }
}
