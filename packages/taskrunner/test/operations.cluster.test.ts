// The controller as an operator runs it: metrics and probes, graceful shutdown, leader election between
// real processes (SIGKILL and SIGTERM hand-overs), and the deploy/ RBAC with a ServiceAccount token only.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isForbidden, KubeClient } from "@minitask/client";
import {
  type ControllerProcess,
  httpGet,
  httpsGet,
  metricValue,
  startControllerProcess,
} from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { Task, TaskRun } from "../src/contract.ts";
import { installCrds } from "./support/cluster.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TR = { group: "minitask.myorg.dev", version: "v1", resource: "taskruns", kind: "TaskRun", namespaced: true };
const TSK = { group: "minitask.myorg.dev", version: "v1", resource: "tasks", kind: "Task", namespaced: true };

let client: KubeClient;
const procs: ControllerProcess[] = [];
const tempDirs: string[] = [];
/** A temporary folder removed after the file's tests. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
});

afterAll(async () => {
  for (const p of procs) await p.stop("SIGKILL");
  await client?.close();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

async function start(args: string[], kubeconfig = testEnv().kubeconfig): Promise<ControllerProcess> {
  const p = await startControllerProcess(kubeconfig, args);
  procs.push(p);
  return p;
}

async function ready(p: ControllerProcess): Promise<void> {
  await eventually("readiness", async () =>
    (await httpGet(p.healthPort, "/readyz")).status === 200 ? true : undefined,
  );
}

/** A token of the ServiceAccount `name` (an hour). */
async function serviceAccountToken(name: string, namespace: string): Promise<string> {
  return (await kubectl(["create", "token", name, "-n", namespace, "--duration=1h"])).trim();
}

/** A kubeconfig that authenticates as the ServiceAccount `name` only. */
async function serviceAccountKubeconfig(name: string, namespace: string): Promise<string> {
  const token = await serviceAccountToken(name, namespace);
  const admin = JSON.parse(await kubectl(["config", "view", "--raw", "-o", "json"])) as {
    clusters: { cluster: unknown }[];
  };
  const kubeconfig = join(tempDir("sa-kubeconfig-"), "kubeconfig");
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: admin.clusters[0]?.cluster }],
      users: [{ name: "sa", user: { token } }],
      contexts: [{ name: "sa", context: { cluster: "c", user: "sa", namespace } }],
      "current-context": "sa",
    }),
  );
  return kubeconfig;
}

async function helloTask(ns: string): Promise<void> {
  await client
    .resource<Task>(TSK)
    .inNamespace(ns)
    .create({
      metadata: { name: "hello" },
      spec: {
        steps: [
          { name: "a", image: "busybox", script: "echo a" },
          { name: "b", image: "busybox", script: "echo b" },
        ],
      },
    });
}

async function runToEnd(ns: string, n = 1): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const tr = await client
      .resource<TaskRun>(TR)
      .inNamespace(ns)
      .create({ metadata: { generateName: "hello-run-" }, spec: { taskRef: "hello" } });
    names.push(tr.metadata?.name ?? "");
  }
  for (const name of names) {
    await eventually(`${name} to succeed`, async () => {
      const tr = await client.resource<TaskRun>(TR).inNamespace(ns).get(name);
      return tr.status?.phase === "Succeeded" ? true : undefined;
    });
  }
  return names;
}

