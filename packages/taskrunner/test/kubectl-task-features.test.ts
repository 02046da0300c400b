// kubectl-task for Tasks that do real work (issue 15): workspace bindings, retries and pod templates on
// `start`, `rerun`, `--last`, `describe`'s workspaces/results/sidecars/attempts, `logs --sidecars` and
// `--timestamps`, `delete --keep/--older-than` and fish completion. The pure parts directly, the commands
// against the fake apiserver (scripted statuses stand in for the controller, e.g. retries).
import { execFile } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Task, TaskRun } from "../src/contract.ts";
import {
  attemptsSection,
  type DescribeContext,
  podTemplateCell,
  resultCell,
  resultsSection,
  retriesCell,
  sidecarsSection,
  workspacesSection,
} from "../src/kubectl-task/commands/describe-sections.ts";
import { runsToDelete } from "../src/kubectl-task/commands/manage.ts";
import { rerunOf } from "../src/kubectl-task/commands/rerun.ts";
import { buildTaskRun } from "../src/kubectl-task/commands/start.ts";
import { podOf } from "../src/kubectl-task/lookup.ts";
import { parseRetries } from "../src/kubectl-task/params.ts";
import { podTemplateProblem, readPodTemplate } from "../src/kubectl-task/podtemplate.ts";
import { stripAnsi } from "../src/kubectl-task/term.ts";
import { bindingText, parseWorkspaceFlags, validateWorkspaces } from "../src/kubectl-task/workspaces.ts";
import {
  BIN,
  FakeApiServer,
  helloTask,
  kubeconfigFor,
  NODE_DIR,
  runChild,
  runInProcess,
} from "./kubectl-task.support.ts";

const NS = "team-a";

/** The one-line message a function throws. */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return "(nothing thrown)";
}

const build: Task = {
  metadata: { name: "build" },
  spec: {
    workspaces: [
      { name: "source" },
      { name: "config", mountPath: "/etc/build", readOnly: true },
      { name: "cache", optional: true },
    ],
    results: [{ name: "commit" }, { name: "summary" }],
    sidecars: [{ name: "db", image: "busybox:1.36", script: "sleep 1000" }],
    steps: [
      { name: "checkout", image: "busybox:1.36", script: "true" },
      { name: "compile", image: "busybox:1.36", script: "true" },
    ],
  },
};

