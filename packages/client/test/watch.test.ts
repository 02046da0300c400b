// Watch streams against a local HTTP server: what a real apiserver will not send on demand
// (garbage, truncation, silence, errors mid-stream), plus abort and close semantics.
import type http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  GoneError,
  IdleTimeoutError,
  isGone,
  KubeClient,
  NetworkError,
  type ObjectWatchEvent,
  WatchDecodeError,
  type WatchStream,
} from "../src/index.ts";
import { InstantClock, sendJson, startServer, statusBody, type TestServer, until } from "./helpers.ts";

const configMaps = { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap" } as const;
const cm = (name: string, rv: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv },
});
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface WatchServer extends TestServer {
  /** Responses of open watch requests, in order. */
  readonly open: http.ServerResponse[];
  /** Number of watch connections the client has closed. */
  closed(): number;
}

async function watchServer(onWatch: (res: http.ServerResponse, url: URL) => void): Promise<WatchServer> {
  const open: http.ServerResponse[] = [];
  let closed = 0;
  const s = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    res.on("close", () => closed++);
    open.push(res);
    onWatch(res, url);
  });
  cleanups.push(() => s.close());
  return Object.assign(s, { open, closed: () => closed });
}

function startStream(res: http.ServerResponse): void {
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  res.flushHeaders();
}

function newClient(url: string): KubeClient {
  const c = KubeClient.forServer(url, { clock: new InstantClock(), retry: { maxAttempts: 3 } });
  cleanups.push(() => c.transport.destroy());
  return c;
}

