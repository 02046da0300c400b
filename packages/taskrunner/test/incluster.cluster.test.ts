// The controller in the cluster: minitask-controller's image, built here without Docker
// (scripts/controller-image.ts), imported into the real node and deployed with `kubectl apply -k` of the
// test overlay deploy-local-node/ (the deploy/ base plus hostNetwork, the apiserver's loopback address and
// per-replica ports). Two replicas, leader election through the Lease, the in-cluster config (the
// service-account token and CA the kubelet mounts), the ServiceAccount's least privilege, and failover
// when the leader's pod is deleted — all observed through the apiserver, as an operator would.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { httpsGet } from "@minitask/taskrunner/testing";
import {
  createTestNamespace,
  eventually,
  importNodeImage,
  kubectl,
  requireRealNode,
  testEnv,
} from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildControllerImage,
  type ControllerImage,
  DEFAULT_TAG,
  serverPort,
  writeLocalOverlay,
} from "../../../scripts/controller-image.ts";
import type { TaskRun } from "../src/contract.ts";

const CRDS = fileURLToPath(new URL("../../../crds/", import.meta.url));
const SYSTEM_NS = "minitask-system";
const SA_USER = "system:serviceaccount:minitask-system:minitask-controller";
const SELECTOR = "app.kubernetes.io/name=minitask-controller";

