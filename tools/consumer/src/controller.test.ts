// The consumer project's test, run with node:test from the compiled output (`node --test dist/**/*.test.js`): a fresh
// control plane from the installed @minitask/envtest with the project's CRD, the controller running in a
// Manager, and a Widget reconciled into its ConfigMap and status.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { configMapClient } from "@minitask/api/core/v1";
import { createLogger, Manager } from "@minitask/controller";
import { startControlPlane, type TestControlPlane } from "@minitask/envtest";
import { addWidgetController } from "./controller.js";
import { widgetClient } from "./generated/consumer.minitask.dev/v1/index.js";

let env: TestControlPlane;
let manager: Manager;
const stop = new AbortController();
let running: Promise<void>;

before(async () => {
  env = await startControlPlane({ crds: ["crds"] });
  manager = new Manager({ kubeconfig: env.kubeconfig, logger: createLogger({ level: "warn", name: "consumer" }) });
  addWidgetController(manager);
  running = manager.start(stop.signal);
});

after(async () => {
  stop.abort();
  await running;
  await env.stop();
});

async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a Widget is reconciled into its ConfigMap and status", async () => {
  const ns = await env.createNamespace("consumer");
  const widgets = widgetClient(env.client, ns);
  const created = await widgets.create({ metadata: { name: "w" }, spec: { color: "blue", size: 3 } });
  assert.equal(created.spec?.size, 3);
  const cm = await eventually("the ConfigMap", async () => {
    const got = await configMapClient(env.client, ns).get("w-config");
    return got.data?.color === "blue" ? got : undefined;
  });
  assert.deepEqual(cm.data, { color: "blue", size: "3" });
  assert.equal(cm.metadata?.ownerReferences?.[0]?.uid, created.metadata?.uid);
  const reconciled = await eventually("the status", async () => {
    const w = await widgets.get("w");
    return w.status?.configMap === "w-config" ? w : undefined;
  });
  assert.equal(reconciled.status?.observedGeneration, reconciled.metadata?.generation);
  // A change of the spec reaches the ConfigMap.
  await widgets.patch("w", { spec: { color: "red" } }, { type: "merge" });
  await eventually("the ConfigMap to follow", async () => {
    const got = await configMapClient(env.client, ns).get("w-config");
    return got.data?.color === "red" ? true : undefined;
  });
});
