import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { EndpointServer, parseBindAddress } from "../src/server.ts";
import { handleShutdownSignals } from "../src/signals.ts";

describe("parseBindAddress", () => {
  it("understands Go-style addresses", () => {
    expect(parseBindAddress(":8080")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseBindAddress("127.0.0.1:9090")).toEqual({ host: "127.0.0.1", port: 9090 });
    expect(parseBindAddress("[::1]:81")).toEqual({ host: "::1", port: 81 });
    expect(parseBindAddress("8081")).toEqual({ host: "0.0.0.0", port: 8081 });
    expect(parseBindAddress("0")).toBeUndefined();
    expect(parseBindAddress("")).toBeUndefined();
  });

  it("rejects nonsense with a clear message", () => {
    expect(() => parseBindAddress("localhost:http")).toThrow(/invalid bind address "localhost:http"/);
    expect(() => parseBindAddress(":70000")).toThrow(/port out of range/);
  });
});

describe("EndpointServer", () => {
  const servers: EndpointServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("serves /metrics, /healthz and /readyz that follows its checks", async () => {
    const registry = new Registry();
    new Counter({ name: "test_things_total", help: "things", registers: [registry] }).inc(3);
    let synced = false;
    const s = new EndpointServer({ registry, readyChecks: { "informers-synced": () => synced } });
    servers.push(s);
    const port = await s.listen("127.0.0.1", 0);
    const base = `http://127.0.0.1:${port}`;
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("test_things_total 3");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz?verbose`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain("[-]informers-synced failed");
    synced = true;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe("ok");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("does not serve metrics on a health-only server", async () => {
    const s = new EndpointServer({ readyChecks: {} });
    servers.push(s);
    const port = await s.listen("127.0.0.1", 0);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
  });
});

describe("handleShutdownSignals", () => {
  it("aborts stop on the first signal, force after the grace period, and exits on a second signal", async () => {
    const forced: string[] = [];
    const s = handleShutdownSignals({ shutdownTimeoutMs: 20, onForceExit: (sig) => forced.push(sig) });
    try {
      expect(s.stop.aborted).toBe(false);
      process.emit("SIGTERM", "SIGTERM");
      expect(s.stop.aborted).toBe(true);
      expect(s.force.aborted).toBe(false);
      await new Promise<void>((r) => s.force.addEventListener("abort", () => r()));
      process.emit("SIGINT", "SIGINT");
      expect(forced).toEqual(["SIGINT"]);
    } finally {
      s.dispose();
    }
  });
});
