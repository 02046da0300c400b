// kubectl-task against the real control plane: the executable as a child process (real exit codes and
// stderr), the real kubectl finding it as a plugin, and — with the real minitask-controller running
// (scoped to the test's namespace) and kwok completing the pods — --follow to the end of succeeding,
// failing and interrupted runs. kwok serves no container logs, so follow reports them as unavailable
// here; the log path itself is covered against a fake apiserver in kubectl-task.test.ts.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import type { Task, TaskRun } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import { BIN, type CliResult, NODE_DIR, runChild } from "./kubectl-task.support.ts";
import { installCrds, startReadyController } from "./support/cluster.ts";

let client: KubeClient;

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
});

afterAll(async () => {
  await client?.close();
});

/** The CLI as a child process against the test control plane (KUBECONFIG, as a user would set it). */
function kt(ns: string, args: readonly string[], o: Parameters<typeof runChild>[1] = {}): Promise<CliResult> {
  return runChild(["-n", ns, ...args], { ...o, env: { KUBECONFIG: testEnv().kubeconfig, ...o.env } });
}

const hello: Task = {
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "hello" },
  spec: {
    description: "Says hello, then goodbye.",
    params: [{ name: "who" }, { name: "greeting", default: "Hello" }],
    steps: [
      { name: "greet", image: "busybox:1.36", script: 'echo "$(params.greeting), $(params.who)"' },
      { name: "farewell", image: "busybox:1.36", script: "echo bye" },
    ],
  },
};

async function namespaceWithTasks(prefix: string, ...tasks: Task[]): Promise<string> {
  const ns = await createTestNamespace(prefix);
  for (const t of tasks) await taskClient(client, ns).create(t);
  return ns;
}

const runs = (ns: string) => taskRunClient(client, ns);

/** Writes a run's status through the status subresource (what the controller would do). */
async function setStatus(ns: string, name: string, status: NonNullable<TaskRun["status"]>): Promise<void> {
  await runs(ns).patchStatus(name, { status }, { type: "merge" });
}

