// Request shapes of the REST verbs (paths, query, bodies, content types), against a recording server.
import { afterEach, describe, expect, it } from "vitest";
import { builtinResources, isStatus, KubeClient, type KubeObject, type RequestMetric } from "../src/index.ts";
import { sendJson, startServer, type TestServer } from "./helpers.ts";

interface Widget extends KubeObject {
  spec?: { size?: number };
  status?: { phase?: string };
}
const widgets = { group: "example.com", version: "v1alpha1", resource: "widgets", kind: "Widget" } as const;
const clusterWidgets = { ...widgets, resource: "clusterwidgets", kind: "ClusterWidget", namespaced: false } as const;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(
  respond: (method: string, url: URL, body: string) => unknown = (_m, _u, body) =>
    body ? JSON.parse(body) : { kind: "Status", apiVersion: "v1", status: "Success" },
): Promise<{
  s: TestServer;
  c: KubeClient;
  metrics: RequestMetric[];
}> {
  const s = await startServer((req, res, r) => {
    sendJson(res, 200, respond(req.method ?? "", new URL(r.url, "http://x"), r.body));
  });
  const metrics: RequestMetric[] = [];
  const c = KubeClient.forServer(`${s.url}/prefix/`, { observer: { onRequest: (m) => metrics.push(m) } });
  cleanups.push(async () => {
    await c.close();
    await s.close();
  });
  return { s, c, metrics };
}

const last = (s: TestServer) => {
  const r = s.requests.at(-1)!;
  const url = new URL(r.url, "http://x");
  return {
    method: r.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    body: r.body,
    headers: r.headers,
  };
};

describe("paths", () => {
  it("builds core, group, namespaced, cluster-scoped and subresource paths under the server's prefix", async () => {
    const { s, c } = await setup();
    await c.resource(builtinResources.configMaps, "ns 1").get("a/b");
    expect(last(s).path).toBe("/prefix/api/v1/namespaces/ns%201/configmaps/a%2Fb");
    await c.resource<Widget>(widgets, "ns").get("w");
    expect(last(s).path).toBe("/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets/w");
    await c.resource(clusterWidgets, "ignored").get("w");
    expect(last(s).path).toBe("/prefix/apis/example.com/v1alpha1/clusterwidgets/w");
    await c.resource(widgets).list();
    expect(last(s).path).toBe("/prefix/apis/example.com/v1alpha1/widgets");
    expect(c.resource(widgets, "a").inNamespace("b").path("x", "status")).toBe(
      "/apis/example.com/v1alpha1/namespaces/b/widgets/x/status",
    );
    expect(c.resource(widgets, "a").allNamespaces().path()).toBe("/apis/example.com/v1alpha1/widgets");
  });

  it("requires a namespace for object verbs on namespaced resources", async () => {
    const { s, c } = await setup();
    await expect(c.resource(widgets).get("w")).rejects.toThrow(TypeError);
    await expect(c.resource(widgets).create({ metadata: { name: "w" } })).rejects.toThrow("namespaced");
    // …unless the object says where it lives.
    await c.resource(widgets).update({ metadata: { name: "w", namespace: "from-object" } });
    expect(last(s).path).toBe("/prefix/apis/example.com/v1alpha1/namespaces/from-object/widgets/w");
  });
});

