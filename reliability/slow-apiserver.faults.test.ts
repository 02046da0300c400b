// Scenario 7: a slow apiserver. The suite's proxy delays every chunk the controller sends by 200 ms
// (order kept), so every request — each list, watch, create, status write and lease renewal — takes
// 200 ms longer. Everything must still complete, with nothing duplicated.
import { afterAll, describe, it } from "vitest";
import { runsPerScenario } from "./support/cluster.ts";
import { metricValue } from "./support/controllers.ts";
import { closeScenario, openScenario, type Scenario, secs, teardownScenario } from "./support/scenario.ts";

let s: Scenario | undefined;

afterAll(() => teardownScenario(s));

const LATENCY_MS = 200;

describe("reliability: slow apiserver", () => {
  it(`completes every run with ${LATENCY_MS} ms added to every request`, async () => {
    s = await openScenario("slow-apiserver", { proxy: true });
    const { cluster, fleet, proxy } = s;
    proxy?.setLatency(LATENCY_MS);
    const ns = await cluster.namespace("slow");
    await cluster.createTask(ns, "hello", 2);
    // The event writer lags behind at 200 ms per event; a short grace period keeps the final SIGTERM
    // (which drops the backlog when the grace period ends) quick.
    const c = await fleet.start({ args: ["--shutdown-timeout=10s"] });
    await fleet.ready(c);
    const n = runsPerScenario();
    const started = Date.now();
    await cluster.createRuns(ns, "hello", n);
    const runs = await cluster.waitAllTerminal(ns, n);
    const took = Date.now() - started;
    const text = await fleet.metrics(c);
    const count = metricValue(text, "rest_client_request_duration_seconds_count") ?? 0;
    const sum = metricValue(text, "rest_client_request_duration_seconds_sum") ?? 0;
    const meanMs = count > 0 ? (sum / count) * 1000 : 0;
    await closeScenario(s, {
      label: "7 slow apiserver (+200 ms)",
      namespaces: [ns],
      runs,
      recovery: `+${LATENCY_MS} ms/request (mean ${meanMs.toFixed(0)} ms over ${count}); all done in ${secs(took)}`,
      problems: meanMs >= LATENCY_MS ? [] : [`mean request time ${meanMs.toFixed(0)} ms: the latency was not applied`],
    });
  });
});