describe("workspace bindings (-w)", () => {
  it("parses every source, case-insensitively, into the TaskRun's spec.workspaces shape", () => {
    expect(
      parseWorkspaceFlags(["a=emptyDir", "b=pvc:claim-1", "c=configmap:app.cfg", "d=secret:creds", "e=EMPTYDIR"]),
    ).toEqual([
      { name: "a", emptyDir: {} },
      { name: "b", persistentVolumeClaim: { claimName: "claim-1" } },
      { name: "c", configMap: { name: "app.cfg" } },
      { name: "d", secret: { secretName: "creds" } },
      { name: "e", emptyDir: {} },
    ]);
    expect(parseWorkspaceFlags(["x=ConfigMap:y", "z=PVC:w"])).toEqual([
      { name: "x", configMap: { name: "y" } },
      { name: "z", persistentVolumeClaim: { claimName: "w" } },
    ]);
  });

  it("refuses malformed bindings with one line that says what is expected", () => {
    const forms = "NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME";
    expect(thrown(() => parseWorkspaceFlags(["source"]))).toBe(`invalid workspace "source": expected ${forms}`);
    expect(thrown(() => parseWorkspaceFlags(["=emptyDir"]))).toBe(`invalid workspace "=emptyDir": expected ${forms}`);
    expect(thrown(() => parseWorkspaceFlags(["s=nfs:server"]))).toBe(
      `invalid workspace "s=nfs:server": unknown source "nfs:server"; expected ${forms}`,
    );
    expect(thrown(() => parseWorkspaceFlags(["s=pvc:"]))).toBe(
      `invalid workspace "s=pvc:": pvc needs the claim's name (NAME=pvc:CLAIM)`,
    );
    expect(thrown(() => parseWorkspaceFlags(["s=secret"]))).toBe(
      `invalid workspace "s=secret": secret needs the Secret's name (NAME=secret:NAME)`,
    );
    expect(thrown(() => parseWorkspaceFlags(["s=configmap:My_Config"]))).toBe(
      `invalid workspace "s=configmap:My_Config": "My_Config" is not a valid ConfigMap name (lower-case letters, digits, '-' and '.')`,
    );
    expect(thrown(() => parseWorkspaceFlags(["s=emptyDir:Memory"]))).toBe(
      `invalid workspace "s=emptyDir:Memory": emptyDir takes no name (NAME=emptyDir)`,
    );
    expect(thrown(() => parseWorkspaceFlags(["s=emptyDir", "s=pvc:x"]))).toBe(`workspace "s" is bound more than once`);
  });

  it("checks the bindings against the Task's workspaces like params: unknown and unbound, optional ones may go unbound", () => {
    const ok = parseWorkspaceFlags(["source=emptyDir", "config=configmap:cfg"]);
    expect(() => validateWorkspaces(build, ok)).not.toThrow();
    expect(() => validateWorkspaces(build, [...ok, { name: "cache", emptyDir: {} }])).not.toThrow();
    expect(thrown(() => validateWorkspaces(build, parseWorkspaceFlags(["src=emptyDir"])))).toBe(
      'task "build": unknown workspace "src" and unbound workspaces "source", "config"; it declares: source, config, cache (optional) (bind them with -w NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME)',
    );
    expect(thrown(() => validateWorkspaces(helloTask(), parseWorkspaceFlags(["x=emptyDir"])))).toMatch(
      /^task "hello": unknown workspace "x"; it declares no workspaces \(bind them with -w /,
    );
    expect(() => validateWorkspaces(helloTask(), [])).not.toThrow();
  });

  it("describes a binding in the words of -w, with its details", () => {
    expect(bindingText({ name: "a", emptyDir: {} })).toBe("emptyDir");
    expect(bindingText({ name: "a", emptyDir: { medium: "Memory", sizeLimit: "1Gi" } })).toBe(
      "emptyDir (Memory, sizeLimit 1Gi)",
    );
    expect(bindingText({ name: "a", persistentVolumeClaim: { claimName: "c", readOnly: true }, subPath: "src" })).toBe(
      "pvc:c (read-only, subPath src)",
    );
    expect(bindingText({ name: "a", configMap: { name: "m", items: [{ key: "k", path: "p" }] } })).toBe(
      "configmap:m (1 key)",
    );
    expect(bindingText({ name: "a", secret: { secretName: "s" } })).toBe("secret:s");
    const items = [
      { key: "a", path: "a" },
      { key: "b", path: "b" },
    ];
    expect(bindingText({ name: "a", secret: { secretName: "s", items } })).toBe("secret:s (2 keys)");
  });
});

describe("--retries and --pod-template", () => {
  it("--retries takes a whole number from 0 to 100 (the CRD's bounds)", () => {
    expect(parseRetries("0")).toBe(0);
    expect(parseRetries("100")).toBe(100);
    for (const bad of ["-1", "101", "1.5", "two", ""]) {
      expect(thrown(() => parseRetries(bad))).toBe(`invalid --retries "${bad}": expected a whole number from 0 to 100`);
    }
  });

  function file(name: string, text: string): string {
    const dir = mkdtempSync(join(tmpdir(), "kt-pt-"));
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  }

  it("reads a pod template from YAML or JSON", () => {
    const yaml = file(
      "pod.yaml",
      [
        "nodeSelector:",
        "  disk: ssd",
        "tolerations:",
        "  - key: dedicated",
        "    operator: Equal",
        "    value: ci",
        "    effect: NoSchedule",
        "securityContext:",
        "  runAsUser: 1000",
        "  fsGroup: 1000",
        "imagePullSecrets:",
        "  - name: regcred",
        "priorityClassName: high",
        "",
      ].join("\n"),
    );
    expect(readPodTemplate(yaml)).toEqual({
      nodeSelector: { disk: "ssd" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "ci", effect: "NoSchedule" }],
      securityContext: { runAsUser: 1000, fsGroup: 1000 },
      imagePullSecrets: [{ name: "regcred" }],
      priorityClassName: "high",
    });
    const json = file("pod.json", JSON.stringify({ schedulerName: "batch", runtimeClassName: "gvisor" }));
    expect(readPodTemplate(json)).toEqual({ schedulerName: "batch", runtimeClassName: "gvisor" });
  });

  it("refuses unknown fields (which the CRD would silently prune), wrong types, and files it cannot read", () => {
    const allowed =
      "affinity, imagePullSecrets, nodeSelector, priorityClassName, runtimeClassName, schedulerName, securityContext, tolerations";
    expect(podTemplateProblem({ nodeSelctor: { a: "b" } })).toBe(
      `unknown field "nodeSelctor"; a pod template may have: ${allowed}`,
    );
    expect(podTemplateProblem({ hostNetwork: true })).toBe(
      `unknown field "hostNetwork"; a pod template may have: ${allowed}`,
    );
    expect(podTemplateProblem({ apiVersion: "v1", kind: "Pod", spec: {} })).toBe(
      `unknown field "apiVersion" (give only the pod template's fields, not a whole manifest); a pod template may have: ${allowed}`,
    );
    expect(podTemplateProblem({ tolerations: [{ key: "a" }, { key: "b", efect: "NoSchedule" }] })).toBe(
      'unknown field "tolerations[1].efect"; tolerations[1] may have: key, operator, value, effect, tolerationSeconds',
    );
    expect(podTemplateProblem({ affinity: { nodeAfinity: {} } })).toMatch(
      /^unknown field "affinity\.nodeAfinity"; affinity may have: nodeAffinity, podAffinity, podAntiAffinity$/,
    );
    expect(podTemplateProblem({ securityContext: { runAsUsr: 1 } })).toMatch(
      /^unknown field "securityContext\.runAsUsr"; securityContext may have: appArmorProfile, /,
    );
    expect(podTemplateProblem({ nodeSelector: { zone: 1 } })).toBe(
      'nodeSelector.zone must be a string (quote it: "1")',
    );
    expect(podTemplateProblem({ tolerations: { key: "a" } })).toBe("tolerations must be a list");
    expect(podTemplateProblem({ priorityClassName: 5 })).toBe("priorityClassName must be a string");
    expect(podTemplateProblem({ imagePullSecrets: [{}] })).toBe(
      "each of imagePullSecrets needs a name (a Secret's name)",
    );
    expect(podTemplateProblem(["a"])).toBe("must be a mapping of pod template fields (nodeSelector, tolerations, …)");
    expect(podTemplateProblem(null)).toBe("is empty");

    const bad = file("bad.yaml", "nodeSelector: [unclosed\n");
    expect(thrown(() => readPodTemplate(bad))).toMatch(
      new RegExp(`^--pod-template "${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" is not valid YAML or JSON: `),
    );
    expect(thrown(() => readPodTemplate(bad))).not.toContain("\n");
    expect(thrown(() => readPodTemplate("/nonexistent/pod.yaml"))).toBe(
      'cannot read --pod-template "/nonexistent/pod.yaml": no such file',
    );
    const typo = file("typo.yaml", "nodeSelctor:\n  disk: ssd\n");
    expect(thrown(() => readPodTemplate(typo))).toBe(
      `--pod-template "${typo}": unknown field "nodeSelctor"; a pod template may have: ${allowed}`,
    );
  });

  it("start builds spec.workspaces, spec.retries and spec.podTemplate only when given", () => {
    const run = buildTaskRun(
      "build",
      NS,
      {
        workspaces: [{ name: "source", emptyDir: {} }],
        retries: 2,
        podTemplate: { nodeSelector: { disk: "ssd" } },
        timeout: "5m",
      },
      [],
      {},
      {},
    );
    expect(run.spec).toEqual({
      taskRef: "build",
      workspaces: [{ name: "source", emptyDir: {} }],
      timeout: "5m",
      retries: 2,
      podTemplate: { nodeSelector: { disk: "ssd" } },
    });
    expect(buildTaskRun("build", NS, { workspaces: [], retries: 0 }, [], {}, {}).spec).toEqual({
      taskRef: "build",
      retries: 0,
    });
  });
});

