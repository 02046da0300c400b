// `npm run cluster -- selftest`: the real node end to end, as a user would use it, on a cluster of
// its own — up, a three-step pod whose output must show in `kubectl logs`, an `exit 3` step, `down`,
// and no process, mount or cgroup left behind — with the timings and memory it took. CI runs it.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TestEnvError } from "./build.ts";
import { ControlPlane } from "./controlplane.ts";
import { type NodeKind, realNodeLeftovers } from "./realnode.ts";
import { REAL_NODE_NAME } from "./versions.ts";

const run = promisify(execFile);

export interface SelfTestResult {
  readonly upSeconds: number;
  /** Pod created → phase Succeeded, for a pod of three steps (two init containers and a container). */
  readonly podSeconds: number;
  readonly downSeconds: number;
  /** Resident memory in MiB, with the pod's containers gone. */
  readonly rssMiB: Readonly<Record<"kubelet" | "containerd" | "registry", number>>;
}

function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Math.round(Number(m?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

export async function selfTest(
  opts: { node?: Exclude<NodeKind, "kwok">; log?: (line: string) => void } = {},
): Promise<SelfTestResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const node = opts.node ?? "both";
  const dir = mkdtempSync(join(tmpdir(), "minitask-selftest-"));
  const t0 = Date.now();
  const cp = await ControlPlane.start({ stateDir: join(dir, "cluster"), node, log }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const upSeconds = (Date.now() - t0) / 1000;
  let stopped = false;
  try {
    const kubectl = async (args: string[], input?: string) => {
      const child = run(cp.state.kubectl, ["--kubeconfig", cp.kubeconfig, ...args]);
      if (input !== undefined) child.child.stdin?.end(input);
      return (await child).stdout;
    };
    const onReal = {
      nodeSelector: { "minitask.dev/node-kind": "real" },
      tolerations: [{ key: "minitask.dev/node-kind", operator: "Equal", value: "real", effect: "NoSchedule" }],
    };
    const step = (name: string, script: string) => ({ name, image: "busybox:1.36", command: ["sh", "-c", script] });
    const pod = (name: string, steps: ReturnType<typeof step>[]) =>
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default" },
        spec: {
          restartPolicy: "Never",
          ...onReal,
          initContainers: steps.slice(0, -1),
          containers: steps.slice(-1),
        },
      });
    const waitPhase = async (name: string): Promise<{ phase: string; node: string; codes: number[] }> => {
      const until = Date.now() + 60_000;
      for (;;) {
        const p = JSON.parse(await kubectl(["get", "pod", name, "-o", "json"])) as {
          spec: { nodeName?: string };
          status: {
            phase?: string;
            initContainerStatuses?: { state: { terminated?: { exitCode: number } } }[];
            containerStatuses?: { state: { terminated?: { exitCode: number } } }[];
          };
        };
        const phase = p.status.phase ?? "";
        if (phase === "Succeeded" || phase === "Failed") {
          const all = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])];
          return {
            phase,
            node: p.spec.nodeName ?? "",
            codes: all.map((c) => c.state.terminated?.exitCode ?? -1),
          };
        }
        if (Date.now() > until) throw new TestEnvError(`selftest: pod ${name} did not finish in 60 s (phase ${phase})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const t1 = Date.now();
    await kubectl(
      ["create", "-f", "-"],
      pod("hello", [
        step("one", "echo hello from minitask"),
        step("two", "echo middle"),
        step("three", "echo goodbye"),
      ]),
    );
    const ok = await waitPhase("hello");
    const podSeconds = (Date.now() - t1) / 1000;
    if (ok.phase !== "Succeeded" || ok.node !== REAL_NODE_NAME) {
      throw new TestEnvError(
        `selftest: pod hello ended ${ok.phase} on ${ok.node}, want Succeeded on ${REAL_NODE_NAME}`,
      );
    }
    const out = (await kubectl(["logs", "hello", "-c", "one"])).trim();
    if (out !== "hello from minitask") throw new TestEnvError(`selftest: kubectl logs showed ${JSON.stringify(out)}`);
    log(`selftest: a 3-step pod ran on ${REAL_NODE_NAME} in ${podSeconds.toFixed(1)} s; its logs: "${out}"`);

    await kubectl(["create", "-f", "-"], pod("exit3", [step("fails", "exit 3"), step("never", "echo never")]));
    const bad = await waitPhase("exit3");
    if (bad.phase !== "Failed" || bad.codes[0] !== 3 || bad.codes[1] !== -1) {
      throw new TestEnvError(`selftest: pod exit3 ended ${bad.phase} with exit codes ${bad.codes.join(",")}`);
    }
    log("selftest: an `exit 3` step showed exit code 3 and the next step never started");

    const rss = {
      kubelet: rssMiB(cp.state.components.kubelet?.pid),
      containerd: rssMiB(cp.state.components.containerd?.pid),
      registry: rssMiB(cp.state.components.registry?.pid),
    };
    log(`selftest: RSS kubelet ${rss.kubelet} MiB, containerd ${rss.containerd} MiB, registry ${rss.registry} MiB`);

    const t2 = Date.now();
    const left = await cp.stop();
    stopped = true;
    const downSeconds = (Date.now() - t2) / 1000;
    const n = cp.state.realNode;
    const after = [...left, ...(n ? realNodeLeftovers({ dir: n.dir, cgroupRoot: n.cgroupRoot }) : [])];
    if (after.length > 0) throw new TestEnvError(`selftest: down left behind: ${after.join("; ")}`);
    log(`selftest: down in ${downSeconds.toFixed(1)} s; no process, mount or cgroup of the real node left`);
    return { upSeconds, podSeconds, downSeconds, rssMiB: rss };
  } finally {
    if (!stopped) await cp.stop().catch(() => []);
    rmSync(dir, { recursive: true, force: true });
  }
}
