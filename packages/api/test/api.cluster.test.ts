// @minitask/api against the real control plane: the typed clients, listers and informers of the built-in
// kinds do what the apiserver does — strategic merge patches, the scale and status subresources,
// cluster-scoped kinds, several API groups — and what the apiserver returns has the generated shapes.
import { isNotFound, KubeClient } from "@minitask/client";
import { SharedInformerFactory } from "@minitask/informers";
import { createTestNamespace, eventually, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customResourceDefinitionClient } from "../src/apiextensions/v1/index.ts";
import { type Deployment, deploymentClient, deploymentInformer, deploymentLister } from "../src/apps/v1/index.ts";
import { leaseClient } from "../src/coordination/v1/index.ts";
import {
  type ConfigMap,
  configMapClient,
  configMapInformer,
  configMapLister,
  isConfigMap,
  nodeInformer,
  nodeLister,
  podClient,
  serviceClient,
} from "../src/core/v1/index.ts";
import { eventClient } from "../src/events/v1/index.ts";
import { appsv1, corev1 } from "../src/index.ts";
import { roleBindingClient, roleClient } from "../src/rbac/v1/index.ts";

let kube: KubeClient;
let ns: string;

beforeAll(async () => {
  kube = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
  ns = await createTestNamespace("api");
});

afterAll(async () => {
  await kube.close();
});

const deployment = (name: string): Deployment => ({
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "main", image: "busybox", command: ["sleep", "3600"] }] },
    },
  },
});

describe("@minitask/api against the apiserver", () => {
  it("core/v1 ConfigMaps: typed client, informer and lister; what comes back has apiVersion and kind", async () => {
    const cms = configMapClient(kube, ns);
    const created = await cms.create({ metadata: { name: "settings", labels: { app: "a" } }, data: { color: "blue" } });
    expect(isConfigMap(created)).toBe(true);
    expect(created.data).toEqual({ color: "blue" });
    const factory = new SharedInformerFactory(kube);
    const lister = configMapLister(configMapInformer(factory, { namespace: ns, labelSelector: "app=a" }));
    factory.start();
    try {
      await factory.waitForCacheSync();
      await cms.patch("settings", { data: { color: "green" } }, { type: "strategic" });
      const cached = await eventually("the informer to see the patch", () =>
        lister.namespace(ns).get("settings")?.data?.color === "green"
          ? lister.namespace(ns).get("settings")
          : undefined,
      );
      const copy: ConfigMap = { ...cached, metadata: { name: "copy" }, data: { ...cached.data } };
      await cms.create(copy);
      await expect(cms.get("copy")).resolves.toMatchObject({ data: { color: "green" } });
    } finally {
      await factory.shutdown();
    }
  });

  it("apps/v1 Deployments: the scale subresource, strategic merge patches of lists by key, informers", async () => {
    const deployments = deploymentClient(kube, ns);
    await deployments.create(deployment("web"));
    const scale = await deployments.getScale("web");
    expect(scale).toMatchObject({ kind: "Scale", spec: { replicas: 1 } });
    await deployments.patchScale("web", { spec: { replicas: 3 } }, { type: "strategic" });
    expect((await deployments.get("web")).spec?.replicas).toBe(3);
    await deployments.updateScale("web", { metadata: { name: "web", namespace: ns }, spec: { replicas: 2 } });
    // A strategic merge patch merges containers by name (a merge patch would replace the list).
    await deployments.patch(
      "web",
      { spec: { template: { spec: { containers: [{ name: "side", image: "busybox" }] } } } },
      { type: "strategic" },
    );
    const d = await deployments.get("web");
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.template.spec?.containers.map((c) => c.name).sort()).toEqual(["main", "side"]);
    const factory = new SharedInformerFactory(kube);
    const lister = deploymentLister(deploymentInformer(factory, { namespace: ns }));
    factory.start();
    try {
      await factory.waitForCacheSync();
      // The controller manager's deployment controller writes the status subresource.
      const seen = await eventually("the deployment controller to report the status", () => {
        const s = lister.namespace(ns).get("web")?.status;
        return s?.observedGeneration !== undefined && s.observedGeneration >= (d.metadata?.generation ?? 0)
          ? s
          : undefined;
      });
      expect(seen.replicas).toBeTypeOf("number");
    } finally {
      await factory.shutdown();
    }
  });

  it("the status subresource: a status write changes only the status", async () => {
    const services = serviceClient(kube, ns);
    await services.create({ metadata: { name: "lb" }, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } });
    const updated = await services.patchStatus(
      "lb",
      { status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } }, spec: { ports: [{ port: 81 }] } },
      { type: "merge" },
    );
    expect(updated.status?.loadBalancer?.ingress?.[0]?.ip).toBe("192.0.2.10");
    expect(updated.spec?.ports?.[0]?.port).toBe(80);
    // IntOrString comes back as it was given.
    expect(updated.spec?.ports?.[0]?.targetPort).toBe(80);
  });

  it("cluster-scoped kinds (Nodes) and pods on them, through the root namespaces", async () => {
    const factory = new SharedInformerFactory(kube);
    const nodes = nodeLister(nodeInformer(factory));
    factory.start();
    try {
      await factory.waitForCacheSync();
      const ready = nodes
        .list()
        .filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      expect(ready.length).toBeGreaterThan(0);
    } finally {
      await factory.shutdown();
    }
    const pod: corev1.Pod = {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "busybox" }], restartPolicy: "Never" },
    };
    const created = await podClient(kube, ns).create(pod);
    expect(corev1.isPod(created)).toBe(true);
    expect(appsv1.isDeployment(created)).toBe(false);
    await eventually("the pod to be scheduled", async () => (await podClient(kube, ns).get("p")).spec?.nodeName);
  });

  it("coordination, events, rbac and apiextensions kinds", async () => {
    const lease = await leaseClient(kube, ns).create({
      metadata: { name: "l" },
      spec: { holderIdentity: "me", leaseDurationSeconds: 15, renewTime: "2024-01-01T00:00:00.000000Z" },
    });
    expect(lease.spec?.holderIdentity).toBe("me");
    const event = await eventClient(kube, ns).create({
      metadata: { name: "e" },
      eventTime: new Date().toISOString().replace(/\.\d+Z$/, ".000000Z"),
      reportingController: "minitask.dev/api-test",
      reportingInstance: "test",
      action: "Testing",
      reason: "Tested",
      type: "Normal",
      regarding: { apiVersion: "v1", kind: "Pod", name: "p", namespace: ns },
    });
    expect(event.regarding?.kind).toBe("Pod");
    await roleClient(kube, ns).create({
      metadata: { name: "reader" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    });
    const binding = await roleBindingClient(kube, ns).create({
      metadata: { name: "reader" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
      subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns }],
    });
    expect(binding.roleRef.name).toBe("reader");
    const crds = customResourceDefinitionClient(kube);
    const name = `widgets.${ns}.api-test.minitask.dev`;
    await crds.create({
      metadata: { name },
      spec: {
        group: `${ns}.api-test.minitask.dev`,
        names: { kind: "Widget", plural: "widgets" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    });
    try {
      await eventually("the CRD to be established", async () =>
        (await crds.get(name)).status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
          ? true
          : undefined,
      );
    } finally {
      await crds.delete(name).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  });
});
