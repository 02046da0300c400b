import { KubeClient } from "@minitask/client";
import { describe, expect, it } from "vitest";
import { Manager, type Runnable } from "../src/index.ts";

/** A client for an address nothing listens on: these tests add no informers and no leader election. */
const offline = () => KubeClient.forServer("https://127.0.0.1:1");

function recording(name: string, log: string[], options: Partial<Runnable> = {}): Runnable {
  return {
    name,
    ...options,
    async start(stop) {
      log.push(`${name} started`);
      await new Promise((r) => stop.addEventListener("abort", r, { once: true }));
      log.push(`${name} stopping`);
      await new Promise((r) => setImmediate(r)); // drains something
      log.push(`${name} stopped`);
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setImmediate(r));
  }
}

describe("Manager", () => {
  it("starts every runnable; on stop, leader-only ones drain before the always-on ones are stopped", async () => {
    const log: string[] = [];
    const m = new Manager({ client: offline() })
      .add(recording("controller", log))
      .add(recording("server", log, { needLeaderElection: false }));
    const stop = new AbortController();
    const done = m.start(stop.signal);
    await until(() => log.length === 2);
    expect(log.sort()).toEqual(["controller started", "server started"]);
    expect(m.isLeader()).toBe(true);
    log.length = 0;
    stop.abort();
    await done;
    expect(log).toEqual(["controller stopping", "controller stopped", "server stopping", "server stopped"]);
  });

  it("serves /healthz and /readyz: a runnable's sync state is a readiness check, its failure fails liveness", async () => {
    let synced = false;
    const m = new Manager({ client: offline(), healthProbeBindAddress: "127.0.0.1:0" })
      .add({
        name: "cache-user",
        hasSynced: () => synced,
        start: (stop) => new Promise((r) => stop.addEventListener("abort", () => r())),
      })
      .add({
        name: "crasher",
        needLeaderElection: false,
        start: async () => {
          throw new Error("boom");
        },
      })
      .addReadyCheck("custom", () => true);
    const stop = new AbortController();
    const done = m.start(stop.signal);
    await until(() => m.ports.health !== undefined);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${m.ports.health}${path}?verbose`);
      return { status: res.status, body: await res.text() };
    };
    const notReady = await get("/readyz");
    expect(notReady.status).toBe(503);
    expect(notReady.body).toContain("[-]cache-user failed: caches not synced");
    expect(notReady.body).toContain("[+]custom ok");
    synced = true;
    expect((await get("/readyz")).status).toBe(200);
    const live = await get("/healthz");
    expect(live.status).toBe(500);
    expect(live.body).toContain("[-]crasher failed: failed: boom");
    expect(live.body).toContain("[+]cache-user ok");
    stop.abort();
    await done;
  });

  it("refuses runnables after start and a second start", async () => {
    const m = new Manager({ client: offline() });
    const stop = new AbortController();
    stop.abort();
    await m.start(stop.signal);
    expect(() => m.add(recording("late", []))).toThrow(/already started/);
    await expect(m.start(stop.signal)).rejects.toThrow(/already started/);
  });
});
