// Workspaces, results, sidecars, env from Secrets/ConfigMaps and onError: the pod buildPod makes, what the
// status reads back from it, and the results runner itself — run here by the host's /bin/sh, so its output
// format is checked against parseStepReport byte for byte. What they do in real containers is in
// features.cluster.test.ts (real node).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Task, TaskRun } from "../src/contract.ts";
import { typedParams } from "../src/kubectl-task/params.ts";
import type { Pod } from "../src/reconciler/corev1.ts";
import { InvalidParamsError, InvalidSpecError } from "../src/reconciler/params.ts";
import { buildPod } from "../src/reconciler/pod.ts";
import { messageLimit, parseStepReport, RESULTS_DIR, stepRunner } from "../src/reconciler/results.ts";
import { outcomeFromPod } from "../src/reconciler/status.ts";

const run = (spec: Partial<NonNullable<TaskRun["spec"]>> = {}): TaskRun => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "TaskRun",
  metadata: { name: "r", namespace: "ns", uid: "u" },
  spec: { taskRef: "t", ...spec },
});
const task = (spec: Partial<NonNullable<Task["spec"]>>): Task => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "t" },
  spec: { steps: [{ name: "a", image: "busybox", script: "true" }], ...spec },
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the runner with the host's sh around `script`, writing results into a temporary folder. */
function runRunner(
  script: string,
  results: Record<string, string>,
  opts: { continueOnError?: boolean; limit?: number } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "minitask-runner-"));
  dirs.push(dir);
  for (const [name, value] of Object.entries(results)) writeFileSync(join(dir, name), value);
  const message = join(dir, "termination-log");
  const runner = stepRunner({
    results: ["sha", "notes", "absent"],
    continueOnError: opts.continueOnError ?? false,
    limit: opts.limit ?? 4096,
    shebang: script.startsWith("#!"),
    resultsDir: dir,
    messagePath: message,
  });
  const r = spawnSync("/bin/sh", ["-c", runner], {
    env: { ...process.env, MINITASK_SCRIPT: script },
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, report: parseStepReport(readFileSync(message, "utf8")) };
}

describe("the results runner (host /bin/sh)", () => {
  it("runs the script, keeps its exit code and output, and reports every result present byte for byte", () => {
    const notes = "line one\nline two — ünïcödé\n\n";
    const r = runRunner("echo working; exit 3", { sha: "abc123", notes });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("working\n");
    expect(r.report?.results).toEqual(
      new Map([
        ["sha", "abc123"],
        ["notes", notes],
      ]),
    );
    expect(r.report?.exitCode).toBeUndefined();
  });

  it("with onError: continue, records the exit status and exits 0", () => {
    const r = runRunner("exit 7", {}, { continueOnError: true });
    expect(r.code).toBe(0);
    expect(r.report).toEqual({ results: new Map(), exitCode: 7 });
  });

  it("a #! script runs with its own interpreter", () => {
    const r = runRunner(`#!${process.execPath}\nconsole.log(40 + 2)`, { sha: "x" });
    expect(r.stdout).toBe("42\n");
    expect(r.report?.results.get("sha")).toBe("x");
  });

  it("results over the limit are replaced by their sizes, never cut", () => {
    const r = runRunner("true", { sha: "a".repeat(300), notes: "b".repeat(10) }, { limit: 200 });
    expect(r.report?.results.size).toBe(0);
    expect(r.report?.tooLarge?.limit).toBe(200);
    expect(r.report?.tooLarge?.sizes).toEqual(
      new Map([
        ["sha", 300],
        ["notes", 10],
      ]),
    );
  });

  it("the limit is the kubelet's: 4 KiB per container, 12 KiB per pod", () => {
    expect(messageLimit(1)).toBe(4096);
    expect(messageLimit(3)).toBe(4096);
    expect(messageLimit(4)).toBe(3072);
    expect(messageLimit(8)).toBe(1536);
  });

  it("a message that is not a report is not parsed as one", () => {
    expect(parseStepReport(undefined)).toBeUndefined();
    expect(parseStepReport("Error: oom")).toBeUndefined();
  });
});

