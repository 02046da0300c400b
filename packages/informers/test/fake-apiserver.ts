// A local HTTP server of the tests' own that plays a tiny apiserver for one namespaced resource
// (ConfigMaps in one namespace): list with limit/continue, watch from a resource version, bookmarks,
// watch-list — and, on demand, the things a real server will not do when asked: truncated JSON,
// non-JSON lines, objects of the wrong kind, a silent connection, errors of any status.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface FakeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string; managedFields?: unknown[] };
  data?: Record<string, string>;
}

interface LogEntry {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly obj: FakeObject;
}

interface Watcher {
  readonly res: http.ServerResponse;
  readonly selector: ((o: FakeObject) => boolean) | undefined;
}

/** A fault for the next request of a kind: gets the raw response; the server does nothing else. */
export type Fault = (res: http.ServerResponse, url: URL) => void;

export const NS = "fake";
const BASE = `/api/v1/namespaces/${NS}/configmaps`;

export class FakeApiserver {
  readonly url: string;
  rv = 100;
  readonly objects = new Map<string, FakeObject>();
  readonly log: LogEntry[] = [];
  /** Oldest RV a watch may start from (older → 410 Expired in the stream). */
  oldestWatchRV = 0;
  /** Whether watch-list (sendInitialEvents) is supported: true, "ignore" (old server), or a status code. */
  watchList: true | "ignore" | number = true;
  /** Continue requests that get 410 Expired. */
  expireContinueTokens = 0;
  readonly listFaults: Fault[] = [];
  readonly watchFaults: Fault[] = [];
  readonly requests: URL[] = [];
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #watchers = new Set<Watcher>();
  #uid = 0;
  #silent = false;

  private constructor(server: http.Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(): Promise<FakeApiserver> {
    let self: FakeApiserver | undefined;
    const server = http.createServer((req, res) => self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    self = new FakeApiserver(server, `http://127.0.0.1:${port}`);
    const created = self;
    server.on("connection", (s) => {
      created.#sockets.add(s);
      s.on("close", () => created.#sockets.delete(s));
    });
    return created;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Open watch connections. */
  get watcherCount(): number {
    return this.#watchers.size;
  }

  // ---- state changes (logged and broadcast to watchers)

  put(name: string, data: Record<string, string> = {}, extra: Partial<FakeObject["metadata"]> = {}): FakeObject {
    const old = this.objects.get(name);
    const obj: FakeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: NS,
        uid: old?.metadata.uid ?? `uid-${++this.#uid}`,
        resourceVersion: String(++this.rv),
        managedFields: [{ manager: "test" }],
        ...extra,
      },
      data,
    };
    this.objects.set(name, obj);
    this.#append({ rv: this.rv, type: old ? "MODIFIED" : "ADDED", obj });
    return obj;
  }

  remove(name: string): void {
    const old = this.objects.get(name);
    if (!old) return;
    this.objects.delete(name);
    const obj = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } };
    this.#append({ rv: this.rv, type: "DELETED", obj });
  }

  /**
   * Changes state without telling watchers and without keeping the events for later watches (what a
   * watch misses when its resource version has been compacted away).
   */
  silently(fn: () => void): void {
    this.#silent = true;
    try {
      fn();
    } finally {
      this.#silent = false;
    }
  }

  /** Ends every open watch cleanly. */
  endWatches(): void {
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  /** Sends a bookmark at the current RV to open watches. */
  bookmark(): void {
    for (const w of this.#watchers) {
      w.res.write(`${JSON.stringify({ type: "BOOKMARK", object: bookmarkObject(this.rv) })}\n`);
    }
  }

  /** Keys and RVs, as the informer's cache should hold them. */
  snapshot(): Map<string, string> {
    return new Map([...this.objects.values()].map((o) => [`${NS}/${o.metadata.name}`, o.metadata.resourceVersion]));
  }

  #append(e: LogEntry): void {
    if (this.#silent) return;
    this.log.push(e);
    for (const w of this.#watchers) {
      if (w.selector && !w.selector(e.obj)) continue;
      w.res.write(`${JSON.stringify({ type: e.type, object: e.obj })}\n`);
    }
  }

  // ---- HTTP

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(url);
    if (url.pathname !== BASE || req.method !== "GET") {
      status(res, 404, "NotFound", `no route ${req.method} ${url.pathname}`);
      return;
    }
    if (url.searchParams.get("watch") === "true") {
      const fault = this.watchFaults.shift();
      if (fault) fault(res, url);
      else this.#watch(res, url);
      return;
    }
    const fault = this.listFaults.shift();
    if (fault) fault(res, url);
    else this.#list(res, url);
  }

  #list(res: http.ServerResponse, url: URL): void {
    const all = [...this.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const limit = Number(url.searchParams.get("limit") ?? "0");
    const cont = url.searchParams.get("continue");
    let start = 0;
    let rv = this.rv;
    if (cont && this.expireContinueTokens > 0) {
      this.expireContinueTokens--;
      status(res, 410, "Expired", "The provided continue parameter is too old to display a consistent list result.");
      return;
    }
    if (cont) {
      const c = JSON.parse(Buffer.from(cont, "base64").toString()) as { start: number; rv: number };
      start = c.start;
      rv = c.rv;
    }
    const items = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const more = limit > 0 && start + limit < all.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (more) metadata.continue = Buffer.from(JSON.stringify({ start: start + limit, rv })).toString("base64");
    json(res, 200, { kind: "ConfigMapList", apiVersion: "v1", metadata, items });
  }

  #watch(res: http.ServerResponse, url: URL): void {
    const sendInitial = url.searchParams.get("sendInitialEvents") === "true";
    if (sendInitial && typeof this.watchList === "number") {
      status(res, this.watchList, "Invalid", "sendInitialEvents is not supported");
      return;
    }
    const fromParam = url.searchParams.get("resourceVersion");
    const from = Number(fromParam ?? "0");
    if (!sendInitial && fromParam && from < this.oldestWatchRV) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        `${JSON.stringify({
          type: "ERROR",
          object: {
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            reason: "Expired",
            code: 410,
            message: `too old resource version: ${from} (${this.oldestWatchRV})`,
          },
        })}\n`,
      );
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    if (sendInitial || !fromParam) {
      for (const o of this.objects.values()) res.write(`${JSON.stringify({ type: "ADDED", object: o })}\n`);
      if (sendInitial && this.watchList === true) {
        const b = bookmarkObject(this.rv);
        b.metadata.annotations = { "k8s.io/initial-events-end": "true" };
        res.write(`${JSON.stringify({ type: "BOOKMARK", object: b })}\n`);
      }
    } else {
      for (const e of this.log) {
        if (e.rv > from) res.write(`${JSON.stringify({ type: e.type, object: e.obj })}\n`);
      }
    }
    const w: Watcher = { res, selector: undefined };
    this.#watchers.add(w);
    res.on("close", () => this.#watchers.delete(w));
  }
}

function bookmarkObject(rv: number): {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
} {
  return { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: String(rv) } };
}

export function json(
  res: http.ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function status(
  res: http.ServerResponse,
  code: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  json(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code }, headers);
}

/** Starts a watch response (200, chunked) and returns it for the fault to write into. */
export function openWatch(res: http.ServerResponse): http.ServerResponse {
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  res.flushHeaders();
  return res;
}

export function eventLine(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}
