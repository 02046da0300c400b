// The consumer project's controller (scripts/consumer.cluster.test.ts), built only from the public APIs of
// the installed packages, composed explicitly: a typed built-in informer (ConfigMaps, @minitask/api), the
// informer of a CRD whose code minitask-codegen generated into src/generated, a rate-limited work queue
// (@minitask/workqueue) and a Controller run by a Manager (@minitask/controller).
//
// For every Widget it keeps a ConfigMap `<widget>-config` holding the widget's color and size, owned by the
// widget (so garbage collection removes it), and records the ConfigMap's name in the widget's status.
import { type ConfigMap, configMapClient, configMapInformer, configMapLister } from "@minitask/api/core/v1";
import { isAlreadyExists, isConflict, isNotFound } from "@minitask/client";
import { Controller, enqueueObject, enqueueOwner, type Manager, type Result } from "@minitask/controller";
import { splitMetaNamespaceKey } from "@minitask/informers";
import { newRateLimitingQueue } from "@minitask/workqueue";
import {
  WidgetApiVersion,
  WidgetKind,
  widgetClient,
  widgetInformer,
  widgetLister,
} from "./generated/consumer.minitask.dev/v1/index.js";

export const OWNED_LABEL = "consumer.minitask.dev/widget";

/** Adds the widget controller to `manager` (start the manager to run it). */
export function addWidgetController(manager: Manager): Controller {
  const widgets = widgetInformer(manager.informers);
  const configMaps = configMapInformer(manager.informers, { labelSelector: OWNED_LABEL });
  const widgetCache = widgetLister(widgets);
  const configMapCache = configMapLister(configMaps);
  const queue = newRateLimitingQueue<string>({ name: "widgets" });

  const reconcile = async (key: string, { signal }: { signal: AbortSignal }): Promise<Result> => {
    const { namespace = "", name } = splitMetaNamespaceKey(key);
    const widget = widgetCache.namespace(namespace).get(name);
    if (widget?.spec === undefined) return {}; // deleted (garbage collection removes its ConfigMap), or no spec
    const cmName = `${name}-config`;
    const desired: ConfigMap = {
      metadata: {
        name: cmName,
        namespace,
        labels: { [OWNED_LABEL]: name },
        ownerReferences: [
          {
            apiVersion: WidgetApiVersion,
            kind: WidgetKind,
            name,
            uid: widget.metadata?.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      data: { color: widget.spec.color, size: String(widget.spec.size ?? 1) },
    };
    const cms = configMapClient(manager.client, namespace);
    const existing = configMapCache.namespace(namespace).get(cmName);
    try {
      if (existing === undefined) await cms.create(desired, { signal });
      else if (JSON.stringify(existing.data) !== JSON.stringify(desired.data)) {
        await cms.update(
          { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata?.resourceVersion } },
          { signal },
        );
      }
      const generation = widget.metadata?.generation;
      if (widget.status?.configMap !== cmName || widget.status.observedGeneration !== generation) {
        await widgetClient(manager.client, namespace).updateStatus(
          {
            ...widget,
            status: { configMap: cmName, ...(generation !== undefined ? { observedGeneration: generation } : {}) },
          },
          { signal },
        );
      }
    } catch (err) {
      // The cache is behind a write of ours: its event wakes the key again.
      if (isAlreadyExists(err) || isConflict(err) || isNotFound(err)) return { requeue: true };
      throw err;
    }
    return {};
  };

  const controller = new Controller({ name: "widgets", reconcile, queue, waitFor: [widgets, configMaps], workers: 2 });
  widgets.addEventHandler(enqueueObject(queue));
  configMaps.addEventHandler(enqueueOwner(queue, { kind: WidgetKind, group: "consumer.minitask.dev" }));
  manager.add(controller);
  return controller;
}
