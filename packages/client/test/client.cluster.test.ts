// The client against the real kube-apiserver + etcd of the test environment (TLS, client certificates).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestNamespace, kubectl, testEnv } from "@minitask/testenv/testing";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInitialEventsEndBookmark } from "../src/decoder.ts";
import {
  AlreadyExistsError,
  BadRequestError,
  builtinResources,
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  isStatus,
  KubeClient,
  type KubeObject,
  loadKubeConfig,
  NotFoundError,
  type ObjectWatchEvent,
  type RequestMetric,
  UnauthorizedError,
  type WatchStream,
} from "../src/index.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Service extends KubeObject {
  spec?: { type?: string; ports?: { port: number; protocol?: string }[]; selector?: Record<string, string> };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}
interface CoreEvent extends KubeObject {
  involvedObject: { kind: string; name: string; namespace: string };
  reason: string;
  message: string;
  type: string;
}
const services = { group: "", version: "v1", resource: "services", kind: "Service", namespaced: true } as const;

let client: KubeClient;
const metrics: RequestMetric[] = [];

beforeAll(() => {
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig, observer: { onRequest: (m) => metrics.push(m) } });
});
afterAll(async () => {
  await client?.close();
});

function configMaps(ns: string) {
  return client.resource<ConfigMap>(builtinResources.configMaps, ns);
}

/** Collects events until `stop` says so, or fails after `deadlineMs`. */
async function collect<T>(
  w: WatchStream<T>,
  stop: (events: ObjectWatchEvent<T>[]) => boolean,
  deadlineMs = 30_000,
): Promise<ObjectWatchEvent<T>[]> {
  const events: ObjectWatchEvent<T>[] = [];
  const timer = setTimeout(() => w.close(), deadlineMs);
  try {
    for await (const e of w) {
      events.push(e);
      if (stop(events)) break;
    }
  } finally {
    clearTimeout(timer);
    w.close();
  }
  return events;
}

const nameOf = (e: ObjectWatchEvent<KubeObject>) => (e.type === "BOOKMARK" ? "" : (e.object.metadata?.name ?? ""));

/** Compacts etcd to its current revision: older resource versions are gone for good. */
async function compactEtcd(): Promise<void> {
  const state = JSON.parse(readFileSync(join(testEnv().stateDir, "state.json"), "utf8")) as { etcdEndpoint: string };
  const post = async (path: string, body: unknown) => {
    const res = await request(`${state.etcdEndpoint}${path}`, { method: "POST", body: JSON.stringify(body) });
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(200);
    return JSON.parse(text) as { header: { revision: string } };
  };
  const range = await post("/v3/kv/range", { key: Buffer.from("/").toString("base64"), limit: 1 });
  await post("/v3/kv/compaction", { revision: Number(range.header.revision), physical: true });
}

