// kubectl-task against the real control plane for Tasks that do real work (issue 15): what `start` and
// `rerun` send is what the apiserver stores (workspaces, retries, pod template), --last and delete
// --keep/--older-than over real lists; and on the real node, with the controller running, a run with a
// workspace, results and a sidecar seen through describe and logs --sidecars --timestamps, and a failing run
// with retries followed through every attempt, each in its own pod.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import { type CliResult, runChild } from "./kubectl-task.support.ts";
import { installCrds, startReadyController } from "./support/cluster.ts";

const B = "busybox:1.36";
let client: KubeClient;

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
});

afterAll(async () => {
  await client?.close();
});

function kt(ns: string, args: readonly string[]): Promise<CliResult> {
  return runChild(["-n", ns, ...args], { env: { KUBECONFIG: testEnv().kubeconfig } });
}

const runs = (ns: string) => taskRunClient(client, ns);

async function namespaceWithTasks(prefix: string, o: { node?: "real" }, ...tasks: Task[]): Promise<string> {
  const ns = await createTestNamespace(prefix, o);
  for (const t of tasks)
    await taskClient(client, ns).create({ apiVersion: "minitask.myorg.dev/v1", kind: "Task", ...t });
  return ns;
}

const build: Task = {
  metadata: { name: "build" },
  spec: {
    params: [{ name: "revision", default: "main" }],
    workspaces: [{ name: "source" }, { name: "config", mountPath: "/etc/build" }, { name: "cache", optional: true }],
    steps: [{ name: "compile", image: B, script: "true" }],
  },
};