describe("buildPod: workspaces", () => {
  const t = task({
    workspaces: [
      { name: "src" },
      { name: "cache", mountPath: "/cache", optional: true },
      { name: "conf", readOnly: true },
    ],
    steps: [
      {
        name: "a",
        image: "busybox",
        script: "ls $(workspaces.src.path) $(workspaces.cache.path); echo $(workspaces.cache.bound)",
      },
    ],
  });

  it("mounts each bound workspace in every step and substitutes its path", () => {
    const pod = buildPod(
      run({
        workspaces: [
          { name: "src", emptyDir: {} },
          { name: "conf", configMap: { name: "settings" } },
        ],
      }),
      t,
    );
    expect(pod.spec?.volumes).toEqual([
      { name: "workspace-0", emptyDir: {} },
      { name: "workspace-2", configMap: { name: "settings" } },
    ]);
    const c = pod.spec?.containers[0];
    expect(c?.volumeMounts).toEqual([
      { name: "workspace-0", mountPath: "/workspace/src" },
      { name: "workspace-2", mountPath: "/workspace/conf", readOnly: true },
    ]);
    // The optional, unbound one: empty path, bound=false.
    expect(c?.command?.[2]).toBe("ls /workspace/src ; echo false");
  });

  it("a PVC binding with a subPath, and a Secret, read-only", () => {
    const pod = buildPod(
      run({
        workspaces: [
          { name: "src", persistentVolumeClaim: { claimName: "data" }, subPath: "repo" },
          { name: "conf", secret: { secretName: "creds", items: [{ key: "token", path: "t" }] } },
        ],
      }),
      t,
    );
    expect(pod.spec?.volumes?.[1]).toEqual({
      name: "workspace-2",
      secret: { secretName: "creds", items: [{ key: "token", path: "t" }] },
    });
    expect(pod.spec?.containers[0]?.volumeMounts?.[0]).toEqual({
      name: "workspace-0",
      mountPath: "/workspace/src",
      subPath: "repo",
    });
  });

  it("fails with InvalidWorkspaces when a workspace is not bound, or a binding names none of the Task's", () => {
    const missing = () => buildPod(run(), t);
    expect(missing).toThrow(InvalidSpecError);
    expect(missing).toThrow(/workspaces "src", "conf" of task "t" not bound/);
    const unknown = () =>
      buildPod(
        run({
          workspaces: [
            { name: "src", emptyDir: {} },
            { name: "conf", emptyDir: {} },
            { name: "x", emptyDir: {} },
          ],
        }),
        t,
      );
    expect(unknown).toThrow(/the run binds "x", which task "t" does not declare/);
    expect(() =>
      buildPod(run(), task({ steps: [{ name: "a", image: "b", script: "cd $(workspaces.nope.path)" }] })),
    ).toThrow(/\$\(workspaces\.nope\.path\) refers to a workspace the task does not declare/);
  });
});

