// Type-level tests of generated code (checked by tsc in typecheck.test.ts; never run): what the generated
// types accept and reject. Each `@ts-expect-error` line must be an error, or tsc fails.
import type { KubeClient } from "@minitask/client";
import type { SharedInformerFactory } from "@minitask/informers";
import {
  type Condition,
  isTask,
  isTaskRun,
  type ReadonlyTaskRun,
  type Task,
  type TaskRun,
  TaskRunResource,
  type TaskRunStatusPhase,
  taskRunClient,
} from "@minitask/taskrunner/api";
import {
  isWidget,
  type ReadonlyWidget,
  type Widget,
  type WidgetLister,
  type WidgetSpec,
  type WidgetStatus,
  widgetClient,
  widgetInformer,
} from "../golden/constructs/fixtures.codegen.minitask.dev/v1/index.ts";
import type { Gizmo as GizmoV1 } from "../golden/multiversion/fixtures.codegen.minitask.dev/v1/index.ts";
import type { Gizmo as GizmoV1alpha1 } from "../golden/multiversion/fixtures.codegen.minitask.dev/v1alpha1/index.ts";
import {
  type Gadget,
  type GadgetSpec,
  gadgetClient,
  gadgetInformer,
  gadgetLister,
} from "../golden/roundtrip/codegen-test.minitask.dev/v1/index.ts";

declare const kube: KubeClient;
declare const factory: SharedInformerFactory;
declare const value: unknown;

/** Accepts exactly a `T`. */
function accept<T>(v: T): T {
  return v;
}

/** What `kubectl create --dry-run=client -o yaml` writes type-checks: `creationTimestamp: null`. */
export function dryRunOutput(): Task {
  return accept<Task>({
    apiVersion: "minitask.myorg.dev/v1",
    kind: "Task",
    metadata: { name: "hello", creationTimestamp: null },
    spec: { steps: [{ name: "a", image: "busybox" }] },
  });
}

export function specs(): void {
  // required / optional
  const spec = accept<WidgetSpec>({ name: "a", count: 1 });
  // @ts-expect-error count is required
  accept<WidgetSpec>({ name: "a" });
  // nullable
  spec.nickname = null;
  spec.nullableObject = null;
  // @ts-expect-error name is not nullable
  spec.name = null;
  // enum
  spec.mode = "Fast";
  spec.level = 2;
  spec.choice = null;
  // @ts-expect-error not in the enum
  spec.mode = "Medium";
  // @ts-expect-error not in the enum
  spec.level = 4;
  // int-or-string
  spec.port = 80;
  spec.port = "http";
  spec.limits = { cpu: "500m", memory: 1024 };
  // @ts-expect-error neither an integer nor a string
  spec.port = true;
  // preserve-unknown-fields
  spec.anything = [1, "two", { three: 3 }];
  spec.config = { nested: { deep: true } };
  spec.extensible = { known: "x", other: 1 };
  // @ts-expect-error a typed field keeps its type
  spec.extensible = { known: 1 };
  // embedded resources
  spec.template = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: "b" } };
  spec.typedTemplate = { apiVersion: "v1", kind: "ConfigMap", data: { a: "b" } };
  // @ts-expect-error an embedded object needs a kind
  spec.template = { apiVersion: "v1" };
  // records
  spec.labels = { app: "x" };
  spec.ports = { http: { port: 80, protocol: "TCP" } };
  spec.empty = {};
  // @ts-expect-error values are strings
  spec.labels = { app: 1 };
  // @ts-expect-error every field of this object is pruned
  spec.empty = { a: 1 };
  // unions
  spec.value = "a";
  spec.value = ["a", "b"];
  spec.value = { ref: "x" };
  spec.size = "large";
  spec.opaque = { anything: true };
  // @ts-expect-error not one of the union's members
  spec.value = 1;
  // @ts-expect-error not one of the enum branches
  spec.size = "huge";
  // names that are keywords or not identifiers
  spec.default = "d";
  spec.class = { constructor: "c", delete: true };
  spec["x-kubernetes-foo"] = "x";
  spec["123abc"] = "y";
  spec["a.b"] = { c: "z" };
  spec["with space"] = "w";
}

export function conditions(): WidgetStatus {
  const c: Condition = {
    type: "Ready",
    status: "True",
    lastTransitionTime: "2024-01-01T00:00:00Z",
    reason: "Done",
    message: "",
  };
  // @ts-expect-error the status of a condition is True, False or Unknown
  accept<Condition>({ ...c, status: "Maybe" });
  return { conditions: [c], legacyConditions: [{ type: "Old", status: "Maybe" }] };
}

export function readonlyObjects(w: ReadonlyWidget): string | undefined {
  const spec = w.spec;
  if (spec === undefined) return undefined;
  // @ts-expect-error objects from caches are deeply read-only
  spec.name = "x";
  // @ts-expect-error including nested lists
  spec.tags?.push("x");
  return spec.name;
}

export function guards(): void {
  if (isWidget(value)) accept<Widget>(value);
  if (isTaskRun(value)) accept<TaskRun>(value);
  if (isTask(value)) accept<Task>(value);
}

export async function clients(): Promise<void> {
  // cluster-scoped, no subresources
  const widgets = widgetClient(kube);
  await widgets.create({ spec: { name: "a", count: 1 } });
  await widgets.patch("a", { spec: { count: 2 } }, { type: "merge" });
  // @ts-expect-error cluster-scoped: no namespace
  widgetClient(kube, "ns");
  // @ts-expect-error cluster-scoped: no inNamespace
  widgets.inNamespace("ns");
  // @ts-expect-error no status subresource
  await widgets.updateStatus({});
  // @ts-expect-error strategic merge patches are for built-in types only
  await widgets.patch("a", {}, { type: "strategic" });

  // namespaced, status and scale subresources
  const gadgets = gadgetClient(kube, "ns");
  const created: Gadget = await gadgets.create({ metadata: { name: "g" }, spec: { color: "red" } });
  await gadgets.inNamespace("other").allNamespaces().list();
  await gadgets.updateStatus({ ...created, status: { phase: "Ready" } });
  await gadgets.patchStatus("g", { status: { replicas: 1 } }, { type: "merge" });
  const scale = await gadgets.getScale("g");
  await gadgets.updateScale("g", { ...scale, spec: { replicas: 2 } });
  accept<GadgetSpec["color"]>("blue");

  // the minitask types used by the controller
  const runs = taskRunClient(kube, "default");
  const phase: TaskRunStatusPhase = "Succeeded";
  await runs.patchStatus("r", { status: { phase } }, { type: "merge" });
  accept<string>(TaskRunResource.resource);
}

export function informers(): void {
  const gadgets = gadgetInformer(factory, { namespace: "ns" });
  const lister = gadgetLister(gadgets);
  const one = lister.namespace("ns").get("g");
  // @ts-expect-error listers hand out read-only objects
  if (one) one.spec.color = "red";
  const widgets = widgetInformer(factory, { labelSelector: "a=b" });
  // @ts-expect-error cluster-scoped informers take no namespace
  widgetInformer(factory, { namespace: "ns" });
  // @ts-expect-error cluster-scoped listers have no namespace()
  (null as unknown as WidgetLister).namespace("ns");
  void widgets;
}

export function versions(a: GizmoV1alpha1, b: GizmoV1): void {
  accept<number | undefined>(a.spec?.size);
  accept<number | string | undefined>(b.spec?.size);
}

export function readonlyRun(r: ReadonlyTaskRun): string | undefined {
  return r.status?.conditions?.[0]?.reason;
}
