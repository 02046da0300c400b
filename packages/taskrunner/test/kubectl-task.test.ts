// kubectl-task without a cluster: the pure parts (params, formatting, colour, errors) and every command
// against a fake apiserver (pod logs, scripted progress, RBAC and missing-CRD answers), in-process and
// as a real child process where exit codes, stderr and signals matter.
import { execFileSync } from "node:child_process";
import { ApiError, apiErrorFromStatus, NetworkError } from "@minitask/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Task, TaskRun } from "../src/contract.ts";
import { sortNewestFirst } from "../src/kubectl-task/commands/list.ts";
import { buildTaskRun } from "../src/kubectl-task/commands/start.ts";
import { describeError } from "../src/kubectl-task/errors.ts";
import { runDuration, shortDuration, table } from "../src/kubectl-task/format.ts";
import { LinePrefixer } from "../src/kubectl-task/logs.ts";
import { podOf } from "../src/kubectl-task/lookup.ts";
import { parseParamFlags, validateParams, validateTimeout } from "../src/kubectl-task/params.ts";
import { colorEnabled, stripAnsi } from "../src/kubectl-task/term.ts";
import { FakeApiServer, helloTask, kubeconfigFor, runChild, runInProcess } from "./kubectl-task.support.ts";

const NS = "team-a";
const ESC = "\u001b[";

function task(params: Task["spec"]["params"]): Task {
  return { metadata: { name: "t" }, spec: { steps: [{ name: "s", image: "busybox" }], params } };
}

describe("params", () => {
  it("parses NAME=VALUE, keeping '=' in values, and rejects malformed or repeated names", () => {
    expect(parseParamFlags(["a=1", "b=x=y", "c="])).toEqual([
      { name: "a", value: "1" },
      { name: "b", value: "x=y" },
      { name: "c", value: "" },
    ]);
    expect(() => parseParamFlags(["novalue"])).toThrow(/invalid param "novalue": expected NAME=VALUE/);
    expect(() => parseParamFlags(["=v"])).toThrow(/expected NAME=VALUE/);
    expect(() => parseParamFlags(["a=1", "a=2"])).toThrow(/"a" is given more than once/);
  });

  it("names unknown and missing params and lists what the task expects, in one line", () => {
    const t = task([{ name: "who" }, { name: "greeting", default: "Hello" }]);
    expect(() => validateParams(t, [{ name: "who", value: "x" }])).not.toThrow();
    expect(() =>
      validateParams(t, [
        { name: "who", value: "x" },
        { name: "greeting", value: "Hi" },
      ]),
    ).not.toThrow();
    let msg = "";
    try {
      validateParams(t, [{ name: "colour", value: "red" }]);
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toBe(
      'task "t": unknown param "colour" and missing required param "who"; it takes: who (required), greeting (default "Hello") (set them with -p NAME=VALUE)',
    );
    expect(msg).not.toContain("\n");
    expect(() => validateParams(task(undefined), [{ name: "x", value: "1" }])).toThrow(
      /unknown param "x"; it takes no params/,
    );
  });

  it("accepts Go durations for --timeout and rejects anything else", () => {
    for (const ok of ["0", "90s", "1h30m", "1.5h", "250ms"]) expect(() => validateTimeout(ok)).not.toThrow();
    for (const bad of ["", "10", "1d", "abc", "-5s"]) expect(() => validateTimeout(bad)).toThrow(/invalid --timeout/);
  });

  it("builds the TaskRun start creates: generateName TASK-run-, task label, only the fields given", () => {
    expect(buildTaskRun("hello", NS, {}, [], {}, {})).toEqual({
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      metadata: { generateName: "hello-run-", namespace: NS, labels: { "minitask.myorg.dev/task": "hello" } },
      spec: { taskRef: "hello" },
    });
    const full = buildTaskRun(
      "hello",
      NS,
      { timeout: "5m", serviceAccount: "runner" },
      [{ name: "who", value: "Ada" }],
      { "a.example/x": "1" },
      { team: "ci" },
    );
    expect(full.spec).toEqual({
      taskRef: "hello",
      params: [{ name: "who", value: "Ada" }],
      timeout: "5m",
      serviceAccountName: "runner",
    });
    expect(full.metadata?.annotations).toEqual({ "a.example/x": "1" });
    expect(full.metadata?.labels).toEqual({ "minitask.myorg.dev/task": "hello", team: "ci" });
  });
});

describe("formatting", () => {
  it("pads table columns by visible width (colour codes do not count)", () => {
    const red = `${ESC}31mFailed${ESC}39m`;
    const out = table(
      ["NAME", "PHASE", "AGE"],
      [
        ["a", red, "1s"],
        ["longer-name", "Running", "2m"],
      ],
    );
    const lines = stripAnsi(out).split("\n");
    expect(lines).toEqual(["NAME          PHASE     AGE", "a             Failed    1s", "longer-name   Running   2m"]);
  });

  it("prints ages like kubectl and run durations to the second", () => {
    expect(shortDuration(4_000)).toBe("4s");
    expect(shortDuration(192_000)).toBe("3m12s");
    expect(shortDuration(25 * 60_000)).toBe("25m");
    expect(shortDuration(2.5 * 3_600_000)).toBe("2h30m");
    expect(shortDuration(30 * 3_600_000)).toBe("30h");
    expect(shortDuration(3 * 86_400_000)).toBe("3d");
    expect(runDuration(400)).toBe("<1s");
    expect(runDuration(12_000)).toBe("12s");
    expect(runDuration(184_000)).toBe("3m4s");
    expect(runDuration(3_720_000)).toBe("1h2m");
    expect(runDuration(-1)).toBe("-");
  });

  it("splits log chunks into prefixed lines, also across chunk and UTF-8 boundaries", () => {
    let out = "";
    const p = new LinePrefixer("[s] ", (t) => {
      out += t;
    });
    const bytes = new TextEncoder().encode("héllo\nwor");
    p.push(bytes.slice(0, 2)); // "h" + first byte of "é"
    p.push(bytes.slice(2));
    expect(out).toBe("[s] héllo\n");
    p.push(new TextEncoder().encode("ld\n\nlast"));
    p.end();
    expect(out).toBe("[s] héllo\n[s] world\n[s] \n[s] last\n");
  });

  it("sorts runs newest first by start time, then creation time", () => {
    const run = (name: string, created: string, started?: string): TaskRun => ({
      metadata: { name, creationTimestamp: created },
      spec: { taskRef: "t" },
      ...(started ? { status: { startTime: started } } : {}),
    });
    const sorted = sortNewestFirst([
      run("old", "2025-01-01T00:00:00Z", "2025-01-01T00:00:01Z"),
      run("pending", "2025-01-01T00:10:00Z"),
      run("new", "2025-01-01T00:01:00Z", "2025-01-01T00:05:00Z"),
      run("b-same", "2025-01-01T00:00:30Z", "2025-01-01T00:02:00Z"),
      run("a-same", "2025-01-01T00:00:30Z", "2025-01-01T00:02:00Z"),
    ]);
    expect(sorted.map((r) => r.metadata?.name)).toEqual(["pending", "new", "a-same", "b-same", "old"]);
  });

  it("finds a run's pod by its status, else by the controller's naming rule", () => {
    const r = (name: string, podName?: string): TaskRun => ({
      metadata: { name },
      spec: { taskRef: "t" },
      ...(podName ? { status: { podName } } : {}),
    });
    expect(podOf(r("hello-run-abcde"))).toBe("hello-run-abcde-pod");
    expect(podOf(r("x".repeat(80))).length).toBeLessThanOrEqual(63);
    expect(podOf(r("a", "custom"))).toBe("custom");
  });
});

describe("terminal", () => {
  it("colours only a TTY, honours NO_COLOR, TERM=dumb and FORCE_COLOR", () => {
    const tty = { write: () => true, isTTY: true };
    const pipe = { write: () => true, isTTY: false };
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled(tty, { TERM: "dumb" })).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: "0" })).toBe(false);
  });
});

