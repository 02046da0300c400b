// An example controller built only from minitask's public APIs: it copies every ConfigMap labelled
// `minitask.dev/propagate=true` into every namespace labelled `minitask.dev/propagate-into=true`, keeps
// the copies in step with the source, and removes them when the source goes away or a namespace loses
// its label. See docs/writing-a-controller.md for a walk-through. The ConfigMap and Namespace types, their
// typed client, informers and listers come from @minitask/api (generated from the apiserver's OpenAPI).
import {
  type ConfigMap,
  ConfigMapResource,
  configMapClient,
  configMapInformer,
  configMapLister,
  NamespaceResource,
  namespaceInformer,
  namespaceLister,
  type ReadonlyConfigMap,
} from "@minitask/api/core/v1";
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from "@minitask/client";
import { type Controller, controllerFor, type Logger, Manager, type Result } from "@minitask/controller";
import { type SharedInformerFactory, splitMetaNamespaceKey } from "@minitask/informers";

export const SOURCE_LABEL = "minitask.dev/propagate";
export const TARGET_NS_LABEL = "minitask.dev/propagate-into";
export const COPY_LABEL = "minitask.dev/propagated";
export const SOURCE_ANNOTATION = "minitask.dev/propagated-from";
const SOURCE_INDEX = "source";

export type { ConfigMap };

export interface PropagatorOptions {
  readonly workers?: number;
}

export interface Propagator {
  readonly controller: Controller;
  readonly factory: SharedInformerFactory;
  /** Runs until `stop` aborts; resolves after a graceful drain. */
  run(stop: AbortSignal): Promise<void>;
}

const sameData = (a: ReadonlyConfigMap, b: ReadonlyConfigMap) =>
  JSON.stringify(a.data ?? {}) === JSON.stringify(b.data ?? {}) &&
  JSON.stringify(a.binaryData ?? {}) === JSON.stringify(b.binaryData ?? {});

const sourceSelector = { labelSelector: `${SOURCE_LABEL}=true` };
const copySelector = { labelSelector: `${COPY_LABEL}=true` };
const namespaceSelector = { labelSelector: `${TARGET_NS_LABEL}=true` };

/** Adds the propagator's controller to `manager` (start the manager to run it). */
export function addPropagator(manager: Manager, opts: PropagatorOptions = {}): Controller {
  const client = manager.client;
  const factory = manager.informers;
  const sources = configMapInformer(factory, sourceSelector);
  const copies = configMapInformer(factory, copySelector);
  const namespaces = namespaceInformer(factory, namespaceSelector);
  copies.addIndexers({
    [SOURCE_INDEX]: (cm) => {
      const src = cm.metadata?.annotations?.[SOURCE_ANNOTATION];
      return src ? [src] : [];
    },
  });
  const sourceLister = configMapLister(sources);
  const nsLister = namespaceLister(namespaces);
  const configMaps = configMapClient(client);

  const reconcile = async (key: string, { signal, log }: { signal: AbortSignal; log: Logger }): Promise<Result> => {
    const { namespace = "", name } = splitMetaNamespaceKey(key);
    const source = sourceLister.namespace(namespace).get(name);
    const existing = copies.getIndexer().byIndex(SOURCE_INDEX, key);
    const targets = new Set(
      source
        ? nsLister
            .list()
            .map((n) => n.metadata?.name ?? "")
            .filter((n) => n && n !== namespace)
        : [],
    );
    // Create or update a copy in every target namespace.
    for (const ns of targets) {
      const copy = existing.find((c) => c.metadata?.namespace === ns);
      if (copy && source && sameData(copy, source)) continue;
      const desired: ConfigMap = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name,
          namespace: ns,
          labels: { [COPY_LABEL]: "true" },
          annotations: { [SOURCE_ANNOTATION]: key },
          ...(copy?.metadata?.resourceVersion ? { resourceVersion: copy.metadata.resourceVersion } : {}),
        },
        ...(source?.data ? { data: { ...source.data } } : {}),
        ...(source?.binaryData ? { binaryData: { ...source.binaryData } } : {}),
      };
      try {
        if (copy) await configMaps.inNamespace(ns).update(desired, { signal });
        else await configMaps.inNamespace(ns).create(desired, { signal });
        log.info({ target: ns }, copy ? "updated copy" : "created copy");
      } catch (err) {
        // A copy made by an earlier attempt that our cache has not seen yet: the event requeues us.
        if (isAlreadyExists(err) || isConflict(err)) return { requeue: true };
        throw err;
      }
    }
    // Remove copies that should not exist any more.
    for (const copy of existing) {
      const ns = copy.metadata?.namespace ?? "";
      if (targets.has(ns)) continue;
      try {
        await configMaps.inNamespace(ns).delete(copy.metadata?.name ?? "", {
          signal,
          preconditions: { uid: copy.metadata?.uid ?? "" },
        });
        log.info({ target: ns }, "deleted copy");
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    return {};
  };

  const sourceKey = (cm: ReadonlyConfigMap) => [`${cm.metadata?.namespace}/${cm.metadata?.name}`];
  return (
    controllerFor(manager, ConfigMapResource, sourceSelector)
      // A copy changed or deleted by someone else: reconcile its source.
      .watches<ConfigMap>(
        ConfigMapResource,
        (cm) => {
          const src = cm.metadata?.annotations?.[SOURCE_ANNOTATION];
          return src ? [src] : [];
        },
        copySelector,
      )
      // A namespace gained or lost the label: every source (and every source that has copies) may change.
      .watches(
        NamespaceResource,
        () => [...sourceLister.list().flatMap(sourceKey), ...copies.getIndexer().listIndexFuncValues(SOURCE_INDEX)],
        namespaceSelector,
      )
      .withOptions({ name: "configmap-propagator", workers: opts.workers ?? 2 })
      .complete(reconcile)
  );
}

/** A propagator with its own Manager on `client` (no probes, no leader election): tests and small tools. */
export function newPropagator(
  opts: PropagatorOptions & { readonly client: KubeClient; readonly logger?: Logger },
): Propagator {
  const manager = new Manager({ client: opts.client, ...(opts.logger ? { logger: opts.logger } : {}) });
  const controller = addPropagator(manager, opts);
  return { controller, factory: manager.informers, run: (stop) => manager.start(stop) };
}