describe("verbs", () => {
  it("get passes resourceVersion", async () => {
    const { s, c } = await setup();
    await c.resource(widgets, "ns").get("w", { resourceVersion: "0" });
    expect(last(s).query).toEqual({ resourceVersion: "0" });
  });

  it("list passes paging and selectors and fills kind/apiVersion into items", async () => {
    const { s, c, metrics } = await setup(() => ({
      kind: "WidgetList",
      apiVersion: "example.com/v1alpha1",
      metadata: { resourceVersion: "42", continue: "tok" },
      items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }],
    }));
    const list = await c.resource<Widget>(widgets, "ns").list({
      limit: 2,
      continue: "prev",
      labelSelector: { app: "x", tier: "db" },
      fieldSelector: "metadata.name!=c",
      resourceVersion: "40",
      resourceVersionMatch: "NotOlderThan",
    });
    expect(last(s).query).toEqual({
      limit: "2",
      continue: "prev",
      labelSelector: "app=x,tier=db",
      fieldSelector: "metadata.name!=c",
      resourceVersion: "40",
      resourceVersionMatch: "NotOlderThan",
    });
    expect(list.metadata).toEqual({ resourceVersion: "42", continue: "tok" });
    expect(list.items.map((i) => [i.apiVersion, i.kind, i.metadata?.name])).toEqual([
      ["example.com/v1alpha1", "Widget", "a"],
      ["example.com/v1alpha1", "Widget", "b"],
    ]);
    expect(metrics.at(-1)).toMatchObject({ verb: "list", resource: "widgets", group: "example.com" });
  });

  it("listPages follows continue tokens without resending resourceVersion; listAll concatenates", async () => {
    const { s, c } = await setup((_m, url) => {
      const page = Number(url.searchParams.get("continue") ?? "0");
      return {
        kind: "WidgetList",
        apiVersion: "example.com/v1alpha1",
        metadata: { resourceVersion: String(100 + page), ...(page < 2 ? { continue: String(page + 1) } : {}) },
        items: [{ metadata: { name: `w${page}` } }],
      };
    });
    const all = await c.resource<Widget>(widgets, "ns").listAll({ limit: 1, resourceVersion: "0" });
    expect(all.items.map((i) => i.metadata?.name)).toEqual(["w0", "w1", "w2"]);
    expect(all.metadata.resourceVersion).toBe("100");
    expect(s.requests.map((r) => new URL(r.url, "http://x").search)).toEqual([
      "?limit=1&resourceVersion=0",
      "?limit=1&continue=1",
      "?limit=1&continue=2",
    ]);
  });

  it("create fills apiVersion/kind and passes write options", async () => {
    const { s, c } = await setup();
    const created = await c
      .resource<Widget>(widgets, "ns")
      .create(
        { metadata: { name: "w" }, spec: { size: 1 } },
        { fieldManager: "me", dryRun: true, fieldValidation: "Strict" },
      );
    expect(last(s).method).toBe("POST");
    expect(last(s).path).toBe("/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets");
    expect(last(s).query).toEqual({ fieldManager: "me", dryRun: "All", fieldValidation: "Strict" });
    expect(last(s).headers["content-type"]).toBe("application/json");
    expect(JSON.parse(last(s).body)).toEqual({
      apiVersion: "example.com/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: 1 },
    });
    expect(created.spec?.size).toBe(1);
  });

  it("update and updateStatus PUT to the object and its status subresource", async () => {
    const { s, c, metrics } = await setup();
    const w: Widget = {
      apiVersion: "example.com/v1alpha1",
      kind: "Widget",
      metadata: { name: "w", resourceVersion: "7" },
    };
    await c.resource<Widget>(widgets, "ns").update(w);
    expect([last(s).method, last(s).path]).toEqual([
      "PUT",
      "/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets/w",
    ]);
    await c.resource<Widget>(widgets, "ns").updateStatus({ ...w, status: { phase: "Done" } });
    expect([last(s).method, last(s).path]).toEqual([
      "PUT",
      "/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets/w/status",
    ]);
    expect(JSON.parse(last(s).body).status).toEqual({ phase: "Done" });
    expect(metrics.at(-1)).toMatchObject({ verb: "update", resource: "widgets/status" });
  });

  it.each([
    ["merge", { spec: { size: 2 } }, "application/merge-patch+json"],
    ["strategic", { spec: { size: 2 } }, "application/strategic-merge-patch+json"],
    ["json", [{ op: "replace", path: "/spec/size", value: 2 }], "application/json-patch+json"],
  ] as const)("patch type %s sends %s", async (type, body, contentType) => {
    const { s, c } = await setup(() => ({ metadata: { name: "w" } }));
    await c.resource<Widget>(widgets, "ns").patch("w", body, { type });
    expect(last(s).method).toBe("PATCH");
    expect(last(s).headers["content-type"]).toBe(contentType);
    expect(JSON.parse(last(s).body)).toEqual(body);
  });

  it("apply sends an apply patch with fieldManager and force, filling apiVersion/kind", async () => {
    const { s, c } = await setup(() => ({ metadata: { name: "w" } }));
    await c
      .resource<Widget>(widgets, "ns")
      .apply({ metadata: { name: "w" }, spec: { size: 3 } }, { fieldManager: "ctl", force: true });
    expect(last(s).headers["content-type"]).toBe("application/apply-patch+yaml");
    expect(last(s).query).toEqual({ fieldManager: "ctl", force: "true" });
    expect(JSON.parse(last(s).body)).toEqual({
      apiVersion: "example.com/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: 3 },
    });
    await c
      .resource<Widget>(widgets, "ns")
      .applyStatus({ metadata: { name: "w" }, status: { phase: "X" } }, { fieldManager: "ctl" });
    expect(last(s).path).toBe("/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets/w/status");
  });

  it("rejects mismatched patch bodies and apply without a field manager before sending", async () => {
    const { s, c } = await setup();
    const r = c.resource<Widget>(widgets, "ns");
    await expect(r.patch("w", { spec: {} }, { type: "json" })).rejects.toThrow(TypeError);
    await expect(r.patch("w", [{ op: "remove", path: "/spec" }], { type: "merge" })).rejects.toThrow(TypeError);
    await expect(r.patch("w", {}, { type: "apply" })).rejects.toThrow("fieldManager");
    expect(s.requests).toHaveLength(0);
  });

  it("delete sends DeleteOptions with preconditions, propagation and grace period", async () => {
    const { s, c } = await setup(() => ({ kind: "Status", apiVersion: "v1", status: "Success" }));
    const result = await c.resource<Widget>(widgets, "ns").delete("w", {
      propagationPolicy: "Foreground",
      gracePeriodSeconds: 0,
      preconditions: { uid: "u-1", resourceVersion: "9" },
    });
    expect(isStatus(result)).toBe(true);
    expect([last(s).method, last(s).path]).toEqual([
      "DELETE",
      "/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets/w",
    ]);
    expect(JSON.parse(last(s).body)).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      propagationPolicy: "Foreground",
      gracePeriodSeconds: 0,
      preconditions: { uid: "u-1", resourceVersion: "9" },
    });
  });

  it("deleteCollection targets the collection with selectors", async () => {
    const { s, c, metrics } = await setup();
    await c
      .resource<Widget>(widgets, "ns")
      .deleteCollection({ labelSelector: "app=x", propagationPolicy: "Background" });
    expect([last(s).method, last(s).path]).toEqual([
      "DELETE",
      "/prefix/apis/example.com/v1alpha1/namespaces/ns/widgets",
    ]);
    expect(last(s).query).toEqual({ labelSelector: "app=x" });
    expect(JSON.parse(last(s).body)).toMatchObject({ propagationPolicy: "Background" });
    expect(metrics.at(-1)?.verb).toBe("deletecollection");
  });
});

