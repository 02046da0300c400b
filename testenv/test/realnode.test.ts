// The real node's pieces that need no cluster: node kinds, image names, the namespace annotations,
// the configuration files it writes, our CNI plugin's protocol, and the errors a user can act on.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { TestEnvError } from "../src/build.ts";
import { makePki } from "../src/certs.ts";
import { componentsFor } from "../src/controlplane.ts";
import { ensureNodeTool } from "../src/node-build.ts";
import { parseNodeKind, prepareRealNode, splitImageRef, writeRegistryHosts } from "../src/realnode.ts";
import { realNodeNamespaceAnnotations, requireRealNode } from "../src/testing.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "minitask-realnode-unit-"));
  dirs.push(d);
  return d;
}

describe("a machine that cannot run the real node", () => {
  it("fails up --node real with one line saying why (here: not root)", () => {
    const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
    const dir = tmp();
    const args = ["--conditions=minitask-source", cli, "--state-dir", join(dir, "cluster"), "up", "--node", "real"];
    const asNobody = process.getuid?.() === 0;
    const res = asNobody
      ? spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...args], {
          encoding: "utf8",
          env: { ...process.env, HOME: dir },
        })
      : spawnSync(process.execPath, args, { encoding: "utf8" });
    expect(res.status).toBe(1);
    expect(res.stderr).toBe(
      `cluster: the real node needs root (it runs containerd and runc); running as uid ${asNobody ? 65534 : process.getuid?.()}\n`,
    );
    expect(existsSync(join(dir, "cluster", "state.json"))).toBe(false);
  });
});

describe("node kinds", () => {
  it("parses kwok, real and both, and names the choices otherwise", () => {
    expect(["kwok", "real", "both"].map(parseNodeKind)).toEqual(["kwok", "real", "both"]);
    expect(() => parseNodeKind("fake")).toThrow(new TestEnvError('--node must be one of kwok, real, both; got "fake"'));
  });

  it("runs kwok only with kwok nodes, the real node without kwok for real, and both for both", () => {
    const cp = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
    expect(componentsFor("kwok")).toEqual([...cp, "kwok"]);
    expect(componentsFor("real")).toEqual([...cp, "registry", "containerd", "kubelet"]);
    expect(componentsFor("both")).toEqual([...cp, "kwok", "registry", "containerd", "kubelet"]);
  });
});

describe("image names", () => {
  it("splits a reference into the registry host and the path the local registry serves", () => {
    expect(splitImageRef("busybox")).toEqual({ host: "docker.io", path: "library/busybox:latest" });
    expect(splitImageRef("busybox:1.36")).toEqual({ host: "docker.io", path: "library/busybox:1.36" });
    expect(splitImageRef("docker.io/library/busybox:1.36")).toEqual({
      host: "docker.io",
      path: "library/busybox:1.36",
    });
    expect(splitImageRef("example/tool:2")).toEqual({ host: "docker.io", path: "example/tool:2" });
    expect(splitImageRef("ghcr.io/a/b:3")).toEqual({ host: "ghcr.io", path: "a/b:3" });
    expect(splitImageRef("localhost:5000/x:1")).toEqual({ host: "localhost:5000", path: "x:1" });
  });

  it("writes a hosts.toml with the [host] table containerd 1.6 needs", () => {
    const d = tmp();
    writeRegistryHosts(d, "docker.io", "127.0.0.1:5555");
    const toml = readFileSync(join(d, "docker.io", "hosts.toml"), "utf8");
    expect(toml).toContain('server = "http://127.0.0.1:5555"');
    expect(toml).toContain('[host."http://127.0.0.1:5555"]');
    expect(toml).toContain('capabilities = ["pull", "resolve"]');
  });
});

describe("real-node namespaces", () => {
  it("select the real node and tolerate its taint through the admission plugins' annotations", () => {
    const a = realNodeNamespaceAnnotations();
    expect(a["scheduler.alpha.kubernetes.io/node-selector"]).toBe("minitask.dev/node-kind=real");
    expect(JSON.parse(a["scheduler.alpha.kubernetes.io/defaultTolerations"] ?? "")).toEqual([
      { key: "minitask.dev/node-kind", operator: "Equal", value: "real", effect: "NoSchedule" },
    ]);
  });

  it("fail at once, saying why, on a cluster without a real node", () => {
    const env = { kubeconfig: "k", binDir: "b", kubectl: "kubectl", stateDir: "s", nodeKind: "kwok" as const };
    expect(() => requireRealNode(env, "createTestNamespace")).toThrow(
      "createTestNamespace: this cluster has no real node (node kind kwok); start one with: npm run cluster -- up --node both",
    );
    expect(() => requireRealNode({ ...env, realNodeUnavailable: "the real node needs root" }, "x")).toThrow(
      "x: this cluster has no real node (the real node needs root)",
    );
  });
});

