// The frame of a cluster scenario: a private control plane, a namespace with a Task, the etcd recorder
// started before anything happens, a fleet of controller processes; at the end the invariants, the row
// of the summary table and the assertions.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { Cluster, type StartClusterOptions } from "./cluster.ts";
import { Fleet, metricValue, type Replica, type StartOptions } from "./controllers.ts";
import { EtcdRecorder } from "./etcd-recorder.ts";
import { type CheckOptions, checkCaches, checkHistory } from "./invariants.ts";
import { FaultProxy } from "./proxy.ts";
import { recordRow, type ScenarioRow } from "./report.ts";

export interface Scenario {
  readonly name: string;
  readonly cluster: Cluster;
  readonly recorder: EtcdRecorder;
  readonly fleet: Fleet;
  /** The fault proxy the controllers talk through (when asked for). */
  readonly proxy: FaultProxy | undefined;
  readonly started: number;
  /** Whether `teardownScenario` stops the control plane (false when it was handed in). */
  readonly ownsCluster: boolean;
}

/**
 * Starts a private control plane and the recorder. The controllers use the admin kubeconfig, or, with
 * `proxy`, a copy pointing at a fault proxy in front of the apiserver.
 */
export async function openScenario(
  name: string,
  opts: StartClusterOptions & {
    controllers?: StartOptions;
    proxy?: boolean;
    cluster?: Cluster;
    /** Controllers authenticate with the deploy/ ServiceAccount's token instead of the admin certificate. */
    serviceAccount?: boolean;
  } = {},
): Promise<Scenario> {
  const started = Date.now();
  const ownsCluster = opts.cluster === undefined;
  const cluster = opts.cluster ?? (await Cluster.start(name, opts));
  let proxy: FaultProxy | undefined;
  try {
    const recorder = await EtcdRecorder.start(cluster.etcd);
    let kubeconfig = opts.serviceAccount ? await cluster.serviceAccountKubeconfig() : cluster.cp.kubeconfig;
    if (opts.proxy) {
      proxy = await FaultProxy.start({ host: "127.0.0.1", port: cluster.cp.state.ports.apiserver ?? 0 });
      kubeconfig = cluster.kubeconfigVia(proxy.url, kubeconfig);
    }
    const fleet = new Fleet(kubeconfig, opts.controllers);
    return { name, cluster, recorder, fleet, proxy, started, ownsCluster };
  } catch (err) {
    await proxy?.close();
    if (ownsCluster) await cluster.close();
    throw err;
  }
}

/** For `afterAll`: kills whatever is left and stops the control plane (also after a failure). */
export async function teardownScenario(s: Scenario | undefined): Promise<void> {
  if (!s) return;
  const logs = process.env.RELIABILITY_LOGS;
  if (logs) {
    mkdirSync(logs, { recursive: true });
    for (const r of s.fleet.replicas) writeFileSync(join(logs, `${s.name}-controller-${r.id}.log`), r.proc.output());
  }
  for (const r of s.fleet.live()) {
    r.proc.child.kill("SIGCONT");
    await s.fleet.kill(r);
  }
  await s.proxy?.close();
  await s.recorder.stop();
  if (s.ownsCluster) await s.cluster.close();
}

/**
 * Checks the invariants, stops the controllers (SIGTERM), records and prints the row, and asserts that
 * nothing was lost, duplicated, regressed or left stale, and that no controller crashed.
 */
export async function closeScenario(
  s: Scenario,
  o: Omit<CheckOptions, "cluster" | "recorder"> & { recovery?: string; problems?: string[]; label?: string },
): Promise<ScenarioRow> {
  const history = await checkHistory({ ...o, cluster: s.cluster, recorder: s.recorder });
  const caches = await checkCaches(s.cluster, s.fleet);
  const stops = await s.fleet.stopAll();
  await s.recorder.stop();
  const row: ScenarioRow = {
    ...history,
    scenario: o.label ?? s.name,
    cacheDiffs: caches.diffs,
    recovery: o.recovery ?? "",
    durationS: (Date.now() - s.started) / 1000,
    problems: [...history.problems, ...caches.problems, ...stops, ...(o.problems ?? [])],
  };
  recordRow(row);
  if (row.problems.length)
    process.stderr.write(`${s.name} problems:\n  ${row.problems.join("\n  ")}\n${s.fleet.tails()}\n`);
  expect(row.problems).toEqual([]);
  expect(row.terminal).toBe(row.taskRuns);
  expect(row.duplicates).toBe(0);
  expect(row.missingPods).toBe(0);
  expect(row.regressions).toBe(0);
  expect(row.cacheDiffs).toBe(0);
  return row;
}

/** The informers' per-resource counter `name` of one replica. */
export async function informerCounts(s: Scenario, r: Replica, name: string): Promise<Record<string, number>> {
  const text = await s.fleet.metrics(r);
  const out: Record<string, number> = {};
  for (const res of INFORMER_RESOURCES) out[res] = metricValue(text, name, { resource: res }) ?? 0;
  return out;
}

export const INFORMER_RESOURCES = ["taskruns.minitask.myorg.dev", "tasks.minitask.myorg.dev", "pods"] as const;

/** Seconds with one decimal. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
