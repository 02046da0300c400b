// Scenario 6: apiserver throttling. The apiserver runs with API priority and fairness off and tight
// classic inflight limits, so it answers 429 TooManyRequests (with Retry-After) when busy. The
// controller authenticates as the deploy/ ServiceAccount (the admin certificate is in system:masters,
// which the inflight limits exempt). It must see 429s, back off, and still finish every run.
import { afterAll, describe, it } from "vitest";
import { runsPerScenario } from "./support/cluster.ts";
import { metricValue } from "./support/controllers.ts";
import { closeScenario, openScenario, type Scenario, teardownScenario } from "./support/scenario.ts";

let s: Scenario | undefined;

afterAll(() => teardownScenario(s));

const READONLY_INFLIGHT = Number(process.env.RELIABILITY_THROTTLE_READONLY ?? 4);
const MUTATING_INFLIGHT = Number(process.env.RELIABILITY_THROTTLE_MUTATING ?? 1);

describe("reliability: apiserver throttling", () => {
  it("backs off on 429s and finishes every run", async () => {
    s = await openScenario("throttling", {
      apiserverArgs: [
        "--enable-priority-and-fairness=false",
        `--max-requests-inflight=${READONLY_INFLIGHT}`,
        `--max-mutating-requests-inflight=${MUTATING_INFLIGHT}`,
      ],
      serviceAccount: true,
    });
    const { cluster, fleet } = s;
    const ns = await cluster.namespace("throttle");
    await cluster.createTask(ns, "hello", 2);
    const c = await fleet.start({ args: ["--workers=8"] });
    await fleet.ready(c);
    const n = runsPerScenario();
    const started = Date.now();
    await cluster.createRuns(ns, "hello", n, { concurrency: 32 });
    const runs = await cluster.waitAllTerminal(ns, n);
    const took = Date.now() - started;
    const text = await fleet.metrics(c);
    const throttled = metricValue(text, "rest_client_requests_total", { code: "429" }) ?? 0;
    const retries = metricValue(text, "rest_client_request_retries_total") ?? 0;
    const errors =
      metricValue(text, "controller_runtime_reconcile_total", { controller: "taskrun", result: "error" }) ?? 0;
    await closeScenario(s, {
      label: "6 apiserver throttling (429)",
      namespaces: [ns],
      runs,
      recovery: `${throttled} × 429, ${retries} retries, ${errors} failed reconciles; all done in ${(took / 1000).toFixed(1)} s`,
      problems: throttled > 0 ? [] : ["the controller never saw a 429: the limits are not tight enough"],
    });
  });
});
