// Active-active: three minitask-controller processes with --sharding share 300 TaskRuns through bucket Leases on
// the real apiserver (kwok runs the pods). Every run succeeds with exactly one pod, every replica works its share,
// and their metrics agree with the Leases.
import { KubeClient } from "@minitask/client";
import {
  type ControllerProcess,
  httpGet,
  metricSamples,
  metricValue,
  startControllerProcess,
} from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskRun } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { installCrds } from "./support/cluster.ts";

const BUCKETS = 12;
const RUNS = 300;
let client: KubeClient;
const replicas: ControllerProcess[] = [];

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
});

afterAll(async () => {
  for (const r of replicas) await r.stop("SIGKILL");
  await client?.close();
});

async function metrics(r: ControllerProcess): Promise<string> {
  return (await httpGet(r.metricsPort, "/metrics")).body;
}

describe("sharded replicas", () => {
  it(`three replicas share ${RUNS} TaskRuns: each run Succeeded with one pod, every replica worked its buckets`, async () => {
    const ns = await createTestNamespace("shard");
    const group = `shard-${ns.slice(-8)}`;
    await taskClient(client, ns).create({
      apiVersion: "minitask.myorg.dev/v1",
      kind: "Task",
      metadata: { name: "hello" },
      spec: { steps: [{ name: "a", image: "busybox", script: "echo a" }] },
    });
    for (let i = 0; i < 3; i++) {
      replicas.push(
        await startControllerProcess(testEnv().kubeconfig, [
          "--namespace",
          ns,
          "--sharding",
          `--shard-buckets=${BUCKETS}`,
          `--leader-election-namespace=${ns}`,
          `--leader-election-id=${group}`,
          "--lease-duration=6s",
          "--renew-deadline=4s",
          "--retry-period=1s",
          "--log-level=info",
        ]),
      );
    }
    // Settled: each replica sees three members and works 4 buckets.
    await eventually("the buckets to be shared 4/4/4", async () => {
      const held = await Promise.all(replicas.map(async (r) => metricValue(await metrics(r), "shard_buckets_held")));
      const members = await Promise.all(replicas.map(async (r) => metricValue(await metrics(r), "shard_members")));
      return held.every((h) => h === 4) && members.every((m) => m === 3) ? true : undefined;
    });

    const runs = taskRunClient(client, ns);
    const names: string[] = [];
    for (let i = 0; i < RUNS; i += 30) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(30, RUNS - i) }, (_, j) =>
          runs.create({
            apiVersion: "minitask.myorg.dev/v1",
            kind: "TaskRun",
            metadata: { name: `run-${i + j}` },
            spec: { taskRef: "hello" },
          }),
        ),
      );
      names.push(...batch.map((r) => r.metadata?.name ?? ""));
    }
    const done = await eventually(
      `all ${RUNS} runs to succeed`,
      async () => {
        const list = await runs.list();
        const finished = list.items.filter(
          (r: TaskRun) => r.status?.phase === "Succeeded" || r.status?.phase === "Failed",
        );
        return finished.length === RUNS ? list.items : undefined;
      },
      240_000,
    );
    expect(done.filter((r) => r.status?.phase !== "Succeeded").map((r) => r.metadata?.name)).toEqual([]);

    // Exactly one pod per run.
    const pods = await client.resource<Pod>({ group: "", version: "v1", resource: "pods" }, ns).listAll();
    const owners = pods.items.map((p) => p.metadata?.ownerReferences?.[0]?.name ?? "");
    expect(owners.toSorted()).toEqual(names.toSorted());

    // Every replica worked, only in its own buckets, and the buckets held add up to all of them.
    const texts = await Promise.all(replicas.map(metrics));
    const bucketsWorked = texts.map((t) =>
      metricSamples(t, "shard_reconciles_total")
        .filter((s) => s.value > 0)
        .map((s) => Number(s.labels.bucket)),
    );
    for (const [i, worked] of bucketsWorked.entries()) {
      expect(worked.length, `replica ${i} worked no bucket`).toBeGreaterThan(0);
      expect(
        metricValue(texts[i] ?? "", "controller_runtime_reconcile_total", { controller: "taskrun" }),
      ).toBeGreaterThan(0);
    }
    expect(bucketsWorked.flat().toSorted((a, b) => a - b)).toEqual(Array.from({ length: BUCKETS }, (_, b) => b));
    expect(texts.map((t) => metricValue(t, "shard_buckets_held")).reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(
      BUCKETS,
    );
    // The Leases say the same: every bucket held by one of the three.
    const leases = JSON.parse(
      await kubectl(["get", "leases", "-n", ns, "-l", `sharding.minitask.dev/role=bucket`, "-o", "json"]),
    ) as { items: { spec: { holderIdentity?: string } }[] };
    expect(leases.items).toHaveLength(BUCKETS);
    expect(new Set(leases.items.map((l) => l.spec.holderIdentity)).size).toBe(3);

    // A graceful stop hands the buckets over at once: the other two end up with 6 each, well within a lease.
    const stoppedAt = Date.now();
    expect(await replicas[2]?.stop("SIGTERM")).toBe(0);
    await eventually("the two left to hold 6 buckets each", async () => {
      const held = await Promise.all(
        replicas.slice(0, 2).map(async (r) => metricValue(await metrics(r), "shard_buckets_held")),
      );
      return held.every((h) => h === 6) ? true : undefined;
    });
    process.stderr.write(`sharding: graceful handover of 4 buckets in ${Date.now() - stoppedAt} ms\n`);
    expect(Date.now() - stoppedAt).toBeLessThan(6_000);
  }, 300_000);
});