describe("error lines", () => {
  const req = (path: string) => ({ method: "GET", url: `https://k8s.example:6443${path}` });

  it("explains an unreachable cluster with the server and context", () => {
    const err = new NetworkError("connect failed", {
      cause: new Error("connect ECONNREFUSED 127.0.0.1:6443"),
      code: "ECONNREFUSED",
      request: req("/apis/minitask.myorg.dev/v1/namespaces/x/taskruns"),
      beforeRequestSent: true,
    });
    expect(describeError(err, { server: "https://k8s.example:6443", context: "dev" })).toBe(
      'cannot reach the cluster at https://k8s.example:6443 (context "dev"): ECONNREFUSED; is it running, and are --kubeconfig/--context right?',
    );
  });

  it("names the verb and resource of an RBAC denial", () => {
    const err = apiErrorFromStatus(
      {
        kind: "Status",
        code: 403,
        reason: "Forbidden",
        message:
          'taskruns.minitask.myorg.dev is forbidden: User "bob" cannot create resource "taskruns" in API group "minitask.myorg.dev" in the namespace "x"',
      },
      { code: 403, request: req("/apis/minitask.myorg.dev/v1/namespaces/x/taskruns") },
    );
    expect(describeError(err)).toBe(
      'permission denied: taskruns.minitask.myorg.dev is forbidden: User "bob" cannot create resource "taskruns" in API group "minitask.myorg.dev" in the namespace "x"',
    );
  });

  it("tells a missing CRD (bare 404 under the group) from a missing object", () => {
    const missingType = apiErrorFromStatus(
      { kind: "Status", code: 404, reason: "NotFound", message: "the server could not find the requested resource" },
      { code: 404, request: req("/apis/minitask.myorg.dev/v1/namespaces/x/tasks/hello") },
    );
    expect(describeError(missingType)).toBe(
      "the Task and TaskRun resources (minitask.myorg.dev/v1) are not installed in this cluster; install the CRDs with: kubectl apply -f crds/",
    );
    const missingObject = apiErrorFromStatus(
      {
        kind: "Status",
        code: 404,
        reason: "NotFound",
        message: 'pods "p" not found',
        details: { name: "p", kind: "pods" },
      },
      { code: 404, request: req("/api/v1/namespaces/x/pods/p") },
    );
    expect(missingObject).toBeInstanceOf(ApiError);
    expect(describeError(missingObject)).toBe('pods "p" not found');
  });
});