describe("rerun", () => {
  it("copies the task, params, workspaces, retries, timeout, pod template, service account, labels and annotations", () => {
    const old: TaskRun = {
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      metadata: {
        name: "build-run-abcde",
        namespace: NS,
        generateName: "build-run-",
        uid: "u1",
        resourceVersion: "42",
        creationTimestamp: "2025-06-01T10:00:00Z",
        labels: { "minitask.myorg.dev/task": "build", team: "ci" },
        annotations: {
          "example.com/note": "x",
          "kubectl.kubernetes.io/last-applied-configuration": "{}",
        },
        managedFields: [],
      },
      spec: {
        taskRef: "build",
        params: [{ name: "revision", value: "main" }],
        workspaces: [{ name: "source", persistentVolumeClaim: { claimName: "src" } }],
        retries: 2,
        timeout: "20m",
        serviceAccountName: "builder",
        podTemplate: { nodeSelector: { disk: "ssd" } },
        cancelled: true,
      },
      status: { phase: "Failed", reason: "Cancelled" },
    };
    expect(rerunOf(old, NS)).toEqual({
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      metadata: {
        generateName: "build-run-",
        namespace: NS,
        labels: { "minitask.myorg.dev/task": "build", team: "ci" },
        annotations: { "example.com/note": "x" },
      },
      spec: {
        taskRef: "build",
        params: [{ name: "revision", value: "main" }],
        workspaces: [{ name: "source", persistentVolumeClaim: { claimName: "src" } }],
        retries: 2,
        timeout: "20m",
        serviceAccountName: "builder",
        podTemplate: { nodeSelector: { disk: "ssd" } },
      },
    });
  });
});

describe("attempts", () => {
  it("the pod of the current attempt: the status's, but the next attempt's name right after a retry", () => {
    const r = (status: TaskRun["status"]): TaskRun => ({ metadata: { name: "r" }, spec: { taskRef: "t" }, status });
    expect(podOf(r({ podName: "r-pod" }))).toBe("r-pod");
    const earlier = [{ phase: "Failed" as const, podName: "r-pod" }];
    // The retry is written before the next pod exists: status.podName still names the failed attempt's.
    expect(podOf(r({ podName: "r-pod", retriesStatus: earlier }))).toBe("r-pod-retry1");
    expect(podOf(r({ podName: "r-pod-retry1", retriesStatus: earlier }))).toBe("r-pod-retry1");
    expect(podOf(r({ retriesStatus: [...earlier, { phase: "Failed", podName: "r-pod-retry1" }] }))).toBe(
      "r-pod-retry2",
    );
  });
});

describe("delete --keep / --older-than", () => {
  const run = (
    name: string,
    phase: string | undefined,
    finished?: string,
    created = "2025-06-01T00:00:00Z",
  ): TaskRun => ({
    metadata: { name, creationTimestamp: created },
    spec: { taskRef: "t" },
    ...(phase === undefined
      ? {}
      : {
          status: {
            phase: phase as "Succeeded",
            ...(finished ? { startTime: finished, finishTime: finished } : {}),
          },
        }),
  });
  const runs = [
    run("a", "Succeeded", "2025-06-01T01:00:00Z"),
    run("b", "Failed", "2025-06-01T02:00:00Z"),
    run("c", "Succeeded", "2025-06-01T03:00:00Z"),
    run("d", "Running", "2025-06-01T00:30:00Z"),
    run("e", undefined),
    run("f", "Succeeded", "2025-06-01T04:00:00Z"),
  ];
  const now = Date.parse("2025-06-01T05:00:00Z");
  const names = (rs: TaskRun[]) => rs.map((r) => r.metadata?.name);

  it("--keep N keeps the N newest finished runs; runs still going are never picked", () => {
    expect(names(runsToDelete(runs, { keep: 2 }, now))).toEqual(["a", "b"]);
    expect(names(runsToDelete(runs, { keep: 0 }, now))).toEqual(["a", "b", "c", "f"]);
    expect(names(runsToDelete(runs, { keep: 10 }, now))).toEqual([]);
  });

  it("--older-than D picks finished runs that ended longer ago; with --keep a run is kept if either keeps it", () => {
    expect(names(runsToDelete(runs, { olderThanMs: 2.5 * 3_600_000 }, now))).toEqual(["a", "b"]);
    expect(names(runsToDelete(runs, { olderThanMs: 0 }, now))).toEqual(["a", "b", "c", "f"]);
    expect(names(runsToDelete(runs, { keep: 3, olderThanMs: 0 }, now))).toEqual(["a"]);
    expect(names(runsToDelete(runs, { keep: 1, olderThanMs: 3.5 * 3_600_000 }, now))).toEqual(["a"]);
  });
});

