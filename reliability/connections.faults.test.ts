// Scenario 3: cut and half-open connections between the controller and the apiserver, through the
// suite's TCP proxy (one control plane for the file; each case has its own namespace, proxy, recorder
// and controller).
//  - drop: every connection is reset, five times, while TaskRuns are in flight (each time once the
//    controller watches again);
//  - paused reset: every connection is reset while the controller is frozen with SIGSTOP (a paused VM or
//    container); once thawed, it must notice at once;
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
 * After a fault: a canary TaskRun is created (by the suite, straight to the apiserver); the controller
 * works again once every informer has started a new watch and the canary's pod exists (the controller
 * saw the new run through its watch and its create went through). Returns that time, or undefined if it
 * did not happen within `timeoutMs`.
 */
async function canaryRecovery(
  s: Scenario,
  r: Replica,
  ns: string,
  canary: string,
  before: Record<string, number>,
  timeoutMs: number,
): Promise<number | undefined> {
  await s.cluster.createRuns(ns, "hello", 1, { prefix: canary });
  const podKey = `${ns}/${canary}-0000-pod`;
  const until = Date.now() + timeoutMs;
  const at: Record<string, number> = {};
  const want = INFORMER_RESOURCES.length + 1;
  while (Object.keys(at).length < want && Date.now() < until) {
    const now = await informerCounts(s, r, "informer_watches_total");
    for (const res of INFORMER_RESOURCES) {
      if (at[res] === undefined && (now[res] ?? 0) > (before[res] ?? 0)) at[res] = Date.now();
    }
    if (at.canary === undefined && (s.recorder.pods.get(podKey)?.creates ?? 0) > 0) at.canary = Date.now();
    await new Promise((res) => setTimeout(res, 100));
  }
  return Object.keys(at).length === want ? Math.max(...Object.values(at)) : undefined;
}

/**
 * Bound on resuming the watches after each of five resets: the reflector's backoff doubles with every
 * failure (0.8 s, 1.6 s, … with up to 100 % jitter, capped at 30 s; forgotten only after two healthy
 * minutes), so the later resets may wait up to the 30 s cap. A hung connection (nothing fails until the
 * 60 s headers timeout) takes longer than this.
 */
const RESET_RECOVERY_MS = 45_000;
const STALL_RECOVERY_MS = 45_000;
const PAUSED_RECOVERY_MS = 15_000;

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
    // Five resets; each waits for the controller to watch again (or gives up after 90 s) before the next.
    let dropped = 0;
    const recoveries: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const before = await informerCounts(s, r, "informer_watches_total");
      dropped += proxy?.dropAll() ?? 0;
      const droppedAt = Date.now();
      const resumedAt = await canaryRecovery(s, r, ns, `canary-${i}`, before, 90_000);
      recoveries.push(resumedAt === undefined ? undefined : resumedAt - droppedAt);
    }
    const shown = recoveries.map((ms) => (ms === undefined ? "> 90" : (ms / 1000).toFixed(1))).join("/");
    const worst = Math.max(...recoveries.map((ms) => ms ?? Number.POSITIVE_INFINITY));
    const runs = await c.waitAllTerminal(ns, n + 5);
    await closeScenario(s, {
      label: "3a connections: reset ×5",
      namespaces: [ns],
      runs,
      recovery: `5 resets (${dropped} conns); reset→working ${shown} s`,
      // Failed at times while the client negotiated HTTP/2 (undici's default): undici does not always
      // notice that an HTTP/2 connection was reset, and its requests then hang (docs/reliability.md).
      problems: worst > RESET_RECOVERY_MS ? [`reset→working ${shown} s: over ${secs(RESET_RECOVERY_MS)}`] : [],
    });
    expect(dropped).toBeGreaterThanOrEqual(5);
  });

  it("paused reset: every connection is reset while the controller is frozen (SIGSTOP); it resumes at once", async () => {
    const s = await openScenario("connections-paused-reset", { cluster, proxy: true });
    scenarios.push(s);
    const { recorder, fleet, proxy } = s;
    const c = s.cluster;
    const ns = await c.namespace("paused");
    await c.createTask(ns, "hello", 2);
    const r = await fleet.start();
    await fleet.ready(r);
    const n = runsPerScenario();
    await c.createRuns(ns, "hello", n);
    await recorder.waitFor("a quarter of the pods", () => recorder.podCreations >= n / 4);
    const before = await informerCounts(s, r, "informer_watches_total");
    const pid = r.proc.child.pid ?? 0;
    process.kill(pid, "SIGSTOP");
    let dropped = 0;
    try {
      await new Promise((res) => setTimeout(res, 500));
      dropped = proxy?.dropAll() ?? 0;
      await new Promise((res) => setTimeout(res, 500));
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const resumedFrom = Date.now();
    const resumedAt = await canaryRecovery(s, r, ns, "canary", before, 120_000);
    const recoveryMs = resumedAt === undefined ? undefined : resumedAt - resumedFrom;
    // Stuck: record the row as it stands (the invariants fail on the runs left open) rather than wait.
    const runs = recoveryMs === undefined ? (await c.taskRuns(ns).list()).items : await c.waitAllTerminal(ns, n + 1);
    await closeScenario(s, {
      label: "3b connections: reset while paused",
      namespaces: [ns],
      runs,
      recovery: `${dropped} conns reset while frozen; thaw→working ${recoveryMs === undefined ? "> 120 s" : secs(recoveryMs)}`,
      // One backoff step (≤ 1.6 s) is expected; 15 s is generous. Over HTTP/2 the reset went unnoticed
      // and the controller hung for good (docs/reliability.md).
      problems:
        recoveryMs === undefined || recoveryMs > PAUSED_RECOVERY_MS
          ? [
              `thaw→working ${recoveryMs === undefined ? "> 120 s" : secs(recoveryMs)}: over ${secs(PAUSED_RECOVERY_MS)}`,
            ]
          : [],
    });
    expect(dropped).toBeGreaterThan(0);
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
    const resumedAt = await canaryRecovery(s, r, ns, "canary", before, 180_000);
    const recoveryMs = resumedAt === undefined ? undefined : resumedAt - stalledAt;
    const errors = await informerCounts(s, r, "informer_watch_errors_total");
    const runs = recoveryMs === undefined ? (await c.taskRuns(ns).list()).items : await c.waitAllTerminal(ns, n + 1);
    const doneAt = Date.now();
    await closeScenario(s, {
      label: "3c connections: half-open (stall)",
      namespaces: [ns],
      runs,
      recovery: `stall→working ${recoveryMs === undefined ? "> 180 s" : secs(recoveryMs)}; stall→all done ${secs(doneAt - stalledAt)}`,
      // Watchdog (10 s) + reconcile timeout (15 s) + a backoff step or two: 45 s is generous. Over HTTP/2
      // this took ≈ 70 s (the requests' shared connection stayed stalled; docs/reliability.md).
      problems:
        recoveryMs === undefined || recoveryMs > STALL_RECOVERY_MS
          ? [
              `stall→working ${recoveryMs === undefined ? "> 180 s" : secs(recoveryMs)}: over ${secs(STALL_RECOVERY_MS)}`,
            ]
          : [],
    });
    process.stderr.write(
      `stall: ${JSON.stringify(proxy?.stats())}; watch errors ${JSON.stringify(errorsBefore)} → ${JSON.stringify(errors)}\n`,
    );
  });
});