describe("operating minitask-controller", () => {
  it("turns ready after sync, exposes the metrics Go operators know, and drains on SIGTERM with exit 0", async () => {
    const ns = await createTestNamespace("ops-metrics");
    await helloTask(ns);
    const p = await start(["--workers=2"]);
    await ready(p);
    await runToEnd(ns, 3);
    const text = (await httpGet(p.metricsPort, "/metrics")).body;
    const positive: [string, Record<string, string>][] = [
      ["workqueue_adds_total", { name: "taskrun" }],
      ["workqueue_queue_duration_seconds_count", { name: "taskrun" }],
      ["workqueue_work_duration_seconds_count", { name: "taskrun" }],
      ["controller_runtime_reconcile_total", { controller: "taskrun" }],
      ["controller_runtime_reconcile_time_seconds_count", { controller: "taskrun" }],
      ["controller_runtime_max_concurrent_reconciles", { controller: "taskrun" }],
      ["rest_client_requests_total", { code: "201", method: "POST", resource: "pods" }],
      ["rest_client_request_duration_seconds_count", { verb: "update" }],
      ["informer_watches_total", {}],
      ["informer_events_total", {}],
      ["process_cpu_user_seconds_total", {}],
      ["nodejs_heap_size_used_bytes", {}],
    ];
    for (const [name, labels] of positive) {
      expect(metricValue(text, name, labels) ?? 0, `${name} ${JSON.stringify(labels)}`).toBeGreaterThan(0);
    }
    for (const name of [
      "workqueue_depth",
      "workqueue_unfinished_work_seconds",
      "workqueue_longest_running_processor_seconds",
      "workqueue_retries_total",
      "controller_runtime_reconcile_errors_total",
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect((await httpGet(p.healthPort, "/healthz")).status).toBe(200);
    expect(await p.stop("SIGTERM")).toBe(0);
    expect(p.output()).toContain('"msg":"stopped"');
  });

  it("leader election: exactly one reconciles; SIGKILL hands over within the lease duration; SIGTERM hands over at once", async () => {
    const ns = await createTestNamespace("ops-le");
    await helloTask(ns);
    const le = [
      "--leader-elect",
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=minitask-test",
      "--lease-duration=4s",
      "--renew-deadline=3s",
      "--retry-period=500ms",
    ];
    const a = await start(le);
    const b = await start(le);
    await Promise.all([ready(a), ready(b)]);
    const leaderStatus = async (p: ControllerProcess) =>
      metricValue((await httpGet(p.metricsPort, "/metrics")).body, "leader_election_master_status", {
        name: "minitask-test",
      });
    const [first, second] = await eventually("one leader", async () => {
      const [sa, sb] = [await leaderStatus(a), await leaderStatus(b)];
      if (sa === 1 && sb === 0) return [a, b] as const;
      if (sb === 1 && sa === 0) return [b, a] as const;
      return undefined;
    });
    await runToEnd(ns, 3);
    const reconciles = async (p: ControllerProcess) =>
      metricValue((await httpGet(p.metricsPort, "/metrics")).body, "controller_runtime_reconcile_total", {
        controller: "taskrun",
        result: "success",
      }) ?? 0;
    expect(await reconciles(first)).toBeGreaterThan(0);
    expect(await reconciles(second)).toBe(0);

    // SIGKILL the leader: the standby takes over once the lease expires (≤ lease duration + retry).
    const killedAt = Date.now();
    await first.stop("SIGKILL");
    await eventually("the standby to lead", async () => ((await leaderStatus(second)) === 1 ? true : undefined));
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(4000 + 2000);
    await runToEnd(ns, 2);

    // A graceful stop releases the lease: a new standby takes over without waiting out the lease.
    const c = await start(le);
    await ready(c);
    expect(await leaderStatus(c)).toBe(0);
    const stoppedAt = Date.now();
    expect(await second.stop("SIGTERM")).toBe(0);
    await eventually("the new standby to lead", async () => ((await leaderStatus(c)) === 1 ? true : undefined));
    const handoverMs = Date.now() - stoppedAt;
    expect(handoverMs).toBeLessThan(4000);
    await runToEnd(ns, 1);
    process.stderr.write(`leader election: SIGKILL takeover ${takeoverMs} ms, graceful handover ${handoverMs} ms\n`);
    await c.stop("SIGTERM");
  });

  it("runs with the deploy/ ServiceAccount's token only: a TaskRun completes, anything else is Forbidden", async () => {
    for (const f of ["namespace.yaml", "serviceaccount.yaml", "rbac.yaml"])
      await kubectl(["apply", "-f", join(ROOT, "deploy", f)]);
    const kubeconfig = await serviceAccountKubeconfig("minitask-controller", "minitask-system");
    const ns = await createTestNamespace("ops-rbac");
    await helloTask(ns);
    const p = await start(["--leader-elect", "--leader-election-namespace=minitask-system"], kubeconfig);
    await ready(p);
    await runToEnd(ns, 1);
    const sa = KubeClient.load({ kubeconfig });
    try {
      const err = await sa
        .resource({ group: "", version: "v1", resource: "secrets" })
        .list()
        .catch((e: unknown) => e);
      expect(isForbidden(err)).toBe(true);
      const err2 = await sa
        .resource({ group: "minitask.myorg.dev", version: "v1", resource: "tasks", namespaced: true }, ns)
        .create({ metadata: { name: "sneaky" }, spec: { steps: [{ name: "a", image: "x" }] } } as Task)
        .catch((e: unknown) => e);
      expect(isForbidden(err2)).toBe(true);
    } finally {
      await sa.close();
    }
    expect(await p.stop("SIGTERM")).toBe(0);
  });

  it("serves /metrics over HTTPS to minitask-metrics-reader only: 401 without a token, 403 without the role", async () => {
    for (const f of ["namespace.yaml", "serviceaccount.yaml", "rbac.yaml"])
      await kubectl(["apply", "-f", join(ROOT, "deploy", f)]);
    // With the deploy/ RBAC only: the controller's ServiceAccount may create the reviews it needs.
    const kubeconfig = await serviceAccountKubeconfig("minitask-controller", "minitask-system");
    const ns = await createTestNamespace("ops-metrics");
    for (const sa of ["scraper", "stranger"]) await kubectl(["create", "serviceaccount", sa, "-n", ns]);
    await kubectl([
      "create",
      "clusterrolebinding",
      `${ns}-scraper`,
      "--clusterrole=minitask-metrics-reader",
      `--serviceaccount=${ns}:scraper`,
    ]);
    try {
      const p = await start(["--metrics-secure"], kubeconfig);
      await ready(p);
      const anonymous = await httpsGet(p.metricsPort, "/metrics");
      expect(anonymous.status).toBe(401);
      expect((await httpsGet(p.metricsPort, "/metrics", "not-a-token")).status).toBe(401);
      const stranger = await httpsGet(p.metricsPort, "/metrics", await serviceAccountToken("stranger", ns));
      expect(stranger.status).toBe(403);
      expect(stranger.body).toContain(`system:serviceaccount:${ns}:stranger" may not get /metrics`);
      const scraper = await httpsGet(p.metricsPort, "/metrics", await serviceAccountToken("scraper", ns));
      expect(scraper.status).toBe(200);
      expect(scraper.body).toContain("workqueue_depth");
      // The probes stay plain HTTP, unauthenticated, for the kubelet.
      expect((await httpGet(p.healthPort, "/healthz")).status).toBe(200);
      expect(await p.stop("SIGTERM")).toBe(0);
    } finally {
      await kubectl(["delete", "clusterrolebinding", `${ns}-scraper`, "--ignore-not-found"]);
    }
  });

  it("refuses to start with one clear line when RBAC denies what it needs", async () => {
    await kubectl(["create", "serviceaccount", "powerless", "-n", "minitask-system"]).catch(() => "");
    const kubeconfig = await serviceAccountKubeconfig("powerless", "minitask-system");
    const p = await start([], kubeconfig);
    expect(await p.exited).toBe(5);
    const lines = p
      .output()
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("minitask-controller:"));
    expect(lines).toEqual([
      expect.stringMatching(
        /^minitask-controller: RBAC: this identity may not \w+ taskruns\.minitask\.myorg\.dev in all namespaces/,
      ),
    ]);
  });

  it("reports an unreachable cluster in one line", async () => {
    const dir = tempDir("bad-kubeconfig-");
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
        users: [{ name: "u", user: { token: "x" } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const p = await start([], kubeconfig);
    expect(await p.exited).toBe(3);
    expect(p.output()).toMatch(
      /minitask-controller: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1\/?: ECONNREFUSED/,
    );
  });
});