describe("commands against a fake apiserver", () => {
  let api: FakeApiServer;
  const run = (args: readonly string[], o: Parameters<typeof runInProcess>[1] = {}) =>
    runInProcess(["-n", NS, ...args], { server: api.url, ...o });

  beforeEach(async () => {
    api = await new FakeApiServer().start();
    api.addTask(NS, helloTask());
    api.addTask(NS, {
      metadata: { name: "build" },
      spec: { steps: [{ name: "compile", image: "golang" }], description: "Builds it." },
    });
  });
  afterEach(async () => {
    await api.stop();
  });

  /** The run `hello-run-1` with a pod and step states. */
  function seedRun(
    name: string,
    s: NonNullable<TaskRun["status"]>,
    spec: Partial<TaskRun["spec"]> = {},
    created = "2025-06-01T10:00:00Z",
  ): TaskRun {
    return api.putRun(
      {
        metadata: { name, namespace: NS, uid: `uid-${name}`, creationTimestamp: created },
        spec: { taskRef: "hello", ...spec },
        status: s,
      },
      "ADDED",
    );
  }

  /** Scripts a run of hello through to the end (what the controller and kubelet would do). */
  function scriptRun(outcome: "Succeeded" | "Failed"): void {
    api.onCreate = (r) => {
      const name = r.metadata?.name ?? "";
      const pod = `${name}-pod`;
      api.addPod(NS, pod, ["greet", "farewell"]);
      api.setLog(NS, pod, "step-greet", "Hello, Ada\n");
      api.setLog(NS, pod, "step-farewell", "bye\nsee you");
      const t0 = "2025-06-01T10:00:00Z";
      api.setStatus(NS, name, { phase: "Pending", reason: "Pending", podName: pod });
      api.setStatus(NS, name, {
        phase: "Running",
        podName: pod,
        startTime: t0,
        steps: [
          { name: "greet", container: "step-greet", state: "Running", startedAt: t0 },
          { name: "farewell", container: "step-farewell", state: "Waiting" },
        ],
      });
      api.setStatus(NS, name, {
        phase: "Running",
        podName: pod,
        startTime: t0,
        steps: [
          {
            name: "greet",
            container: "step-greet",
            state: "Succeeded",
            exitCode: 0,
            startedAt: t0,
            finishedAt: "2025-06-01T10:00:02Z",
          },
          { name: "farewell", container: "step-farewell", state: "Running", startedAt: "2025-06-01T10:00:02Z" },
        ],
      });
      const failed = outcome === "Failed";
      api.setStatus(NS, name, {
        phase: outcome,
        reason: failed ? "StepFailed" : "Succeeded",
        message: failed ? 'step "farewell" failed with exit code 2' : "All 2 steps completed successfully",
        podName: pod,
        startTime: t0,
        finishTime: "2025-06-01T10:00:05Z",
        steps: [
          {
            name: "greet",
            container: "step-greet",
            state: "Succeeded",
            exitCode: 0,
            startedAt: t0,
            finishedAt: "2025-06-01T10:00:02Z",
          },
          {
            name: "farewell",
            container: "step-farewell",
            state: failed ? "Failed" : "Succeeded",
            exitCode: failed ? 2 : 0,
            reason: failed ? "Error" : "Completed",
            startedAt: "2025-06-01T10:00:02Z",
            finishedAt: "2025-06-01T10:00:05Z",
          },
        ],
      });
    };
  }

  it("list: tasks with step count and params; wide, json and name outputs", async () => {
    const r = await run(["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^NAME\s+STEPS\s+PARAMS\s+AGE$/);
    expect(r.stdout).toMatch(/build\s+1\s+-\s+/);
    expect(r.stdout).toMatch(/hello\s+2\s+who, greeting=Hello\s+/);
    const wide = await run(["list", "-o", "wide"]);
    expect(wide.stdout).toMatch(/hello\s+2\s+who, greeting=Hello\s+\S+\s+greet,farewell\s+Says hello, then goodbye\./);
    const asJson = JSON.parse((await run(["list", "-o", "json"])).stdout) as { kind: string; items: Task[] };
    expect(asJson.kind).toBe("List");
    expect(asJson.items.map((t) => t.metadata?.name)).toEqual(["build", "hello"]);
    expect((await run(["ls", "-o", "name"])).stdout).toBe(
      "task.minitask.myorg.dev/build\ntask.minitask.myorg.dev/hello\n",
    );
  });

  it("start: creates a run with generateName TASK-run- and the given spec, prints its name", async () => {
    const r = await run(["start", "hello", "-p", "who=Ada", "--timeout", "10m", "--service-account", "runner"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const name = r.stdout.trim();
    expect(name).toMatch(/^hello-run-/);
    const created = api.runs.get(`${NS}/${name}`);
    expect(created?.metadata?.generateName).toBe("hello-run-");
    expect(created?.spec).toEqual({
      taskRef: "hello",
      params: [{ name: "who", value: "Ada" }],
      timeout: "10m",
      serviceAccountName: "runner",
    });
  });

  it("start: unknown task lists the tasks that exist; bad params create nothing", async () => {
    const unknown = await run(["start", "helo"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: task "helo" not found in namespace "team-a"; tasks there: build, hello\n');
    const missing = await run(["start", "hello"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'error: task "hello": missing required param "who"; it takes: who (required), greeting (default "Hello") (set them with -p NAME=VALUE)\n',
    );
    const extra = await run(["start", "hello", "-p", "who=x", "-p", "colour=red"]);
    expect(extra.stderr).toMatch(/^error: task "hello": unknown param "colour"; it takes: /);
    expect(api.requests.filter((q) => q.method === "POST")).toHaveLength(0);
    const empty = await runInProcess(["-n", "empty", "start", "x"], { server: api.url });
    expect(empty.stderr).toBe('error: task "x" not found: there are no tasks in namespace "empty"\n');
  });

  it("start --dry-run prints the TaskRun (yaml or json) after a server-side dry run, and creates nothing", async () => {
    const r = await run(["start", "hello", "-p", "who=Ada", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(parseYaml(r.stdout)).toEqual({
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      metadata: { generateName: "hello-run-", namespace: NS, labels: { "minitask.myorg.dev/task": "hello" } },
      spec: { taskRef: "hello", params: [{ name: "who", value: "Ada" }] },
    });
    const j = await run(["start", "hello", "-p", "who=Ada", "--dry-run", "-o", "json"]);
    expect((JSON.parse(j.stdout) as TaskRun).spec.taskRef).toBe("hello");
    const posts = api.requests.filter((q) => q.method === "POST");
    expect(posts.map((q) => q.query.get("dryRun"))).toEqual(["All", "All"]);
    expect(api.runs.size).toBe(0);
  });

  it("start -f: steps in order, each step's log with a [step] prefix, exit 0 when the run succeeds", async () => {
    scriptRun("Succeeded");
    const r = await run(["start", "hello", "-p", "who=Ada", "-f"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const name = [...api.runs.keys()][0]?.split("/")[1];
    expect(r.stdout.split("\n")).toEqual([
      `taskrun ${name} created`,
      "=== step greet",
      "[greet] Hello, Ada",
      "=== step greet succeeded (2s)",
      "=== step farewell",
      "[farewell] bye",
      "[farewell] see you",
      "=== step farewell succeeded (3s)",
      `taskrun ${name} succeeded in 5s`,
      "",
    ]);
  });

  it("start -f: exit 1 with the reason and message when the run fails", async () => {
    scriptRun("Failed");
    const r = await run(["start", "hello", "-p", "who=Ada", "--follow"]);
    expect(r.code).toBe(1);
    const name = [...api.runs.keys()][0]?.split("/")[1];
    expect(r.stdout).toContain("=== step farewell failed: exit code 2, Error (3s)\n");
    expect(r.stderr).toBe(
      `error: taskrun "${name}" failed in 5s: StepFailed: step "farewell" failed with exit code 2\n`,
    );
  });

  it("start -f: a run that fails before any step (e.g. TaskNotFound) reports the reason", async () => {
    api.onCreate = (r) => {
      api.setStatus(NS, r.metadata?.name ?? "", { phase: "Pending", reason: "TaskNotFound", message: "waiting" });
      api.setStatus(NS, r.metadata?.name ?? "", {
        phase: "Failed",
        reason: "TaskNotFound",
        message: 'task "hello" was not found before the timeout',
      });
    };
    const r = await run(["start", "hello", "-p", "who=x", "-f"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/failed: TaskNotFound: task "hello" was not found before the timeout\n$/);
  });

  it("colours follow output only on a TTY without NO_COLOR", async () => {
    scriptRun("Succeeded");
    const tty = await run(["start", "hello", "-p", "who=Ada", "-f"], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain(ESC);
    expect(stripAnsi(tty.stdout)).toContain("▶ step greet");
    expect(stripAnsi(tty.stdout)).toContain("✔ step greet succeeded (2s)");
    // Progress (a spinner on stderr) only on a TTY, and it is cleared before the command ends.
    expect(stripAnsi(tty.stderr)).toContain("checking task hello…");
    expect(tty.stderr.endsWith("\r\u001b[2K")).toBe(true);
    const noColor = await run(["start", "hello", "-p", "who=Ada", "-f"], { tty: true, env: { NO_COLOR: "1" } });
    expect(noColor.code).toBe(0);
    expect(noColor.stdout).not.toContain(ESC);
    const piped = await run(["start", "hello", "-p", "who=Ada", "-f"], { env: { FORCE_COLOR: "1" } });
    expect(piped.stdout).toContain(ESC);
    expect(piped.stderr).toBe("");
  });

  it("follow: a run cancelled during a step shows the step stopped and exits 1 with the reason", async () => {
    api.addPod(NS, "r7-pod", ["greet", "farewell"]);
    api.setLog(NS, "r7-pod", "step-greet", "partial\n");
    seedRun("r7", {
      phase: "Failed",
      reason: "Cancelled",
      message: "the TaskRun was cancelled",
      podName: "r7-pod",
      steps: [
        { name: "greet", state: "Running" },
        { name: "farewell", state: "Skipped" },
      ],
    });
    const r = await run(["logs", "r7", "-f"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      "=== step greet\n[greet] partial\n=== step greet stopped: the run Failed (Cancelled)\n=== step farewell skipped\n",
    );
    expect(r.stderr).toBe('error: taskrun "r7" failed: Cancelled: the TaskRun was cancelled\n');
  });

  it("follow: a run deleted while being followed is a one-line error", async () => {
    api.addPod(NS, "r6-pod", ["greet"]);
    api.setLog(NS, "r6-pod", "step-greet", "…\n", true);
    seedRun("r6", { phase: "Running", podName: "r6-pod", steps: [{ name: "greet", state: "Running" }] });
    const pending = run(["logs", "r6", "-f"]);
    const deadline = Date.now() + 10_000;
    while (!api.requests.some((q) => q.path.endsWith("/log"))) {
      if (Date.now() > deadline) throw new Error("the log stream was never opened");
      await new Promise((r) => setTimeout(r, 10));
    }
    // The log stream stays open: following must still end (the watch failure stops it).
    expect((await runInProcess(["-n", NS, "delete", "r6"], { server: api.url })).code).toBe(0);
    const r = await pending;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: taskrun "r6" was deleted while following it\n');
  });

  it("runs: newest first, PHASE with the reason when failed, TASK filter, -A, -o wide/json/yaml/name", async () => {
    seedRun("r-old", { phase: "Succeeded", startTime: "2025-06-01T10:00:00Z", finishTime: "2025-06-01T10:01:30Z" });
    seedRun(
      "r-failed",
      {
        phase: "Failed",
        reason: "StepFailed",
        message: "step x failed",
        startTime: "2025-06-01T11:00:00Z",
        finishTime: "2025-06-01T11:00:04Z",
      },
      {},
      "2025-06-01T10:59:00Z",
    );
    seedRun("r-new", { phase: "Running", startTime: "2025-06-01T12:00:00Z" }, {}, "2025-06-01T11:59:59Z");
    api.putRun({
      metadata: { name: "other", namespace: NS, creationTimestamp: "2025-06-01T09:00:00Z" },
      spec: { taskRef: "build" },
    });
    api.putRun({
      metadata: { name: "elsewhere", namespace: "team-b", creationTimestamp: "2025-06-01T13:00:00Z" },
      spec: { taskRef: "hello" },
    });
    const now = Date.parse("2025-06-01T12:00:10Z");
    const r = await run(["runs"], { now });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "NAME       TASK    PHASE                 STARTED   DURATION",
      "r-new      hello   Running               10s ago   10s",
      "r-failed   hello   Failed (StepFailed)   1h ago    4s",
      "r-old      hello   Succeeded             2h ago    1m30s",
      "other      build   -                     -         -",
      "",
    ]);
    const ofHello = await run(["runs", "hello", "-o", "name"], { now });
    expect(ofHello.stdout).toBe(
      ["r-new", "r-failed", "r-old"].map((n) => `taskrun.minitask.myorg.dev/${n}\n`).join(""),
    );
    const all = await run(["runs", "-A"], { now });
    expect(all.stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+TASK/);
    expect(all.stdout.split("\n")[1]).toMatch(/^team-b\s+elsewhere\s+hello/);
    const wide = await run(["runs", "-o", "wide"], { now });
    expect(wide.stdout).toMatch(/r-failed\s+hello\s+Failed \(StepFailed\)\s+1h ago\s+4s\s+-\s+\S+\s+step x failed/);
    const asYaml = parseYaml((await run(["runs", "hello", "-o", "yaml"])).stdout) as { items: TaskRun[] };
    expect(asYaml.items.map((i) => i.metadata?.name)).toEqual(["r-new", "r-failed", "r-old"]);
    const asJson = JSON.parse((await run(["runs", "-o", "json"])).stdout) as { items: TaskRun[] };
    expect(asJson.items).toHaveLength(4);
    const none = await run(["runs", "nothing"]);
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: "No runs of task nothing found in namespace team-a.\n" });
    const bad = await run(["runs", "-o", "xml"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "error: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are wide, json, yaml, name. (see --help)\n",
    );
  });

  it("logs: the started steps in order with prefixes; --step alone without prefix; errors for unknown steps", async () => {
    api.addPod(NS, "r1-pod", ["greet", "farewell", "last"]);
    api.setLog(NS, "r1-pod", "step-greet", "one\ntwo\n");
    api.setLog(NS, "r1-pod", "step-farewell", "three\n");
    seedRun("r1", {
      phase: "Failed",
      podName: "r1-pod",
      steps: [
        { name: "greet", container: "step-greet", state: "Succeeded", exitCode: 0 },
        { name: "farewell", container: "step-farewell", state: "Failed", exitCode: 1 },
        { name: "last", container: "step-last", state: "Skipped" },
      ],
    });
    const all = await run(["logs", "r1"]);
    expect(all).toEqual({ code: 0, stdout: "[greet] one\n[greet] two\n[farewell] three\n", stderr: "" });
    const one = await run(["logs", "r1", "--step", "farewell"]);
    expect(one).toEqual({ code: 0, stdout: "three\n", stderr: "" });
    const skipped = await run(["logs", "r1", "--step", "last"]);
    expect(skipped.stderr).toBe('error: step "last" of taskrun "r1" was skipped\n');
    const unknown = await run(["logs", "r1", "--step", "nope"]);
    expect(unknown.stderr).toBe('error: taskrun "r1" has no step "nope"; its steps: greet, farewell, last\n');
    const logRequests = api.requests.filter((q) => q.path.endsWith("/log"));
    expect(logRequests.every((q) => q.query.get("follow") !== "true")).toBe(true);
  });

  it("logs: a run without a pod yet, a pod that is gone, an unknown run", async () => {
    seedRun("pending", { phase: "Pending", reason: "TaskNotFound", message: 'task "hello" not found' });
    const p = await run(["logs", "pending"]);
    expect(p.code).toBe(1);
    expect(p.stderr).toBe(
      'error: taskrun "pending" has not started yet (Pending: TaskNotFound: task "hello" not found); follow it with: kubectl task logs pending -f -n team-a\n',
    );
    seedRun("gone", {
      phase: "Succeeded",
      podName: "gone-pod",
      steps: [{ name: "greet", container: "step-greet", state: "Succeeded" }],
    });
    const g = await run(["logs", "gone"]);
    expect(g.stderr).toBe('error: the pod gone-pod of taskrun "gone" no longer exists, so its logs are gone\n');
    const u = await run(["logs", "nope"]);
    expect(u.stderr).toBe(
      'error: taskrun "nope" not found in namespace "team-a" (list them with: kubectl task runs -n team-a)\n',
    );
  });

  it("logs: without step status, the pod's containers give the steps", async () => {
    api.addPod(NS, "r2-pod", ["a", "b"]);
    api.setLog(NS, "r2-pod", "step-a", "A\n");
    api.setLog(NS, "r2-pod", "step-b", "B\n");
    seedRun("r2", { phase: "Running", podName: "r2-pod" });
    expect((await run(["logs", "r2"])).stdout).toBe("[a] A\n[b] B\n");
  });

  it("logs -f: Ctrl-C stops following, leaves the run alone and says how to resume", async () => {
    api.addPod(NS, "r3-pod", ["greet", "farewell"]);
    api.setLog(NS, "r3-pod", "step-greet", "working…\n", true);
    seedRun("r3", {
      phase: "Running",
      podName: "r3-pod",
      steps: [
        { name: "greet", container: "step-greet", state: "Running" },
        { name: "farewell", container: "step-farewell", state: "Waiting" },
      ],
    });
    let press: () => void = () => {};
    const pending = run(["logs", "r3", "-f"], {
      interrupt: (p) => {
        press = p;
      },
    });
    // Press Ctrl-C once the held log stream is open (the fake has answered the follow request).
    const deadline = Date.now() + 10_000;
    while (!api.requests.some((q) => q.path.endsWith("/log") && q.query.get("follow") === "true")) {
      if (Date.now() > deadline) throw new Error("the log stream was never opened");
      await new Promise((r) => setTimeout(r, 10));
    }
    press();
    const r = await pending;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain("[greet] working…\n");
    expect(r.stderr).toBe(
      "stopped following; taskrun r3 keeps running. Resume with: kubectl task logs r3 -f -n team-a\n",
    );
    expect(api.requests.filter((q) => q.method !== "GET")).toHaveLength(0);
  });

  it("logs -f --step: only that step, exit code from the step", async () => {
    scriptRun("Failed");
    const created = await run(["start", "hello", "-p", "who=Ada"]);
    const name = created.stdout.trim();
    const one = await run(["logs", name, "-f", "--step", "greet"]);
    expect(one).toEqual({ code: 0, stdout: "Hello, Ada\n", stderr: "" });
    const two = await run(["logs", name, "-f", "--step", "farewell"]);
    expect(two).toEqual({ code: 1, stdout: "bye\nsee you\n", stderr: "" });
  });

  it("describe: spec, params (with defaults), steps, conditions and events of the run and its pod", async () => {
    seedRun(
      "r4",
      {
        phase: "Failed",
        reason: "StepFailed",
        message: 'step "farewell" failed with exit code 1',
        podName: "r4-pod",
        startTime: "2025-06-01T10:00:00Z",
        finishTime: "2025-06-01T10:00:07Z",
        steps: [
          {
            name: "greet",
            state: "Succeeded",
            exitCode: 0,
            startedAt: "2025-06-01T10:00:00Z",
            finishedAt: "2025-06-01T10:00:02Z",
            reason: "Completed",
          },
          {
            name: "farewell",
            state: "Failed",
            exitCode: 1,
            startedAt: "2025-06-01T10:00:02Z",
            finishedAt: "2025-06-01T10:00:07Z",
            reason: "Error",
          },
        ],
        conditions: [
          {
            type: "Succeeded",
            status: "False",
            reason: "StepFailed",
            message: "",
            lastTransitionTime: "2025-06-01T10:00:07Z",
          },
        ],
      },
      { params: [{ name: "who", value: "Ada" }], timeout: "10m" },
    );
    api.events.push(
      {
        metadata: { name: "e1", uid: "e1" },
        type: "Warning",
        reason: "StepFailed",
        message: 'step "farewell" failed with exit code 1',
        lastTimestamp: "2025-06-01T10:00:07Z",
        reportingComponent: "minitask.myorg.dev/taskrun-controller",
        involvedObject: { kind: "TaskRun", name: "r4", uid: "uid-r4" },
      },
      {
        metadata: { name: "e2", uid: "e2" },
        type: "Normal",
        reason: "Scheduled",
        message: "assigned",
        lastTimestamp: "2025-06-01T09:59:59Z",
        source: { component: "default-scheduler" },
        involvedObject: { kind: "Pod", name: "r4-pod", uid: "uid-r4-pod" },
      },
      {
        metadata: { name: "e3", uid: "e3" },
        type: "Normal",
        reason: "Unrelated",
        message: "other run",
        involvedObject: { kind: "TaskRun", name: "zzz", uid: "uid-zzz" },
      },
    );
    const r = await run(["describe", "r4"], { now: Date.parse("2025-06-01T10:01:00Z") });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Name:\s+r4$/m);
    expect(out).toMatch(/^Task:\s+hello$/m);
    expect(out).toMatch(/^Phase:\s+Failed \(StepFailed\)$/m);
    expect(out).toMatch(/^Timeout:\s+10m$/m);
    expect(out).toMatch(/^Duration:\s+7s$/m);
    expect(out).toMatch(/Params:\n\s+NAME\s+VALUE\n\s+who\s+Ada\n\s+greeting\s+Hello \(default\)\n/);
    expect(out).toMatch(
      /Steps:\n\s+NAME\s+STATE\s+EXIT\s+STARTED\s+DURATION\s+REASON\n\s+greet\s+Succeeded\s+0\s+1m ago\s+2s\s+Completed\n\s+farewell\s+Failed\s+1\s+58s ago\s+5s\s+Error\n/,
    );
    expect(out).toMatch(/Conditions:\n\s+TYPE\s+STATUS\s+REASON\s+SINCE\n\s+Succeeded\s+False\s+StepFailed\s+53s\n/);
    const events = out.slice(out.indexOf("Events:"));
    expect(events).toMatch(/Normal\s+Scheduled\s+pod\/r4-pod\s+default-scheduler\s+assigned/);
    expect(events).toMatch(/Warning\s+StepFailed\s+taskrun\/r4\s+minitask\.myorg\.dev\/taskrun-controller/);
    expect(events.indexOf("Scheduled")).toBeLessThan(events.indexOf("StepFailed"));
    expect(events).not.toContain("Unrelated");
    const asJson = JSON.parse((await run(["describe", "r4", "-o", "json"])).stdout) as TaskRun;
    expect(asJson.metadata?.name).toBe("r4");
  });

  it("cancel: sets spec.cancelled with a merge patch; a finished run cannot be cancelled", async () => {
    seedRun("active", { phase: "Running" });
    const r = await run(["cancel", "active"]);
    expect(r).toEqual({ code: 0, stdout: "taskrun active cancelled\n", stderr: "" });
    const patch = api.requests.find((q) => q.method === "PATCH");
    expect(JSON.parse(patch?.body ?? "{}")).toEqual({ spec: { cancelled: true } });
    expect(api.runs.get(`${NS}/active`)?.spec.cancelled).toBe(true);
    const again = await run(["cancel", "active"]);
    expect(again).toEqual({ code: 0, stdout: "taskrun active: cancellation was already requested\n", stderr: "" });
    seedRun("done", { phase: "Succeeded", reason: "Succeeded" });
    const done = await run(["cancel", "done"]);
    expect(done).toEqual({
      code: 1,
      stdout: "",
      stderr: 'error: taskrun "done" has already finished (Succeeded); nothing to cancel\n',
    });
    expect((await run(["cancel", "nope"])).stderr).toMatch(/^error: taskrun "nope" not found in namespace "team-a"/);
  });

  it("delete: named runs (unknown ones reported after the rest), --all-finished only finished ones", async () => {
    seedRun("a", { phase: "Succeeded" });
    seedRun("b", { phase: "Running" });
    seedRun("c", { phase: "Failed" });
    seedRun("d", { phase: "Failed" }, { taskRef: "build" });
    const named = await run(["delete", "a", "missing", "b"]);
    expect(named.code).toBe(1);
    expect(named.stdout).toBe("taskrun a deleted\ntaskrun b deleted\n");
    expect(named.stderr).toBe('error: taskrun "missing" not found in namespace "team-a"\n');
    const byTask = await run(["delete", "--all-finished", "--task", "build"]);
    expect(byTask.stdout).toBe("taskrun d deleted\n");
    seedRun("e", { phase: "Pending" });
    const all = await run(["rm", "--all-finished"]);
    expect(all).toEqual({ code: 0, stdout: "taskrun c deleted\n", stderr: "" });
    expect([...api.runs.keys()]).toEqual([`${NS}/e`]);
    expect((await run(["delete"])).stderr).toBe(
      "error: nothing to delete: give one or more run names, or --all-finished, --keep N or --older-than DURATION\n",
    );
    for (const bulk of [["--all-finished"], ["--keep", "1"], ["--older-than", "1h"]]) {
      expect((await run(["delete", "e", ...bulk])).stderr).toBe(
        "error: give run names or --all-finished/--keep/--older-than, not both\n",
      );
    }
  });

  it("RBAC denial and missing CRDs are one-line errors", async () => {
    api.forbidden.add("list taskruns");
    const denied = await run(["runs"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(
      'error: permission denied: taskruns.minitask.myorg.dev is forbidden: User "system:serviceaccount:team-a:nobody" cannot list resource "taskruns" in API group "minitask.myorg.dev" in the namespace "team-a"\n',
    );
    api.crdsMissing = true;
    for (const args of [["runs"], ["start", "hello"], ["describe", "x"], ["list"]]) {
      const r = await run(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        "error: the Task and TaskRun resources (minitask.myorg.dev/v1) are not installed in this cluster; install the CRDs with: kubectl apply -f crds/\n",
      );
    }
  });

  it("completion: commands, flags, task and run names, step names, output formats", async () => {
    seedRun("r5", {
      phase: "Running",
      steps: [
        { name: "greet", state: "Running" },
        { name: "farewell", state: "Waiting" },
      ],
    });
    const c = async (...words: string[]) =>
      (await runInProcess(["__complete", "-n", NS, ...words], { server: api.url })).stdout;
    expect(await c("")).toBe("start\nrerun\nlist\nruns\nlogs\ndescribe\ncancel\ndelete\ncompletion\nhelp\n:4\n");
    expect(await c("st")).toBe("start\n:4\n");
    expect(await c("start", "")).toBe("build\nhello\n:4\n");
    expect(await c("start", "hello", "-p", "")).toBe("who=\ngreeting=\n:6\n");
    expect(await c("logs", "")).toBe("r5\n:4\n");
    expect(await c("logs", "r5", "--step", "f")).toBe("farewell\n:4\n");
    expect(await c("runs", "-o", "")).toBe("wide\njson\nyaml\nname\n:4\n");
    expect(await c("completion", "")).toBe("bash\nzsh\nfish\n:4\n");
    expect(await c("logs", "--f")).toBe("--follow\n:4\n");
    expect(await c("--kubeconfig", "")).toBe(":0\n");
  });
});

describe("the executable", { timeout: 60_000 }, () => {
  let api: FakeApiServer;
  beforeEach(async () => {
    api = await new FakeApiServer().start();
    api.addTask(NS, helloTask());
  });
  afterEach(async () => {
    await api.stop();
  });

  it("--help with examples and --version exit 0 (through the bin shim)", async () => {
    const help = await runChild(["--help"], { bin: true });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: kubectl task [options] [command]");
    expect(help.stdout).toContain("Examples:");
    expect(help.stdout).toContain("kubectl task start hello -p name=world --follow");
    const startHelp = await runChild(["start", "--help"]);
    expect(startHelp.stdout).toMatch(/-p, --param <NAME=VALUE>/);
    const version = await runChild(["--version"], { bin: true });
    expect(version).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^kubectl-task 0\.1\.0 \(commit ([0-9a-f]{4,40}|unknown)\)\n$/),
    });
  });

  it("usage errors and an unreachable cluster are one line on stderr with exit code 1", async () => {
    const usage = await runChild(["frobnicate"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toBe("error: unknown command 'frobnicate' (see --help)\n");
    // A port nothing listens on: the server of a stopped fake.
    const dead = await new FakeApiServer().start();
    const url = dead.url;
    await dead.stop();
    const r = await runChild(["runs"], { env: { KUBECONFIG: kubeconfigFor(url, NS) } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `error: cannot reach the cluster at ${url} (context "fake"): ECONNREFUSED; is it running, and are --kubeconfig/--context right?\n`,
    );
    const badCtx = await runChild(["runs", "--context", "nope", "--kubeconfig", kubeconfigFor(url)]);
    expect(badCtx.stderr).toBe('error: kubeconfig: context "nope" not found in the kubeconfig\n');
  });

  it("takes the namespace from the kubeconfig context unless -n is given", async () => {
    api.addTask("from-context", helloTask());
    const kc = kubeconfigFor(api.url, "from-context");
    const r = await runChild(["start", "hello", "-p", "who=x"], { env: { KUBECONFIG: kc } });
    expect(r.code).toBe(0);
    expect([...api.runs.keys()][0]).toMatch(/^from-context\/hello-run-/);
    const r2 = await runChild(["start", "hello", "-p", "who=x", "-n", NS, "--kubeconfig", kc]);
    expect(r2.code).toBe(0);
    expect([...api.runs.keys()].some((k) => k.startsWith(`${NS}/`))).toBe(true);
  });

  it("Ctrl-C (SIGINT to the process group, through the bin shim) during --follow: exit 130, run left alone, resume hint", async () => {
    api.onCreate = (r) => {
      const name = r.metadata?.name ?? "";
      api.addPod(NS, `${name}-pod`, ["greet", "farewell"]);
      api.setLog(NS, `${name}-pod`, "step-greet", "still going\n", true);
      api.setStatus(NS, name, {
        phase: "Running",
        podName: `${name}-pod`,
        steps: [
          { name: "greet", state: "Running" },
          { name: "farewell", state: "Waiting" },
        ],
      });
    };
    let sent = false;
    const r = await runChild(["-n", NS, "start", "hello", "-p", "who=x", "-f"], {
      env: { KUBECONFIG: kubeconfigFor(api.url) },
      bin: true,
      processGroup: true,
      onStdout: (text, interrupt) => {
        if (!sent && text.includes("[greet] still going")) {
          sent = true;
          interrupt();
        }
      },
    });
    // 130 either way: the shim exits with the CLI's 130, or dies of the SIGINT itself (its spawnSync).
    expect(r.code).toBe(130);
    const name = [...api.runs.keys()][0]?.split("/")[1] ?? "";
    expect(r.stderr).toBe(
      `stopped following; taskrun ${name} keeps running. Resume with: kubectl task logs ${name} -f -n ${NS}\n`,
    );
    expect(api.requests.filter((q) => q.method === "PATCH" || q.method === "DELETE")).toHaveLength(0);
  });

  it("the bash and zsh completion scripts are valid and ask __complete; other shells are refused", async () => {
    const bash = await runChild(["completion", "bash"]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain("complete -F _kubectl_task kubectl-task");
    execFileSync("bash", ["-n"], { input: bash.stdout });
    const zsh = await runChild(["completion", "zsh"]);
    expect(zsh.stdout).toContain("#compdef kubectl-task");
    expect(zsh.stdout).toContain("kubectl-task __complete");
    const bad = await runChild(["completion", "tcsh"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "error: command-argument value 'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish. (see --help)\n",
    );
  });
});
