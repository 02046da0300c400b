// Scenario 11: sharded replicas under churn. Three replicas share 12 buckets (lease 4 s, renew deadline 3 s,
// retry 500 ms) while 300 TaskRuns arrive; ten times a random replica is SIGKILLed at a random moment and a
// fresh one started, and twice a fourth replica joins and an old one leaves with SIGTERM. Takeover = SIGKILL →
// the live replicas hold all 12 buckets again. Target: ≤ lease duration + 2 s. No run lost, no second pod, no
// phase going backwards.
import { afterAll, describe, expect, it } from "vitest";
import { poll } from "./support/cluster.ts";
import { metricValue, type Replica } from "./support/controllers.ts";
import { closeScenario, openScenario, type Scenario, secs, teardownScenario } from "./support/scenario.ts";

let s: Scenario | undefined;

afterAll(() => teardownScenario(s));

const KILLS = 10;
const BUCKETS = 12;
const LEASE_MS = 4_000;
const TARGET_MS = LEASE_MS + 2_000;
const RUNS = 300;

describe("reliability: sharded replicas", () => {
  it("three sharded replicas survive 10 SIGKILLs and replicas joining and leaving: nothing lost or doubled", async () => {
    s = await openScenario("sharding");
    const scenario = s;
    const { cluster, fleet } = s;
    const ns = await cluster.namespace("shard");
    await cluster.createTask(ns, "hello", 2);
    const args = [
      "--sharding",
      `--shard-buckets=${BUCKETS}`,
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=shard-reliability",
      `--lease-duration=${LEASE_MS / 1000}s`,
      "--renew-deadline=3s",
      "--retry-period=500ms",
    ];
    const held = async (r: Replica) => metricValue(await scenario.fleet.metrics(r), "shard_buckets_held") ?? 0;
    /** Resolves when the live replicas work every bucket between them. */
    const covered = (what: string) =>
      poll(
        what,
        async () => {
          let sum = 0;
          for (const r of fleet.live()) sum += await held(r).catch(() => 0);
          return sum === BUCKETS;
        },
        60_000,
        50,
      );
    const start = async () => {
      const r = await fleet.start({ args });
      await fleet.ready(r);
      return r;
    };
    for (let i = 0; i < 3; i++) await start();
    await covered("the first three to share the buckets");

    const creating = cluster.createRuns(ns, "hello", RUNS, { intervalMs: Math.floor(50_000 / RUNS) });
    const takeovers: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      // A random moment, a random replica.
      await new Promise((r) => setTimeout(r, 500 + Math.floor(Math.random() * 2500)));
      const live = fleet.live();
      const victim = live[Math.floor(Math.random() * live.length)] as Replica;
      await fleet.kill(victim);
      const killedAt = Date.now();
      await covered(`the buckets of #${victim.id} to be taken over`);
      takeovers.push(Date.now() - killedAt);
      await start();
      if (i === 3 || i === 7) {
        // A fourth joins, then the oldest leaves gracefully: its buckets are handed over, not left to expire.
        await start();
        const oldest = fleet.live()[0] as Replica;
        oldest.stopped = true;
        expect(await oldest.proc.stop("SIGTERM")).toBe(0);
        await covered(`the buckets of #${oldest.id} (stopped) to be taken over`);
      }
    }
    await creating;
    const runs = await cluster.waitAllTerminal(ns, RUNS);
    const problems: string[] = [];
    for (const t of takeovers) if (t > TARGET_MS * 2) problems.push(`takeover ${secs(t)}: over ${secs(TARGET_MS * 2)}`);
    const max = Math.max(...takeovers);
    await closeScenario(s, {
      label: "11 sharding ×10 kills",
      namespaces: [ns],
      runs,
      recovery: `takeover max ${secs(max)} (target ${secs(TARGET_MS)})`,
      problems,
    });
    process.stderr.write(`sharding: takeovers ${takeovers.join(", ")} ms\n`);
  });
});
