// The builder against the real apiserver: a controller for ConfigMaps that owns Secrets and watches
// ServiceAccounts, run by a Manager. Every event must reach the primary key the builder maps it to —
// owned objects through their controller owner reference (never a label), watched ones through the
// map function — and predicates must drop what they filter.
import { builtinResources, type KubeObject } from "@minitask/client";
import { createTestNamespace, eventually, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controllerFor, Manager, predicate } from "../src/index.ts";

const serviceAccounts = { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount" } as const;

describe("controllerFor (real apiserver)", () => {
  let ns: string;
  let manager: Manager;
  const stop = new AbortController();
  let running: Promise<void>;
  const reconciled: string[] = [];

  beforeAll(async () => {
    ns = await createTestNamespace("builder");
    manager = new Manager({ kubeconfig: testEnv().kubeconfig, informers: { namespace: ns } });
    controllerFor(manager, builtinResources.configMaps)
      .owns(builtinResources.secrets)
      .watches<KubeObject>(serviceAccounts, (sa) => {
        const target = sa.metadata?.annotations?.["example.dev/configmap"];
        return target ? [`${sa.metadata?.namespace}/${target}`] : [];
      })
      .withPredicates(predicate((o) => o.metadata?.labels?.["example.dev/ignore"] !== "true"))
      .withOptions({ workers: 2 })
      .complete(async (key) => {
        reconciled.push(key);
      });
    running = manager.start(stop.signal);
  });

  afterAll(async () => {
    stop.abort();
    await running;
  });

  const client = () => manager.client;
  const seen = (key: string) =>
    eventually(`a reconcile of ${key}`, () => (reconciled.includes(key) ? true : undefined));

  it("reconciles the primary on its own events, with the controller's name taken from the kind", async () => {
    await client()
      .resource(builtinResources.configMaps, ns)
      .create({ metadata: { name: "parent" } });
    await seen(`${ns}/parent`);
    const metrics = await manager.metrics.registry.getSingleMetricAsString("controller_runtime_reconcile_total");
    expect(metrics).toContain('controller="configmap"');
  });

  it("maps an owned object to its controller owner, not to anything named like it", async () => {
    const secrets = client().resource(builtinResources.secrets, ns);
    const owned = (name: string, owner: string, controller: boolean) =>
      secrets.create({
        metadata: {
          name,
          ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: owner, uid: `uid-${owner}`, controller }],
        },
      });
    // No ConfigMap has these names: only the owner mapping can produce their keys.
    await owned("child", "owner-a", true);
    await seen(`${ns}/owner-a`);
    // An owner that is not the controller is not enqueued; a later Secret (the same informer delivers in
    // order) proves the earlier one was handled.
    await owned("not-controlled", "bystander", false);
    await owned("marker-child", "owner-b", true);
    await seen(`${ns}/owner-b`);
    expect(reconciled).not.toContain(`${ns}/bystander`);
    expect(reconciled).not.toContain(`${ns}/child`);
    expect(reconciled).not.toContain(`${ns}/not-controlled`);
  });

  it("maps a watched object through the map function, and predicates drop filtered events", async () => {
    await client()
      .resource(serviceAccounts, ns)
      .create({ metadata: { name: "sa", annotations: { "example.dev/configmap": "target" } } });
    await seen(`${ns}/target`);
    await client()
      .resource(serviceAccounts, ns)
      .create({
        metadata: {
          name: "ignored-sa",
          labels: { "example.dev/ignore": "true" },
          annotations: { "example.dev/configmap": "never" },
        },
      });
    await client()
      .resource(builtinResources.configMaps, ns)
      .create({ metadata: { name: "ignored", labels: { "example.dev/ignore": "true" } } });
    await client()
      .resource(serviceAccounts, ns)
      .create({ metadata: { name: "marker-sa", annotations: { "example.dev/configmap": "marker-sa-target" } } });
    await client()
      .resource(builtinResources.configMaps, ns)
      .create({ metadata: { name: "marker-2" } });
    await seen(`${ns}/marker-sa-target`);
    await seen(`${ns}/marker-2`);
    expect(reconciled).not.toContain(`${ns}/never`);
    expect(reconciled).not.toContain(`${ns}/ignored`);
  });
});
