// Scenario 2: forced relist. The apiserver runs without its watch cache (`--watch-cache=false`), so a
// watch that resumes from a compacted resourceVersion gets 410 Gone straight from etcd. The controller's
// connection (through the suite's proxy) is stalled — it hears nothing — while the world moves on (new
// TaskRuns, pods progressing), etcd is compacted past everything it has seen, then the stalled connection
// is cut: each informer must resume from its old resourceVersion, get 410 and relist — losing nothing.
// (Stalling rather than freezing the controller with SIGSTOP: a reset while frozen is scenario 3b.)
import { afterAll, describe, expect, it } from "vitest";
import { poll, runsPerScenario } from "./support/cluster.ts";
import { etcdCompact } from "./support/etcd-recorder.ts";
import {
  closeScenario,
  INFORMER_RESOURCES,
  informerCounts,
  openScenario,
  type Scenario,
  secs,
  teardownScenario,
} from "./support/scenario.ts";

let s: Scenario | undefined;

afterAll(() => teardownScenario(s));

describe("reliability: forced relist", () => {
  it("relists after 410 Gone on every informer (compacted etcd, broken watches) and loses nothing", async () => {
    s = await openScenario("forced-relist", { apiserverArgs: ["--watch-cache=false"], proxy: true });
    const { cluster, recorder, fleet, proxy } = s;
    const scenario = s;
    const ns = await cluster.namespace("relist");
    await cluster.createTask(ns, "hello", 2);
    const c = await fleet.start();
    await fleet.ready(c);
    const n = runsPerScenario();
    const late = Math.max(1, Math.min(20, Math.floor(n / 10)));
    await cluster.createRuns(ns, "hello", n - late);
    await recorder.waitFor("a quarter of the pods", () => recorder.podCreations >= n / 4);

    const before = await informerCounts(scenario, c, "informer_relists_total");
    proxy?.stall();
    let compactedAt = 0;
    let dropped = 0;
    try {
      // The world moves on without the controller: new runs, and a write to a pod.
      await cluster.createRuns(ns, "hello", late, { prefix: "late" });
      const all = (await cluster.taskRuns(ns).list()).items;
      const lastRunWrite = Math.max(...all.map((t) => Number(t.metadata?.resourceVersion)));
      const pod = (await cluster.pods(ns).list()).items[0];
      const marked = await cluster
        .pods(ns)
        .patch(
          pod?.metadata?.name ?? "",
          { metadata: { annotations: { "reliability.minitask.dev/marker": "1" } } },
          { type: "merge" },
        );
      const mark = Number(marked.metadata?.resourceVersion);
      // Compact at the last TaskRun write: past every resourceVersion the deaf controller knows, and
      // (once both recorder watches have delivered beyond it) harmless to the recorder's own watches.
      await recorder.waitFor(
        "the recorder to see the late runs and the marker",
        () => recorder.revisionOf("taskruns") >= lastRunWrite && recorder.revisionOf("pods") >= mark,
        30_000,
      );
      compactedAt = lastRunWrite;
      await etcdCompact(cluster.etcd, compactedAt);
    } finally {
      proxy?.unstall();
      dropped = proxy?.dropAll() ?? 0;
    }
    const cutAt = Date.now();
    let last: Record<string, number> = {};
    const relistedAt = await poll(
      () => `every informer to relist (before ${JSON.stringify(before)}, now ${JSON.stringify(last)})`,
      async () => {
        const now = await informerCounts(scenario, c, "informer_relists_total");
        last = now;
        return INFORMER_RESOURCES.every((r) => (now[r] ?? 0) > (before[r] ?? 0)) ? Date.now() : undefined;
      },
      60_000,
    ).catch((err: unknown) => {
      process.stderr.write(
        `${c.proc
          .output()
          .split("\n")
          .filter((l) => /informers/.test(l))
          .slice(-40)
          .join("\n")}\n`,
      );
      throw err;
    });
    const runs = await cluster.waitAllTerminal(ns, n);
    const row = await closeScenario(s, {
      label: "2 forced relist (410)",
      namespaces: [ns],
      runs,
      recovery: `cut→all 3 relisted ${secs(relistedAt - cutAt)}`,
    });
    process.stderr.write(`forced relist: compacted at ${compactedAt}, ${dropped} connections cut; ${row.recovery}\n`);
    expect(dropped).toBeGreaterThan(0);
  });
});
