// `npm run cluster -- up|status|env|down` as a user runs it, on a second control plane of its own,
// and the errors a user can act on.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { TestEnvError } from "../src/build.ts";
import { ControlPlane } from "../src/controlplane.ts";
import { realNodeLeftovers, realNodeSupport } from "../src/realnode.ts";
import { testEnv } from "../src/testing.ts";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

function cli(stateDir: string, ...args: string[]) {
  return run(process.execPath, ["--conditions=minitask-source", CLI, "--state-dir", stateDir, ...args], {
    env: { ...process.env, KUBECONFIG: "" },
  });
}

/** A live (not zombie) process in the group: exited children of the finished CLI wait for init to reap them. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const e of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z") return true;
    } catch {
      // gone
    }
  }
  return false;
}

describe("cluster CLI", () => {
  it("up starts every component, status and env describe it, down leaves no process and no state", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-cli-"));
    try {
      const up = await cli(dir, "up");
      const kubeconfig = up.stdout.trim();
      expect(kubeconfig).toBe(join(dir, "kubeconfig"));
      expect(up.stderr).toContain("kwok simulates nodes and pods");

      const status = await cli(dir, "status");
      for (const c of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]) {
        expect(status.stdout).toMatch(new RegExp(`${c}\\s+running`));
      }
      expect(status.stdout).toMatch(/apiserver \/readyz\s+ok/);
      expect((await cli(dir, "env")).stdout).toBe(`export KUBECONFIG=${kubeconfig}\n`);

      // up again is idempotent: same cluster, same kubeconfig.
      const cp = ControlPlane.attach(dir);
      expect(cp).toBeDefined();
      const pids = cp?.livePids() ?? [];
      expect(pids).toHaveLength(5);
      expect((await cli(dir, "up")).stdout.trim()).toBe(kubeconfig);
      expect(ControlPlane.attach(dir)?.livePids()).toEqual(pids);

      await cli(dir, "down");
      expect(pids.filter(groupAlive)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      const after = await cli(dir, "status").catch((e: { code: number; stdout: string }) => e);
      expect(after).toMatchObject({ code: 1 });
    } finally {
      ControlPlane.attach(dir)
        ?.stop()
        .catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("up --node real runs a second real node beside the test cluster's; down removes all of it, and only it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-cli-real-"));
    try {
      const support = realNodeSupport();
      if (!support.ok) {
        const err = (await cli(dir, "up", "--node", "real").catch((e: unknown) => e)) as {
          code: number;
          stderr: string;
        };
        expect(err.code).toBe(1);
        expect(err.stderr).toBe(`cluster: ${support.reason}\n`);
        expect(ControlPlane.attach(dir)).toBeUndefined();
        return;
      }
      const up = await cli(dir, "up", "--node", "real");
      expect(up.stderr).toContain("real node 127.0.0.1");
      const status = await cli(dir, "status");
      expect(status.stdout).toMatch(/kubelet\s+running/);
      expect(status.stdout).toMatch(/nodes\s+real/);
      expect(status.stdout).not.toMatch(/kwok\s+running/);
      const cp = ControlPlane.attach(dir);
      const n = cp?.state.realNode;
      if (!cp || !n) throw new Error("no real node in the state");
      // A pod on the second node, so that it has containers, mounts and cgroups to leave behind.
      const run = promisify(execFile);
      const k = (...args: string[]) => run(cp.state.kubectl, ["--kubeconfig", cp.kubeconfig, ...args]);
      await k("run", "sleeper", "--image=busybox:1.36", "--restart=Never", "--", "sleep", "300");
      await k("wait", "--for=condition=Ready", "pod/sleeper", "--timeout=60s");
      const scope = { dir: n.dir, cgroupRoot: n.cgroupRoot };
      expect(realNodeLeftovers(scope).some((l) => l.startsWith("cgroup "))).toBe(true);
      await cli(dir, "down");
      expect(realNodeLeftovers(scope)).toEqual([]);
      // The test cluster's own real node was left alone.
      const own = testEnv().realNode;
      if (own) {
        const nodes = await run(testEnv().kubectl, ["--kubeconfig", testEnv().kubeconfig, "get", "node", own.name]);
        expect(nodes.stdout).toMatch(/\sReady\s/);
      } else {
        expect(realNodeLeftovers()).toEqual([]);
      }
    } finally {
      await ControlPlane.attach(dir)
        ?.stop()
        .catch(() => []);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a component that dies while starting fails the start with its log tail, leaving nothing running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-bad-"));
    try {
      const err = await ControlPlane.start({
        stateDir: dir,
        apiserverArgs: ["--no-such-flag-for-test"],
        log: () => {},
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TestEnvError);
      expect((err as Error).message).toContain("kube-apiserver exited while starting");
      expect((err as Error).message).toContain("unknown flag: --no-such-flag-for-test");
      const cp = ControlPlane.attach(dir);
      expect(cp?.livePids()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
