// Scenario 8: bad input. TaskRuns and Tasks that cannot work — a missing Task, unknown or missing params,
// malformed timeouts, an image that never pulls, scripts at and beyond the size limits, and objects with
// extra fields or wrong types. The TaskRun CRD is replaced by a TEST COPY whose schema is relaxed (no
// timeout pattern, no CEL rules, `params` and `timeout` of any type, unknown fields kept), so that values
// the real schema rejects reach the controller. Each case must end in a clear Failed reason (or Succeeded,
// where the bad part is harmless), or be rejected by the apiserver with a clear message. The controller
// must never crash, and must not hot-loop: its reconcile count stays flat over a quiet window once every
// run has settled (30 s here rather than a minute, to keep the suite short).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiError } from "@minitask/client";
import type { TaskRun } from "@minitask/taskrunner";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { type Cluster, CRDS_DIR, TERMINAL } from "./support/cluster.ts";
import { metricValue } from "./support/controllers.ts";
import { closeScenario, openScenario, type Scenario, teardownScenario } from "./support/scenario.ts";

let s: Scenario | undefined;

const crdDir = mkdtempSync(join(tmpdir(), "minitask-reliability-crd-"));

afterAll(async () => {
  await teardownScenario(s);
  rmSync(crdDir, { recursive: true, force: true });
});

const QUIET_WINDOW_MS = 30_000;
const SCRIPT_LIMIT = 131_072; // crds/task.yaml: spec.steps[].script maxLength

type Json = Record<string, unknown>;

/** crds/taskrun.yaml with the spec schema relaxed: the test copy. */
function relaxedTaskRunCrd(dir: string): string {
  const crd = parse(readFileSync(join(CRDS_DIR, "taskrun.yaml"), "utf8")) as Json;
  const version = ((crd.spec as Json).versions as Json[])[0] as Json;
  const root = (version.schema as Json).openAPIV3Schema as Json;
  const spec = (root.properties as Json).spec as Json;
  delete spec["x-kubernetes-validations"];
  spec["x-kubernetes-preserve-unknown-fields"] = true;
  const props = spec.properties as Json;
  props.params = { "x-kubernetes-preserve-unknown-fields": true };
  props.timeout = { "x-kubernetes-int-or-string": true };
  const file = join(dir, "taskrun-relaxed.yaml");
  writeFileSync(file, stringify(crd));
  return file;
}

/** What a case must end in. */
type Expect =
  | { readonly phase: "Succeeded" }
  | { readonly phase: "Failed"; readonly reason: string; readonly message: RegExp }
  | { readonly rejected: RegExp };

interface Case {
  readonly name: string;
  readonly what: string;
  /** The TaskRun (name and namespace are filled in); undefined for Task-only cases. */
  readonly run?: Json;
  readonly annotations?: Record<string, string>;
  readonly expect: Expect;
  readonly pods: number;
}

const big = (n: number) => `echo ${"x".repeat(Math.max(0, n - 5))}`;

