// The CRDs' own validation (schema + CEL rules in crds/), answered by the real apiserver with server-side dry
// runs: what a user who writes a bad Task or TaskRun reads, and that every Task and TaskRun of the examples stays
// valid. No controller runs here: the apiserver alone decides.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createTestNamespace, kubectl } from "@minitask/testenv/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ROOT } from "./kubectl-task.support.ts";
import { installCrds } from "./support/cluster.ts";

let ns: string;

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("crd-validation");
});

/** `kubectl create` (or `replace`) `--dry-run=server` of `obj`: the apiserver's answer, never a throw. */
async function dryRun(obj: object, verb: "create" | "replace" = "create"): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await kubectl([verb, "--dry-run=server", "-n", ns, "-f", "-"], JSON.stringify(obj)) };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, out: (e.stderr || e.message).trim() };
  }
}

const task = (spec: object) => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "t" },
  spec,
});
const taskRun = (spec: object) => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "TaskRun",
  metadata: { name: "r" },
  spec: { taskRef: "t", ...spec },
});

describe("Task validation", () => {
  it("every Task and TaskRun in examples/ is valid", async () => {
    for (const folder of ["examples/tasks", "examples/taskruns"]) {
      for (const file of readdirSync(join(ROOT, folder))) {
        for (const doc of parseAllDocuments(readFileSync(join(ROOT, folder, file), "utf8"))) {
          const r = await dryRun(doc.toJS() as object);
          expect(r, `${folder}/${file}`).toMatchObject({ ok: true });
        }
      }
    }
  });

  it("a step needs an image, its own or the stepTemplate's", async () => {
    const noImage = await dryRun(task({ steps: [{ name: "a", script: "true" }] }));
    expect(noImage.ok).toBe(false);
    expect(noImage.out).toContain("every step needs an image, its own or spec.stepTemplate.image");
    const templated = await dryRun(
      task({ stepTemplate: { image: "busybox:1.36" }, steps: [{ name: "a", script: "true" }] }),
    );
    expect(templated).toMatchObject({ ok: true });
  });

  it("onError: continue needs a script; a step has a script or a command, not both", async () => {
    const cont = await dryRun(task({ steps: [{ name: "a", image: "b", command: ["false"], onError: "continue" }] }));
    expect(cont.out).toContain("onError: continue needs a script");
    const both = await dryRun(task({ steps: [{ name: "a", image: "b", script: "true", command: ["true"] }] }));
    expect(both.out).toContain("a step has either a script or a command, not both");
  });

  it("names: steps unique, workspace and result names as Tekton allows", async () => {
    const dup = await dryRun(
      task({
        steps: [
          { name: "a", image: "b", script: "true" },
          { name: "a", image: "b", script: "true" },
        ],
      }),
    );
    expect(dup.out).toMatch(/Duplicate value.*"a"/);
    const badResult = await dryRun(
      task({ results: [{ name: "no spaces" }], steps: [{ name: "a", image: "b", script: "true" }] }),
    );
    expect(badResult.out).toContain("spec.results[0].name");
    const badWorkspace = await dryRun(
      task({ workspaces: [{ name: "Source" }], steps: [{ name: "a", image: "b", script: "true" }] }),
    );
    expect(badWorkspace.out).toContain("spec.workspaces[0].name");
  });
  it("an array param's default is a list (its type is checked by the controller: CEL cannot see into it)", async () => {
    const steps = [{ name: "a", image: "b", command: ["echo", "$(params.p[*])"] }];
    expect(await dryRun(task({ params: [{ name: "p", type: "array", default: ["x"] }], steps }))).toMatchObject({
      ok: true,
    });
    expect((await dryRun(task({ params: [{ name: "p", type: "list" }], steps }))).out).toContain(
      'spec.params[0].type: Unsupported value: "list"',
    );
  });
});

describe("TaskRun validation", () => {
  it("a param's value may be a string or a list of strings", async () => {
    expect(await dryRun(taskRun({ params: [{ name: "p", value: ["a", "b"] }] }))).toMatchObject({ ok: true });
    expect(await dryRun(taskRun({ params: [{ name: "p", value: "a" }] }))).toMatchObject({ ok: true });
  });

  it("a workspace binding needs exactly one source", async () => {
    for (const binding of [{ name: "src" }, { name: "src", emptyDir: {}, configMap: { name: "c" } }]) {
      const r = await dryRun(taskRun({ workspaces: [binding] }));
      expect(r.ok).toBe(false);
      expect(r.out).toContain(
        "a workspace binding needs exactly one of emptyDir, persistentVolumeClaim, configMap, secret",
      );
    }
  });

  it("retries: 0 to 100", async () => {
    expect((await dryRun(taskRun({ retries: -1 }))).out).toContain("spec.retries");
    expect((await dryRun(taskRun({ retries: 101 }))).out).toContain("spec.retries");
    expect(await dryRun(taskRun({ retries: 3 }))).toMatchObject({ ok: true });
  });

  it("params, retries, podTemplate and workspaces cannot change once created; cancelled can be set", async () => {
    const name = "immutable";
    const base = {
      ...taskRun({ retries: 1, params: [{ name: "p", value: ["a"] }], workspaces: [{ name: "src", emptyDir: {} }] }),
      metadata: { name },
    };
    await kubectl(["create", "-n", ns, "-f", "-"], JSON.stringify(base));
    for (const change of [
      { retries: 2 },
      { params: [{ name: "p", value: ["b"] }] },
      { params: [{ name: "p", value: "a" }] },
      { podTemplate: { nodeSelector: { disk: "ssd" } } },
      { workspaces: [{ name: "src", configMap: { name: "c" } }] },
    ]) {
      const r = await dryRun({ ...base, spec: { ...base.spec, ...change } }, "replace");
      expect(r.ok, JSON.stringify(change)).toBe(false);
      expect(r.out).toContain("spec is immutable once created (only spec.cancelled may be set)");
    }
    expect(await dryRun({ ...base, spec: { ...base.spec, cancelled: true } }, "replace")).toMatchObject({ ok: true });
  });
});
