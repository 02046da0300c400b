import type { KubeObject } from "@minitask/client";
import { DeletedFinalStateUnknown, type ResourceEventHandler } from "@minitask/informers";
import { describe, expect, it } from "vitest";
import {
  and,
  annotationsChanged,
  filterEvents,
  generationChanged,
  labelsChanged,
  not,
  or,
  predicate,
  resourceVersionChanged,
} from "../src/index.ts";

const obj = (meta: KubeObject["metadata"]): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: meta });
const base = obj({ name: "a", resourceVersion: "1", generation: 1, labels: { x: "1" }, annotations: { n: "1" } });

describe("predicates", () => {
  it("generationChanged passes updates that changed the generation only; creates and deletes pass", () => {
    expect(generationChanged.update?.(base, obj({ ...base.metadata, resourceVersion: "2" }))).toBe(false);
    expect(generationChanged.update?.(base, obj({ ...base.metadata, generation: 2 }))).toBe(true);
    expect(generationChanged.create).toBeUndefined();
    expect(generationChanged.delete).toBeUndefined();
  });

  it("labelsChanged and annotationsChanged compare the maps, not their identity", () => {
    expect(labelsChanged.update?.(base, obj({ ...base.metadata, labels: { x: "1" } }))).toBe(false);
    expect(labelsChanged.update?.(base, obj({ ...base.metadata, labels: { x: "2" } }))).toBe(true);
    expect(labelsChanged.update?.(base, obj({ ...base.metadata, labels: { x: "1", y: "" } }))).toBe(true);
    expect(labelsChanged.update?.(obj({ name: "a" }), obj({ name: "a", labels: {} }))).toBe(false);
    expect(annotationsChanged.update?.(base, obj({ ...base.metadata, annotations: {} }))).toBe(true);
    expect(annotationsChanged.update?.(base, obj({ ...base.metadata, labels: {} }))).toBe(false);
  });

  it("resourceVersionChanged drops resyncs of an unchanged object", () => {
    expect(resourceVersionChanged.update?.(base, base)).toBe(false);
    expect(resourceVersionChanged.update?.(base, obj({ ...base.metadata, resourceVersion: "2" }))).toBe(true);
  });

  it("and / or / not combine per event kind, a missing answer meaning yes", () => {
    const named = predicate<KubeObject>((o) => o.metadata?.name === "a");
    const changed = obj({ ...base.metadata, generation: 2 });
    const relabelled = obj({ ...base.metadata, labels: {} });
    expect(and(named, generationChanged).update?.(base, changed)).toBe(true);
    expect(and(named, generationChanged).update?.(base, relabelled)).toBe(false);
    expect(or(generationChanged, labelsChanged).update?.(base, relabelled)).toBe(true);
    expect(or(generationChanged, labelsChanged).update?.(base, base)).toBe(false);
    expect(and(named, generationChanged).create?.(base)).toBe(true);
    expect(and(named, generationChanged).create?.(obj({ name: "b" }))).toBe(false);
    expect(not(named).create?.(base)).toBe(false);
    expect(not(named).delete?.(obj({ name: "b" }))).toBe(true);
    expect(not(generationChanged).create?.(base)).toBe(false); // not(yes) for a kind the predicate ignores
  });

  it("filterEvents hands the handler only passing events, judging a tombstone by its last state", () => {
    const seen: string[] = [];
    const handler: ResourceEventHandler<KubeObject> = {
      onAdd: (o) => void seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_o, n) => void seen.push(`update ${n.metadata?.name}`),
      onDelete: (o) =>
        void seen.push(`delete ${o instanceof DeletedFinalStateUnknown ? `tombstone ${o.key}` : o.metadata?.name}`),
    };
    const f = filterEvents(
      handler,
      predicate<KubeObject>((o) => o.metadata?.name !== "skip"),
      resourceVersionChanged,
    );
    f.onAdd?.(base, false);
    f.onAdd?.(obj({ name: "skip" }), false);
    f.onUpdate?.(base, base);
    f.onUpdate?.(base, obj({ ...base.metadata, resourceVersion: "2" }));
    f.onDelete?.(new DeletedFinalStateUnknown("ns/skip", obj({ name: "skip" })));
    f.onDelete?.(new DeletedFinalStateUnknown("ns/a", base));
    expect(seen).toEqual(["add a", "update a", "delete tombstone ns/a"]);
    expect(filterEvents(handler)).toBe(handler);
  });
});