describe("KubeClient against kube-apiserver", () => {
  it("talks TLS with client certificates: version and discovery", async () => {
    const v = await client.version();
    expect(v.major).toBe("1");
    expect(v.gitVersion).toMatch(/^v1\./);
    const core = await client.apiResources("v1");
    expect(core.resources.find((r) => r.name === "configmaps")).toMatchObject({ namespaced: true, kind: "ConfigMap" });
    const groups = await client.apiGroups();
    expect(groups.groups.map((g) => g.name)).toContain("coordination.k8s.io");
  });

  it("creates 30 ConfigMaps and lists them in pages of 7 following continue", async () => {
    const ns = await createTestNamespace("client-pages");
    const cms = configMaps(ns);
    const names = Array.from({ length: 30 }, (_, i) => `cm-${String(i).padStart(2, "0")}`);
    await Promise.all(
      names.map((name, i) =>
        cms.create({
          metadata: { name, labels: { set: "pages", parity: i % 2 === 0 ? "even" : "odd" } },
          data: { i: String(i) },
        }),
      ),
    );
    const got = await cms.get("cm-07");
    expect(got.data).toEqual({ i: "7" });
    expect(got.metadata?.uid).toMatch(/-/);

    const pages = [];
    // (kube-root-ca.crt lives in every namespace: select ours.)
    for await (const page of cms.listPages({ limit: 7, labelSelector: "set=pages" })) pages.push(page);
    expect(pages.map((p) => p.items.length)).toEqual([7, 7, 7, 7, 2]);
    expect(pages.slice(0, -1).every((p) => (p.metadata.continue ?? "").length > 0)).toBe(true);
    expect(pages.at(-1)?.metadata.continue ?? "").toBe("");
    // All pages come from one snapshot.
    expect(new Set(pages.map((p) => p.metadata.resourceVersion)).size).toBe(1);
    const listed = pages.flatMap((p) => p.items.map((i) => i.metadata?.name));
    expect(listed).toEqual(names);
    expect(pages[0]?.items[0]).toMatchObject({ apiVersion: "v1", kind: "ConfigMap" });

    // Manual paging with limit/continue, and a label selector.
    const first = await cms.list({ limit: 7, labelSelector: { parity: "even" } });
    expect(first.items).toHaveLength(7);
    const second = await cms.list({ limit: 7, continue: first.metadata.continue, labelSelector: { parity: "even" } });
    expect(second.items.map((i) => i.metadata?.name)).toEqual([
      "cm-14",
      "cm-16",
      "cm-18",
      "cm-20",
      "cm-22",
      "cm-24",
      "cm-26",
    ]);
    const all = await cms.listAll({ limit: 4, fieldSelector: "metadata.name=cm-03" });
    expect(all.items.map((i) => i.metadata?.name)).toEqual(["cm-03"]);
    // Served from the watch cache.
    expect((await cms.list({ resourceVersion: "0", labelSelector: "set=pages" })).items).toHaveLength(30);
    expect(metrics.some((m) => m.verb === "list" && m.resource === "configmaps" && m.statusCode === 200)).toBe(true);
  });

  it("rejects an update with a stale resourceVersion as Conflict", async () => {
    const ns = await createTestNamespace("client-conflict");
    const cms = configMaps(ns);
    const v1 = await cms.create({ metadata: { name: "c" }, data: { v: "1" } });
    const v2 = await cms.update({ ...v1, data: { v: "2" } });
    expect(v2.metadata?.resourceVersion).not.toBe(v1.metadata?.resourceVersion);
    const err = await cms.update({ ...v1, data: { v: "stale" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe(409);
    expect((err as ConflictError).reason).toBe("Conflict");
    expect((await cms.get("c")).data).toEqual({ v: "2" });
  });

  it("maps NotFound, AlreadyExists, Invalid and a bad continue token to typed errors", async () => {
    const ns = await createTestNamespace("client-errors");
    const cms = configMaps(ns);
    const missing = await cms.get("nope").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).details).toMatchObject({ name: "nope", kind: "configmaps" });

    await cms.create({ metadata: { name: "twice" } });
    const again = await cms.create({ metadata: { name: "twice" } }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AlreadyExistsError);
    expect((again as AlreadyExistsError).code).toBe(409);

    const invalid = await cms.create({ metadata: { name: "Not_Valid" } }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidError);
    expect((invalid as InvalidError).causes.some((c) => c.field === "metadata.name")).toBe(true);

    const badToken = await cms.list({ limit: 1, continue: "garbage" }).catch((e: unknown) => e);
    expect(badToken).toBeInstanceOf(BadRequestError);
  });

  it("watch sees ADDED, MODIFIED, DELETED in order", async () => {
    const ns = await createTestNamespace("client-watch");
    const cms = configMaps(ns);
    const list = await cms.list();
    const w = await cms.watch({ resourceVersion: list.metadata.resourceVersion });
    const done = collect(w, (evs) => evs.some((e) => e.type === "DELETED"));
    const created = await cms.create({ metadata: { name: "w" }, data: { step: "1" } });
    await cms.update({ ...created, data: { step: "2" } });
    await cms.patch("w", { data: { step: "3" } }, { type: "merge" });
    await cms.delete("w");
    const events = await done;
    expect(events.map((e) => [e.type, nameOf(e)])).toEqual([
      ["ADDED", "w"],
      ["MODIFIED", "w"],
      ["MODIFIED", "w"],
      ["DELETED", "w"],
    ]);
    const data = events.map((e) => (e.type === "BOOKMARK" ? undefined : e.object.data?.step));
    expect(data).toEqual(["1", "2", "3", "3"]);
    const rvs = events.map((e) => BigInt(e.object.metadata?.resourceVersion ?? "0"));
    expect([...rvs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(rvs);
    expect(w.resourceVersion).toBe(events.at(-1)?.object.metadata?.resourceVersion);
  });

  it("delivers a BOOKMARK with allowWatchBookmarks, then the server ends the watch at timeoutSeconds", async () => {
    const ns = await createTestNamespace("client-bookmark");
    const elsewhere = await createTestNamespace("client-bookmark-other");
    const cms = configMaps(ns);
    const list = await cms.list();
    // The watch cache sends a bookmark about once a minute and shortly before a watch's deadline (here
    // about 3 s in) — but only when its resource version has moved past the watcher's. A write in
    // another namespace moves it without producing an event for this watch.
    const w = await cms.watch({
      resourceVersion: list.metadata.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: 5,
    });
    const other = await configMaps(elsewhere).create({ metadata: { name: "tick" } });
    const events: ObjectWatchEvent<ConfigMap>[] = [];
    for await (const e of w) events.push(e);
    // The iteration ended cleanly: the server closed the stream at timeoutSeconds. Nothing happened in
    // this namespace, so all that arrived were bookmarks.
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === "BOOKMARK")).toBe(true);
    const bookmark = events.at(-1);
    expect(bookmark?.type === "BOOKMARK" && bookmark.object.kind).toBe("ConfigMap");
    expect(BigInt(bookmark?.object.metadata?.resourceVersion ?? "0")).toBeGreaterThanOrEqual(
      BigInt(other.metadata?.resourceVersion ?? "1"),
    );
    expect(w.resourceVersion).toBe(bookmark?.object.metadata?.resourceVersion);
  });

  it("watch-list: initial ADDED events then the initial-events-end bookmark", async () => {
    const ns = await createTestNamespace("client-watchlist");
    const cms = configMaps(ns);
    await Promise.all(["x", "y", "z"].map((name) => cms.create({ metadata: { name } })));
    const w = await cms.watch({
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
      allowWatchBookmarks: true,
    });
    const events = await collect(w, (evs) => evs.some((e) => isInitialEventsEndBookmark(e)));
    const end = events.at(-1);
    expect(end && isInitialEventsEndBookmark(end)).toBe(true);
    const added = events.filter((e) => e.type === "ADDED").map(nameOf);
    // kube-root-ca.crt is published into every namespace by the controller manager.
    expect(added.filter((n) => n !== "kube-root-ca.crt").sort()).toEqual(["x", "y", "z"]);
  });

  it("watch from a compacted resourceVersion fails with GoneError (in-stream 410)", async () => {
    const ns = await createTestNamespace("client-gone");
    // Core events are not served from the watch cache: a watch reads etcd, which forgets compacted revisions.
    const events = client.resource<CoreEvent>(builtinResources.events, ns);
    const mk = (name: string) =>
      events.create({
        metadata: { name },
        involvedObject: { kind: "Namespace", name: ns, namespace: ns },
        reason: "Test",
        message: name,
        type: "Normal",
      });
    const first = await mk("e1");
    await mk("e2");
    await mk("e3");
    await compactEtcd();
    const oldRv = first.metadata?.resourceVersion ?? "";
    let err: unknown;
    try {
      const w = await events.watch({ resourceVersion: oldRv });
      for await (const _ of w) {
        // no event may arrive before the error
        expect.unreachable("an event arrived from a compacted resource version");
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GoneError);
    expect((err as GoneError).code).toBe(410);
    expect((err as GoneError).reason).toBe("Expired");
    // A list at that exact resource version is gone too.
    const listErr = await events
      .list({ resourceVersion: oldRv, resourceVersionMatch: "Exact" })
      .catch((e: unknown) => e);
    expect(listErr).toBeInstanceOf(GoneError);
  });

  it("server-side apply: creates, conflicts with another manager, force takes ownership", async () => {
    const ns = await createTestNamespace("client-ssa");
    const cms = configMaps(ns);
    const applied = await cms.apply(
      { metadata: { name: "ssa" }, data: { owner: "alpha", a: "1" } },
      { fieldManager: "alpha" },
    );
    expect(applied.data).toEqual({ owner: "alpha", a: "1" });
    expect(applied.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([["alpha", "Apply"]]);

    const conflict = await cms
      .apply({ metadata: { name: "ssa" }, data: { owner: "beta" } }, { fieldManager: "beta" })
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect((conflict as ConflictError).causes.some((c) => c.field === ".data.owner")).toBe(true);

    const forced = await cms.apply(
      { metadata: { name: "ssa" }, data: { owner: "beta" } },
      { fieldManager: "beta", force: true },
    );
    expect(forced.data).toEqual({ owner: "beta", a: "1" });
    // Re-applying alpha's intent without `owner` releases the field it lost; `a` stays alpha's.
    const alphaAgain = await cms.apply({ metadata: { name: "ssa" }, data: { a: "2" } }, { fieldManager: "alpha" });
    expect(alphaAgain.data).toEqual({ owner: "beta", a: "2" });
  });

  it("patches with merge, JSON and strategic-merge patches", async () => {
    const ns = await createTestNamespace("client-patch");
    const cms = configMaps(ns);
    await cms.create({ metadata: { name: "p", labels: { a: "1" } }, data: { k: "v" } });
    const merged = await cms.patch("p", { metadata: { labels: { b: "2" } }, data: { k: null } }, { type: "merge" });
    expect(merged.metadata?.labels).toEqual({ a: "1", b: "2" });
    expect(merged.data).toBeUndefined();
    const jsonPatched = await cms.patch(
      "p",
      [
        { op: "test", path: "/metadata/labels/a", value: "1" },
        { op: "add", path: "/data", value: { x: "y" } },
      ],
      { type: "json" },
    );
    expect(jsonPatched.data).toEqual({ x: "y" });
    const failedTest = await cms
      .patch("p", [{ op: "test", path: "/metadata/labels/a", value: "nope" }], { type: "json" })
      .catch((e: unknown) => e);
    expect(failedTest).toBeInstanceOf(InvalidError);
    const strategic = await cms.patch("p", { data: { z: "w" } }, { type: "strategic" });
    expect(strategic.data).toEqual({ x: "y", z: "w" });
    const dry = await cms.create({ metadata: { name: "dry" } }, { dryRun: true });
    expect(dry.metadata?.name).toBe("dry");
    await expect(cms.get("dry")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("deletes with preconditions (uid, resourceVersion) and by collection", async () => {
    const ns = await createTestNamespace("client-delete");
    const cms = configMaps(ns);
    const obj = await cms.create({ metadata: { name: "d", labels: { group: "g" } } });
    const wrongUid = await cms
      .delete("d", { preconditions: { uid: "00000000-0000-0000-0000-000000000000" } })
      .catch((e: unknown) => e);
    expect(wrongUid).toBeInstanceOf(ConflictError);
    const wrongRv = await cms.delete("d", { preconditions: { resourceVersion: "1" } }).catch((e: unknown) => e);
    expect(wrongRv).toBeInstanceOf(ConflictError);
    const deleted = await cms.delete("d", {
      preconditions: { uid: obj.metadata?.uid ?? "", resourceVersion: obj.metadata?.resourceVersion ?? "" },
      propagationPolicy: "Background",
      gracePeriodSeconds: 0,
    });
    expect(isStatus(deleted) ? deleted.status : deleted.metadata?.name).toMatch(/Success|d/);
    await expect(cms.get("d")).rejects.toBeInstanceOf(NotFoundError);
    await expect(cms.delete("d")).rejects.toBeInstanceOf(NotFoundError);

    await Promise.all(["k1", "k2", "k3"].map((name) => cms.create({ metadata: { name, labels: { group: "g" } } })));
    await cms.create({ metadata: { name: "keep" } });
    await cms.deleteCollection({ labelSelector: { group: "g" } });
    const left = (await cms.list()).items.map((i) => i.metadata?.name).filter((n) => n !== "kube-root-ca.crt");
    expect(left).toEqual(["keep"]);
  });

  it("updates and applies the status subresource (Service)", async () => {
    const ns = await createTestNamespace("client-status");
    const svcs = client.resource<Service>(services, ns);
    const svc = await svcs.create({
      metadata: { name: "lb" },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }], selector: { app: "x" } },
    });
    const withStatus = await svcs.updateStatus({
      ...svc,
      spec: { ...svc.spec, selector: { app: "ignored-by-status" } },
      status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } },
    });
    expect(withStatus.status?.loadBalancer?.ingress).toEqual([expect.objectContaining({ ip: "192.0.2.10" })]);
    expect(withStatus.spec?.selector).toEqual({ app: "x" });
    const applied = await svcs.applyStatus(
      { metadata: { name: "lb" }, status: { loadBalancer: { ingress: [{ ip: "192.0.2.11" }] } } },
      { fieldManager: "lb-controller", force: true },
    );
    expect(applied.status?.loadBalancer?.ingress?.map((i) => i.ip)).toEqual(["192.0.2.11"]);
    const patched = await svcs.patchStatus(
      "lb",
      { status: { loadBalancer: { ingress: [{ hostname: "lb.example" }] } } },
      { type: "merge" },
    );
    expect(patched.status?.loadBalancer?.ingress?.map((i) => i.hostname)).toEqual(["lb.example"]);
    expect(metrics.some((m) => m.resource === "services/status" && m.verb === "update" && m.statusCode === 200)).toBe(
      true,
    );
  });

  it("carries a ~1 MiB object through create, get and watch", async () => {
    const ns = await createTestNamespace("client-big");
    const cms = configMaps(ns);
    const list = await cms.list();
    const w = await cms.watch({ resourceVersion: list.metadata.resourceVersion });
    const done = collect(w, (evs) => evs.some((e) => nameOf(e) === "big"));
    const big = "b".repeat(1_000_000);
    await cms.create({ metadata: { name: "big" }, data: { big } });
    const events = await done;
    const added = events.find((e) => nameOf(e) === "big");
    expect(added?.type).toBe("ADDED");
    expect(added?.type !== "BOOKMARK" && added?.object.data?.big?.length).toBe(big.length);
    expect((await cms.get("big")).data?.big).toBe(big);
  });

  it("agrees with kubectl about what it wrote", async () => {
    const ns = await createTestNamespace("client-kubectl");
    await configMaps(ns).create({ metadata: { name: "seen" }, data: { by: "minitask" } });
    const out = await kubectl(["get", "configmap", "seen", "-n", ns, "-o", "jsonpath={.data.by}"]);
    expect(out).toBe("minitask");
  });

  it("authenticates in-cluster style: service account token file and CA file, RBAC errors typed", async () => {
    const ns = await createTestNamespace("client-incluster");
    await kubectl(["create", "serviceaccount", "robot", "-n", ns]);
    const token = (await kubectl(["create", "token", "robot", "-n", ns, "--duration", "10m"])).trim();
    const admin = loadKubeConfig({ kubeconfig: testEnv().kubeconfig, env: {} }).kubeConfig.getCurrentCluster();
    const server = new URL(admin?.server ?? "");
    const root = mkdtempSync(join(tmpdir(), "minitask-incluster-"));
    try {
      const sa = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, "token"), token);
      writeFileSync(join(sa, "ca.crt"), Buffer.from(admin?.caData ?? "", "base64"));
      writeFileSync(join(sa, "namespace"), ns);
      const env = { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port };
      const robot = KubeClient.load({ env, inCluster: "only", inClusterRoot: root });
      try {
        expect(robot.defaultNamespace).toBe(ns);
        // Any authenticated user may read /version.
        expect((await robot.version()).major).toBe("1");
        const denied = await robot
          .resource(builtinResources.configMaps, ns)
          .list()
          .catch((e: unknown) => e);
        expect(denied).toBeInstanceOf(ForbiddenError);
        expect((denied as ForbiddenError).details).toMatchObject({ kind: "configmaps" });
        expect((denied as ForbiddenError).message).toContain(`system:serviceaccount:${ns}:robot`);
      } finally {
        await robot.close();
      }
      writeFileSync(join(sa, "token"), "not-a-token");
      const stranger = KubeClient.load({ env, inCluster: "only", inClusterRoot: root });
      try {
        await expect(stranger.version()).rejects.toBeInstanceOf(UnauthorizedError);
      } finally {
        await stranger.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
