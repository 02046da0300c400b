import { describe, expect, it } from "vitest";
import {
  FakeClock,
  newDelayingQueue,
  newQueue,
  UNFINISHED_WORK_UPDATE_PERIOD_MS,
  WORKQUEUE_METRICS,
} from "../src/index.ts";
import { itemOf, RecordingMetrics } from "./helpers.ts";

describe("workqueue metrics", () => {
  it("exposes client-go's metric names with the label `name`", () => {
    expect(WORKQUEUE_METRICS.map((m) => m.name)).toEqual([
      "workqueue_depth",
      "workqueue_adds_total",
      "workqueue_queue_duration_seconds",
      "workqueue_work_duration_seconds",
      "workqueue_unfinished_work_seconds",
      "workqueue_longest_running_processor_seconds",
      "workqueue_retries_total",
    ]);
    for (const m of WORKQUEUE_METRICS) expect(m.labels).toEqual(["name"]);
    expect(WORKQUEUE_METRICS.filter((m) => m.kind === "histogram").map((m) => m.buckets?.length)).toEqual([10, 10]);
  });

  it("records depth, adds, queue latency and work duration", async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = newQueue<string>({ name: "test", metricsProvider: metrics, clock });
    q.add("a");
    q.add("a"); // collapsed: not counted
    q.add("b");
    expect(metrics.counters.get("adds_total{test}")).toBe(2);
    expect(metrics.gauges.get("depth{test}")).toBe(2);
    clock.advance(250);
    const a = itemOf(await q.get());
    expect(metrics.gauges.get("depth{test}")).toBe(1);
    expect(metrics.observations.get("queue_duration_seconds{test}")).toEqual([0.25]);
    clock.advance(1500);
    q.done(a);
    expect(metrics.observations.get("work_duration_seconds{test}")).toEqual([1.5]);
    // Re-added while processing counts as an add (client-go counts it in depth too).
    const b = itemOf(await q.get());
    q.add(b);
    expect(metrics.counters.get("adds_total{test}")).toBe(3);
    expect(metrics.gauges.get("depth{test}")).toBe(1);
    q.shutDown();
  });

  it("refreshes unfinished work and the longest running processor periodically", async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = newQueue<string>({ name: "q", metricsProvider: metrics, clock });
    q.add("a");
    q.add("b");
    await q.get();
    clock.advance(1000);
    await q.get();
    clock.advance(1000);
    // a has run 2 s, b 1 s (refreshed every 500 ms).
    expect(metrics.gauges.get("unfinished_work_seconds{q}")).toBeCloseTo(3);
    expect(metrics.gauges.get("longest_running_processor_seconds{q}")).toBeCloseTo(2);
    q.done("a");
    q.done("b");
    clock.advance(UNFINISHED_WORK_UPDATE_PERIOD_MS);
    expect(metrics.gauges.get("unfinished_work_seconds{q}")).toBe(0);
    q.shutDown();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("counts retries for every addAfter while running", () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = newDelayingQueue<string>({ name: "d", metricsProvider: metrics, clock });
    q.addAfter("a", 10);
    q.addAfter("a", 0);
    q.addAfter("b", 5);
    expect(metrics.counters.get("retries_total{d}")).toBe(3);
    q.shutDown();
    q.addAfter("c", 5);
    expect(metrics.counters.get("retries_total{d}")).toBe(3);
  });

  it("records nothing without a name, like client-go", () => {
    const metrics = new RecordingMetrics();
    const clock = new FakeClock();
    const q = newQueue<string>({ metricsProvider: metrics, clock });
    q.add("a");
    expect(metrics.counters.size).toBe(0);
    expect(metrics.gauges.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
