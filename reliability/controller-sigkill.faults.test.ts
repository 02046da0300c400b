// Scenario 4: the controller is SIGKILLed at random moments, 20 times, and restarted each time, while
// TaskRuns keep arriving: kills land during start-up, cache sync, pod creation and status writes. The
// moments come from a seeded PRNG (RELIABILITY_SEED replays a run).

import { httpGet } from "@minitask/taskrunner/testing";
import { afterAll, describe, expect, it } from "vitest";
import { runsPerScenario, seed, seededRandom } from "./support/cluster.ts";
import { closeScenario, openScenario, type Scenario, secs, teardownScenario } from "./support/scenario.ts";

let s: Scenario | undefined;

afterAll(() => teardownScenario(s));

const KILLS = 20;

describe("reliability: controller SIGKILL", () => {
  it("SIGKILLed 20 times at random moments and restarted: one pod per run, no regression", async () => {
    s = await openScenario("controller-sigkill");
    const { cluster, recorder, fleet } = s;
    const ns = await cluster.namespace("sigkill");
    await cluster.createTask(ns, "hello", 2);
    const n = runsPerScenario();
    const theSeed = seed();
    const random = seededRandom(theSeed);
    // Runs arrive over the whole kill phase (≈ 2.5 s per cycle).
    const creating = cluster.createRuns(ns, "hello", n, { intervalMs: Math.max(10, Math.floor((KILLS * 2500) / n)) });
    let killedReady = 0;
    const delays: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const r = await fleet.start();
      const delay = Math.round(300 + random() * 3700);
      delays.push(delay);
      await new Promise((res) => setTimeout(res, delay));
      const ready = await httpGet(r.proc.healthPort, "/readyz")
        .then((x) => x.status === 200)
        .catch(() => false);
      if (ready) killedReady++;
      expect(r.proc.child.exitCode, `controller #${r.id} exited before it was killed`).toBeNull();
      await fleet.kill(r);
    }
    const podsDuringKills = recorder.podCreations;
    const last = await fleet.start();
    const restartedAt = Date.now();
    await fleet.ready(last);
    await creating;
    const runs = await cluster.waitAllTerminal(ns, n);
    await closeScenario(s, {
      label: "4 controller SIGKILL ×20",
      namespaces: [ns],
      runs,
      recovery:
        `${KILLS} kills (${killedReady} after ready, ${podsDuringKills} pods made meanwhile); ` +
        `last restart→all done ${secs(Date.now() - restartedAt)}`,
    });
    process.stderr.write(`controller SIGKILL: seed ${theSeed}, kill delays ${delays.join(", ")} ms\n`);
    expect(recorder.podCreations).toBe(n);
  });
});
