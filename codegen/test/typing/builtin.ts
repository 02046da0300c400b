// Type-level tests of the built-in kinds (@minitask/api, generated from the apiserver's OpenAPI documents;
// checked by tsc in typecheck.test.ts, never run). Each `@ts-expect-error` line must be an error.
import type { appsv1, corev1 } from "@minitask/api";
import { type Deployment, deploymentClient, isDeployment } from "@minitask/api/apps/v1";
import {
  componentStatusClient,
  configMapClient,
  isPod,
  namespaceClient,
  nodeClient,
  nodeInformer,
  nodeLister,
  type Pod,
  type PodSpec,
  podClient,
  podInformer,
  podLister,
  type ReadonlyPod,
} from "@minitask/api/core/v1";
import { type Role, roleClient } from "@minitask/api/rbac/v1";
import type { KubeClient } from "@minitask/client";
import type { SharedInformerFactory } from "@minitask/informers";

declare const kube: KubeClient;
declare const factory: SharedInformerFactory;
declare const value: unknown;

function accept<T>(v: T): T {
  return v;
}

export async function clients(cached: ReadonlyPod): Promise<void> {
  const pods = podClient(kube, "default");
  // Built-in kinds take strategic merge patches, unlike custom resources.
  await pods.patch("p", { metadata: { labels: { a: "b" } } }, { type: "strategic" });
  await pods.patchStatus("p", { status: { phase: "Running" } }, { type: "merge" });
  // Objects from caches can be written back as they are.
  await pods.update(cached);
  await pods.updateStatus(cached);
  // @ts-expect-error a ConfigMap has no status subresource
  await configMapClient(kube, "default").updateStatus({ metadata: { name: "x" } });
  const deployments = deploymentClient(kube, "default");
  const scale = await deployments.getScale("d");
  await deployments.patchScale("d", { spec: { replicas: (scale.spec?.replicas ?? 0) + 1 } }, { type: "strategic" });
  // @ts-expect-error pods have no scale subresource
  await pods.getScale("p");
  // @ts-expect-error nodes are cluster-scoped
  nodeClient(kube).inNamespace("x");
  // @ts-expect-error namespaces cannot be deleted as a collection (the API has no such path)
  await namespaceClient(kube).deleteCollection();
  // @ts-expect-error component statuses are read-only
  await componentStatusClient(kube).create({ metadata: { name: "x" } });
  await roleClient(kube, "default").create(accept<Role>({ metadata: { name: "r" }, rules: [{ verbs: ["get"] }] }));
}

export function models(): void {
  const spec = accept<PodSpec>({
    containers: [{ name: "a", image: "busybox", resources: { limits: { cpu: 1, memory: "64Mi" } } }],
    restartPolicy: "Never",
  });
  // @ts-expect-error not a restart policy
  spec.restartPolicy = "Sometimes";
  // @ts-expect-error a container needs a name
  spec.containers.push({ image: "busybox" });
  // @ts-expect-error a pod spec needs containers
  accept<PodSpec>({ restartPolicy: "Never" });
  const d: Deployment = {
    metadata: { name: "web", creationTimestamp: null },
    spec: { selector: { matchLabels: { app: "web" } }, template: { spec: spec } },
  };
  // @ts-expect-error apiVersion is a literal
  d.apiVersion = "apps/v2";
  // The namespaces of the root index are the same types.
  accept<corev1.Pod>(accept<Pod>({ spec }));
  accept<appsv1.Deployment>(d);
  // Ports by number or name.
  const probe = { httpGet: { port: 8080 as number | string } };
  probe.httpGet.port = "http";
  spec.containers.push({ name: "b", livenessProbe: probe });
  // @ts-expect-error a port is a number or a name
  spec.containers.push({ name: "c", livenessProbe: { httpGet: { port: true } } });
}

export function cachesAndGuards(): string | undefined {
  const pods = podLister(podInformer(factory, { namespace: "default" }));
  const pod = pods.namespace("default").get("p");
  const first = pod?.spec?.containers[0];
  // @ts-expect-error objects from caches are deeply read-only
  if (first) first.image = "x";
  const nodes = nodeLister(nodeInformer(factory));
  // @ts-expect-error nodes are cluster-scoped: no namespace listers
  nodes.namespace("x");
  if (isPod(value)) return value.status?.phase;
  if (isDeployment(value)) return value.spec?.template.spec?.containers[0]?.image;
  return nodes.get("n")?.status?.nodeInfo?.kubeletVersion;
}