describe("buildPod: results, sidecars, env and onError", () => {
  it("a Task with results runs script steps through the runner, with the results folder mounted", () => {
    const pod = buildPod(
      run(),
      task({
        results: [{ name: "sha" }],
        steps: [
          { name: "a", image: "busybox", script: "echo -n abc > $(results.sha.path)" },
          { name: "b", image: "busybox", command: ["true"] },
        ],
      }),
    );
    const a = pod.spec?.initContainers?.[0];
    expect(a?.env).toContainEqual({ name: "MINITASK_SCRIPT", value: `echo -n abc > ${RESULTS_DIR}/sha` });
    expect(a?.command?.[2]).toContain("for r in sha;");
    expect(a?.terminationMessagePath).toBe("/dev/termination-log");
    expect(a?.volumeMounts).toEqual([{ name: "minitask-results", mountPath: RESULTS_DIR }]);
    expect(pod.spec?.containers[0]?.command).toEqual(["true"]);
    expect(pod.spec?.volumes).toEqual([{ name: "minitask-results", emptyDir: {} }]);
  });

  it("sidecars are native sidecars (init containers with restartPolicy Always) before the steps", () => {
    const pod = buildPod(
      run(),
      task({
        sidecars: [{ name: "db", image: "busybox", script: "sleep 3600" }],
        steps: [
          { name: "a", image: "busybox", script: "true" },
          { name: "b", image: "busybox", script: "true" },
        ],
      }),
    );
    expect(pod.spec?.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ["sidecar-db", "Always"],
      ["step-a", undefined],
    ]);
    expect(pod.spec?.initContainers?.[0]?.securityContext?.allowPrivilegeEscalation).toBe(false);
  });

  it("passes env from Secrets, ConfigMaps and the pod, envFrom and imagePullPolicy through", () => {
    const pod = buildPod(
      run({ params: [{ name: "s", value: "db-creds" }] }),
      task({
        params: [{ name: "s" }],
        steps: [
          {
            name: "a",
            image: "busybox",
            imagePullPolicy: "IfNotPresent",
            script: "true",
            env: [
              { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "$(params.s)", key: "password" } } },
              { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode", optional: true } } },
              { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ],
            envFrom: [{ prefix: "CFG_", configMapRef: { name: "settings" } }],
          },
        ],
      }),
    );
    const c = pod.spec?.containers[0];
    expect(c?.env).toEqual([
      { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "db-creds", key: "password" } } },
      { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode", optional: true } } },
      { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
    expect(c?.envFrom).toEqual([{ prefix: "CFG_", configMapRef: { name: "settings" } }]);
    expect(c?.imagePullPolicy).toBe("IfNotPresent");
  });
});

/** A finished pod whose step containers ended with these exit codes and termination messages. */
function finishedPod(steps: { name: string; exitCode: number; message?: string }[], sidecars: string[] = []): Pod {
  const status = (s: { name: string; exitCode: number; message?: string }) => ({
    name: s.name,
    state: { terminated: { exitCode: s.exitCode, ...(s.message ? { message: s.message } : {}) } },
  });
  const init = steps.slice(0, -1);
  const main = steps.at(-1) ?? { name: "step-x", exitCode: 0 };
  return {
    metadata: { name: "r-pod" },
    spec: {
      initContainers: [
        ...sidecars.map((n) => ({ name: n, image: "i" })),
        ...init.map((s) => ({ name: s.name, image: "i" })),
      ],
      containers: [{ name: main.name, image: "i" }],
    },
    status: {
      phase: steps.some((s) => s.exitCode !== 0) ? "Failed" : "Succeeded",
      initContainerStatuses: [
        ...sidecars.map((n) => ({ name: n, state: { terminated: { exitCode: 137 } } })),
        ...init.map(status),
      ],
      containerStatuses: [status(main)],
    },
  };
}

describe("buildPod: stepTemplate, volumes, securityContext, podTemplate, attempts", () => {
  it("merges the stepTemplate into every step: the step's own fields win, env by name, mounts by path", () => {
    const pod = buildPod(
      run(),
      task({
        stepTemplate: {
          image: "busybox:1.36",
          workingDir: "/src",
          env: [
            { name: "MODE", value: "ci" },
            { name: "LEVEL", value: "1" },
          ],
          resources: { limits: { cpu: "1", memory: "64Mi" } },
          securityContext: { readOnlyRootFilesystem: true },
          volumeMounts: [{ name: "cache", mountPath: "/cache" }],
        },
        volumes: [{ name: "cache", emptyDir: {} }],
        steps: [
          { name: "a", script: "true" },
          {
            name: "b",
            image: "alpine",
            script: "true",
            env: [{ name: "LEVEL", value: "2" }],
            resources: { limits: { memory: "128Mi" } },
            volumeMounts: [{ name: "cache", mountPath: "/cache", readOnly: true }],
          },
        ],
      }),
    );
    const [a, b] = [pod.spec?.initContainers?.[0], pod.spec?.containers[0]];
    expect(a).toMatchObject({
      image: "busybox:1.36",
      workingDir: "/src",
      env: [
        { name: "MODE", value: "ci" },
        { name: "LEVEL", value: "1" },
      ],
      resources: { limits: { cpu: "1", memory: "64Mi" } },
      volumeMounts: [{ name: "cache", mountPath: "/cache" }],
    });
    expect(b).toMatchObject({
      image: "alpine",
      env: [
        { name: "MODE", value: "ci" },
        { name: "LEVEL", value: "2" },
      ],
      resources: { limits: { cpu: "1", memory: "128Mi" } },
      volumeMounts: [{ name: "cache", mountPath: "/cache", readOnly: true }],
    });
    // The template's securityContext is merged over the controller's defaults, field by field.
    expect(b?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
      readOnlyRootFilesystem: true,
    });
    expect(pod.spec?.volumes).toEqual([{ name: "cache", emptyDir: {} }]);
  });

  it("a step's securityContext overrides the defaults it names and keeps the others", () => {
    const pod = buildPod(
      run(),
      task({ steps: [{ name: "a", image: "busybox", script: "true", securityContext: { runAsUser: 1000 } }] }),
    );
    expect(pod.spec?.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
      runAsUser: 1000,
    });
  });

  it("copies the podTemplate onto the pod; its securityContext is merged over the pod's defaults", () => {
    const pod = buildPod(
      run({
        podTemplate: {
          nodeSelector: { disk: "ssd" },
          tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
          affinity: { nodeAffinity: {} },
          securityContext: { fsGroup: 2000 },
          imagePullSecrets: [{ name: "regcred" }],
          priorityClassName: "high",
          runtimeClassName: "gvisor",
          schedulerName: "custom",
        },
      }),
      task({}),
      { runAsNonRoot: true },
    );
    expect(pod.spec).toMatchObject({
      nodeSelector: { disk: "ssd" },
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
      affinity: { nodeAffinity: {} },
      imagePullSecrets: [{ name: "regcred" }],
      priorityClassName: "high",
      runtimeClassName: "gvisor",
      schedulerName: "custom",
      securityContext: { seccompProfile: { type: "RuntimeDefault" }, runAsNonRoot: true, fsGroup: 2000 },
    });
  });

  it("names each attempt's pod deterministically: r-pod, then r-pod-retry1, r-pod-retry2", () => {
    expect([0, 1, 2].map((attempt) => buildPod(run(), task({}), { attempt }).metadata?.name)).toEqual([
      "r-pod",
      "r-pod-retry1",
      "r-pod-retry2",
    ]);
  });
});

