// The invariants checked after every scenario, and the row of the summary table they produce.
//
//  1. every TaskRun reaches a terminal phase (final list from the apiserver);
//  2. exactly one Pod was ever created per TaskRun (creations counted by the etcd recorder started
//     before the scenario; the pod's protobuf must name the TaskRun's UID as its owner);
//  3. no TaskRun's phase ever went backwards, and a terminal phase never changed (every write, from etcd);
//  4. every informer cache of every live controller equals a fresh list from the apiserver
//     (`/debug/caches`: keys and resource versions);
//  5. no controller exited unless the scenario killed it; SIGTERM exits 0; no unhandled rejection.
import type { TaskRun } from "@minitask/taskrunner";
import type { Cluster } from "./cluster.ts";
import { TERMINAL } from "./cluster.ts";
import type { Fleet } from "./controllers.ts";
import type { EtcdRecorder } from "./etcd-recorder.ts";
import type { ScenarioRow } from "./report.ts";

const RANK: Record<string, number> = { "": 0, Pending: 1, Running: 2, Succeeded: 3, Failed: 3 };

export interface CheckOptions {
  readonly cluster: Cluster;
  readonly recorder: EtcdRecorder;
  readonly namespaces: readonly string[];
  /** Final TaskRuns (from `waitAllTerminal`). */
  readonly runs: readonly TaskRun[];
  /** Pods a run should have had created: default 1. */
  readonly podsExpected?: (run: TaskRun) => number;
  /** Whether a run ended as expected: default phase Succeeded. */
  readonly endedAsExpected?: (run: TaskRun) => boolean;
}

/** Invariants 1–3 (and recorder health). Waits until the recorder has seen the final version of every run. */
export async function checkHistory(
  o: CheckOptions,
): Promise<Omit<ScenarioRow, "scenario" | "cacheDiffs" | "recovery" | "durationS">> {
  const problems: string[] = [];
  const runs = o.runs;
  const key = (t: TaskRun) => `${t.metadata?.namespace}/${t.metadata?.name}`;
  await o.recorder
    .waitFor(
      "the etcd recorder to see the final version of every TaskRun",
      () =>
        runs.every((t) => (o.recorder.taskRuns.get(key(t))?.lastRevision ?? 0) >= Number(t.metadata?.resourceVersion)),
      30_000,
    )
    .catch((err: unknown) => problems.push(String(err)));
  if (o.recorder.errors.length) problems.push(...o.recorder.errors.map((e) => `recorder: ${e}`));

  const terminal = runs.filter((t) => TERMINAL.has(t.status?.phase ?? "")).length;
  const expectedFn = o.endedAsExpected ?? ((t: TaskRun) => t.status?.phase === "Succeeded");
  const unexpected = runs.filter((t) => !expectedFn(t));
  for (const t of unexpected.slice(0, 5)) {
    problems.push(`${key(t)} ended ${t.status?.phase}/${t.status?.reason}: ${t.status?.message ?? ""}`);
  }

  let duplicates = 0;
  let missingPods = 0;
  let regressions = 0;
  for (const t of runs) {
    const h = o.recorder.taskRuns.get(key(t));
    if (!h) {
      problems.push(`${key(t)}: no history recorded`);
      continue;
    }
    const ranks = h.phases.map((p) => RANK[p] ?? -1);
    let regressed = false;
    for (let i = 1; i < ranks.length; i++) if ((ranks[i] ?? 0) < (ranks[i - 1] ?? 0)) regressed = true;
    const terminalPhases = new Set(h.phases.filter((p) => TERMINAL.has(p)));
    if (regressed || terminalPhases.size > 1) {
      regressions++;
      if (regressions <= 5) problems.push(`${key(t)} phase history ${compact(h.phases).join(" → ")}`);
    }
    const podKey = `${t.metadata?.namespace}/${t.status?.podName || `${t.metadata?.name}-pod`}`;
    const pod = o.recorder.pods.get(podKey);
    const want = o.podsExpected ? o.podsExpected(t) : 1;
    const got = pod?.creates ?? 0;
    if (got > want || (got > 0 && want === 0)) {
      duplicates++;
      if (duplicates <= 5) problems.push(`${podKey} created ${got} times (expected ${want})`);
    } else if (got < want) {
      missingPods++;
      if (missingPods <= 5) problems.push(`${podKey} never created`);
    }
    if (pod && got > 0 && !pod.uids.has(t.metadata?.uid ?? "")) {
      problems.push(`${podKey} does not name its TaskRun's uid ${t.metadata?.uid}`);
    }
  }
  // Pods nobody accounts for (in the scenario's namespaces, created by the controller).
  const expectedPodKeys = new Set(
    runs.map((t) => `${t.metadata?.namespace}/${t.status?.podName || `${t.metadata?.name}-pod`}`),
  );
  for (const ns of o.namespaces) {
    for (const p of o.recorder.podsIn(ns)) {
      if (!expectedPodKeys.has(p.key)) {
        duplicates++;
        problems.push(`unexpected pod ${p.key} (created ${p.creates} times)`);
      }
    }
  }
  return {
    taskRuns: runs.length,
    terminal,
    expected: runs.length - unexpected.length,
    duplicates,
    missingPods,
    regressions,
    problems,
  };
}

function compact(phases: readonly string[]): string[] {
  return phases.filter((p, i) => i === 0 || phases[i - 1] !== p).map((p) => p || "∅");
}

/** Invariant 4: every live controller's caches equal a fresh list (polled until equal or the deadline). */
export async function checkCaches(
  cluster: Cluster,
  fleet: Fleet,
  timeoutMs = 30_000,
): Promise<{ diffs: number; problems: string[] }> {
  const live = fleet.live();
  let worst = 0;
  const problems: string[] = [];
  for (const r of live) {
    const until = Date.now() + timeoutMs;
    let diff: string[] = [];
    for (;;) {
      try {
        diff = await cacheDiff(cluster, await fleet.caches(r));
      } catch (err) {
        diff = [`cannot compare: ${String(err)}`];
      }
      if (diff.length === 0 || Date.now() > until) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    worst = Math.max(worst, diff.length);
    if (diff.length) problems.push(`controller #${r.id} cache differs: ${diff.slice(0, 5).join("; ")}`);
  }
  return { diffs: worst, problems };
}

async function cacheDiff(cluster: Cluster, caches: Record<string, Record<string, string>>): Promise<string[]> {
  const [trs, tsks, pods] = await Promise.all([
    cluster.taskRuns().list(),
    cluster.tasks().list(),
    cluster.pods().list({ labelSelector: "app.kubernetes.io/managed-by=minitask-controller" }),
  ]);
  const out: string[] = [];
  const compare = (
    name: string,
    items: readonly { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }[],
  ) => {
    const cache = caches[name] ?? {};
    const fresh = new Map(
      items.map((o) => [`${o.metadata?.namespace}/${o.metadata?.name}`, o.metadata?.resourceVersion ?? ""]),
    );
    for (const [k, rv] of fresh) {
      if (!(k in cache)) out.push(`${name} ${k} missing from the cache`);
      else if (cache[k] !== rv) out.push(`${name} ${k} at ${cache[k]} in the cache, ${rv} on the server`);
    }
    for (const k of Object.keys(cache)) if (!fresh.has(k)) out.push(`${name} ${k} in the cache but not on the server`);
  };
  compare("taskruns", trs.items);
  compare("tasks", tsks.items);
  compare("pods", pods.items);
  return out;
}