describe("describe sections", () => {
  const plain = {
    bold: (s: string) => s,
    dim: (s: string) => s,
    red: (s: string) => s,
    green: (s: string) => s,
    yellow: (s: string) => s,
    blue: (s: string) => s,
    cyan: (s: string) => s,
    magenta: (s: string) => s,
    gray: (s: string) => s,
  };
  const now = Date.parse("2025-06-01T10:10:00Z");
  const ctx = (run: Partial<TaskRun>, o: Partial<DescribeContext> = {}): DescribeContext => ({
    run: { spec: { taskRef: "build" }, ...run } as TaskRun,
    task: build,
    pod: undefined,
    now,
    c: plain,
    ...o,
  });

  it("workspaces: each declared one with its binding and mount path, unbound optional ones, undeclared bindings", () => {
    const text = workspacesSection(
      ctx({
        spec: {
          taskRef: "build",
          workspaces: [
            { name: "source", persistentVolumeClaim: { claimName: "src" }, subPath: "repo" },
            { name: "config", configMap: { name: "build-cfg" } },
            { name: "stray", emptyDir: {} },
          ],
        },
      }),
    );
    expect(text.split("\n")).toEqual([
      "",
      "",
      "Workspaces:",
      "  NAME     BINDING                  MOUNT PATH",
      "  source   pvc:src (subPath repo)   /workspace/source",
      "  config   configmap:build-cfg      /etc/build (read-only)",
      "  cache    -                        (optional, not bound)",
      "  stray    emptyDir                 - (not declared by the task)",
    ]);
    expect(workspacesSection(ctx({}, { task: helloTask() }))).toBe("");
  });

  it("results: values (a multi-line one on one line), and declared ones not written", () => {
    const done = resultsSection(
      ctx({
        status: { phase: "Succeeded", results: [{ name: "summary", value: "3 lines, built ✓\nsecond\nthird\n" }] },
      }),
    );
    expect(done.split("\n").slice(2)).toEqual([
      "Results:",
      "  NAME      VALUE",
      "  summary   3 lines, built ✓ (+2 more lines)",
      "  commit    (not written)",
    ]);
    expect(resultsSection(ctx({ status: { phase: "Running" } }))).toContain("commit    (when the run finishes)");
    expect(resultCell("x".repeat(200), plain)).toHaveLength(80);
    expect(resultsSection(ctx({}, { task: helloTask() }))).toBe("");
  });

  it("sidecars: the Task's, with each container's state from the pod", () => {
    const pod = {
      spec: {
        initContainers: [{ name: "sidecar-db", image: "busybox:1.36" }, { name: "step-checkout" }],
        containers: [{ name: "step-compile" }],
      },
      status: {
        initContainerStatuses: [
          { name: "sidecar-db", state: { running: { startedAt: "2025-06-01T10:09:00Z" } } },
          { name: "step-checkout", state: { terminated: { exitCode: 0 } } },
        ],
      },
    };
    const running = sidecarsSection(ctx({ status: { podName: "p" } }, { pod }));
    expect(running.split("\n").slice(2)).toEqual([
      "Sidecars:",
      "  NAME   IMAGE          STATE",
      "  db     busybox:1.36   Running (for 1m)",
    ]);
    const stopped = {
      ...pod,
      status: {
        initContainerStatuses: [{ name: "sidecar-db", state: { terminated: { exitCode: 143, reason: "Error" } } }],
      },
    };
    expect(sidecarsSection(ctx({ status: { podName: "p" } }, { pod: stopped }))).toContain(
      "db     busybox:1.36   Terminated (exit 143, Error)",
    );
    const waiting = {
      ...pod,
      status: { initContainerStatuses: [{ name: "sidecar-db", state: { waiting: { reason: "PodInitializing" } } }] },
    };
    expect(sidecarsSection(ctx({ status: { podName: "p" } }, { pod: waiting }))).toContain("Waiting (PodInitializing)");
    expect(sidecarsSection(ctx({ status: { podName: "p" } }))).toContain("db     busybox:1.36   (pod gone)");
    expect(sidecarsSection(ctx({}))).toContain("(no pod yet)");
    // The Task is gone: the pod still tells.
    expect(sidecarsSection(ctx({ status: { podName: "p" } }, { pod, task: undefined }))).toContain(
      "db     busybox:1.36   Running",
    );
    expect(sidecarsSection(ctx({}, { task: helloTask() }))).toBe("");
  });

  it("attempts: each earlier attempt from status.retriesStatus (pod, phase and reason, times), then the current one", () => {
    const run: Partial<TaskRun> = {
      spec: { taskRef: "build", retries: 2 },
      status: {
        phase: "Running",
        reason: "Running",
        podName: "r-pod-retry2",
        startTime: "2025-06-01T10:00:00Z",
        steps: [{ name: "checkout", state: "Running", startedAt: "2025-06-01T10:09:30Z" }],
        retriesStatus: [
          {
            phase: "Failed",
            reason: "StepFailed",
            message: 'step "compile" failed with exit code 1',
            podName: "r-pod",
            startTime: "2025-06-01T10:00:00Z",
            finishTime: "2025-06-01T10:00:05Z",
          },
          {
            phase: "Failed",
            reason: "TimedOut",
            message: "the run took longer than 5m",
            podName: "r-pod-retry1",
            startTime: "2025-06-01T10:01:00Z",
            finishTime: "2025-06-01T10:06:00Z",
          },
        ],
      },
    };
    expect(attemptsSection(ctx(run)).split("\n").slice(2)).toEqual([
      "Attempts:",
      "  ATTEMPT   POD            PHASE                 STARTED   DURATION        MESSAGE",
      '  1         r-pod          Failed (StepFailed)   10m ago   5s              step "compile" failed with exit code 1',
      "  2         r-pod-retry1   Failed (TimedOut)     9m ago    5m              the run took longer than 5m",
      "  3         r-pod-retry2   Running               30s ago   30s (running)   -",
    ]);
    expect(retriesCell(run as TaskRun)).toBe("2 (2 used)");
    // Between two attempts the reason says so.
    const between = { ...run, status: { ...run.status, reason: "Retrying", steps: [] } } as Partial<TaskRun>;
    expect(attemptsSection(ctx(between)).split("\n").at(-1)).toMatch(/^\s+3\s+r-pod-retry2\s+Running \(Retrying\)\s+/);
    expect(retriesCell({ spec: { taskRef: "x", retries: 3 } })).toBe("3");
    expect(retriesCell({ spec: { taskRef: "x" } })).toBeUndefined();
    // A run without retries has no Attempts section.
    expect(attemptsSection(ctx({ status: { phase: "Failed" } }))).toBe("");
  });

  it("the pod template in one line", () => {
    expect(
      podTemplateCell({
        spec: {
          taskRef: "x",
          podTemplate: {
            nodeSelector: { disk: "ssd", zone: "a" },
            tolerations: [{ key: "a" }, { key: "b" }],
            imagePullSecrets: [{ name: "regcred" }],
            securityContext: { runAsUser: 1000 },
            priorityClassName: "high",
          },
        },
      }),
    ).toBe(
      "nodeSelector (disk=ssd, zone=a), tolerations (2), imagePullSecrets (regcred), securityContext (runAsUser), priorityClassName=high",
    );
    expect(podTemplateCell({ spec: { taskRef: "x" } })).toBeUndefined();
  });
});