describe("array params", () => {
  const arrayTask = (step: NonNullable<Task["spec"]>["steps"][number]) =>
    task({
      params: [
        { name: "flags", type: "array", default: ["-v", "--race"] },
        { name: "pkg", default: "./..." },
      ],
      steps: [step],
    });

  it("$(params.NAME[*]) as a whole element of command or args becomes the array's elements; [N] one element", () => {
    const pod = buildPod(
      run({ params: [{ name: "flags", value: ["-count=1", "-run", "Test A"] }] }),
      arrayTask({
        name: "a",
        image: "busybox",
        command: ["go", "test", "$(params.flags[*])"],
        args: ["$(params.pkg)", "first=$(params.flags[0])", "$(params.flags[*])"],
      }),
    );
    expect(pod.spec?.containers[0]?.command).toEqual(["go", "test", "-count=1", "-run", "Test A"]);
    expect(pod.spec?.containers[0]?.args).toEqual(["./...", "first=-count=1", "-count=1", "-run", "Test A"]);
  });

  it("defaults per type: an array param's default is its list", () => {
    const pod = buildPod(run(), arrayTask({ name: "a", image: "busybox", command: ["echo", "$(params.flags[*])"] }));
    expect(pod.spec?.containers[0]?.command).toEqual(["echo", "-v", "--race"]);
  });

  it("kubectl task start -p flags=a,b gives an array param the list, as tkn does; string params stay whole", () => {
    const t = arrayTask({ name: "a", image: "busybox", script: "true" });
    expect(
      typedParams(t, [
        { name: "flags", value: "-v,-count=1" },
        { name: "pkg", value: "a,b" },
      ]),
    ).toEqual([
      { name: "flags", value: ["-v", "-count=1"] },
      { name: "pkg", value: "a,b" },
    ]);
  });

  it("type mismatches and misuse fail with InvalidParams naming the param", () => {
    const step = { name: "a", image: "busybox", command: ["echo", "$(params.flags[*])"] };
    const mismatch = (params: NonNullable<TaskRun["spec"]>["params"]) => () =>
      buildPod(run({ params }), arrayTask(step));
    expect(mismatch([{ name: "flags", value: "-v" }])).toThrow(
      'param flags is an array (a list of strings), but its value is "-v"',
    );
    expect(mismatch([{ name: "pkg", value: ["a"] }])).toThrow('param pkg is a string, but its value is ["a"]');
    const inScript = () =>
      buildPod(run(), arrayTask({ name: "a", image: "busybox", script: "echo $(params.flags[*])" }));
    expect(inScript).toThrow(InvalidParamsError);
    expect(inScript).toThrow("array param flags can be used as $(params.flags[*]) only as a whole element");
    const outOfRange = () =>
      buildPod(run(), arrayTask({ name: "a", image: "busybox", script: "echo $(params.flags[5])" }));
    expect(outOfRange).toThrow("$(params.flags[5]): array param flags has 2 elements");
    const stringIndexed = () =>
      buildPod(run(), arrayTask({ name: "a", image: "busybox", script: "echo $(params.pkg[0])" }));
    expect(stringIndexed).toThrow("$(params.pkg[0]): param pkg is a string, not an array");
  });
});