interface ContainerStatus {
  readonly name: string;
  readonly ready?: boolean;
  readonly image?: string;
  readonly imageID?: string;
}
interface Pod {
  readonly metadata: { readonly name: string; readonly deletionTimestamp?: string };
  readonly spec: {
    readonly nodeName?: string;
    readonly hostNetwork?: boolean;
    readonly containers: readonly {
      readonly args?: readonly string[];
      readonly env?: readonly { readonly name: string; readonly value?: string }[];
    }[];
    readonly volumes?: readonly { readonly name: string; readonly projected?: unknown }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
    readonly containerStatuses?: readonly ContainerStatus[];
  };
}
interface Lease {
  readonly spec?: { readonly holderIdentity?: string; readonly leaseTransitions?: number };
}
/** One JSON log line of the controller (pino). */
interface LogLine {
  readonly level: number;
  readonly time: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const exec = promisify(execFile);

/** kubectl that reports the exit code instead of throwing (`auth can-i` exits 1 for "no"). */
async function kubectlResult(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = testEnv();
  try {
    const { stdout, stderr } = await exec(env.kubectl, ["--kubeconfig", env.kubeconfig, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function getJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

const controllerPods = async (): Promise<Pod[]> =>
  (await getJson<{ items: Pod[] }>(["get", "pods", "-n", SYSTEM_NS, "-l", SELECTOR])).items;

const isReady = (p: Pod) =>
  p.status?.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/** A controller pod's log, line by line; throws (naming the line) if any line is not a JSON object. */
async function podLog(pod: string): Promise<LogLine[]> {
  const text = await kubectl(["logs", "-n", SYSTEM_NS, pod]);
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        throw new Error(`${pod}: a log line is not JSON: ${l}`);
      }
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${pod}: not a JSON object: ${l}`);
      return v as LogLine;
    });
}

/** The "starting" line each controller logs once it passed its pre-flight checks: its server and identity. */
async function startLine(pod: string): Promise<LogLine | undefined> {
  return (await podLog(pod)).find((l) => l.msg === "starting");
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await getJson<Lease>(["get", "lease", "-n", SYSTEM_NS, "minitask-controller"]);
  return lease.spec?.holderIdentity || undefined;
}

/** Pod name → leader-election identity, for the pods that have started (and are not being deleted). */
async function identities(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of await controllerPods()) {
    if (p.metadata.deletionTimestamp) continue;
    const line = await startLine(p.metadata.name).catch(() => undefined);
    if (typeof line?.identity === "string") out.set(p.metadata.name, line.identity);
  }
  return out;
}

/** Creates a two-step Task and a TaskRun of it through the apiserver; resolves with the run's name. */
async function startRun(ns: string, name: string): Promise<string> {
  const task = {
    apiVersion: "minitask.myorg.dev/v1",
    kind: "Task",
    metadata: { name, namespace: ns },
    spec: {
      steps: [
        { name: "hello", image: "busybox:1.36", script: `echo "hello from ${name}"` },
        { name: "bye", image: "busybox:1.36", script: `echo "goodbye from ${name}"` },
      ],
    },
  };
  const run = {
    apiVersion: "minitask.myorg.dev/v1",
    kind: "TaskRun",
    metadata: { name: `${name}-run`, namespace: ns },
    spec: { taskRef: name },
  };
  await kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [task, run] }));
  return run.metadata.name;
}

/** Waits for the run to finish; expects Succeeded and resolves with its pod's name. */
async function succeeded(ns: string, run: string): Promise<string> {
  const tr = await eventually(
    `TaskRun ${ns}/${run} to finish`,
    async () => {
      const r = await getJson<TaskRun>(["get", "taskrun", "-n", ns, run]);
      return r.status?.phase === "Succeeded" || r.status?.phase === "Failed" ? r : undefined;
    },
    120_000,
  );
  expect(tr.status?.phase, JSON.stringify(tr.status)).toBe("Succeeded");
  expect(tr.status?.podName).toBeTruthy();
  return tr.status?.podName ?? "";
}

/** Pods in the test namespace may only be created by the controller's ServiceAccount, from its own pods. */
function creatorPolicy(ns: string): unknown[] {
  const name = `minitask-incluster-creator-${ns}`;
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
        },
        validations: [
          {
            // A bound service-account token (the one the kubelet projects into a pod) carries the pod's
            // name in the user's extra info: the creator is a minitask-controller pod using its own token.
            expression:
              `request.userInfo.username == '${SA_USER}' && has(request.userInfo.extra) && ` +
              "'authentication.kubernetes.io/pod-name' in request.userInfo.extra && " +
              "request.userInfo.extra['authentication.kubernetes.io/pod-name'].exists(n, n.startsWith('minitask-controller-'))",
            messageExpression: `'only the in-cluster controller creates pods here, not ' + request.userInfo.username`,
          },
        ],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } },
      },
    },
  ];
}

describe("minitask-controller deployed in the cluster (real node)", () => {
  let image: ControllerImage;
  let apiserverPort: number;
  let overlay: string;
  let ns: string;
  let policy: unknown[] = [];
  let ready: Pod[] = [];

  beforeAll(async () => {
    requireRealNode(testEnv(), "the in-cluster deployment test");
    image = await buildControllerImage({ log: (l) => process.stderr.write(`${l}\n`) });
    const t0 = Date.now();
    expect(await importNodeImage(image.tarball)).toContain(DEFAULT_TAG);
    process.stderr.write(`incluster: imported ${image.tarball} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    apiserverPort = serverPort(
      await kubectl(["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"]),
    );
    ns = await createTestNamespace("incluster", { node: "real" });
    policy = creatorPolicy(ns);
    await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: policy }));
    await kubectl(["apply", "-f", CRDS]);
    await kubectl([
      "wait",
      "--for=condition=Established",
      "crd/tasks.minitask.myorg.dev",
      "crd/taskruns.minitask.myorg.dev",
    ]);
    overlay = writeLocalOverlay(mkdtempSync(join(tmpdir(), "minitask-incluster-")), { apiserverPort });
    await kubectl(["apply", "-k", overlay]);
    // Every test needs the deployment up: wait here, so that a controller that never starts fails once.
    ready = await eventually(
      "both controller replicas Ready",
      async () => {
        const ps = await controllerPods();
        return ps.length === 2 && ps.every(isReady) ? ps : undefined;
      },
      180_000,
    ).catch(async (err: Error) => {
      const described = await kubectlResult(["describe", "pods", "-n", SYSTEM_NS, "-l", SELECTOR]);
      throw new Error(`${err.message}\n${described.stdout.split("\n").slice(-25).join("\n")}`);
    });
  });

  afterAll(async () => {
    // Everything the overlay made (the namespace minitask-system with its pods, the cluster-wide RBAC), and
    // the policy: the files after this one share the cluster and run controllers of their own.
    const problems: string[] = [];
    if (overlay) {
      const r = await kubectlResult(["delete", "-k", overlay, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
      if (r.code !== 0) problems.push(`kubectl delete -k ${overlay}: ${r.stderr.trim()}`);
      rmSync(overlay, { recursive: true, force: true });
    }
    if (policy.length > 0) {
      const r = await kubectlResult([
        "delete",
        "validatingadmissionpolicybinding,validatingadmissionpolicy",
        `minitask-incluster-creator-${ns}`,
        "--ignore-not-found",
      ]);
      if (r.code !== 0) problems.push(r.stderr.trim());
    }
    const left = await kubectlResult(["get", "namespace", SYSTEM_NS, "--ignore-not-found", "-o", "name"]);
    if (left.stdout.trim() !== "") problems.push(`${SYSTEM_NS} is still there`);
    if (problems.length > 0) throw new Error(`cleaning up: ${problems.join("; ")}`);
  });

  it("runs both replicas Ready on the real node, from the image built here, as 65532 on a read-only root", async () => {
    const pods = ready;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.spec.nodeName).toBe(requireRealNode(testEnv(), "").name);
      expect(p.spec.hostNetwork).toBe(true);
      const cs = p.status?.containerStatuses?.[0];
      expect(cs?.image).toContain("localhost/minitask-controller:dev");
      expect(cs?.imageID).toContain(image.id.replace(/^sha256:/, ""));
    }
    // The Deployment says so too (its status follows the pods' a moment later).
    await eventually("the Deployment to count 2 ready replicas", async () => {
      const d = await getJson<{ status?: { readyReplicas?: number } }>([
        "get",
        "deployment",
        "-n",
        SYSTEM_NS,
        "minitask-controller",
      ]);
      return d.status?.readyReplicas === 2 ? true : undefined;
    });
    // The process itself: the image's user, and a root file system it cannot write to.
    const pod = pods[0]?.metadata.name ?? "";
    const probe = await kubectl([
      "exec",
      "-n",
      SYSTEM_NS,
      pod,
      "--",
      "/nodejs/bin/node",
      "-e",
      "let w; try { require('fs').writeFileSync('/app/x', ''); w = 'writable' } catch (e) { w = e.code }" +
        "; console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), node: process.version, root: w }))",
    ]);
    const seen = JSON.parse(probe) as { uid: number; gid: number; node: string; root: string };
    expect(seen).toMatchObject({ uid: 65532, gid: 65532, root: "EROFS" });
    expect(seen.node).toMatch(/^v24\./);
  });

  it("logs JSON lines, and exactly one replica holds the Lease", async () => {
    const ids = await eventually("both replicas logged their start", async () => {
      const m = await identities();
      return m.size === 2 ? m : undefined;
    });
    expect(new Set(ids.values()).size).toBe(2);
    // A replica's identity (a Lease left by an earlier controller of the cluster, if any, expires first).
    const holder = await eventually("a replica to hold the Lease", async () => {
      const h = await leaseHolder();
      return h && [...ids.values()].includes(h) ? h : undefined;
    });
    const leaders = [...ids].filter(([, id]) => id === holder).map(([pod]) => pod);
    expect(leaders, `holder ${holder}, replicas ${JSON.stringify([...ids])}`).toHaveLength(1);
    // The same from the replicas' own logs: one acquired leadership, the other observes it.
    for (const [pod] of ids) {
      const lines = await podLog(pod);
      for (const l of lines) {
        expect(typeof l.level).toBe("number");
        expect(Number.isNaN(Date.parse(l.time))).toBe(false);
        expect(typeof l.msg).toBe("string");
      }
      expect(lines.some((l) => l.msg === "acquired leadership")).toBe(pod === leaders[0]);
    }
  });

  it("serves /metrics over HTTPS with its self-signed certificate, to minitask-metrics-reader only", async () => {
    const [pod] = await controllerPods();
    if (!pod) throw new Error("no controller pod");
    // hostNetwork: the pod's free loopback port is the node's, and it logs which one it took.
    const serving = (await podLog(pod.metadata.name)).find((l) => l.msg === "serving metrics and health probes");
    const port = Number(serving?.metricsPort);
    expect(port).toBeGreaterThan(0);
    await kubectl(["create", "serviceaccount", "scraper", "-n", ns]);
    const binding = `${ns}-scraper`;
    await kubectl([
      "create",
      "clusterrolebinding",
      binding,
      "--clusterrole=minitask-metrics-reader",
      `--serviceaccount=${ns}:scraper`,
    ]);
    try {
      expect((await httpsGet(port, "/metrics")).status).toBe(401);
      const token = (await kubectl(["create", "token", "scraper", "-n", ns])).trim();
      const scraped = await httpsGet(port, "/metrics", token);
      expect(scraped.status).toBe(200);
      expect(scraped.body).toContain("controller_runtime_reconcile_total");
    } finally {
      await kubectl(["delete", "clusterrolebinding", binding, "--ignore-not-found"]);
    }
  });

  it("uses the in-cluster config: KUBERNETES_SERVICE_HOST/PORT, the service-account token and CA", async () => {
    const pods = await controllerPods();
    for (const p of pods) {
      const c = p.spec.containers[0];
      const env = new Map((c?.env ?? []).map((e) => [e.name, e.value]));
      expect(env.get("KUBERNETES_SERVICE_HOST")).toBe("127.0.0.1");
      expect(env.get("KUBERNETES_SERVICE_PORT")).toBe(String(apiserverPort));
      expect(env.has("KUBECONFIG")).toBe(false);
      expect(c?.args?.some((a) => a.startsWith("--kubeconfig"))).toBe(false);
      // The kubelet's projected service-account volume (token, ca.crt, namespace).
      expect(p.spec.volumes?.some((v) => v.name.startsWith("kube-api-access-") && v.projected)).toBe(true);
      const start = await startLine(p.metadata.name);
      // The server URL the in-cluster config makes of KUBERNETES_SERVICE_HOST/PORT (https: the CA's check passed).
      expect(new URL(String(start?.server)).href).toBe(`https://127.0.0.1:${apiserverPort}/`);
    }
  });

  it("runs a TaskRun created through the apiserver to Succeeded, its pod created with a controller pod's token", async () => {
    // The admission policy is in force (so the run below proves who created its pod) …
    const denied = await eventually("the creator policy to deny the test's own pod", async () => {
      const r = await kubectlResult([
        "run",
        "not-the-controller",
        "-n",
        ns,
        "--image=busybox:1.36",
        "--restart=Never",
        "--dry-run=server",
      ]);
      return r.code !== 0 && /only the in-cluster controller creates pods here/.test(r.stderr) ? r.stderr : undefined;
    });
    expect(denied).not.toContain(SA_USER);
    // … and the controller's pod passes it: it authenticated with a bound token of a minitask-controller pod.
    const run = await startRun(ns, "in-cluster");
    const pod = await succeeded(ns, run);
    const podJson = await getJson<Pod>(["get", "pod", "-n", ns, pod]);
    expect(podJson.spec.nodeName).toBe(requireRealNode(testEnv(), "").name);
    const logs = await kubectl(["logs", "-n", ns, pod, "--all-containers"]);
    expect(logs).toContain("hello from in-cluster");
    expect(logs).toContain("goodbye from in-cluster");
  }, 200_000);

  it("gives its ServiceAccount only what it needs", async () => {
    const can = async (...args: string[]) => {
      const r = await kubectlResult(["auth", "can-i", `--as=${SA_USER}`, ...args]);
      return r.stdout.trim();
    };
    expect(await can("delete", "nodes")).toBe("no");
    expect(await can("get", "secrets", "--all-namespaces")).toBe("no");
    expect(await can("list", "secrets", "-n", SYSTEM_NS)).toBe("no");
    expect(await can("create", "deployments", "-n", ns)).toBe("no");
    expect(await can("update", "leases", "-n", "kube-system")).toBe("no");
    // Leases: only in its own namespace (delete: a sharded replica removes its member Lease when it stops).
    expect(await can("delete", "leases", "-n", SYSTEM_NS)).toBe("yes");
    expect(await can("delete", "leases", "-n", "kube-system")).toBe("no");
    expect(await can("update", "tasks.minitask.myorg.dev", "-n", ns)).toBe("no");
    // … and what it needs.
    expect(await can("create", "pods", "-n", ns)).toBe("yes");
    expect(await can("update", "taskruns.minitask.myorg.dev", "--subresource=status", "-n", ns)).toBe("yes");
    expect(await can("update", "leases", "-n", SYSTEM_NS)).toBe("yes");
  });

  it("fails over when the leader's pod is deleted: the other replica takes the Lease and runs new TaskRuns", async () => {
    const before = await identities();
    const oldHolder = await eventually("a replica to hold the Lease", async () => {
      const h = await leaseHolder();
      return h && [...before.values()].includes(h) ? h : undefined;
    });
    const transitions = (await getJson<Lease>(["get", "lease", "-n", SYSTEM_NS, "minitask-controller"])).spec
      ?.leaseTransitions;
    const leader = [...before].find(([, id]) => id === oldHolder)?.[0];
    expect(leader, `holder ${oldHolder}`).toBeTruthy();
    await kubectl(["delete", "pod", "-n", SYSTEM_NS, leader ?? "", "--wait=false"]);
    const newHolder = await eventually(
      "another replica to take the Lease",
      async () => {
        const holder = await leaseHolder();
        if (!holder || holder === oldHolder) return undefined;
        const now = await identities();
        return [...now.values()].includes(holder) ? holder : undefined;
      },
      90_000,
    );
    expect(newHolder).not.toBe(oldHolder);
    const lease = await getJson<Lease>(["get", "lease", "-n", SYSTEM_NS, "minitask-controller"]);
    expect(lease.spec?.leaseTransitions).toBeGreaterThan(transitions ?? 0);
    const run = await startRun(ns, "after-failover");
    const pod = await succeeded(ns, run);
    expect(await kubectl(["logs", "-n", ns, pod, "--all-containers"])).toContain("goodbye from after-failover");
    // The Deployment replaces the deleted pod: two Ready replicas again.
    await eventually(
      "two Ready replicas again",
      async () => {
        const ps = (await controllerPods()).filter((p) => !p.metadata.deletionTimestamp);
        return ps.length === 2 && ps.every(isReady) && !ps.some((p) => p.metadata.name === leader) ? ps : undefined;
      },
      180_000,
    );
  }, 420_000);
});
