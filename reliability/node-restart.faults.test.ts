// Scenario 10: the real node's kubelet, then its containerd, are killed (SIGKILL) in the middle of 50 real
// runs and restarted a few seconds later. Containers keep running under their shims while the kubelet
// is down; the kubelet then reports what happened meanwhile. Every run must still end terminal, with
// exactly one pod and no phase regression. A step whose container the runtime failed to start while
// containerd was down fails for real (exit 128, StartError): that run ends Failed and says so, which is
// the correct outcome of that fault, not a lost run.
import { afterAll, describe, expect, it } from "vitest";
import { runsPerScenario } from "./support/cluster.ts";
import { closeScenario, openScenario, type Scenario, secs, teardownScenario } from "./support/scenario.ts";

let s: Scenario | undefined;

afterAll(() => teardownScenario(s));

/** Polls `check` until it is true; rejects after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("reliability: real node restarts", () => {
  it("kubelet and containerd SIGKILLed and restarted during 50 real runs: all terminal, one pod each", async () => {
    s = await openScenario("node-restart", { node: "real" });
    const { cluster, recorder, fleet } = s;
    const ns = await cluster.namespace("node");
    await cluster.createTask(ns, "hello", 2);
    const n = Math.min(50, runsPerScenario());
    const r = await fleet.start();
    await fleet.ready(r);
    const creating = cluster.createRuns(ns, "hello", n, { intervalMs: 200 });
    creating.catch(() => {}); // awaited below; a failure before that must not be an unhandled rejection
    const running = async () =>
      (await cluster.pods(ns).list()).items.some(
        (p) => (p as { status?: { phase?: string } }).status?.phase === "Running",
      );
    const outages: string[] = [];
    for (const component of ["kubelet", "containerd"] as const) {
      // Kill it while containers run, leave it down for a few seconds, start it again.
      await until("a running pod", running);
      const down = Date.now();
      await cluster.cp.stopComponent(component, "SIGKILL", 0); // resolves once its process group is gone
      await new Promise((res) => setTimeout(res, 3_000)); // the outage itself
      await cluster.cp.startComponent(component);
      outages.push(`${component} down ${secs(Date.now() - down)}`);
    }
    const restartedAt = Date.now();
    await creating;
    const runs = await cluster.waitAllTerminal(ns, n);
    const succeeded = runs.filter((t) => t.status?.phase === "Succeeded").length;
    await closeScenario(s, {
      label: "10 kubelet + containerd SIGKILL (real node)",
      namespaces: [ns],
      runs,
      endedAsExpected: (t) =>
        t.status?.phase === "Succeeded" ||
        (t.status?.reason === "StepFailed" && /\((StartError|ContainerCannotRun)\)/.test(t.status?.message ?? "")),
      recovery: `${outages.join(", ")}; restart→all done ${secs(Date.now() - restartedAt)}; ${succeeded}/${n} Succeeded`,
    });
    expect(recorder.podCreations).toBe(n);
  });
});