async function drain<T>(w: WatchStream<T>): Promise<{ events: ObjectWatchEvent<T>[]; error: unknown }> {
  const events: ObjectWatchEvent<T>[] = [];
  try {
    for await (const e of w) events.push(e);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

describe("watch", () => {
  it("sends the watch parameters and yields events as they arrive, tracking the resource version", async () => {
    let seen: URL | undefined;
    const s = await watchServer((res, url) => {
      seen = url;
      startStream(res);
      res.write(line("ADDED", cm("a", "11")));
    });
    const c = newClient(s.url);
    const w = await c.resource(configMaps, "ns").watch({
      resourceVersion: "10",
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
      labelSelector: { app: "x" },
      fieldSelector: "metadata.name=a",
    });
    expect(seen?.pathname).toBe("/api/v1/namespaces/ns/configmaps");
    expect(Object.fromEntries(seen?.searchParams ?? [])).toEqual({
      watch: "true",
      resourceVersion: "10",
      allowWatchBookmarks: "true",
      timeoutSeconds: "300",
      labelSelector: "app=x",
      fieldSelector: "metadata.name=a",
    });
    const it = w[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toEqual({ type: "ADDED", object: cm("a", "11") });
    expect(w.resourceVersion).toBe("11");
    // The next event is written only now: the stream is incremental, not buffered to the end.
    const res = s.open[0]!;
    res.write(line("MODIFIED", cm("a", "12")).slice(0, 10));
    res.write(line("MODIFIED", cm("a", "12")).slice(10));
    res.write(line("BOOKMARK", { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "15" } }));
    res.write(line("DELETED", cm("a", "16")));
    res.end();
    const rest: ObjectWatchEvent<unknown>[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect(rest.map((e) => e.type)).toEqual(["MODIFIED", "BOOKMARK", "DELETED"]);
    expect(w.resourceVersion).toBe("16");
  });

  it("sends watch-list parameters", async () => {
    let seen: URL | undefined;
    const s = await watchServer((res, url) => {
      seen = url;
      startStream(res);
      res.end();
    });
    const c = newClient(s.url);
    const w = await c.resource(configMaps).watch({
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
      allowWatchBookmarks: true,
    });
    expect((await drain(w)).events).toEqual([]);
    expect(seen?.pathname).toBe("/api/v1/configmaps");
    expect(seen?.searchParams.get("sendInitialEvents")).toBe("true");
    expect(seen?.searchParams.get("resourceVersionMatch")).toBe("NotOlderThan");
  });

  it("throws GoneError for an in-stream ERROR 410, after the events before it", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.write(line("ADDED", cm("a", "11")));
      res.write(line("ERROR", statusBody(410, "Expired", "too old resource version: 5 (11)")));
    });
    const c = newClient(s.url);
    const { events, error } = await drain(await c.resource(configMaps, "ns").watch({ resourceVersion: "5" }));
    expect(events).toHaveLength(1);
    expect(error).toBeInstanceOf(GoneError);
    expect(isGone(error)).toBe(true);
    expect((error as GoneError).fromWatchEvent).toBe(true);
    expect((error as GoneError).code).toBe(410);
    expect((error as GoneError).reason).toBe("Expired");
    await until(() => s.closed() === 1);
  });

  it("rejects watch() with GoneError when the server answers HTTP 410", async () => {
    const s = await watchServer((res) => sendJson(res, 410, statusBody(410, "Gone", "too old")));
    const c = newClient(s.url);
    await expect(c.resource(configMaps, "ns").watch({ resourceVersion: "1" })).rejects.toBeInstanceOf(GoneError);
    expect(s.requests).toHaveLength(1);
  });

  it("retries the connect phase of a watch on 503", async () => {
    let n = 0;
    const s = await watchServer((res) => {
      if (n++ === 0) sendJson(res, 503, statusBody(503, "ServiceUnavailable", "starting"));
      else {
        startStream(res);
        res.end(line("ADDED", cm("a", "1")));
      }
    });
    const c = newClient(s.url);
    const { events } = await drain(await c.resource(configMaps, "ns").watch());
    expect(events).toHaveLength(1);
    expect(s.requests).toHaveLength(2);
  });

  it("ends with WatchDecodeError on a garbage line, never an uncaught exception", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.write(line("ADDED", cm("a", "11")));
      res.write("<html>proxy error</html>\n");
      res.write(line("ADDED", cm("b", "12")));
    });
    const c = newClient(s.url);
    const { events, error } = await drain(await c.resource(configMaps, "ns").watch());
    expect(events.map((e) => (e.type === "BOOKMARK" ? "" : e.object.metadata?.name))).toEqual(["a"]);
    expect(error).toBeInstanceOf(WatchDecodeError);
    expect((error as WatchDecodeError).kind).toBe("invalid-json");
    await until(() => s.closed() === 1);
  });

  it("ends with WatchDecodeError 'truncated' when the server cuts an event short", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.write(line("ADDED", cm("a", "11")));
      res.end(line("ADDED", cm("b", "12")).slice(0, 25));
    });
    const c = newClient(s.url);
    const { events, error } = await drain(await c.resource(configMaps, "ns").watch());
    expect(events).toHaveLength(1);
    expect((error as WatchDecodeError).kind).toBe("truncated");
  });

  it("ends with a NetworkError when the connection breaks mid-stream", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.write(line("ADDED", cm("a", "11")), () => setImmediate(() => res.socket?.destroy()));
    });
    const c = newClient(s.url);
    const { events, error } = await drain(await c.resource(configMaps, "ns").watch());
    expect(events).toHaveLength(1);
    expect(error).toBeInstanceOf(NetworkError);
  });

  it("ends with IdleTimeoutError when the server stays silent longer than idleTimeoutMs", async () => {
    const s = await watchServer((res) => startStream(res));
    const c = newClient(s.url);
    const { events, error } = await drain(await c.resource(configMaps, "ns").watch({ idleTimeoutMs: 150 }));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(IdleTimeoutError);
    expect(error).toBeInstanceOf(NetworkError);
  });

  it("throws the signal's reason when aborted mid-stream, and closes the connection", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.write(line("ADDED", cm("a", "11")));
    });
    const c = newClient(s.url);
    const ac = new AbortController();
    const w = await c.resource(configMaps, "ns").watch({ signal: ac.signal });
    const reason = new Error("shutting down");
    const events: ObjectWatchEvent<unknown>[] = [];
    const err = await (async () => {
      for await (const e of w) {
        events.push(e);
        ac.abort(reason);
      }
    })().catch((e: unknown) => e);
    expect(events).toHaveLength(1);
    expect(err).toBe(reason);
    await until(() => s.closed() === 1);
  });

  it("aborting while waiting for the next event rejects that wait", async () => {
    const s = await watchServer((res) => startStream(res));
    const c = newClient(s.url);
    const ac = new AbortController();
    const w = await c.resource(configMaps, "ns").watch({ signal: ac.signal });
    const pending = w[Symbol.asyncIterator]().next();
    const reason = new Error("stop now");
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await until(() => s.closed() === 1);
  });

  it("close() ends the iteration cleanly and releases the connection", async () => {
    const s = await watchServer((res) => startStream(res));
    const c = newClient(s.url);
    const w = await c.resource(configMaps, "ns").watch();
    const pending = w[Symbol.asyncIterator]().next();
    w.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await until(() => s.closed() === 1);
  });

  it("leaving the loop early releases the connection", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.write(line("ADDED", cm("a", "1")) + line("ADDED", cm("b", "2")));
    });
    const c = newClient(s.url);
    for await (const e of await c.resource(configMaps, "ns").watch()) {
      expect(e.type).toBe("ADDED");
      break;
    }
    await until(() => s.closed() === 1);
  });

  it("await using closes the watch at the end of the scope", async () => {
    const s = await watchServer((res) => startStream(res));
    const c = newClient(s.url);
    {
      await using w = await c.resource(configMaps, "ns").watch();
      expect(w.resourceVersion).toBeUndefined();
    }
    await until(() => s.closed() === 1);
  });

  it("client.close() ends open watches with an AbortError", async () => {
    const s = await watchServer((res) => startStream(res));
    const c = newClient(s.url);
    const w = await c.resource(configMaps, "ns").watch();
    const pending = w[Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    await c.close();
    const err = await pending;
    expect(err).toBeInstanceOf(DOMException);
    expect((err as DOMException).name).toBe("AbortError");
    await until(() => s.closed() === 1);
  });

  it("refuses to be iterated twice", async () => {
    const s = await watchServer((res) => {
      startStream(res);
      res.end();
    });
    const c = newClient(s.url);
    const w = await c.resource(configMaps, "ns").watch();
    await drain(w);
    expect(() => w[Symbol.asyncIterator]()).toThrow("only once");
  });
});
