// Scenario 3: cut and half-open connections between the controller and the apiserver, through the
// suite's TCP proxy (one control plane for the file; each case has its own namespace, proxy, recorder
// and controller).
//  - drop: every connection is reset, five times, while TaskRuns are in flight;
//  - stall: every open connection turns half-open for good (bytes accepted, nothing forwarded, in
//    either direction); new connections work. Nothing tells the controller: its watchdog
//    (MINITASK_WATCH_IDLE_TIMEOUT, 10 s here instead of the 180 s default) and request timeouts must.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, runsPerScenario } from "./support/cluster.ts";
import type { Replica } from "./support/controllers.ts";
import {
  closeScenario,
  INFORMER_RESOURCES,
  informerCounts,
  openScenario,
  type Scenario,
  secs,
  teardownScenario,
} from "./support/scenario.ts";

let cluster: Cluster | undefined;
const scenarios: Scenario[] = [];

beforeAll(async () => {
  cluster = await Cluster.start("connections");
});

afterAll(async () => {
  for (const s of scenarios) await teardownScenario(s);
  await cluster?.close();
});

/**
 * The time at which every informer of `r` has started a watch beyond `before` (undefined if they have
 * not within `timeoutMs`).
 */
async function watchesResumed(
  s: Scenario,
  r: Replica,
  before: Record<string, number>,
  timeoutMs: number,
): Promise<number | undefined> {
  const until = Date.now() + timeoutMs;
  const at: Record<string, number> = {};
  while (Object.keys(at).length < INFORMER_RESOURCES.length && Date.now() < until) {
    const now = await informerCounts(s, r, "informer_watches_total");
    for (const res of INFORMER_RESOURCES) {
      if (at[res] === undefined && (now[res] ?? 0) > (before[res] ?? 0)) at[res] = Date.now();
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return Object.keys(at).length === INFORMER_RESOURCES.length ? Math.max(...Object.values(at)) : undefined;
}

/**
 * Bound on resuming the watches after the last of five resets: the reflector's backoff doubles with
 * every failure in a row (0.8 s, 1.6 s, … with up to 100 % jitter, capped at 30 s), so the fifth
 * failure waits 12.8–25.6 s. A hung connection (60 s headers timeout) is well beyond.
 */
const RESET_RECOVERY_MS = 35_000;

describe("reliability: cut and half-open connections", () => {
  it("drop: five resets of every connection mid-run lose, duplicate and regress nothing", async () => {
    const s = await openScenario("connections-drop", { cluster, proxy: true });
    scenarios.push(s);
    const { recorder, fleet, proxy } = s;
    const c = s.cluster;
    const ns = await c.namespace("drop");
    await c.createTask(ns, "hello", 2);
    const r = await fleet.start();
    await fleet.ready(r);
    const n = runsPerScenario();
    await c.createRuns(ns, "hello", n);
    await recorder.waitFor("a quarter of the pods", () => recorder.podCreations >= n / 4);
    let dropped = 0;
    let before: Record<string, number> = {};
    let lastDrop = 0;
    for (let i = 0; i < 5; i++) {
      before = await informerCounts(s, r, "informer_watches_total");
      dropped += proxy?.dropAll() ?? 0;
      lastDrop = Date.now();
      await new Promise((res) => setTimeout(res, 2_000));
    }
    const resumedAt = await watchesResumed(s, r, before, 120_000);
    const recoveryMs = resumedAt === undefined ? undefined : Math.max(0, resumedAt - lastDrop);
    const runs = await c.waitAllTerminal(ns, n);
    await closeScenario(s, {
      namespaces: [ns],
      runs,
      recovery: `${dropped} conns reset; last reset→watching ${recoveryMs === undefined ? "> 120 s" : secs(recoveryMs)}`,
    });
    expect(dropped).toBeGreaterThanOrEqual(5);
    // Fails today (see docs/reliability.md, "Known problems"): the client negotiates HTTP/2 (undici's
    // default, although `allowH2` is documented as off), and undici does not always notice that the one
    // HTTP/2 connection was reset: every request and watch then hangs until the 60 s headers timeout.
    expect(recoveryMs, "time from the last reset until every informer watches again").toBeLessThanOrEqual(
      RESET_RECOVERY_MS,
    );
  });

  it("stall: half-open connections are abandoned (watchdog, timeouts) and everything completes", async () => {
    const s = await openScenario("connections-stall", {
      cluster,
      proxy: true,
      controllers: { env: { MINITASK_WATCH_IDLE_TIMEOUT: "10s" }, args: ["--reconcile-timeout=15s"] },
    });
    scenarios.push(s);
    const { recorder, fleet, proxy } = s;
    const c = s.cluster;
    const ns = await c.namespace("stall");
    await c.createTask(ns, "hello", 2);
    const r = await fleet.start();
    await fleet.ready(r);
    const n = runsPerScenario();
    await c.createRuns(ns, "hello", n);
    await recorder.waitFor("a quarter of the pods", () => recorder.podCreations >= n / 4);
    const before = await informerCounts(s, r, "informer_watches_total");
    const errorsBefore = await informerCounts(s, r, "informer_watch_errors_total");
    proxy?.stall();
    const stalledAt = Date.now();
    proxy?.unstall(); // the connections open now stay stalled for good; new ones work
    const resumedAt = (await watchesResumed(s, r, before, 180_000)) ?? Number.NaN;
    expect(resumedAt, "every informer watching again after the stall").not.toBeNaN();
    const errors = await informerCounts(s, r, "informer_watch_errors_total");
    const runs = await c.waitAllTerminal(ns, n);
    const doneAt = Date.now();
    await closeScenario(s, {
      namespaces: [ns],
      runs,
      recovery: `stall→watching ${secs(resumedAt - stalledAt)}; stall→all done ${secs(doneAt - stalledAt)}`,
    });
    process.stderr.write(
      `stall: ${JSON.stringify(proxy?.stats())}; watch errors ${JSON.stringify(errorsBefore)} → ${JSON.stringify(errors)}\n`,
    );
  });
});