describe("raw requests", () => {
  it("version() and discovery", async () => {
    const { s, c } = await setup((_m, url) =>
      url.pathname.endsWith("/version")
        ? { major: "1", minor: "35", gitVersion: "v1.35.0" }
        : { groupVersion: "v1", resources: [] },
    );
    expect((await c.version()).gitVersion).toBe("v1.35.0");
    await c.apiResources("apps/v1");
    expect(last(s).path).toBe("/prefix/apis/apps/v1");
    await c.apiResources("v1");
    expect(last(s).path).toBe("/prefix/api/v1");
  });

  it("streams pod logs", async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("line 1\n");
      res.end("line 2\n");
    });
    const c = KubeClient.forServer(s.url);
    cleanups.push(async () => {
      await c.close();
      await s.close();
    });
    const logs = await c.podLogs("ns", "p", { container: "step-1", follow: true, tailLines: 10 });
    let text = "";
    for await (const chunk of logs.body) text += Buffer.from(chunk).toString("utf8");
    expect(text).toBe("line 1\nline 2\n");
    const url = new URL(s.requests[0]!.url, "http://x");
    expect(url.pathname).toBe("/api/v1/namespaces/ns/pods/p/log");
    expect(Object.fromEntries(url.searchParams)).toEqual({ container: "step-1", follow: "true", tailLines: "10" });
  });
});
