// Round trip against the real control plane: the fixture CRD (fixtures/roundtrip.yaml, group
// codegen-test.minitask.dev, unique to this test) is installed, and its generated client, lister and
// informer (golden/roundtrip) do every verb. `--from-cluster` reads the installed CRD back and generates
// the same code as the file does.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNotFound, isStatus, KubeClient, type ObjectWatchEvent, type WatchStream } from "@minitask/client";
import { SharedInformerFactory } from "@minitask/informers";
import { createTestNamespace, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Condition,
  type Gadget,
  GadgetApiVersion,
  type GadgetClient,
  GadgetKind,
  gadgetClient,
  gadgetInformer,
  gadgetLister,
  isGadget,
} from "./golden/roundtrip/codegen-test.minitask.dev/v1/index.ts";
import { goldenDir, listTree, repoRoot, runCli } from "./support/helpers.ts";

const CRD = "gadgets.codegen-test.minitask.dev";

let kube: KubeClient;
let ns: string;
let gadgets: GadgetClient;

/** Polls `check` every 50 ms until it returns a value or the deadline passes. */
async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The next ADDED/MODIFIED/DELETED event of a watch of type `type`. */
async function nextEvent<T>(
  events: AsyncIterator<ObjectWatchEvent<T>>,
  type: "ADDED" | "MODIFIED" | "DELETED",
): Promise<T> {
  for (;;) {
    const r = await events.next();
    if (r.done) throw new Error("the watch ended");
    const e = r.value;
    if (e.type !== "BOOKMARK" && e.type === type) return e.object;
  }
}

beforeAll(async () => {
  await kubectl(["apply", "-f", join(repoRoot, "codegen/test/fixtures/roundtrip.yaml")]);
  await kubectl(["wait", "--for=condition=Established", `crd/${CRD}`, "--timeout=60s"]);
  kube = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
  ns = await createTestNamespace("codegen");
  gadgets = gadgetClient(kube, ns);
});

afterAll(async () => {
  await kube?.close();
});

describe("generated client", () => {
  it("creates, gets, lists, watches, patches, applies, updates status and scale, and deletes", async () => {
    const created = await gadgets.create({
      metadata: { name: "g1", labels: { suite: "codegen" } },
      spec: {
        color: "red",
        size: "10Gi",
        parts: [{ name: "wheel", count: 4 }],
        extra: { anything: { nested: [1, "two"] } },
        template: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { a: "b" } },
        note: null,
      },
    });
    expect(isGadget(created)).toBe(true);
    expect(created.apiVersion).toBe(GadgetApiVersion);
    expect(created.kind).toBe(GadgetKind);
    expect(created.spec.replicas).toBe(1); // the schema's default
    expect(created.spec.extra).toEqual({ anything: { nested: [1, "two"] } }); // unknown fields kept
    expect(created.spec.template).toMatchObject({ kind: "ConfigMap", data: { a: "b" } });
    expect(created.spec.note).toBeNull();

    const got = await gadgets.get("g1");
    expect(got.metadata?.uid).toBe(created.metadata?.uid);

    const list = await gadgets.list({ labelSelector: { suite: "codegen" } });
    expect(list.items.map((g) => g.metadata?.name)).toEqual(["g1"]);
    expect(list.items.every(isGadget)).toBe(true);

    // Watch from the list's resource version: the changes below arrive in order.
    const watch: WatchStream<Gadget> = await gadgets.watch({ resourceVersion: list.metadata.resourceVersion });
    const events = watch[Symbol.asyncIterator]();
    try {
      const merged = await gadgets.patch("g1", { spec: { color: "green" } }, { type: "merge" });
      expect(merged.spec.color).toBe("green");
      const seen = await nextEvent(events, "MODIFIED");
      expect(seen.spec.color).toBe("green");

      const patched = await gadgets.patch("g1", [{ op: "replace", path: "/spec/color", value: "blue" }], {
        type: "json",
      });
      expect(patched.spec.color).toBe("blue");

      const applied = await gadgets.apply(
        { apiVersion: GadgetApiVersion, kind: GadgetKind, metadata: { name: "g1" }, spec: { color: "red" } },
        { fieldManager: "codegen-roundtrip", force: true },
      );
      expect(applied.spec.color).toBe("red");
      expect(applied.spec.parts).toEqual([{ name: "wheel", count: 4 }]);

      const condition: Condition = {
        type: "Ready",
        status: "True",
        lastTransitionTime: "2024-01-02T03:04:05Z",
        reason: "AllGood",
        message: "ready",
      };
      const withStatus = await gadgets.updateStatus({
        ...applied,
        spec: { ...applied.spec, color: "blue" }, // ignored by the status subresource
        status: { phase: "Pending", replicas: 1, selector: "suite=codegen", conditions: [condition] },
      });
      expect(withStatus.status?.conditions).toEqual([condition]);
      expect(withStatus.spec.color).toBe("red");
      const patchedStatus = await gadgets.patchStatus("g1", { status: { phase: "Ready" } }, { type: "merge" });
      expect(patchedStatus.status?.phase).toBe("Ready");
      expect(patchedStatus.status?.replicas).toBe(1);

      const scale = await gadgets.getScale("g1");
      expect(scale.spec?.replicas).toBe(1);
      expect(scale.status).toMatchObject({ replicas: 1, selector: "suite=codegen" });
      const scaled = await gadgets.updateScale("g1", { ...scale, spec: { replicas: 3 } });
      expect(scaled.spec?.replicas).toBe(3);
      await gadgets.patchScale("g1", { spec: { replicas: 2 } }, { type: "merge" });
      expect((await gadgets.get("g1")).spec.replicas).toBe(2);

      const deleted = await gadgets.delete("g1");
      expect(isStatus(deleted) || isGadget(deleted)).toBe(true);
      const gone = await nextEvent(events, "DELETED");
      expect(gone.metadata?.name).toBe("g1");
      await expect(gadgets.get("g1")).rejects.toSatisfy(isNotFound);
    } finally {
      watch.close();
    }
  });

  it("deletes collections by label, and works across namespaces", async () => {
    for (const name of ["c1", "c2", "c3"]) {
      await gadgets.create({
        metadata: { name, labels: { batch: name === "c3" ? "keep" : "drop" } },
        spec: { color: "red" },
      });
    }
    const everywhere = await gadgets.allNamespaces().list({ labelSelector: "batch" });
    expect(everywhere.items.filter((g) => g.metadata?.namespace === ns)).toHaveLength(3);
    await gadgets.deleteCollection({ labelSelector: { batch: "drop" } });
    const left = await eventually("the collection delete", async () => {
      const l = await gadgets.list({ labelSelector: "batch" });
      return l.items.length === 1 ? l : undefined;
    });
    expect(left.items[0]?.metadata?.name).toBe("c3");
  });
});