describe("commands against a fake apiserver", () => {
  let api: FakeApiServer;
  const run = (args: readonly string[], o: Parameters<typeof runInProcess>[1] = {}) =>
    runInProcess(["-n", NS, ...args], { server: api.url, ...o });

  beforeEach(async () => {
    api = await new FakeApiServer().start();
    api.addTask(NS, helloTask());
    api.addTask(NS, build);
  });
  afterEach(async () => {
    await api.stop();
  });

  function seedRun(
    name: string,
    status: TaskRun["status"],
    spec: Partial<TaskRun["spec"]> = {},
    created = "2025-06-01T10:00:00Z",
  ): TaskRun {
    return api.putRun(
      {
        metadata: { name, namespace: NS, uid: `uid-${name}`, creationTimestamp: created },
        spec: { taskRef: "hello", ...spec },
        ...(status ? { status } : {}),
      },
      "ADDED",
    );
  }

  it("start -w, --retries, --pod-template: the run gets them; bad ones are one line and create nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kt-pt-"));
    const pt = join(dir, "pod.yaml");
    writeFileSync(pt, "nodeSelector:\n  disk: ssd\ntolerations:\n  - key: ci\n    operator: Exists\n");
    const r = await run([
      "start",
      "build",
      "-w",
      "source=pvc:src",
      "--workspace",
      "config=configmap:build-cfg",
      "-w",
      "cache=emptyDir",
      "--retries",
      "2",
      "--pod-template",
      pt,
    ]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const created = api.runs.get(`${NS}/${r.stdout.trim()}`);
    expect(created?.spec).toEqual({
      taskRef: "build",
      timeout: "1h",
      workspaces: [
        { name: "source", persistentVolumeClaim: { claimName: "src" } },
        { name: "config", configMap: { name: "build-cfg" } },
        { name: "cache", emptyDir: {} },
      ],
      retries: 2,
      podTemplate: { nodeSelector: { disk: "ssd" }, tolerations: [{ key: "ci", operator: "Exists" }] },
    });

    const cases: [string[], string][] = [
      [
        ["start", "build", "-w", "source=emptyDir"],
        'error: task "build": unbound workspace "config"; it declares: source, config, cache (optional) (bind them with -w NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME)\n',
      ],
      [
        ["start", "hello", "-p", "who=x", "-w", "source=emptyDir"],
        'error: task "hello": unknown workspace "source"; it declares no workspaces (bind them with -w NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME)\n',
      ],
      [
        ["start", "build", "-w", "source"],
        'error: invalid workspace "source": expected NAME=emptyDir, NAME=pvc:CLAIM, NAME=configmap:NAME or NAME=secret:NAME\n',
      ],
      [
        ["start", "hello", "-p", "who=x", "--retries", "many"],
        'error: invalid --retries "many": expected a whole number from 0 to 100\n',
      ],
      [
        ["start", "hello", "-p", "who=x", "--pod-template", join(dir, "nope.yaml")],
        `error: cannot read --pod-template "${join(dir, "nope.yaml")}": no such file\n`,
      ],
    ];
    const posts = api.requests.filter((q) => q.method === "POST").length;
    for (const [args, stderr] of cases) {
      const bad = await run(args);
      expect({ args, code: bad.code, stdout: bad.stdout, stderr: bad.stderr }).toEqual({
        args,
        code: 1,
        stdout: "",
        stderr,
      });
    }
    expect(api.requests.filter((q) => q.method === "POST")).toHaveLength(posts);
  });

  it("start --dry-run prints the workspaces, retries and pod template it would create", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kt-pt-"));
    writeFileSync(join(dir, "pt.json"), JSON.stringify({ priorityClassName: "low" }));
    const r = await run([
      "start",
      "build",
      "-w",
      "source=emptyDir",
      "-w",
      "config=secret:creds",
      "--retries",
      "1",
      "--pod-template",
      join(dir, "pt.json"),
      "--dry-run",
    ]);
    expect(r.code).toBe(0);
    expect((parseYaml(r.stdout) as TaskRun).spec).toEqual({
      taskRef: "build",
      workspaces: [
        { name: "source", emptyDir: {} },
        { name: "config", secret: { secretName: "creds" } },
      ],
      retries: 1,
      podTemplate: { priorityClassName: "low" },
    });
  });

  it("--last: logs, describe and cancel take the newest run (of a task when given); none is one line", async () => {
    api.addPod(NS, "old-pod", ["greet"]);
    api.setLog(NS, "old-pod", "step-greet", "old\n");
    api.addPod(NS, "new-pod", ["greet"]);
    api.setLog(NS, "new-pod", "step-greet", "new\n");
    const steps = [{ name: "greet", container: "step-greet", state: "Running" as const }];
    seedRun("old", { phase: "Running", podName: "old-pod", steps }, {}, "2025-06-01T10:00:00Z");
    seedRun("new", { phase: "Running", podName: "new-pod", steps }, {}, "2025-06-01T11:00:00Z");
    // Started later, but created earlier: --last is the run created last (as tkn's --last).
    seedRun(
      "other",
      { phase: "Running", startTime: "2025-06-01T12:00:00Z" },
      { taskRef: "build" },
      "2025-06-01T10:30:00Z",
    );
    seedRun("newest-build", undefined, { taskRef: "build" }, "2025-06-01T11:30:00Z");

    expect(await run(["logs", "--last", "hello"])).toEqual({ code: 0, stdout: "[greet] new\n", stderr: "" });
    expect((await run(["describe", "-L", "-o", "name"])).stdout).toBe("taskrun.minitask.myorg.dev/newest-build\n");
    expect((await run(["describe", "--last", "hello"])).stdout).toMatch(/^Name:\s+new$/m);
    expect(await run(["cancel", "--last", "hello"])).toEqual({
      code: 0,
      stdout: "taskrun new cancelled\n",
      stderr: "",
    });
    expect(api.runs.get(`${NS}/old`)?.spec.cancelled).toBeUndefined();

    const none = await run(["logs", "--last", "greet"]);
    expect(none).toEqual({
      code: 1,
      stdout: "",
      stderr: 'error: there are no runs of task "greet" in namespace "team-a"\n',
    });
    const runName = await run(["describe", "--last", "old"]);
    expect(runName.stderr).toBe(
      'error: there are no runs of task "old" in namespace "team-a": with --last the argument names a task, and "old" is a run (drop --last to use it)\n',
    );
    const empty = await runInProcess(["-n", "empty", "cancel", "--last"], { server: api.url });
    expect(empty.stderr).toBe('error: there are no task runs in namespace "empty"\n');
    for (const cmd of ["logs", "describe", "cancel", "rerun"]) {
      const missing = await run([cmd]);
      expect({ cmd, code: missing.code, stderr: missing.stderr }).toEqual({
        cmd,
        code: 1,
        stderr: `error: ${cmd} needs a run: give its name, or --last for the newest run (--last TASK: of a task)\n`,
      });
    }
  });

  /** A run of `build` whose pod has a sidecar, with logs for both steps and the sidecar. */
  function seedSidecarRun(): void {
    api.pods.set(`${NS}/sc-pod`, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "sc-pod", namespace: NS },
      spec: {
        initContainers: [{ name: "sidecar-db", image: "busybox:1.36" }, { name: "step-checkout" }],
        containers: [{ name: "step-compile" }],
      },
      status: {
        phase: "Succeeded",
        initContainerStatuses: [
          { name: "sidecar-db", state: { terminated: { exitCode: 0, reason: "Completed" } } },
          { name: "step-checkout", state: { terminated: { exitCode: 0, reason: "Completed" } } },
        ],
        containerStatuses: [{ name: "step-compile", state: { terminated: { exitCode: 0, reason: "Completed" } } }],
      },
    });
    api.setLog(NS, "sc-pod", "sidecar-db", "db up\ndb down\n");
    api.setLog(NS, "sc-pod", "step-checkout", "checked out\n");
    api.setLog(NS, "sc-pod", "step-compile", "compiled\n");
    seedRun(
      "sc",
      {
        phase: "Succeeded",
        podName: "sc-pod",
        startTime: "2025-06-01T10:00:00Z",
        finishTime: "2025-06-01T10:00:04Z",
        results: [{ name: "commit", value: "abc123" }],
        steps: [
          { name: "checkout", container: "step-checkout", state: "Succeeded", exitCode: 0 },
          { name: "compile", container: "step-compile", state: "Succeeded", exitCode: 0 },
        ],
      },
      {
        taskRef: "build",
        workspaces: [
          { name: "source", emptyDir: {} },
          { name: "config", configMap: { name: "cfg" } },
        ],
      },
    );
  }

  it("logs --sidecars: the steps' logs, then each sidecar's as [sidecar-NAME]; --timestamps asks the kubelet for them", async () => {
    seedSidecarRun();
    expect(await run(["logs", "sc"])).toEqual({
      code: 0,
      stdout: "[checkout] checked out\n[compile] compiled\n",
      stderr: "",
    });
    expect(await run(["logs", "sc", "--sidecars"])).toEqual({
      code: 0,
      stdout: "[checkout] checked out\n[compile] compiled\n[sidecar-db] db up\n[sidecar-db] db down\n",
      stderr: "",
    });
    const before = api.requests.length;
    expect((await run(["logs", "sc", "--timestamps"])).code).toBe(0);
    const logRequests = api.requests.slice(before).filter((q) => q.path.endsWith("/log"));
    expect(logRequests.map((q) => q.query.get("timestamps"))).toEqual(["true", "true"]);
    expect(api.requests.filter((q) => q.path.endsWith("/log") && q.query.get("timestamps") === null).length).toBe(5);
    expect((await run(["logs", "sc", "--step", "compile", "--sidecars"])).stderr).toBe(
      "error: --step and --sidecars cannot be used together\n",
    );
    api.pods.delete(`${NS}/sc-pod`);
    expect((await run(["logs", "sc", "--sidecars"])).stderr).toBe(
      'error: the pod sc-pod of taskrun "sc" no longer exists, so its logs are gone\n',
    );
  });

  it("logs -f --sidecars: the sidecars' logs once the steps are done, before the outcome", async () => {
    seedSidecarRun();
    const r = await run(["logs", "sc", "-f", "--sidecars", "--timestamps"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual([
      "=== step checkout",
      "[checkout] checked out",
      "=== step checkout succeeded",
      "=== step compile",
      "[compile] compiled",
      "=== step compile succeeded",
      "[sidecar-db] db up",
      "[sidecar-db] db down",
      "taskrun sc succeeded in 4s",
      "",
    ]);
    const followed = api.requests.filter((q) => q.path.endsWith("/log"));
    expect(followed.map((q) => [q.query.get("container"), q.query.get("follow"), q.query.get("timestamps")])).toEqual([
      ["step-checkout", "true", "true"],
      ["step-compile", "true", "true"],
      ["sidecar-db", "true", "true"],
    ]);
  });

  it("describe: workspaces, results, sidecars with their state, retries and the pod template", async () => {
    seedSidecarRun();
    const r = await run(["describe", "sc"], { now: Date.parse("2025-06-01T10:01:00Z") });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Workspaces:\n\s+NAME\s+BINDING\s+MOUNT PATH\n\s+source\s+emptyDir\s+\/workspace\/source\n\s+config\s+configmap:cfg\s+\/etc\/build \(read-only\)\n\s+cache\s+-\s+\(optional, not bound\)\n/,
    );
    expect(r.stdout).toMatch(/Results:\n\s+NAME\s+VALUE\n\s+commit\s+abc123\n\s+summary\s+\(not written\)\n/);
    expect(r.stdout).toMatch(
      /Sidecars:\n\s+NAME\s+IMAGE\s+STATE\n\s+db\s+busybox:1\.36\s+Terminated \(exit 0, Completed\)\n/,
    );
    expect(r.stdout).not.toContain("Attempts:");
    // Sections in order: params, workspaces, results, steps, sidecars, events.
    const order = ["Params:", "Workspaces:", "Results:", "Steps:", "Sidecars:", "Events:"].map((h) =>
      r.stdout.indexOf(h),
    );
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(order.every((i) => i >= 0)).toBe(true);

    seedRun(
      "retried",
      {
        phase: "Failed",
        reason: "StepFailed",
        podName: "retried-pod-retry1",
        retriesStatus: [{ phase: "Failed", reason: "StepFailed", podName: "retried-pod", message: "first" }],
      },
      { retries: 1, podTemplate: { nodeSelector: { disk: "ssd" } } },
    );
    const d = await run(["describe", "retried"]);
    expect(d.stdout).toMatch(/^Retries:\s+1 \(1 used\)$/m);
    expect(d.stdout).toMatch(/^Pod template:\s+nodeSelector \(disk=ssd\)$/m);
    expect(d.stdout).toMatch(
      /Attempts:\n\s+ATTEMPT\s+POD\s+PHASE.*\n\s+1\s+retried-pod\s+Failed \(StepFailed\)\s+-\s+-\s+first\n\s+2\s+retried-pod-retry1\s+Failed \(StepFailed\)/,
    );
    // The events of every attempt's pod are asked for.
    const eventQueries = api.requests
      .filter((q) => q.path.endsWith("/events"))
      .map((q) => q.query.get("fieldSelector"));
    expect(eventQueries).toContain("involvedObject.kind=Pod,involvedObject.name=retried-pod");
    expect(eventQueries).toContain("involvedObject.kind=Pod,involvedObject.name=retried-pod-retry1");
  });

  it("follow goes through every attempt of a run with retries, announcing each retry", async () => {
    api.onCreate = (r) => {
      const name = r.metadata?.name ?? "";
      const [p0, p1] = [`${name}-pod`, `${name}-pod-retry1`];
      for (const p of [p0, p1]) api.addPod(NS, p, ["greet", "farewell"]);
      api.setLog(NS, p0, "step-greet", "try 1\n");
      api.setLog(NS, p0, "step-farewell", "boom\n");
      api.setLog(NS, p1, "step-greet", "try 2\n");
      api.setLog(NS, p1, "step-farewell", "fine\n");
      const t = (s: number) => `2025-06-01T10:00:0${s}Z`;
      const first = [
        {
          name: "greet",
          container: "step-greet",
          state: "Succeeded" as const,
          exitCode: 0,
          startedAt: t(0),
          finishedAt: t(1),
        },
        {
          name: "farewell",
          container: "step-farewell",
          state: "Failed" as const,
          exitCode: 1,
          startedAt: t(1),
          finishedAt: t(2),
        },
      ];
      api.setStatus(NS, name, {
        phase: "Running",
        podName: p0,
        startTime: t(0),
        steps: [first[0] as (typeof first)[number], { name: "farewell", container: "step-farewell", state: "Running" }],
      });
      const earlier = [
        {
          phase: "Failed" as const,
          reason: "StepFailed",
          message: 'step "farewell" failed with exit code 1',
          podName: p0,
          startTime: t(0),
          finishTime: t(2),
          steps: first,
        },
      ];
      api.setStatus(NS, name, {
        phase: "Running",
        reason: "Retrying",
        podName: p1,
        startTime: t(0),
        retriesStatus: earlier,
        steps: [
          { name: "greet", container: "step-greet", state: "Running", startedAt: t(3) },
          { name: "farewell", container: "step-farewell", state: "Waiting" },
        ],
      });
      api.setStatus(NS, name, {
        phase: "Succeeded",
        reason: "Succeeded",
        podName: p1,
        startTime: t(0),
        finishTime: t(6),
        retriesStatus: earlier,
        steps: [
          {
            name: "greet",
            container: "step-greet",
            state: "Succeeded",
            exitCode: 0,
            startedAt: t(3),
            finishedAt: t(4),
          },
          {
            name: "farewell",
            container: "step-farewell",
            state: "Succeeded",
            exitCode: 0,
            startedAt: t(4),
            finishedAt: t(6),
          },
        ],
      });
    };
    const r = await run(["start", "hello", "-p", "who=x", "--retries", "1", "-f"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const name = [...api.runs.keys()][0]?.split("/")[1] ?? "";
    expect(r.stdout.split("\n")).toEqual([
      `taskrun ${name} created`,
      "=== step greet",
      "[greet] try 1",
      "=== step greet succeeded (1s)",
      "=== step farewell",
      "[farewell] boom",
      "=== step farewell failed: exit code 1 (1s)",
      `=== retry 1 of 1 in pod ${name}-pod-retry1: attempt 1 Failed (StepFailed: step "farewell" failed with exit code 1)`,
      "=== step greet",
      "[greet] try 2",
      "=== step greet succeeded (1s)",
      "=== step farewell",
      "[farewell] fine",
      "=== step farewell succeeded (2s)",
      `taskrun ${name} succeeded in 6s (after 1 retry)`,
      "",
    ]);
    // logs (not followed) of the retried run: the current attempt, with a word on stderr about the others.
    const l = await run(["logs", name]);
    expect(l).toEqual({
      code: 0,
      stdout: "[greet] try 2\n[farewell] fine\n",
      stderr: `attempt 2 of taskrun ${name}; earlier attempts ran in pod ${name}-pod\n`,
    });
  });

  it("follow: attempts that came and went between two watch events are still shown, from status.retriesStatus", async () => {
    const pods = ["q-pod", "q-pod-retry1", "q-pod-retry2"];
    for (const [i, p] of pods.entries()) {
      api.addPod(NS, p, ["greet"]);
      api.setLog(NS, p, "step-greet", `attempt ${i + 1}\n`);
    }
    const failedStep = [{ name: "greet", container: "step-greet", state: "Failed" as const, exitCode: 1 }];
    const attempt = (podName: string) => ({
      phase: "Failed" as const,
      reason: "StepFailed",
      message: 'step "greet" failed with exit code 1',
      podName,
      steps: failedStep,
    });
    seedRun("q", { phase: "Running", podName: "q-pod", steps: [{ name: "greet", state: "Waiting" }] }, { retries: 2 });
    const pending = run(["logs", "q", "-f"]);
    // One status write takes the run from its first attempt (not started) to its last (failed).
    const deadline = Date.now() + 10_000;
    while (!api.requests.some((q) => q.query.get("watch") === "true")) {
      if (Date.now() > deadline) throw new Error("the run was never watched");
      await new Promise((r) => setTimeout(r, 10));
    }
    api.setStatus(NS, "q", {
      phase: "Failed",
      reason: "StepFailed",
      message: 'step "greet" failed with exit code 1',
      podName: "q-pod-retry2",
      steps: failedStep,
      retriesStatus: [attempt("q-pod"), attempt("q-pod-retry1")],
    });
    const r = await pending;
    expect(r.code).toBe(1);
    const failedLine = "=== step greet failed: exit code 1";
    const why = '(StepFailed: step "greet" failed with exit code 1)';
    expect(r.stdout.split("\n")).toEqual([
      "=== step greet",
      "[greet] attempt 1",
      failedLine,
      `=== retry 1 of 2 in pod q-pod-retry1: attempt 1 Failed ${why}`,
      "=== step greet",
      "[greet] attempt 2",
      failedLine,
      `=== retry 2 of 2 in pod q-pod-retry2: attempt 2 Failed ${why}`,
      "=== step greet",
      "[greet] attempt 3",
      failedLine,
      "",
    ]);
    expect(r.stderr).toBe(
      'error: taskrun "q" failed (after 2 retries): StepFailed: step "greet" failed with exit code 1\n',
    );
  });

  it("rerun: a new run like the old one (the Task checked again), followed or printed as asked", async () => {
    seedRun(
      "b1",
      { phase: "Failed", reason: "StepFailed" },
      {
        taskRef: "build",
        workspaces: [
          { name: "source", emptyDir: {} },
          { name: "config", configMap: { name: "cfg" } },
        ],
        retries: 1,
        timeout: "10m",
      },
    );
    const r = await run(["rerun", "b1"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const name = r.stdout.trim();
    expect(name).toMatch(/^build-run-/);
    const created = api.runs.get(`${NS}/${name}`);
    expect(created?.metadata?.generateName).toBe("build-run-");
    expect(created?.spec).toEqual({
      taskRef: "build",
      workspaces: [
        { name: "source", emptyDir: {} },
        { name: "config", configMap: { name: "cfg" } },
      ],
      retries: 1,
      timeout: "10m",
    });
    expect((await run(["rerun", "--last", "build", "-o", "name"])).stdout).toMatch(
      /^taskrun\.minitask\.myorg\.dev\/build-run-\S+\n$/,
    );
    const dry = await run(["rerun", "b1", "--dry-run", "-o", "json"]);
    expect((JSON.parse(dry.stdout) as TaskRun).spec.retries).toBe(1);
    // The Task changed since: the old bindings no longer fit, and nothing is created.
    api.addTask(NS, { metadata: { name: "build" }, spec: { steps: [{ name: "s", image: "busybox" }] } });
    const posts = api.requests.filter((q) => q.method === "POST").length;
    const refused = await run(["rerun", "b1"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: task "build": unknown workspaces "source", "config"; it declares no workspaces/,
    );
    expect(api.requests.filter((q) => q.method === "POST")).toHaveLength(posts);
    expect((await run(["rerun", "nope"])).stderr).toMatch(/^error: taskrun "nope" not found in namespace "team-a"/);
  });

  it("delete --keep N and --older-than D: finished runs only, the rest kept; bad values are one line", async () => {
    const finished = (name: string, at: string, task = "hello") =>
      seedRun(name, { phase: "Succeeded", startTime: at, finishTime: at }, { taskRef: task }, at);
    finished("h1", "2025-06-01T01:00:00Z");
    finished("h2", "2025-06-01T02:00:00Z");
    finished("h3", "2025-06-01T03:00:00Z");
    finished("b1", "2025-06-01T01:30:00Z", "build");
    seedRun("h-running", { phase: "Running", startTime: "2025-06-01T00:00:00Z" }, {}, "2025-06-01T00:00:00Z");
    const now = Date.parse("2025-06-01T04:00:00Z");
    expect(await run(["delete", "--keep", "2", "--task", "hello"], { now })).toEqual({
      code: 0,
      stdout: "taskrun h1 deleted\n",
      stderr: "",
    });
    expect(await run(["delete", "--keep", "5"], { now })).toEqual({
      code: 0,
      stdout: "",
      stderr: "Nothing to delete: all 3 finished runs in namespace team-a are kept.\n",
    });
    expect(await run(["delete", "--older-than", "1h30m"], { now })).toEqual({
      code: 0,
      stdout: "taskrun b1 deleted\ntaskrun h2 deleted\n",
      stderr: "",
    });
    expect([...api.runs.keys()].sort()).toEqual([`${NS}/h-running`, `${NS}/h3`]);
    expect((await run(["delete", "--keep", "-1"])).stderr).toBe(
      'error: invalid --keep "-1": expected a whole number from 0 to 9007199254740991\n',
    );
    expect((await run(["delete", "--older-than", "2d"])).stderr).toBe(
      'error: invalid --older-than "2d": expected a duration such as 30m, 24h or 168h\n',
    );
    expect((await run(["delete", "h3", "--task", "hello"])).stderr).toBe(
      "error: --selector and --task only go with --all-finished, --keep or --older-than\n",
    );
  });

  it("completion: workspace names and sources for -w, task names after --last, rerun's runs", async () => {
    seedRun("r9", { phase: "Running" });
    const c = async (...words: string[]) =>
      (await runInProcess(["__complete", "-n", NS, ...words], { server: api.url })).stdout;
    expect(await c("start", "build", "-w", "")).toBe("source=\nconfig=\ncache=\n:6\n");
    expect(await c("start", "build", "-w", "source=")).toBe(
      "source=emptyDir\nsource=pvc:\nsource=configmap:\nsource=secret:\n:6\n",
    );
    expect(await c("start", "build", "--workspace", "config=c")).toBe("config=configmap:\n:6\n");
    expect(await c("logs", "--last", "")).toBe("build\nhello\n:4\n");
    expect(await c("describe", "")).toBe("r9\n:4\n");
    expect(await c("rerun", "")).toBe("r9\n:4\n");
    expect(await c("rerun", "-L", "h")).toBe("hello\n:4\n");
    expect(await c("delete", "--task", "")).toBe("build\nhello\n:4\n");
    // --pod-template takes a file: no candidates, and no NoFileComp bit, so the shell offers file names.
    expect(await c("start", "build", "--pod-template", "")).toBe(":0\n");
    expect(await c("logs", "r9", "--")).toContain("--sidecars\n");
    expect(await c("logs", "r9", "--")).toContain("--timestamps\n");
  });
});

/** Where `name` is on PATH, if anywhere. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return undefined;
}

describe("fish completion", { timeout: 60_000 }, () => {
  let api: FakeApiServer;
  beforeEach(async () => {
    api = await new FakeApiServer().start();
    api.addTask(NS, helloTask());
    api.addTask(NS, build);
  });
  afterEach(async () => {
    await api.stop();
  });

  it("completion fish prints a script that asks __complete for every word", async () => {
    const r = await runChild(["completion", "fish"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain('kubectl-task __complete $args "$cur"');
    expect(r.stdout).toContain("complete -c kubectl-task -f -a '(__kubectl_task_complete)'");

    // With fish installed (it is not part of the toolchain), fish itself completes through the script.
    const fish = onPath("fish");
    if (fish === undefined) return;
    const dir = mkdtempSync(join(tmpdir(), "kt-fish-"));
    mkdirSync(join(dir, "bin"));
    symlinkSync(BIN, join(dir, "bin", "kubectl-task"));
    writeFileSync(join(dir, "kubectl-task.fish"), r.stdout);
    const env = {
      ...process.env,
      PATH: [join(dir, "bin"), NODE_DIR, process.env.PATH ?? ""].join(delimiter),
      KUBECONFIG: kubeconfigFor(api.url, NS),
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "config"),
    };
    // Asynchronously: the fake apiserver answering the plugin runs in this process.
    const complete = async (line: string): Promise<string[]> => {
      const script = `source ${join(dir, "kubectl-task.fish")}; complete -C '${line}'`;
      const { stdout } = await promisify(execFile)(fish, ["--no-config", "-c", script], { env, encoding: "utf8" });
      return stdout
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => stripAnsi(l).split("\t")[0] ?? "");
    };
    expect(await complete("kubectl-task st")).toEqual(["start"]);
    expect(await complete("kubectl-task re")).toEqual(["rerun"]);
    expect(await complete("kubectl-task start ")).toEqual(["build", "hello"]);
    expect(await complete("kubectl-task start build -w ")).toEqual(["cache=", "config=", "source="]);
    expect(await complete("kubectl-task completion ")).toEqual(["bash", "fish", "zsh"]);
    expect(await complete("kubectl-task logs --ti")).toEqual(["--timestamps"]);
  });
});