describe("the node's configuration", () => {
  it("keeps containerd and the kubelet under the state folder, isolated and offline", () => {
    const dir = tmp();
    const pki = makePki(join(dir, "pki"));
    const { state, components } = prepareRealNode({
      stateDir: dir,
      pki,
      server: "https://127.0.0.1:6443",
      tainted: true,
      registryPort: 5001,
      kubeletPort: 5002,
      kubeletHealthzPort: 5003,
    });
    expect(state.containerdSocket).toBe(join(dir, "node", "containerd", "containerd.sock"));
    expect(state.registry).toBe("127.0.0.1:5001");
    const toml = readFileSync(join(dir, "node", "containerd", "config.toml"), "utf8");
    for (const line of [
      'sandbox_image = "localhost/minitask/pause:1"',
      "restrict_oom_score_adj = true",
      "netns_mounts_under_state_dir = true",
      "SystemdCgroup = false",
      `config_path = "${join(dir, "node", "certs.d")}"`,
      `root = "${join(dir, "node", "containerd", "root")}"`,
    ]) {
      expect(toml).toContain(line);
    }
    expect(components.containerd.env.HTTPS_PROXY).toBe("http://127.0.0.1:9");
    expect(components.containerd.env.NO_PROXY).toBe("");
    const kubelet = parse(readFileSync(join(dir, "node", "kubelet.yaml"), "utf8")) as Record<string, unknown>;
    expect(kubelet).toMatchObject({
      address: "127.0.0.1",
      port: 5002,
      healthzPort: 5003,
      readOnlyPort: 0,
      cgroupDriver: "cgroupfs",
      failCgroupV1: false,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
      authorization: { mode: "Webhook" },
      registerWithTaints: [{ key: "minitask.dev/node-kind", value: "real", effect: "NoSchedule" }],
    });
    expect(components.kubelet.args).toContain("--hostname-override=127.0.0.1");
    expect(components.kubelet.args).toContain("--node-labels=minitask.dev/node-kind=real");
    const subject = spawnSync("openssl", ["x509", "-noout", "-subject", "-in", join(pki.dir, "kubelet-node.crt")], {
      encoding: "utf8",
    }).stdout;
    expect(subject).toMatch(/O\s*=\s*system:nodes, CN\s*=\s*system:node:127\.0\.0\.1/);
    const conflist = JSON.parse(readFileSync(join(dir, "node", "cni", "net.d", "10-minitask.conflist"), "utf8"));
    expect(conflist.plugins).toEqual([{ type: "minitask-cni" }]);
    expect(existsSync(join(dir, "node", "cni", "bin", "loopback"))).toBe(true);
  });
});

describe("our CNI plugin", () => {
  it("answers VERSION, gives an address in 127.244.0.0/16 derived from the container id, and deletes nothing", async () => {
    const cni = await ensureNodeTool("minitask-cni");
    const call = (command: string, id: string) =>
      spawnSync(cni, [], {
        input: JSON.stringify({ cniVersion: "1.0.0", name: "minitask", type: "minitask-cni" }),
        env: { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: "/nonexistent", CNI_IFNAME: "eth0" },
        encoding: "utf8",
      });
    expect(JSON.parse(call("VERSION", "").stdout).supportedVersions).toContain("1.0.0");
    const add = JSON.parse(call("ADD", "abc").stdout) as { ips: { address: string }[]; interfaces?: unknown };
    expect(add.ips).toHaveLength(1);
    expect(add.ips[0]?.address).toMatch(/^127\.244\.\d+\.\d+\/16$/);
    expect(add.interfaces).toBeUndefined();
    expect(JSON.parse(call("ADD", "abc").stdout)).toEqual(add);
    expect(JSON.parse(call("ADD", "other").stdout).ips[0].address).not.toBe(add.ips[0]?.address);
    const del = call("DEL", "abc");
    expect([del.status, del.stdout]).toEqual([0, ""]);
    const bad = call("BOGUS", "abc");
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ code: 4, msg: 'unknown CNI_COMMAND "BOGUS"' });
  });
});