describe("without the controller", () => {
  it("start -w/--retries/--pod-template: the apiserver stores them; describe shows them; rerun makes the same spec", async () => {
    const ns = await namespaceWithTasks("kt-ws", {}, build);
    const pt = join(mkdtempSync(join(tmpdir(), "kt-pt-")), "pod.yaml");
    writeFileSync(
      pt,
      "nodeSelector:\n  disk: ssd\ntolerations:\n  - key: dedicated\n    operator: Equal\n    value: ci\n    effect: NoSchedule\n",
    );
    const r = await kt(ns, [
      "start",
      "build",
      "-p",
      "revision=v1",
      "-w",
      "source=pvc:src-claim",
      "-w",
      "config=configmap:build-cfg",
      "--retries",
      "2",
      "--timeout",
      "15m",
      "--pod-template",
      pt,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const name = r.stdout.trim();
    const spec = {
      taskRef: "build",
      params: [{ name: "revision", value: "v1" }],
      workspaces: [
        { name: "source", persistentVolumeClaim: { claimName: "src-claim" } },
        { name: "config", configMap: { name: "build-cfg" } },
      ],
      retries: 2,
      timeout: "15m",
      podTemplate: {
        nodeSelector: { disk: "ssd" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "ci", effect: "NoSchedule" }],
      },
    };
    expect((await runs(ns).get(name)).spec).toEqual(spec);

    const d = await kt(ns, ["describe", name]);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^Retries:\s+2$/m);
    expect(d.stdout).toMatch(/^Pod template:\s+nodeSelector \(disk=ssd\), tolerations \(1\)$/m);
    expect(d.stdout).toMatch(
      /Workspaces:\n\s+NAME\s+BINDING\s+MOUNT PATH\n\s+source\s+pvc:src-claim\s+\/workspace\/source\n\s+config\s+configmap:build-cfg\s+\/etc\/build \(read-only\)\n\s+cache\s+-\s+\(optional, not bound\)\n/,
    );
    expect(d.stdout).toMatch(/Attempts:\n\s+ATTEMPT\s+POD\s+PHASE\s+STARTED\s+DURATION\s+MESSAGE\n\s+1\s+-\s+-\s+/);

    const again = await kt(ns, ["rerun", name]);
    expect(again.stderr).toBe("");
    const rerun = await runs(ns).get(again.stdout.trim());
    expect(rerun.metadata?.generateName).toBe("build-run-");
    expect(rerun.spec).toEqual(spec);
    // --last names the run created last: the rerun.
    expect((await kt(ns, ["describe", "--last", "build", "-o", "name"])).stdout).toBe(
      `taskrun.minitask.myorg.dev/${rerun.metadata?.name}\n`,
    );

    // What does not fit the Task, or the CRD, creates nothing.
    const before = (await runs(ns).list()).items.length;
    const cases: [string[], RegExp][] = [
      [
        ["start", "build", "-w", "source=emptyDir"],
        /^error: task "build": unbound workspace "config"; it declares: source, config, cache \(optional\)/,
      ],
      [
        ["start", "build", "-w", "source=emptyDir", "-w", "config=emptyDir", "-w", "extra=emptyDir"],
        /^error: task "build": unknown workspace "extra"/,
      ],
      [["start", "build", "-w", "source=nfs:x"], /^error: invalid workspace "source=nfs:x": unknown source "nfs:x"/],
      [
        ["start", "build", "-w", "source=emptyDir", "-w", "config=emptyDir", "--retries", "101"],
        /^error: invalid --retries "101": expected a whole number from 0 to 100\n$/,
      ],
    ];
    const typo = join(mkdtempSync(join(tmpdir(), "kt-pt-")), "typo.json");
    writeFileSync(typo, JSON.stringify({ nodeSelector: { disk: "ssd" }, tolerationz: [] }));
    cases.push([
      ["start", "build", "-w", "source=emptyDir", "-w", "config=emptyDir", "--pod-template", typo],
      /^error: --pod-template ".*typo\.json": unknown field "tolerationz"; a pod template may have: affinity, /,
    ]);
    for (const [args, stderr] of cases) {
      const bad = await kt(ns, args);
      expect({ args, code: bad.code, stdout: bad.stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(bad.stderr).toMatch(stderr);
      expect(bad.stderr.trimEnd()).not.toContain("\n");
    }
    expect((await runs(ns).list()).items).toHaveLength(before);
  });

  it("--last picks the newest run; delete --keep and --older-than delete only finished runs beyond them", async () => {
    const ns = await namespaceWithTasks(
      "kt-keep",
      {},
      { metadata: { name: "hello" }, spec: { steps: [{ name: "s", image: B }] } },
    );
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push((await kt(ns, ["start", "hello"])).stdout.trim());
    const [a, b, c, d, active] = names as [string, string, string, string, string];
    const now = Date.now();
    const iso = (msAgo: number) => new Date(now - msAgo).toISOString().replace(/\.\d+Z$/, "Z");
    const finish = (name: string, hoursAgo: number) =>
      runs(ns).patchStatus(
        name,
        {
          status: {
            phase: "Succeeded",
            reason: "Succeeded",
            startTime: iso(hoursAgo * 3_600_000 + 60_000),
            finishTime: iso(hoursAgo * 3_600_000),
          },
        },
        { type: "merge" },
      );
    await finish(a, 5);
    await finish(b, 4);
    await finish(c, 3);
    await finish(d, 1);

    // The one run not started yet is the newest: cancel --last takes it.
    expect(await kt(ns, ["cancel", "--last"])).toEqual({
      code: 0,
      stdout: `taskrun ${active} cancelled\n`,
      stderr: "",
    });
    expect((await runs(ns).get(active)).spec.cancelled).toBe(true);

    expect(await kt(ns, ["delete", "--keep", "3"])).toEqual({ code: 0, stdout: `taskrun ${a} deleted\n`, stderr: "" });
    const older = await kt(ns, ["delete", "--older-than", "2h"]);
    expect(older).toEqual({
      code: 0,
      stdout: [b, c]
        .sort()
        .map((n) => `taskrun ${n} deleted\n`)
        .join(""),
      stderr: "",
    });
    expect(await kt(ns, ["delete", "--keep", "1", "--older-than", "30m"])).toEqual({
      code: 0,
      stdout: "",
      stderr: `Nothing to delete: the finished run in namespace ${ns} is kept.\n`,
    });
    expect((await runs(ns).list()).items.map((r) => r.metadata?.name).sort()).toEqual([active, d].sort());
    const none = await kt(ns, ["logs", "--last", "nope"]);
    expect(none).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: there are no runs of task "nope" in namespace "${ns}"\n`,
    });
  });
});

describe("on the real node, with the controller running", () => {
  let ns: string;
  let controller: ControllerProcess | undefined;

  const withSidecar: Task = {
    metadata: { name: "checkout" },
    spec: {
      workspaces: [{ name: "source" }],
      results: [{ name: "commit" }, { name: "lines" }],
      sidecars: [
        {
          name: "watcher",
          image: B,
          script: "trap 'echo watcher stopping; exit 0' TERM; echo watcher up; while true; do sleep 0.2; done",
        },
      ],
      steps: [
        {
          name: "fetch",
          image: B,
          script:
            'printf "a\\nb\\nc\\n" > $(workspaces.source.path)/README; echo fetched; printf abc123 > $(results.commit.path)',
        },
        {
          name: "count",
          image: B,
          script: "wc -l < $(workspaces.source.path)/README | tr -d ' ' | tee $(results.lines.path)",
        },
      ],
    },
  };

  const flaky: Task = {
    metadata: { name: "flaky" },
    spec: { steps: [{ name: "try", image: B, script: 'echo "attempt in $(hostname)"; exit 3' }] },
  };

  beforeAll(async () => {
    ns = await namespaceWithTasks("kt-real", { node: "real" }, withSidecar, flaky);
    controller = await startReadyController(["--namespace", ns, "--log-level=info"]);
  });

  afterAll(async () => {
    await controller?.stop("SIGTERM");
  });

  it("a run with a workspace, results and a sidecar: describe shows them, logs --sidecars --timestamps shows all", async () => {
    const r = await kt(ns, ["start", "checkout", "-w", "source=emptyDir", "-f"]);
    expect(r.code, r.stderr).toBe(0);
    const name = /^taskrun (\S+) created$/m.exec(r.stdout)?.[1] ?? "";
    expect(r.stdout).toContain("[fetch] fetched\n");
    expect(r.stdout).toContain("[count] 3\n");

    const d = await kt(ns, ["describe", "--last", "checkout"]);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(new RegExp(`^Name:\\s+${name}$`, "m"));
    expect(d.stdout).toMatch(
      /Workspaces:\n\s+NAME\s+BINDING\s+MOUNT PATH\n\s+source\s+emptyDir\s+\/workspace\/source\n/,
    );
    expect(d.stdout).toMatch(/Results:\n\s+NAME\s+VALUE\n\s+commit\s+abc123\n\s+lines\s+3\n/);
    // The kubelet stops the sidecar once the last step has exited (the run may finish a moment before).
    const stopped = await eventually("the sidecar to be stopped", async () => {
      const x = await kt(ns, ["describe", name]);
      return /watcher\s+\S+\s+Terminated/.test(x.stdout) ? x : undefined;
    });
    const sidecar = /Sidecars:\n\s+NAME\s+IMAGE\s+STATE\n\s+watcher\s+busybox:1\.36\s+(.*)\n/.exec(stopped.stdout);
    expect(sidecar?.[1]).toMatch(/^Terminated \(exit 0, Completed\)$/);

    const l = await kt(ns, ["logs", "--last", "checkout", "--sidecars", "--timestamps"]);
    expect(l.code).toBe(0);
    const ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z";
    expect(l.stdout.split("\n").filter((x) => x !== "")).toEqual([
      expect.stringMatching(new RegExp(`^\\[fetch\\] ${ts} fetched$`)),
      expect.stringMatching(new RegExp(`^\\[count\\] ${ts} 3$`)),
      expect.stringMatching(new RegExp(`^\\[sidecar-watcher\\] ${ts} watcher up$`)),
      expect.stringMatching(new RegExp(`^\\[sidecar-watcher\\] ${ts} watcher stopping$`)),
    ]);
    const followed = await kt(ns, ["logs", name, "-f", "--sidecars"]);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(
      /\[count\] 3\n=== step count succeeded.*\n\[sidecar-watcher\] watcher up\n\[sidecar-watcher\] watcher stopping\ntaskrun \S+ succeeded in \S+\n$/,
    );
  });

  it("--retries 2 on an always-failing step: follow shows three attempts, each in its own pod; describe lists them", async () => {
    const r = await kt(ns, ["start", "flaky", "--retries", "2", "-f"]);
    expect(r.code).toBe(1);
    const name = /^taskrun (\S+) created$/m.exec(r.stdout)?.[1] ?? "";
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    const failed = /^=== step try failed: exit code 3, Error \(\S+\)$/;
    const why = 'StepFailed: step "try" failed with exit code 3';
    expect(lines).toEqual([
      `taskrun ${name} created`,
      "=== step try",
      `[try] attempt in ${name}-pod`,
      expect.stringMatching(failed),
      `=== retry 1 of 2 in pod ${name}-pod-retry1: attempt 1 Failed (${why})`,
      "=== step try",
      `[try] attempt in ${name}-pod-retry1`,
      expect.stringMatching(failed),
      `=== retry 2 of 2 in pod ${name}-pod-retry2: attempt 2 Failed (${why})`,
      "=== step try",
      `[try] attempt in ${name}-pod-retry2`,
      expect.stringMatching(failed),
    ]);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(`^error: taskrun "${name}" failed in \\S+ \\(after 2 retries\\): ${why}$`),
    );

    const d = await kt(ns, ["describe", name]);
    expect(d.stdout).toMatch(/^Retries:\s+2 \(2 used\)$/m);
    const attempts = d.stdout.slice(d.stdout.indexOf("Attempts:")).split("\n").slice(1, 5);
    expect(attempts).toEqual([
      expect.stringMatching(/^\s+ATTEMPT\s+POD\s+PHASE\s+STARTED\s+DURATION\s+MESSAGE$/),
      expect.stringMatching(
        new RegExp(`^\\s+1\\s+${name}-pod\\s+Failed \\(StepFailed\\)\\s+\\S+ ago\\s+\\S+\\s+step "try" failed`),
      ),
      expect.stringMatching(
        new RegExp(`^\\s+2\\s+${name}-pod-retry1\\s+Failed \\(StepFailed\\)\\s+\\S+ ago\\s+\\S+\\s+step "try" failed`),
      ),
      expect.stringMatching(
        new RegExp(`^\\s+3\\s+${name}-pod-retry2\\s+Failed \\(StepFailed\\)\\s+\\S+ ago\\s+\\S+\\s+step "try" failed`),
      ),
    ]);
    const l = await kt(ns, ["logs", name]);
    expect(l).toEqual({
      code: 0,
      stdout: `[try] attempt in ${name}-pod-retry2\n`,
      stderr: `attempt 3 of taskrun ${name}; earlier attempts ran in pods ${name}-pod, ${name}-pod-retry1\n`,
    });
    // A rerun starts over: a new run with the same retries.
    const again = await kt(ns, ["rerun", name]);
    expect((await runs(ns).get(again.stdout.trim())).spec.retries).toBe(2);
    await kt(ns, ["cancel", again.stdout.trim()]);
  });
});