describe("outcomeFromPod: reports", () => {
  it("collects results (a later step's value wins), ignoring sidecars", () => {
    const o = outcomeFromPod(
      finishedPod(
        [
          { name: "step-a", exitCode: 0, message: "minitask/v1\nresult sha 3\nabc\nresult n 1\n1\n" },
          { name: "step-b", exitCode: 0, message: "minitask/v1\nresult n 1\n2\n" },
        ],
        ["sidecar-db"],
      ),
    );
    expect(o.phase).toBe("Succeeded");
    expect(o.steps.map((s) => s.name)).toEqual(["a", "b"]);
    expect(o.results).toEqual([
      { name: "sha", value: "abc" },
      { name: "n", value: "2" },
    ]);
    expect(o.steps[0]?.message).toBeUndefined();
  });

  it("onError: continue — the step shows its exit code and the run succeeds, naming it", () => {
    const o = outcomeFromPod(
      finishedPod([
        { name: "step-a", exitCode: 0, message: "minitask/v1\nexit 4\n" },
        { name: "step-b", exitCode: 0 },
      ]),
    );
    expect(o.phase).toBe("Succeeded");
    expect(o.steps[0]).toMatchObject({ state: "Failed", exitCode: 4, reason: "ContinuedOnError" });
    expect(o.message).toBe('All 2 steps completed successfully (failed and continued: "a")');
  });

  it("results too large: the outcome names the step, the sizes and the limit", () => {
    const o = outcomeFromPod(
      finishedPod([
        { name: "step-a", exitCode: 0, message: "minitask/v1\ntoolarge 5000 4096\nsize big 4990\nsize n 10\n" },
      ]),
    );
    expect(o.resultsTooLarge).toBe(
      'step "a" wrote 5000 bytes of results (big: 4990, n: 10), over the 4096-byte limit of a step\'s termination message (4 KiB, shared 12 KiB per pod); write large outputs to a workspace instead',
    );
  });
});
