// The example controller against the real control plane: proves that the primitives compose into a
// working controller from their public APIs alone.
import { configMapClient } from "@minitask/api/core/v1";
import { isNotFound, KubeClient } from "@minitask/client";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPropagator, SOURCE_LABEL, TARGET_NS_LABEL } from "./controller.ts";

describe("configmap-propagator example", () => {
  let client: KubeClient;
  const stop = new AbortController();
  let running: Promise<void>;
  let src: string;
  let t1: string;
  let t2: string;

  beforeAll(async () => {
    client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
    [src, t1, t2] = await Promise.all([
      createTestNamespace("prop-src"),
      createTestNamespace("prop-t1"),
      createTestNamespace("prop-t2"),
    ]);
    await kubectl(["label", "namespace", t1, `${TARGET_NS_LABEL}=true`]);
    const p = newPropagator({ client, workers: 2 });
    running = p.run(stop.signal);
    await p.factory.waitForCacheSync();
  });

  afterAll(async () => {
    stop.abort();
    await running;
    await client.close();
  });

  const cms = () => configMapClient(client);
  const copyIn = async (ns: string) => {
    try {
      return await cms().inNamespace(ns).get("settings");
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  it("copies, updates, follows namespace labels, repairs, and cleans up", async () => {
    await cms()
      .inNamespace(src)
      .create({
        metadata: { name: "settings", labels: { [SOURCE_LABEL]: "true" } },
        data: { color: "blue" },
      });
    const copy = await eventually("a copy in the labelled namespace", () => copyIn(t1));
    expect(copy.data).toEqual({ color: "blue" });
    expect(copy.metadata?.annotations?.["minitask.dev/propagated-from"]).toBe(`${src}/settings`);
    expect(await copyIn(t2)).toBeUndefined();

    await cms()
      .inNamespace(src)
      .patch("settings", { data: { color: "green" } }, { type: "merge" });
    await eventually("the copy to follow the source", async () =>
      (await copyIn(t1))?.data?.color === "green" ? true : undefined,
    );

    await kubectl(["label", "namespace", t2, `${TARGET_NS_LABEL}=true`]);
    await eventually("a copy in the newly labelled namespace", () => copyIn(t2));
    await kubectl(["label", "namespace", t1, `${TARGET_NS_LABEL}-`]);
    await eventually("the copy to leave the unlabelled namespace", async () =>
      (await copyIn(t1)) === undefined ? true : undefined,
    );

    await cms().inNamespace(t2).delete("settings");
    await eventually("the deleted copy to be recreated", async () => {
      const c = await copyIn(t2);
      return c && !c.metadata?.deletionTimestamp ? c : undefined;
    });

    await cms().inNamespace(src).delete("settings");
    await eventually("every copy to be removed with the source", async () =>
      (await copyIn(t2)) === undefined ? true : undefined,
    );
  });
});
