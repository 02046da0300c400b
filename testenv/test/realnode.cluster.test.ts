// The real node of the test cluster (`--node both`, started by the vitest global setup): containers
// really run — output in `kubectl logs`, real exit codes, steps in order — in network namespaces that
// hold only `lo`; namespaces made with `createTestNamespace(…, { node: "real" })` land there while
// ordinary ones land on the kwok node; images come from the node's store or its local registry, and an
// image that is nowhere fails at once. Also: the kubelet and containerd can be killed and restarted.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlane } from "../src/controlplane.ts";
import { buildImage, nodeArtifactPaths } from "../src/node-build.ts";
import { createTestNamespace, eventually, importNodeImage, kubectl, testEnv } from "../src/testing.ts";
import { REAL_NODE_NAME } from "../src/versions.ts";

interface ContainerState {
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason: string; startedAt: string; finishedAt: string };
  waiting?: { reason: string; message?: string };
}
interface ContainerStatus {
  name: string;
  state: ContainerState;
}
interface PodLike {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

interface Step {
  name: string;
  script: string;
  image?: string;
  pull?: "Always" | "IfNotPresent" | "Never";
}

function pod(ns: string, name: string, steps: Step[]): string {
  const containers = steps.map((s) => ({
    name: s.name,
    image: s.image ?? "busybox:1.36",
    ...(s.pull ? { imagePullPolicy: s.pull } : {}),
    command: ["sh", "-c", s.script],
  }));
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      initContainers: containers.slice(0, -1),
      containers: containers.slice(-1),
    },
  });
}

async function getPod(ns: string, name: string): Promise<PodLike> {
  return JSON.parse(await kubectl(["get", "pod", name, "-n", ns, "-o", "json"])) as PodLike;
}

async function podDone(ns: string, name: string, timeoutMs = 60_000): Promise<PodLike> {
  return eventually(
    `pod ${ns}/${name} to finish`,
    async () => {
      const p = await getPod(ns, name);
      return p.status.phase === "Succeeded" || p.status.phase === "Failed" ? p : undefined;
    },
    timeoutMs,
  );
}

function statuses(p: PodLike): ContainerStatus[] {
  return [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])];
}

let ns: string;
let cp: ControlPlane;

beforeAll(async () => {
  ns = await createTestNamespace("real-node", { node: "real" });
  const attached = ControlPlane.attach(testEnv().stateDir, () => {});
  if (!attached) throw new Error(`no control plane state in ${testEnv().stateDir}`);
  cp = attached;
});