describe("generated lister and informer", () => {
  it("follow the objects through the shared informer factory", async () => {
    const factory = new SharedInformerFactory(kube);
    try {
      const informer = gadgetInformer(factory, { namespace: ns });
      const lister = gadgetLister(informer);
      factory.start();
      expect(await factory.waitForCacheSync(AbortSignal.timeout(30_000))).toBe(true);

      await gadgets.create({ metadata: { name: "l1" }, spec: { color: "red" } });
      const cached = await eventually("l1 in the cache", () => lister.namespace(ns).get("l1"));
      expect(isGadget(cached)).toBe(true);
      expect(cached.spec.color).toBe("red");
      expect(lister.get(`${ns}/l1`)).toBe(cached); // by store key, the same cached object

      await gadgets.patch("l1", { spec: { color: "blue" } }, { type: "merge" });
      await eventually("the patch in the cache", () =>
        lister.namespace(ns).get("l1")?.spec.color === "blue" ? true : undefined,
      );
      expect(
        lister
          .namespace(ns)
          .list()
          .map((g) => g.metadata?.name),
      ).toContain("l1");

      await gadgets.delete("l1");
      await eventually("l1 gone from the cache", () =>
        lister.namespace(ns).get("l1") === undefined ? true : undefined,
      );
    } finally {
      await factory.shutdown();
    }
  });
});

describe("--from-cluster", () => {
  it("reads the CRD from the apiserver and generates what the file generates", async () => {
    const out = await mkdtemp(join(tmpdir(), "codegen-from-cluster-"));
    try {
      const r = await runCli(["--from-cluster", CRD, "--kubeconfig", testEnv().kubeconfig, "--out", out]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const golden = join(goldenDir, "roundtrip");
      expect(listTree(out)).toEqual(listTree(golden));
      for (const f of listTree(golden)) {
        const [a, b] = await Promise.all([readFile(join(out, f), "utf8"), readFile(join(golden, f), "utf8")]);
        const body = (t: string) => t.split("\n").slice(2).join("\n");
        expect(body(a), f).toBe(body(b));
        if (f.endsWith("gadget.ts")) expect(a.split("\n")[0]).toContain(`from cluster:${CRD}.`);
      }
      const missing = await runCli([
        "--from-cluster",
        "nopes.codegen-test.minitask.dev",
        "--kubeconfig",
        testEnv().kubeconfig,
        "--out",
        out,
      ]);
      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(
        /^error: cluster:nopes\.codegen-test\.minitask\.dev: cannot read the CRD: .*not found.*\n$/,
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
