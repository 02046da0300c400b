// The frame of a cluster scenario: a private control plane, a namespace with a Task, the etcd recorder
// started before anything happens, a fleet of controller processes; at the end the invariants, the row
// of the summary table and the assertions.
import { expect } from "vitest";
import { Cluster, type StartClusterOptions } from "./cluster.ts";
import { Fleet, metricValue, type Replica, type StartOptions } from "./controllers.ts";
import { EtcdRecorder } from "./etcd-recorder.ts";
import { type CheckOptions, checkCaches, checkHistory } from "./invariants.ts";
import { recordRow, type ScenarioRow } from "./report.ts";

export interface Scenario {
  readonly name: string;
  readonly cluster: Cluster;
  readonly recorder: EtcdRecorder;
  readonly fleet: Fleet;
  readonly started: number;
}

/** Starts a private control plane and the recorder; `kubeconfig` (default: the admin one) is the controllers'. */
export async function openScenario(
  name: string,
  opts: StartClusterOptions & { controllers?: StartOptions; kubeconfig?: (c: Cluster) => string } = {},
): Promise<Scenario> {
  const started = Date.now();
  const cluster = await Cluster.start(name, opts);
  try {
    const recorder = await EtcdRecorder.start(cluster.etcd);
    const fleet = new Fleet(opts.kubeconfig ? opts.kubeconfig(cluster) : cluster.cp.kubeconfig, opts.controllers);
    return { name, cluster, recorder, fleet, started };
  } catch (err) {
    await cluster.close();
    throw err;
  }
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