describe("reliability: bad input", () => {
  it("ends every bad TaskRun in a clear reason or rejection, never crashes, never hot-loops", async () => {
    let cluster: Cluster;
    s = await openScenario("bad-input", {
      crdFiles: [join(CRDS_DIR, "task.yaml"), relaxedTaskRunCrd(crdDir)],
    });
    cluster = s.cluster;
    const { fleet } = s;
    const ns = await cluster.namespace("bad");
    const tasks = cluster.tasks(ns);
    const mkTask = (name: string, spec: Json) =>
      tasks.create({ apiVersion: "minitask.myorg.dev/v1", kind: "Task", metadata: { name }, spec } as never);
    await mkTask("p", {
      params: [{ name: "x" }, { name: "y", default: "dflt" }],
      steps: [{ name: "s1", image: "busybox", script: "echo $(params.x) $(params.y)" }],
    });
    await mkTask("plain", { steps: [{ name: "s1", image: "busybox", script: "echo hi" }] });
    await mkTask("near-limit", { steps: [{ name: "s1", image: "busybox", script: big(SCRIPT_LIMIT - 1024) }] });
    // Small Tasks whose pods are not small: every step uses a 64 KiB param twice (2 MiB and 4 MiB pods,
    // over etcd's 1.5 MiB request limit and over the apiserver's 3 MiB body limit).
    for (const steps of [16, 32]) {
      await mkTask(`amp${steps}`, {
        params: [{ name: "x" }],
        steps: Array.from({ length: steps }, (_, i) => ({
          name: `s${i}`,
          image: "busybox",
          script: "echo $(params.x) $(params.x)",
        })),
      });
    }
    // A Task close to etcd's 1.5 MiB request limit: ten steps of almost 128 KiB.
    await mkTask("near-object-limit", {
      steps: Array.from({ length: 10 }, (_, i) => ({
        name: `s${i}`,
        image: "busybox",
        script: big(SCRIPT_LIMIT - 1024),
      })),
    });

    // Objects the apiserver must refuse, with a message that says why.
    const rejections: { what: string; create: () => Promise<unknown>; expect: RegExp }[] = [
      {
        what: "Task with a script over the 128 KiB limit",
        create: () => mkTask("too-big", { steps: [{ name: "s1", image: "busybox", script: big(SCRIPT_LIMIT + 1) }] }),
        expect: /script.*(Too long|may not be (longer|more) than)/i,
      },
      {
        what: "Task over the object size limit (13 × 127 KiB)",
        create: () =>
          mkTask("way-too-big", {
            steps: Array.from({ length: 13 }, (_, i) => ({
              name: `s${i}`,
              image: "busybox",
              script: big(SCRIPT_LIMIT - 1024),
            })),
          }),
        expect: /too large|request entity|exceeds|limit/i,
      },
      {
        what: "Task with two steps of the same name",
        create: () =>
          mkTask("dup", {
            steps: [
              { name: "a", image: "busybox", script: "echo" },
              { name: "a", image: "busybox", script: "echo" },
            ],
          }),
        expect: /Duplicate value/i,
      },
      {
        what: "Task with a step that has no image",
        create: () => mkTask("noimage", { steps: [{ name: "a", script: "echo" }] }),
        expect: /every step needs an image, its own or spec.stepTemplate.image/,
      },
      {
        what: "TaskRun without taskRef",
        create: () =>
          cluster.taskRuns(ns).create({
            apiVersion: "minitask.myorg.dev/v1",
            kind: "TaskRun",
            metadata: { name: "noref" },
            spec: {},
          } as never),
        expect: /taskRef.*Required value/i,
      },
    ];

    const cases: Case[] = [
      {
        name: "missing-task",
        what: "missing Task (timeout 3s)",
        run: { taskRef: "nope", timeout: "3s" },
        expect: { phase: "Failed", reason: "TaskNotFound", message: /task "nope" not found/ },
        pods: 0,
      },
      {
        name: "late-task",
        what: "Task created only after the quiet window",
        run: { taskRef: "later" },
        expect: { phase: "Succeeded" },
        pods: 1,
      },
      {
        name: "unknown-param",
        what: "unknown param",
        run: {
          taskRef: "p",
          params: [
            { name: "x", value: "1" },
            { name: "zzz", value: "2" },
          ],
        },
        expect: { phase: "Failed", reason: "InvalidParams", message: /unknown param zzz/ },
        pods: 0,
      },
      {
        name: "missing-param",
        what: "missing required param",
        run: { taskRef: "p" },
        expect: { phase: "Failed", reason: "InvalidParams", message: /missing required param x/ },
        pods: 0,
      },
      {
        name: "bad-timeout",
        what: "malformed timeout (relaxed schema)",
        run: { taskRef: "plain", timeout: "ten minutes" },
        expect: { phase: "Failed", reason: "InvalidTimeout", message: /invalid duration "ten minutes"/ },
        pods: 0,
      },
      {
        name: "negative-timeout",
        what: "negative timeout (relaxed schema)",
        run: { taskRef: "plain", timeout: "-5s" },
        expect: { phase: "Failed", reason: "InvalidTimeout", message: /invalid duration/ },
        pods: 0,
      },
      {
        name: "numeric-timeout",
        what: "timeout of the wrong type: 30 (relaxed schema)",
        run: { taskRef: "plain", timeout: 30 },
        expect: { phase: "Failed", reason: "InvalidTimeout", message: /invalid duration 30 / },
        pods: 0,
      },
      {
        name: "params-object",
        what: "params of the wrong type: an object (relaxed schema)",
        run: { taskRef: "p", params: { x: "1" } },
        expect: { phase: "Failed", reason: "InvalidParams", message: /spec\.params must be a list/ },
        pods: 0,
      },
      {
        name: "param-number",
        what: "param value of the wrong type: 5 (relaxed schema)",
        run: { taskRef: "p", params: [{ name: "x", value: 5 }] },
        expect: {
          phase: "Failed",
          reason: "InvalidParams",
          message: /is not a \{name, value\} pair with a string or a list of strings/,
        },
        pods: 0,
      },
      {
        name: "extra-fields",
        what: "unknown extra spec fields (relaxed schema)",
        run: { taskRef: "plain", bogus: { nested: [1, 2, 3] }, maxRetries: "many" },
        expect: { phase: "Succeeded" },
        pods: 1,
      },
      {
        name: "image-pull",
        what: "image that never pulls",
        run: { taskRef: "plain" },
        annotations: { "testenv.minitask.dev/image-pull-fail": "step-s1" },
        expect: { phase: "Failed", reason: "ImagePullFailed", message: /step "s1" could not pull its image/ },
        pods: 1,
      },
      {
        name: "pod-2mib",
        what: "pod over etcd's request limit (2 MiB after param substitution)",
        run: { taskRef: "amp16", params: [{ name: "x", value: "y".repeat(65_536) }] },
        expect: { phase: "Failed", reason: "PodCreationFailed", message: /too large|larger than max/i },
        pods: 0,
      },
      {
        name: "pod-4mib",
        what: "pod over the apiserver's body limit (4 MiB after param substitution)",
        run: { taskRef: "amp32", params: [{ name: "x", value: "y".repeat(65_536) }] },
        expect: { phase: "Failed", reason: "PodCreationFailed", message: /too large/i },
        pods: 0,
      },
      {
        name: "near-limit",
        what: "script just under the 128 KiB limit",
        run: { taskRef: "near-limit" },
        expect: { phase: "Succeeded" },
        pods: 1,
      },
      {
        name: "near-object-limit",
        what: "Task of ≈1.25 MiB (10 steps just under the limit)",
        run: { taskRef: "near-object-limit" },
        expect: { phase: "Succeeded" },
        pods: 1,
      },
    ];

    const c = await fleet.start();
    await fleet.ready(c);

    const rejected: string[] = [];
    for (const r of rejections) {
      const err = await r.create().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isApiError(err), `${r.what}: the apiserver accepted it`).toBe(true);
      const message = err instanceof Error ? err.message : String(err);
      expect(message, r.what).toMatch(r.expect);
      rejected.push(`${r.what}: ${message.slice(0, 160)}`);
    }

    for (const k of cases) {
      await cluster.taskRuns(ns).create({
        apiVersion: "minitask.myorg.dev/v1",
        kind: "TaskRun",
        metadata: { name: k.name, annotations: { "testenv.minitask.dev/delay": "100ms", ...k.annotations } },
        spec: k.run,
      } as never);
    }

    // Everything but the run waiting for its Task settles; then the reconcile count must stay flat.
    const settled = (t: TaskRun) =>
      TERMINAL.has(t.status?.phase ?? "") || (t.metadata?.name === "late-task" && t.status?.reason === "TaskNotFound");
    const until = Date.now() + 120_000;
    for (;;) {
      const items = (await cluster.taskRuns(ns).list()).items;
      if (items.length === cases.length && items.every(settled)) break;
      if (Date.now() > until) {
        const open = items
          .filter((t) => !settled(t))
          .map((t) => `${t.metadata?.name}: ${t.status?.phase}/${t.status?.reason} ${t.status?.message ?? ""}`);
        throw new Error(`bad-input runs did not settle:\n  ${open.join("\n  ")}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const reconciles = async () =>
      metricValue(await fleet.metrics(c), "controller_runtime_reconcile_total", { controller: "taskrun" }) ?? 0;
    const before = await reconciles();
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    const during = (await reconciles()) - before;

    // Now the missing Task appears: the waiting run starts at once.
    await mkTask("later", { steps: [{ name: "s1", image: "busybox", script: "echo late" }] });
    const runs = await cluster.waitAllTerminal(ns, cases.length, 60_000);

    const outcome = new Map(runs.map((t) => [t.metadata?.name ?? "", t]));
    const mismatches: string[] = [];
    for (const k of cases) {
      const t = outcome.get(k.name);
      const got = `${t?.status?.phase}/${t?.status?.reason}: ${t?.status?.message ?? ""}`;
      const e = k.expect;
      const ok =
        "rejected" in e
          ? false
          : e.phase === "Succeeded"
            ? t?.status?.phase === "Succeeded"
            : t?.status?.phase === "Failed" && t.status.reason === e.reason && e.message.test(t.status.message ?? "");
      if (!ok) mismatches.push(`${k.name} (${k.what}) ended ${got}`);
    }
    const podsByRun = new Map(cases.map((k) => [k.name, k.pods]));
    const row = await closeScenario(s, {
      label: "8 bad input",
      namespaces: [ns],
      runs,
      podsExpected: (t) => podsByRun.get(t.metadata?.name ?? "") ?? 1,
      endedAsExpected: (t) => !mismatches.some((m) => m.startsWith(`${t.metadata?.name} `)),
      recovery: `${rejections.length} rejected by the apiserver; ${during} reconciles in a ${QUIET_WINDOW_MS / 1000} s quiet window`,
      problems: mismatches,
    });
    process.stderr.write(
      `bad input outcomes:\n  ${cases.map((k) => `${k.name}: ${outcome.get(k.name)?.status?.phase}/${outcome.get(k.name)?.status?.reason}: ${outcome.get(k.name)?.status?.message ?? ""}`.slice(0, 200)).join("\n  ")}\n` +
        `rejections:\n  ${rejected.join("\n  ")}\n`,
    );
    expect(row.problems).toEqual([]);
    // No hot loop: nothing changes during the window, so nothing should be reconciled (a little slack).
    expect(during).toBeLessThanOrEqual(cases.length);
  });
});