describe("without the controller", () => {
  it("start creates a run with generateName TASK-run- and the right spec, and prints its name", async () => {
    const ns = await namespaceWithTasks("kt-start", hello);
    const r = await kt(ns, [
      "start",
      "hello",
      "-p",
      "who=Ada",
      "-p",
      "greeting=Hi",
      "--timeout",
      "5m",
      "--service-account",
      "default",
      "--annotation",
      "example.com/note=from-test",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const name = r.stdout.trim();
    expect(name).toMatch(/^hello-run-[a-z0-9]{5}$/);
    const run = await runs(ns).get(name);
    expect(run.metadata?.generateName).toBe("hello-run-");
    expect(run.metadata?.labels).toEqual({ "minitask.myorg.dev/task": "hello" });
    expect(run.metadata?.annotations).toEqual({ "example.com/note": "from-test" });
    expect(run.spec).toEqual({
      taskRef: "hello",
      params: [
        { name: "who", value: "Ada" },
        { name: "greeting", value: "Hi" },
      ],
      timeout: "5m",
      serviceAccountName: "default",
    });
    // Without --timeout the CRD's default (1h) applies.
    const plain = await kt(ns, ["start", "hello", "-p", "who=Bob"]);
    expect((await runs(ns).get(plain.stdout.trim())).spec).toEqual({
      taskRef: "hello",
      params: [{ name: "who", value: "Bob" }],
      timeout: "1h",
    });
  });

  it("start refuses unknown tasks, unknown and missing params, bad timeouts — and creates nothing", async () => {
    const ns = await namespaceWithTasks("kt-params", hello, {
      metadata: { name: "build" },
      spec: { steps: [{ name: "compile", image: "golang" }] },
    });
    const cases: [string[], string][] = [
      [["start", "helo"], `error: task "helo" not found in namespace "${ns}"; tasks there: build, hello\n`],
      [
        ["start", "hello"],
        'error: task "hello": missing required param "who"; it takes: who (required), greeting (default "Hello") (set them with -p NAME=VALUE)\n',
      ],
      [
        ["start", "hello", "-p", "who=x", "-p", "colour=red", "-p", "size=9"],
        'error: task "hello": unknown params "colour", "size"; it takes: who (required), greeting (default "Hello") (set them with -p NAME=VALUE)\n',
      ],
      [
        ["start", "build", "-p", "x=1"],
        'error: task "build": unknown param "x"; it takes no params (set them with -p NAME=VALUE)\n',
      ],
      [
        ["start", "hello", "-p", "who=x", "--timeout", "1d"],
        'error: invalid --timeout "1d": expected a duration such as 90s, 10m or 1h30m (0 for none)\n',
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await kt(ns, args);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 1, stdout: "", stderr });
    }
    expect((await runs(ns).list()).items).toHaveLength(0);
  });

  it("start --dry-run prints the TaskRun as yaml or json and creates nothing", async () => {
    const ns = await namespaceWithTasks("kt-dry", hello);
    const y = await kt(ns, ["start", "hello", "-p", "who=Ada", "--dry-run"]);
    expect(y.code).toBe(0);
    expect(parseYaml(y.stdout)).toEqual({
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      metadata: { generateName: "hello-run-", namespace: ns, labels: { "minitask.myorg.dev/task": "hello" } },
      spec: { taskRef: "hello", params: [{ name: "who", value: "Ada" }] },
    });
    const j = await kt(ns, ["start", "hello", "-p", "who=Ada", "--dry-run", "-o", "json"]);
    expect((JSON.parse(j.stdout) as TaskRun).spec.params).toEqual([{ name: "who", value: "Ada" }]);
    // The printed manifest is ready for kubectl create.
    await kubectl(["create", "-n", ns, "-f", "-"], y.stdout);
    expect((await runs(ns).list()).items).toHaveLength(1);
  });

  it("runs: newest first, PHASE with the reason when failed, TASK filter, -A and the output formats", async () => {
    const ns = await namespaceWithTasks("kt-runs", hello, {
      metadata: { name: "build" },
      spec: { steps: [{ name: "compile", image: "golang" }] },
    });
    const names: string[] = [];
    for (const args of [["hello", "-p", "who=a"], ["hello", "-p", "who=b"], ["hello", "-p", "who=c"], ["build"]]) {
      const r = await kt(ns, ["start", ...args]);
      expect(r.code).toBe(0);
      names.push(r.stdout.trim());
    }
    const [a, b, c, other] = names as [string, string, string, string];
    const now = Date.now();
    const iso = (msAgo: number) => new Date(now - msAgo).toISOString().replace(/\.\d+Z$/, "Z");
    await setStatus(ns, a, {
      phase: "Succeeded",
      reason: "Succeeded",
      startTime: iso(300_000),
      finishTime: iso(240_000),
    });
    await setStatus(ns, b, {
      phase: "Failed",
      reason: "StepFailed",
      message: 'step "farewell" failed with exit code 1',
      startTime: iso(120_000),
      finishTime: iso(110_000),
    });
    await setStatus(ns, c, { phase: "Running", startTime: iso(200_000) });

    const table = await kt(ns, ["runs"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+TASK\s+PHASE\s+STARTED\s+DURATION$/);
    // `other` has not started: its creation time (just now) makes it the newest.
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([other, b, c, a]);
    expect(lines[2]).toMatch(new RegExp(`^${b}\\s+hello\\s+Failed \\(StepFailed\\)\\s+2m\\S* ago\\s+10s$`));
    expect(lines[4]).toMatch(new RegExp(`^${a}\\s+hello\\s+Succeeded\\s+5m\\S* ago\\s+1m$`));
    expect(lines[1]).toMatch(new RegExp(`^${other}\\s+build\\s+-\\s+-\\s+-$`));

    const ofHello = await kt(ns, ["runs", "hello", "-o", "name"]);
    expect(ofHello.stdout).toBe([b, c, a].map((n) => `taskrun.minitask.myorg.dev/${n}\n`).join(""));
    const asJson = JSON.parse((await kt(ns, ["runs", "-o", "json"])).stdout) as { kind: string; items: TaskRun[] };
    expect(asJson.kind).toBe("List");
    expect(asJson.items.map((i) => i.metadata?.name)).toEqual([other, b, c, a]);
    expect(asJson.items[0]?.metadata?.managedFields).toBeUndefined();
    const asYaml = parseYaml((await kt(ns, ["runs", "build", "-o", "yaml"])).stdout) as { items: TaskRun[] };
    expect(asYaml.items.map((i) => i.metadata?.name)).toEqual([other]);
    const wide = await kt(ns, ["runs", "-o", "wide"]);
    expect(wide.stdout.split("\n")[0]).toMatch(/^NAME\s+TASK\s+PHASE\s+STARTED\s+DURATION\s+POD\s+AGE\s+MESSAGE$/);
    expect(wide.stdout).toContain('step "farewell" failed with exit code 1');
    const bySelector = await kt(ns, ["runs", "-l", "minitask.myorg.dev/task=build", "-o", "name"]);
    expect(bySelector.stdout).toBe(`taskrun.minitask.myorg.dev/${other}\n`);
    const all = await kt(ns, ["runs", "-A"]);
    expect(all.stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+TASK/);
    expect(all.stdout).toMatch(new RegExp(`^${ns}\\s+${b}\\s+hello\\s+Failed`, "m"));
    const tasks = await kt(ns, ["list"]);
    expect(tasks.stdout).toMatch(/^build\s+1\s+-\s+\S+$/m);
    expect(tasks.stdout).toMatch(/^hello\s+2\s+who, greeting=Hello\s+\S+$/m);
  });

  it("cancel sets spec.cancelled; a finished run cannot be cancelled; unknown runs are one-line errors", async () => {
    const ns = await namespaceWithTasks("kt-cancel", hello);
    const name = (await kt(ns, ["start", "hello", "-p", "who=x"])).stdout.trim();
    const r = await kt(ns, ["cancel", name]);
    expect(r).toEqual({ code: 0, stdout: `taskrun ${name} cancelled\n`, stderr: "" });
    expect((await runs(ns).get(name)).spec.cancelled).toBe(true);
    const done = (await kt(ns, ["start", "hello", "-p", "who=y"])).stdout.trim();
    await setStatus(ns, done, { phase: "Succeeded", reason: "Succeeded" });
    const late = await kt(ns, ["cancel", done]);
    expect(late).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: taskrun "${done}" has already finished (Succeeded); nothing to cancel\n`,
    });
    for (const cmd of ["cancel", "describe", "logs"]) {
      const u = await kt(ns, [cmd, "no-such-run"]);
      expect({ cmd, code: u.code, stderr: u.stderr }).toEqual({
        cmd,
        code: 1,
        stderr: `error: taskrun "no-such-run" not found in namespace "${ns}" (list them with: kubectl task runs -n ${ns})\n`,
      });
    }
  });

  it("delete removes named runs (reporting unknown ones) and --all-finished only the finished ones", async () => {
    const ns = await namespaceWithTasks("kt-delete", hello);
    const names: string[] = [];
    for (const who of ["a", "b", "c", "d"])
      names.push((await kt(ns, ["start", "hello", "-p", `who=${who}`])).stdout.trim());
    const [a, b, c, d] = names as [string, string, string, string];
    const named = await kt(ns, ["delete", a, "no-such-run"]);
    expect(named).toEqual({
      code: 1,
      stdout: `taskrun ${a} deleted\n`,
      stderr: `error: taskrun "no-such-run" not found in namespace "${ns}"\n`,
    });
    await setStatus(ns, b, { phase: "Succeeded" });
    await setStatus(ns, c, { phase: "Failed", reason: "StepFailed" });
    const finished = await kt(ns, ["delete", "--all-finished"]);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toBe(
      [b, c]
        .sort()
        .map((n) => `taskrun ${n} deleted\n`)
        .join(""),
    );
    // Deletion is asynchronous only with finalizers; TaskRuns have none.
    expect((await runs(ns).list()).items.map((r) => r.metadata?.name)).toEqual([d]);
  });

  it("describe shows the spec, the params with defaults and the step plan of a run that has not started", async () => {
    const ns = await namespaceWithTasks("kt-describe", hello);
    const name = (await kt(ns, ["start", "hello", "-p", "who=Ada", "--timeout", "2m"])).stdout.trim();
    const r = await kt(ns, ["describe", name]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Name:\\s+${name}$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^Namespace:\\s+${ns}$`, "m"));
    expect(r.stdout).toMatch(/^Task:\s+hello$/m);
    expect(r.stdout).toMatch(/^Timeout:\s+2m$/m);
    expect(r.stdout).toMatch(/Params:\n\s+NAME\s+VALUE\n\s+who\s+Ada\n\s+greeting\s+Hello \(default\)\n/);
    expect(r.stdout).toMatch(/Steps:\n\s+NAME\s+STATE\n\s+greet\s+\(not started\)\n\s+farewell\s+\(not started\)\n/);
    expect(r.stdout).toMatch(/Events:\n\s+<none>/);
    const asYaml = parseYaml((await kt(ns, ["describe", name, "-o", "yaml"])).stdout) as TaskRun;
    expect(asYaml.metadata?.name).toBe(name);
  });

  it("RBAC denial is one line naming the verb and resource", async () => {
    const ns = await namespaceWithTasks("kt-rbac", hello);
    await kubectl(["create", "serviceaccount", "nobody", "-n", ns]);
    const token = (await kubectl(["create", "token", "nobody", "-n", ns])).trim();
    const admin = parseYaml(readFileSync(testEnv().kubeconfig, "utf8")) as {
      clusters: { name: string; cluster: Record<string, unknown> }[];
    };
    const cluster = admin.clusters[0];
    const file = join(mkdtempSync(join(tmpdir(), "kt-rbac-")), "kubeconfig");
    writeFileSync(
      file,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: cluster?.cluster }],
        users: [{ name: "nobody", user: { token } }],
        contexts: [{ name: "nobody", context: { cluster: "c", user: "nobody", namespace: ns } }],
        "current-context": "nobody",
      }),
    );
    const r = await runChild(["runs"], { env: { KUBECONFIG: file } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: permission denied: taskruns.minitask.myorg.dev is forbidden: User "system:serviceaccount:${ns}:nobody" cannot list resource "taskruns" in API group "minitask.myorg.dev" in the namespace "${ns}"\n`,
    );
    const s = await runChild(["start", "hello"], { env: { KUBECONFIG: file } });
    expect(s.stderr).toMatch(
      /^error: permission denied: .* cannot get resource "tasks" in API group "minitask\.myorg\.dev"/,
    );
  });

  it("works as `kubectl task …` through the real kubectl (plugin on PATH)", async () => {
    const ns = await namespaceWithTasks("kt-plugin", hello);
    const dir = mkdtempSync(join(tmpdir(), "kt-path-"));
    symlinkSync(BIN, join(dir, "kubectl-task"));
    const env = {
      ...process.env,
      PATH: [dir, NODE_DIR, process.env.PATH ?? ""].join(delimiter),
      KUBECONFIG: testEnv().kubeconfig,
    };
    const { execFile } = await import("node:child_process");
    const k = (args: string[]) =>
      new Promise<CliResult>((resolve) => {
        execFile(testEnv().kubectl, args, { env }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
          resolve({ code, stdout, stderr });
        });
      });
    const plugins = await k(["plugin", "list"]);
    expect(plugins.stdout).toContain(join(dir, "kubectl-task"));
    const version = await k(["task", "--version"]);
    expect(version).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^kubectl-task 0\.1\.0 \(commit ([0-9a-f]{4,40}|unknown)\)\n$/),
    });
    const started = await k(["task", "start", "hello", "-p", "who=kubectl", "-n", ns]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const name = started.stdout.trim();
    expect((await runs(ns).get(name)).spec.params).toEqual([{ name: "who", value: "kubectl" }]);
    const listed = await k(["task", "runs", "-n", ns, "-o", "name"]);
    expect(listed.stdout).toBe(`taskrun.minitask.myorg.dev/${name}\n`);
    const failed = await k(["task", "start", "nope", "-n", ns]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`error: task "nope" not found in namespace "${ns}"; tasks there: hello\n`);
  });
});

describe("with the controller running", () => {
  let controller: ControllerProcess | undefined;

  afterEach(async () => {
    await controller?.stop("SIGTERM");
    controller = undefined;
  });

  /** A namespace with the hello task and a controller watching only that namespace. */
  async function withController(prefix: string): Promise<string> {
    const ns = await namespaceWithTasks(prefix, hello);
    controller = await startReadyController(["--namespace", ns, "--log-level=info"]);
    return ns;
  }

  it("start -f exits 0 for a succeeding run, showing each step start and end in order", async () => {
    const ns = await withController("kt-e2e-ok");
    const r = await kt(ns, ["start", "hello", "-p", "who=Ada", "-f"]);
    expect(r.code).toBe(0);
    const name = /^taskrun (\S+) created$/m.exec(r.stdout)?.[1] ?? "";
    expect(name).toMatch(/^hello-run-/);
    const markers = r.stdout.split("\n").filter((l) => l.startsWith("==="));
    expect(markers).toEqual([
      "=== step greet",
      expect.stringMatching(/^=== step greet succeeded \(\S+\)$/),
      "=== step farewell",
      expect.stringMatching(/^=== step farewell succeeded \(\S+\)$/),
    ]);
    expect(r.stdout).toMatch(new RegExp(`^taskrun ${name} succeeded in \\S+\\n$`, "m"));
    // kwok has no container logs: each step says so on stderr (and nothing else goes there).
    expect(r.stderr.split("\n").filter((l) => l !== "")).toEqual([
      expect.stringMatching(/^\[greet\] logs unavailable: /),
      expect.stringMatching(/^\[farewell\] logs unavailable: /),
    ]);
    expect((await runs(ns).get(name)).status?.phase).toBe("Succeeded");

    // describe of the finished run: step states and the controller's events.
    const described = await eventually("describe with events", async () => {
      const d = await kt(ns, ["describe", name]);
      return /PodCreated/.test(d.stdout) && /Succeeded/.test(d.stdout.slice(d.stdout.indexOf("Events:")))
        ? d
        : undefined;
    });
    expect(described.stdout).toMatch(/^Phase:\s+Succeeded$/m);
    expect(described.stdout).toMatch(/\n\s+greet\s+Succeeded\s+0\s+/);
    expect(described.stdout).toMatch(/\n\s+farewell\s+Succeeded\s+0\s+/);
    expect(described.stdout).toMatch(/taskrun\/\S+\s+minitask\.myorg\.dev\/taskrun-controller/);
  });

  it("start -f exits 1 for a failing run and prints the reason; logs -f of it agrees", async () => {
    const ns = await withController("kt-e2e-fail");
    const r = await kt(ns, [
      "start",
      "hello",
      "-p",
      "who=Ada",
      "--follow",
      "--annotation",
      "testenv.minitask.dev/fail=step-farewell",
    ]);
    expect(r.code).toBe(1);
    const name = /^taskrun (\S+) created$/m.exec(r.stdout)?.[1] ?? "";
    const markers = r.stdout.split("\n").filter((l) => l.startsWith("==="));
    expect(markers).toEqual([
      "=== step greet",
      expect.stringMatching(/^=== step greet succeeded/),
      "=== step farewell",
      expect.stringMatching(/^=== step farewell failed: exit code 1/),
    ]);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(`^error: taskrun "${name}" failed in \\S+: StepFailed: step "farewell" failed with exit code 1$`),
    );
    const again = await kt(ns, ["logs", name, "-f"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("StepFailed");
    const runsTable = await kt(ns, ["runs"]);
    expect(runsTable.stdout).toMatch(new RegExp(`^${name}\\s+hello\\s+Failed \\(StepFailed\\)\\s+`, "m"));
  });

  it("Ctrl-C during --follow stops following, leaves the run going and says how to resume; cancel ends it", async () => {
    const ns = await withController("kt-e2e-int");
    let sent = false;
    const r = await kt(
      ns,
      ["start", "hello", "-p", "who=Ada", "-f", "--annotation", "testenv.minitask.dev/hold=true"],
      {
        onStdout: (text, interrupt) => {
          if (!sent && text.includes("=== step farewell\n")) {
            sent = true;
            interrupt();
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const name = /^taskrun (\S+) created$/m.exec(r.stdout)?.[1] ?? "";
    expect(r.stderr.trimEnd().split("\n").at(-1)).toBe(
      `stopped following; taskrun ${name} keeps running. Resume with: kubectl task logs ${name} -f -n ${ns}`,
    );
    const run = await runs(ns).get(name);
    expect(run.status?.phase).toBe("Running");
    expect(run.spec.cancelled).toBeUndefined();

    const cancelled = await kt(ns, ["cancel", name]);
    expect(cancelled).toMatchObject({ code: 0, stdout: `taskrun ${name} cancelled\n` });
    const resumed = await kt(ns, ["logs", name, "-f"]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(`^error: taskrun "${name}" failed in \\S+: Cancelled`),
    );
  });
});