describe("the real node", () => {
  it("is Ready under its own name, labelled, and tainted when it shares the cluster with kwok", async () => {
    const node = JSON.parse(await kubectl(["get", "node", REAL_NODE_NAME, "-o", "json"])) as {
      metadata: { labels: Record<string, string> };
      spec: { taints?: { key: string; value: string; effect: string }[] };
      status: {
        conditions: { type: string; status: string }[];
        addresses: { type: string; address: string }[];
        nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string };
      };
    };
    expect(node.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status.addresses).toContainEqual({ type: "InternalIP", address: "127.0.0.1" });
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    expect(node.metadata.labels["minitask.dev/node-kind"]).toBe("real");
    if (testEnv().nodeKind === "both") {
      expect(node.spec.taints).toContainEqual({ key: "minitask.dev/node-kind", value: "real", effect: "NoSchedule" });
    }
  });

  it("runs steps for real: their output is in kubectl logs, one after another", async () => {
    await kubectl(
      ["apply", "-f", "-"],
      pod(ns, "echo", [
        { name: "one", script: "echo hello from one" },
        { name: "two", script: "sleep 1; echo two saw $(cat /proc/1/cmdline | tr '\\0' ' ')" },
        { name: "three", script: "echo goodbye" },
      ]),
    );
    const p = await podDone(ns, "echo");
    expect(p.status.phase).toBe("Succeeded");
    expect(p.spec.nodeName).toBe(REAL_NODE_NAME);
    expect((await kubectl(["logs", "echo", "-n", ns, "-c", "one"])).trim()).toBe("hello from one");
    expect(await kubectl(["logs", "echo", "-n", ns, "-c", "two"])).toMatch(/^two saw /);
    expect((await kubectl(["logs", "echo", "-n", ns, "-c", "three"])).trim()).toBe("goodbye");
    const st = statuses(p);
    expect(st.map((s) => s.state.terminated?.exitCode)).toEqual([0, 0, 0]);
    for (let i = 1; i < st.length; i++) {
      const prevEnd = Date.parse(st[i - 1]?.state.terminated?.finishedAt ?? "");
      expect(Date.parse(st[i]?.state.terminated?.startedAt ?? "")).toBeGreaterThanOrEqual(prevEnd);
    }
  });

  it("reports a real exit code, and the steps after a failing one never start", async () => {
    await kubectl(
      ["apply", "-f", "-"],
      pod(ns, "exit3", [
        { name: "fails", script: "echo about to fail; exit 3" },
        { name: "never", script: "echo must not run" },
      ]),
    );
    const p = await podDone(ns, "exit3");
    expect(p.status.phase).toBe("Failed");
    expect(p.status.initContainerStatuses?.[0]?.state.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(p.status.containerStatuses?.[0]?.state.terminated).toBeUndefined();
    expect(p.status.containerStatuses?.[0]?.state.running).toBeUndefined();
    expect((await kubectl(["logs", "exit3", "-n", ns, "-c", "fails"])).trim()).toBe("about to fail");
  });

  it("shares an emptyDir between steps and mounts ConfigMaps and Secrets", async () => {
    await kubectl(["create", "configmap", "cfg", "-n", ns, "--from-literal=greeting=hello from a ConfigMap"]);
    await kubectl(["create", "secret", "generic", "sec", "-n", ns, "--from-literal=token=s3cret"]);
    const mounts = [
      { name: "work", mountPath: "/workspace" },
      { name: "cfg", mountPath: "/etc/cfg" },
    ];
    const env = [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "sec", key: "token" } } }];
    await kubectl(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "volumes", namespace: ns },
        spec: {
          restartPolicy: "Never",
          volumes: [
            { name: "work", emptyDir: {} },
            { name: "cfg", configMap: { name: "cfg" } },
          ],
          initContainers: [
            {
              name: "write",
              image: "busybox:1.36",
              command: ["sh", "-c", '{ cat /etc/cfg/greeting; echo; echo "$TOKEN"; } > /workspace/out'],
              volumeMounts: mounts,
              env,
            },
          ],
          containers: [
            {
              name: "read",
              image: "busybox:1.36",
              workingDir: "/workspace",
              command: ["sh", "-c", "cat out; pwd; id -u"],
              volumeMounts: mounts,
              securityContext: { runAsUser: 1000 },
            },
          ],
        },
      }),
    );
    const p = await podDone(ns, "volumes");
    expect(p.status.phase).toBe("Succeeded");
    expect((await kubectl(["logs", "volumes", "-n", ns, "-c", "read"])).trim().split("\n")).toEqual([
      "hello from a ConfigMap",
      "s3cret",
      "/workspace",
      "1000",
    ]);
  });

  it("gives a pod a network namespace with only lo (up), and an address in 127.244.0.0/16", async () => {
    await kubectl(
      ["apply", "-f", "-"],
      pod(ns, "net", [
        { name: "main", script: "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ip -o link show lo" },
      ]),
    );
    const p = await podDone(ns, "net");
    expect(p.status.phase).toBe("Succeeded");
    expect(p.status.podIP).toMatch(/^127\.244\.\d+\.\d+$/);
    const out = (await kubectl(["logs", "net", "-n", ns])).trim().split("\n");
    expect(out[0]).toBe("lo");
    expect(out).toHaveLength(2);
    expect(out[1]).toMatch(/\blo:.*\bUP\b/);
  });

  it("puts pods of a real-node namespace on the real node and other pods on the kwok node", async () => {
    const plain = await createTestNamespace("plain");
    await kubectl(["apply", "-f", "-"], pod(ns, "where", [{ name: "main", script: "true" }]));
    await kubectl(["apply", "-f", "-"], pod(plain, "where", [{ name: "main", script: "true" }]));
    expect((await podDone(ns, "where")).spec.nodeName).toBe(REAL_NODE_NAME);
    const other = await podDone(plain, "where");
    if (testEnv().nodeKind === "both") expect(other.spec.nodeName).toMatch(/^kwok-node-/);
    else expect(other.spec.nodeName).toBe(REAL_NODE_NAME);
  });

  it("pulls busybox:latest with pull policy Always from the node's local registry", async () => {
    await kubectl(
      ["apply", "-f", "-"],
      pod(ns, "always", [{ name: "main", image: "busybox", pull: "Always", script: "echo pulled" }]),
    );
    const p = await podDone(ns, "always");
    expect(p.status.phase).toBe("Succeeded");
    expect((await kubectl(["logs", "always", "-n", ns])).trim()).toBe("pulled");
    const events = await kubectl([
      "get",
      "events",
      "-n",
      ns,
      "--field-selector",
      "involvedObject.name=always,reason=Pulled",
      "-o",
      "jsonpath={.items[*].message}",
    ]);
    expect(events).toMatch(/Successfully pulled image "busybox"/);
  });

  it("fails an image that is nowhere with ErrImagePull at once, without leaving loopback", async () => {
    // One registry the node serves locally (docker.io), one it does not (its pulls meet a dead proxy).
    const images = { local: "docker.io/library/not-here:1.0", remote: "quay.io/minitask/not-here:1.0" };
    for (const [name, image] of Object.entries(images)) {
      await kubectl(["apply", "-f", "-"], pod(ns, `missing-${name}`, [{ name: "main", image, script: "true" }]));
    }
    const reasons = new Set(["ErrImagePull", "ImagePullBackOff"]);
    for (const name of Object.keys(images)) {
      const p = await eventually(
        `${name} image to fail to pull`,
        async () => {
          const p = await getPod(ns, `missing-${name}`);
          return reasons.has(p.status.containerStatuses?.[0]?.state.waiting?.reason ?? "") ? p : undefined;
        },
        30_000,
      );
      expect(p.status.phase).toBe("Pending");
    }
    const failures = async (name: string) =>
      kubectl([
        "get",
        "events",
        "-n",
        ns,
        "--field-selector",
        `involvedObject.name=missing-${name},reason=Failed`,
        "-o",
        "jsonpath={.items[*].message}",
      ]);
    expect(await failures("local")).toMatch(/not-here:1\.0: not found/);
    expect(await failures("remote")).toMatch(/proxyconnect tcp: dial tcp 127\.0\.0\.1:9: connect: connection refused/);
  });

  describe("an image of our own", () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-image-test-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("is written by buildImage, imported into the node, and runs from the store and (Always) the registry", async () => {
      // Two layers: a shell (busybox from the node's cache) and a file of ours.
      const shell = join(dir, "shell");
      mkdirSync(join(shell, "bin"), { recursive: true });
      copyFileSync(nodeArtifactPaths().busybox, join(shell, "bin", "busybox"));
      chmodSync(join(shell, "bin", "busybox"), 0o755);
      for (const a of ["sh", "cat"]) symlinkSync("busybox", join(shell, "bin", a));
      const files = join(dir, "files");
      mkdirSync(files);
      writeFileSync(join(files, "greeting.txt"), "hello from our own layer\n");
      const tarball = join(dir, "hello.tar");
      const id = await buildImage({
        out: tarball,
        tags: ["example.test/minitask/hello:1"],
        layers: [{ dir: shell }, { dir: files, prefix: "/opt/hello" }],
        config: { Env: ["PATH=/bin", "GREETING_FILE=/opt/hello/greeting.txt"] },
      });
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await importNodeImage(tarball)).toEqual(["example.test/minitask/hello:1"]);
      const image = "example.test/minitask/hello:1";
      await kubectl(
        ["apply", "-f", "-"],
        pod(ns, "own", [
          { name: "store", image, pull: "Never", script: 'cat "$GREETING_FILE"' },
          { name: "registry", image, pull: "Always", script: "cat /opt/hello/greeting.txt" },
        ]),
      );
      const p = await podDone(ns, "own");
      expect(p.status.phase).toBe("Succeeded");
      expect((await kubectl(["logs", "own", "-n", ns, "-c", "store"])).trim()).toBe("hello from our own layer");
      expect((await kubectl(["logs", "own", "-n", ns, "-c", "registry"])).trim()).toBe("hello from our own layer");
    });
  });

  it("survives a killed kubelet, containerd and registry: they restart, the running pod finishes, new pods pull", async () => {
    await kubectl(
      ["apply", "-f", "-"],
      pod(ns, "outlives", [{ name: "main", script: "echo started; sleep 4; echo finished" }]),
    );
    await eventually("the pod to run", async () =>
      (await getPod(ns, "outlives")).status.phase === "Running" ? true : undefined,
    );
    await cp.stopComponent("kubelet", "SIGKILL");
    expect(cp.isRunning("kubelet")).toBe(false);
    await cp.stopComponent("containerd", "SIGKILL");
    expect(cp.isRunning("containerd")).toBe(false);
    await cp.startComponent("containerd");
    await cp.startComponent("kubelet");
    const p = await podDone(ns, "outlives");
    expect(p.status.phase).toBe("Succeeded");
    expect((await kubectl(["logs", "outlives", "-n", ns])).trim().split("\n")).toEqual(["started", "finished"]);
    // The registry too (it keeps images in memory: a restarted one is given them again); and the node
    // still runs new pods, pulling with Always.
    await cp.stopComponent("registry", "SIGKILL");
    await cp.startComponent("registry");
    await kubectl(
      ["apply", "-f", "-"],
      pod(ns, "after-restart", [{ name: "main", image: "busybox:latest", pull: "Always", script: "echo still here" }]),
    );
    expect((await podDone(ns, "after-restart")).status.phase).toBe("Succeeded");
    expect((await kubectl(["logs", "after-restart", "-n", ns])).trim()).toBe("still here");
  });
});
