import type { KubeObject } from "@minitask/client";
import { describe, expect, it } from "vitest";
import { addFinalizer, hasFinalizer, reconcileFinalizer, removeFinalizer } from "../src/index.ts";
import { MemoryResource } from "./support/memory-resource.ts";

const F = "example.dev/cleanup";
const cm = (meta: KubeObject["metadata"] = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm", ...meta },
});

describe("finalizer helper", () => {
  it("adds once, keeping others' finalizers, and removes only its own", async () => {
    const store = new MemoryResource<KubeObject>();
    store.seed(cm({ finalizers: ["other.dev/keep"] }));
    await addFinalizer(store, "cm", F);
    await addFinalizer(store, "cm", F);
    expect(store.peek("cm")?.metadata?.finalizers).toEqual(["other.dev/keep", F]);
    expect(store.writes).toHaveLength(1);
    await removeFinalizer(store, "cm", F);
    await removeFinalizer(store, "cm", F);
    expect(store.peek("cm")?.metadata?.finalizers).toEqual(["other.dev/keep"]);
    expect(store.writes).toHaveLength(2);
  });

  it("retries a conflict on a fresh read, so a concurrent change is kept", async () => {
    const store = new MemoryResource<KubeObject>();
    store.seed(cm());
    let raced = false;
    store.beforeWrite = () => {
      if (raced) return;
      raced = true; // someone else writes between our read and our write
      store.mutate("cm", (o) => {
        o.metadata = { ...o.metadata, labels: { theirs: "1" } };
      });
    };
    await addFinalizer(store, "cm", F);
    const stored = store.peek("cm");
    expect(stored?.metadata?.finalizers).toEqual([F]);
    expect(stored?.metadata?.labels).toEqual({ theirs: "1" });
  });

  it("gives up after the configured number of conflicts, with the conflict", async () => {
    const store = new MemoryResource<KubeObject>();
    store.seed(cm());
    store.beforeWrite = () => store.mutate("cm", () => {});
    await expect(addFinalizer(store, "cm", F, { retries: 2 })).rejects.toMatchObject({ code: 409 });
  });

  it("does not add a finalizer to an object being deleted, and a gone object is undefined", async () => {
    const store = new MemoryResource<KubeObject>();
    store.seed(cm({ deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["other.dev/keep"] }));
    await addFinalizer(store, "cm", F);
    expect(store.peek("cm")?.metadata?.finalizers).toEqual(["other.dev/keep"]);
    expect(await addFinalizer(store, "missing", F)).toBeUndefined();
    expect(await removeFinalizer(store, "missing", F)).toBeUndefined();
  });

  it("reconcileFinalizer: live → ensures it; deleting → cleanup then removal; a failing cleanup keeps it", async () => {
    const store = new MemoryResource<KubeObject>();
    const cleaned: string[] = [];
    const cleanup = async (o: { metadata?: { name?: string } }) => void cleaned.push(o.metadata?.name ?? "");

    const live = store.seed(cm());
    expect(await reconcileFinalizer(store, live, F, cleanup)).toBe("live");
    expect(hasFinalizer(store.peek("cm") ?? {}, F)).toBe(true);
    expect(cleaned).toEqual([]);

    store.mutate("cm", (o) => {
      o.metadata = { ...o.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" };
    });
    const failing = async () => {
      throw new Error("cloud API down");
    };
    await expect(reconcileFinalizer(store, store.peek("cm") as KubeObject, F, failing)).rejects.toThrow(
      "cloud API down",
    );
    expect(hasFinalizer(store.peek("cm") ?? {}, F)).toBe(true);

    expect(await reconcileFinalizer(store, store.peek("cm") as KubeObject, F, cleanup)).toBe("finalized");
    expect(cleaned).toEqual(["cm"]);
    expect(hasFinalizer(store.peek("cm") ?? {}, F)).toBe(false);
    expect(await reconcileFinalizer(store, store.peek("cm") as KubeObject, F, cleanup)).toBe("ignored");
    expect(cleaned).toEqual(["cm"]);
  });
});
