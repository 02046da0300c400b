// The live dashboard: a small page with the runs and tasks, and each run's own page (`/runs/<ns>/<name>`), all
// updated over one WebSocket. Runs, tasks and pods come from the controller's own informers (no apiserver
// traffic per browser); a run page also shows its step and sidecar logs, read from the apiserver's pod log
// endpoint through the controller's client (one stream per container however many browsers show it), and its
// Events, from informers that run only while someone looks at the run. Read-only. The views in views.ts are
// the only data sent: no scripts, env or parameter values — but logs and results are what the steps printed
// and wrote, so the page is for whoever may read those (see docs/operations.md, "The dashboard").
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isIP } from "node:net";
import type { DeepReadonly, KubeClient } from "@minitask/client";
import {
  isDeletedFinalStateUnknown,
  type Logger,
  metaNamespaceKeyFunc,
  type ResourceEventHandler,
  type SharedIndexInformer,
  silentLogger,
} from "@minitask/informers";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { Task, TaskRun } from "../contract.ts";
import type { Pod } from "../reconciler/corev1.ts";
import { apiEventInformers, type EventInformerFactory, type EventView, RunEvents } from "./events.ts";
import { type ContainerRef, type LogEnd, LogHub, type LogOpener, type LogSubscriber } from "./logs.ts";
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from "./page.ts";
import {
  logReadiness,
  logRefusal,
  podsOfRun,
  type RunDetail,
  type RunView,
  runDetail,
  runView,
  type TaskView,
  taskView,
} from "./views.ts";

export type { EventView } from "./events.ts";
export type { LogEnd } from "./logs.ts";
export { type RunDetail, type RunView, runDetail, runView, type TaskView, taskView } from "./views.ts";

/** What the server sends. */
export type DashboardMessage =
  | { type: "snapshot"; runs: RunView[]; tasks: TaskView[] }
  | { type: "delta"; runs: RunView[]; tasks: TaskView[]; deletedRuns: string[]; deletedTasks: string[] }
  /** The watched run (null: there is no such run, or not yet). */
  | { type: "run"; namespace: string; name: string; run: RunDetail | null }
  | { type: "events"; namespace: string; name: string; events: EventView[]; available: boolean }
  | { type: "log"; namespace: string; pod: string; container: string; text: string }
  | { type: "logEnd"; namespace: string; pod: string; container: string; end: LogEnd };

/** What the page sends: which run it shows (one at a time), and which of its containers' logs. */
export type ClientMessage =
  | { type: "watch"; namespace: string; name: string }
  | { type: "unwatch" }
  | { type: "logs"; pod: string; container: string };

export interface DashboardOptions {
  readonly taskRuns: SharedIndexInformer<TaskRun>;
  readonly tasks: SharedIndexInformer<Task>;
  /** The controller's pod informer (our pods only): sidecar states, and which logs may be read. */
  readonly pods?: SharedIndexInformer<Pod> | undefined;
  /** The controller's client: pod logs and Events. Without it the run page has neither. */
  readonly client?: KubeClient | undefined;
  /** Opens a container log (default: the client's `pods/log`, following). */
  readonly openLog?: LogOpener | undefined;
  /** Makes an Events informer for a field selector (default: over the client). */
  readonly eventInformers?: EventInformerFactory | undefined;
  /** Deltas are batched and sent at most this often. Default 100 ms. */
  readonly flushMs?: number;
  /** Bytes of one container's log shown (the rest is cut, and said so). Default 256 KiB. */
  readonly maxLogBytes?: number;
  /** Container logs held at once over all browsers. Default 64. */
  readonly maxLogs?: number;
  /**
   * Host names (besides localhost and IP addresses) a browser may reach the dashboard by. Others are refused
   * the WebSocket, so a web page elsewhere cannot read it by DNS rebinding.
   */
  readonly allowedHosts?: readonly string[];
  readonly logger?: Logger;
}

/** Logs one browser may ask for on one run page. */
const MAX_LOGS_PER_BROWSER = 64;
/** A browser this far behind (bytes queued for it) is disconnected; it reconnects and starts afresh. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** The largest message a browser may send. */
const MAX_CLIENT_MESSAGE = 4096;

const RUN_PAGE = /^\/runs\/([a-z0-9][a-z0-9-]{0,62})\/([a-z0-9][a-z0-9.-]{0,252})\/?$/;

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Whether a `Host` header names this machine by a name a DNS rebinding attack cannot take over. */
export function isAllowedHost(host: string | undefined, allowed: readonly string[] = []): boolean {
  if (!host) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  const bare = name.startsWith("[") ? name.slice(1, -1) : name;
  return bare === "localhost" || bare.endsWith(".localhost") || isIP(bare) !== 0 || allowed.includes(bare);
}

/** Whether a WebSocket upgrade comes from the dashboard's own page (or from a non-browser client). */
export function isSameOrigin(req: IncomingMessage, allowed: readonly string[] = []): boolean {
  const host = req.headers.host;
  if (!isAllowedHost(host, allowed)) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const runKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** One browser (one WebSocket): the run it shows and the logs it reads. */
class Session implements LogSubscriber {
  readonly ws: WebSocket;
  readonly #send: (ws: WebSocket, msg: DashboardMessage) => void;
  watch: { readonly namespace: string; readonly name: string; readonly key: string } | undefined;
  readonly logs = new Map<string, ContainerRef>();

  constructor(ws: WebSocket, send: (ws: WebSocket, msg: DashboardMessage) => void) {
    this.ws = ws;
    this.#send = send;
  }

  text(ref: ContainerRef, text: string): void {
    this.#send(this.ws, { type: "log", namespace: ref.namespace, pod: ref.pod, container: ref.container, text });
  }

  end(ref: ContainerRef, end: LogEnd): void {
    this.#send(this.ws, { type: "logEnd", namespace: ref.namespace, pod: ref.pod, container: ref.container, end });
  }
}

function parseClientMessage(data: RawData): ClientMessage | undefined {
  const text = String(data);
  if (text.length > MAX_CLIENT_MESSAGE) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== "object" || m === null) return undefined;
  const o = m as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 253;
  if (o.type === "watch" && str(o.namespace) && str(o.name))
    return { type: "watch", namespace: o.namespace, name: o.name };
  if (o.type === "unwatch") return { type: "unwatch" };
  if (o.type === "logs" && str(o.pod) && str(o.container)) return { type: "logs", pod: o.pod, container: o.container };
  return undefined;
}

/** Serves the page at `/` and `/runs/<ns>/<name>`, its script and style, and the live feed at `/ws`. */
export class Dashboard {
  readonly #o: DashboardOptions;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #pendingRuns = new Map<string, RunView>();
  readonly #pendingTasks = new Map<string, TaskView>();
  readonly #deletedRuns = new Set<string>();
  readonly #deletedTasks = new Set<string>();
  readonly #sessions = new Map<WebSocket, Session>();
  /** Run key → the browsers showing it. */
  readonly #watchers = new Map<string, Set<Session>>();
  /** Run key → its events, while someone shows it. */
  readonly #events = new Map<string, { uid: string; feed: RunEvents }>();
  readonly #dirtyRuns = new Set<string>();
  readonly #dirtyEvents = new Set<string>();
  readonly #logs: LogHub | undefined;
  readonly #eventInformers: EventInformerFactory | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: DashboardOptions) {
    this.#o = opts;
    const logger = opts.logger ?? silentLogger;
    const client = opts.client;
    const openLog: LogOpener | undefined =
      opts.openLog ??
      (client
        ? async (ref, o) =>
            client.podLogs(ref.namespace, ref.pod, {
              container: ref.container,
              follow: true,
              limitBytes: o.limitBytes,
              signal: o.signal,
            })
        : undefined);
    this.#logs =
      openLog && opts.pods
        ? new LogHub({
            open: openLog,
            readiness: (ref) => logReadiness(this.#pod(ref.namespace, ref.pod), ref.container),
            ...(opts.maxLogBytes !== undefined ? { maxBytesPerLog: opts.maxLogBytes } : {}),
            ...(opts.maxLogs !== undefined ? { maxLogs: opts.maxLogs } : {}),
            logger,
          })
        : undefined;
    this.#eventInformers = opts.eventInformers ?? (client ? apiEventInformers(client, logger) : undefined);

    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = url.pathname;
      if (path === "/" || path === "/index.html" || RUN_PAGE.test(path)) {
        res.writeHead(200, HTML_HEADERS);
        res.end(DASHBOARD_HTML);
        return;
      }
      if (path === "/app.js" || path === "/app.css") {
        const js = path === "/app.js";
        res.writeHead(200, {
          "content-type": js ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
        });
        res.end(js ? DASHBOARD_JS : DASHBOARD_CSS);
        return;
      }
      if (path === "/favicon.ico") {
        res.writeHead(204);
        res.end();
        return;
      }
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok");
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    });
    this.#wss = new WebSocketServer({
      server: this.#server,
      path: "/ws",
      maxPayload: MAX_CLIENT_MESSAGE,
      verifyClient: (info: { req: IncomingMessage }) => isSameOrigin(info.req, opts.allowedHosts),
    });
    this.#wss.on("connection", (ws) => this.#connected(ws));
    opts.taskRuns.addEventHandler(this.#listHandler<TaskRun>(this.#pendingRuns, this.#deletedRuns, runView));
    opts.taskRuns.addEventHandler(this.#runPageHandler());
    opts.tasks.addEventHandler(this.#listHandler<Task>(this.#pendingTasks, this.#deletedTasks, taskView));
    opts.pods?.addEventHandler(this.#podHandler());
  }

  snapshot(): DashboardMessage {
    return {
      type: "snapshot",
      runs: this.#o.taskRuns.getIndexer().list().map(runView),
      tasks: this.#o.tasks.getIndexer().list().map(taskView),
    };
  }

  /** Open log streams and Events informers (for tests and debugging). */
  stats(): { browsers: number; watchedRuns: number; eventFeeds: number; logs: number; logStreams: number } {
    const l = this.#logs?.stats() ?? { logs: 0, streaming: 0 };
    return {
      browsers: this.#sessions.size,
      watchedRuns: this.#watchers.size,
      eventFeeds: this.#events.size,
      logs: l.logs,
      logStreams: l.streaming,
    };
  }

  #connected(ws: WebSocket): void {
    const session = new Session(ws, (w, m) => this.#send(w, m));
    this.#sessions.set(ws, session);
    ws.on("message", (data) => {
      const m = parseClientMessage(data);
      if (m) this.#onMessage(session, m);
    });
    ws.on("close", () => {
      this.#unwatch(session);
      this.#sessions.delete(ws);
    });
    this.#send(ws, this.snapshot());
  }

  #onMessage(s: Session, m: ClientMessage): void {
    switch (m.type) {
      case "watch":
        this.#watch(s, m.namespace, m.name);
        return;
      case "unwatch":
        this.#unwatch(s);
        return;
      case "logs":
        this.#subscribeLog(s, m.pod, m.container);
        return;
    }
  }

  #run(key: string): DeepReadonly<TaskRun> | undefined {
    return this.#o.taskRuns.getIndexer().getByKey(key);
  }

  #pod(namespace: string, name: string): DeepReadonly<Pod> | undefined {
    return this.#o.pods?.getIndexer().getByKey(runKey(namespace, name));
  }

  #detail(key: string): RunDetail | null {
    const tr = this.#run(key);
    if (!tr) return null;
    const ns = tr.metadata?.namespace ?? "";
    return runDetail(tr, (pod) => this.#pod(ns, pod));
  }

  #watch(s: Session, namespace: string, name: string): void {
    const key = runKey(namespace, name);
    if (s.watch?.key === key) return;
    this.#unwatch(s);
    s.watch = { namespace, name, key };
    const set = this.#watchers.get(key) ?? new Set<Session>();
    this.#watchers.set(key, set);
    set.add(s);
    this.#ensureEvents(key);
    this.#send(s.ws, { type: "run", namespace, name, run: this.#detail(key) });
    this.#send(s.ws, this.#eventsMessage(key, namespace, name));
  }

  #unwatch(s: Session): void {
    for (const ref of s.logs.values()) this.#logs?.unsubscribe(ref, s);
    s.logs.clear();
    const w = s.watch;
    if (!w) return;
    s.watch = undefined;
    const set = this.#watchers.get(w.key);
    set?.delete(s);
    if (set && set.size === 0) {
      this.#watchers.delete(w.key);
      this.#events.get(w.key)?.feed.close();
      this.#events.delete(w.key);
    }
  }

  /** Keeps the Events informers of a watched run in step with it (a new uid, new pods). */
  #ensureEvents(key: string): void {
    if (!this.#eventInformers || !this.#watchers.has(key)) return;
    const tr = this.#run(key);
    const uid = tr?.metadata?.uid;
    const cur = this.#events.get(key);
    if (cur && cur.uid !== uid) {
      cur.feed.close();
      this.#events.delete(key);
    }
    if (!tr || !uid) return;
    let feed = this.#events.get(key)?.feed;
    if (!feed) {
      feed = new RunEvents(tr.metadata?.namespace ?? "", uid, this.#eventInformers, () => {
        this.#dirtyEvents.add(key);
        this.#schedule();
      });
      this.#events.set(key, { uid, feed });
    }
    feed.addPods(podsOfRun(tr));
  }

  #eventsMessage(key: string, namespace: string, name: string): DashboardMessage {
    const feed = this.#events.get(key)?.feed;
    return { type: "events", namespace, name, events: feed?.list() ?? [], available: !!this.#eventInformers };
  }

  #subscribeLog(s: Session, pod: string, container: string): void {
    const w = s.watch;
    const ref: ContainerRef = { namespace: w?.namespace ?? "", pod, container };
    const key = `${pod}/${container}`;
    if (s.logs.has(key)) return;
    const refusal = !w
      ? "no run is shown"
      : !this.#logs
        ? "this dashboard has no access to logs"
        : s.logs.size >= MAX_LOGS_PER_BROWSER
          ? `at most ${MAX_LOGS_PER_BROWSER} logs per page`
          : logRefusal(this.#run(w.key), this.#pod(w.namespace, pod), pod, container);
    if (refusal !== undefined || !this.#logs) {
      s.end(ref, { reason: "error", message: refusal ?? "" });
      return;
    }
    s.logs.set(key, ref);
    this.#logs.subscribe(ref, s);
  }

  #listHandler<T>(
    pending: Map<string, { uid: string }>,
    deleted: Set<string>,
    view: (o: DeepReadonly<T>) => { uid: string },
  ): ResourceEventHandler<T> {
    const upsert = (o: DeepReadonly<T>) => {
      const v = view(o);
      deleted.delete(v.uid);
      pending.set(v.uid, v);
      this.#schedule();
    };
    return {
      onAdd: (o) => upsert(o),
      onUpdate: (_old, o) => upsert(o),
      onDelete: (o) => {
        const obj = isDeletedFinalStateUnknown(o) ? o.obj : o;
        const v = view(obj as DeepReadonly<T>);
        pending.delete(v.uid);
        deleted.add(v.uid);
        this.#schedule();
      },
    };
  }

  #runPageHandler(): ResourceEventHandler<TaskRun> {
    const changed = (o: DeepReadonly<TaskRun> | undefined) => {
      if (!o?.metadata?.name) return;
      const key = metaNamespaceKeyFunc(o);
      if (!this.#watchers.has(key)) return;
      this.#ensureEvents(key);
      this.#dirtyRuns.add(key);
      this.#schedule();
    };
    return {
      onAdd: (o) => changed(o),
      onUpdate: (_old, o) => changed(o),
      onDelete: (o) => changed(isDeletedFinalStateUnknown(o) ? (o.obj as DeepReadonly<TaskRun>) : o),
    };
  }

  #podHandler(): ResourceEventHandler<Pod> {
    const changed = (p: DeepReadonly<Pod> | undefined) => {
      const ns = p?.metadata?.namespace;
      const name = p?.metadata?.name;
      if (!ns || !name) return;
      this.#logs?.podChanged(ns, name);
      for (const o of p.metadata?.ownerReferences ?? []) {
        const key = runKey(ns, o.name);
        if (o.kind !== "TaskRun" || !this.#watchers.has(key)) continue;
        this.#dirtyRuns.add(key);
        this.#schedule();
      }
    };
    return {
      onAdd: (p) => changed(p),
      onUpdate: (_old, p) => changed(p),
      onDelete: (p) => changed(isDeletedFinalStateUnknown(p) ? (p.obj as DeepReadonly<Pod>) : p),
    };
  }

  #schedule(): void {
    if (this.#wss.clients.size === 0) {
      this.#clearPending();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.#flush(), this.#o.flushMs ?? 100);
  }

  #clearPending(): void {
    this.#pendingRuns.clear();
    this.#pendingTasks.clear();
    this.#deletedRuns.clear();
    this.#deletedTasks.clear();
    this.#dirtyRuns.clear();
    this.#dirtyEvents.clear();
  }

  #flush(): void {
    this.#timer = undefined;
    const listChanged =
      this.#pendingRuns.size + this.#pendingTasks.size + this.#deletedRuns.size + this.#deletedTasks.size > 0;
    const delta: DashboardMessage = {
      type: "delta",
      runs: [...this.#pendingRuns.values()],
      tasks: [...this.#pendingTasks.values()],
      deletedRuns: [...this.#deletedRuns],
      deletedTasks: [...this.#deletedTasks],
    };
    const runs = [...this.#dirtyRuns];
    const events = [...this.#dirtyEvents];
    this.#clearPending();
    if (listChanged) for (const ws of this.#wss.clients) this.#send(ws, delta);
    for (const key of runs) {
      const detail = this.#detail(key);
      for (const s of this.#watchers.get(key) ?? []) {
        const w = s.watch;
        if (w) this.#send(s.ws, { type: "run", namespace: w.namespace, name: w.name, run: detail });
      }
    }
    for (const key of events) {
      for (const s of this.#watchers.get(key) ?? []) {
        const w = s.watch;
        if (w) this.#send(s.ws, this.#eventsMessage(key, w.namespace, w.name));
      }
    }
  }

  #send(ws: WebSocket, msg: DashboardMessage): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(msg));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    for (const s of this.#sessions.values()) this.#unwatch(s);
    this.#logs?.close();
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
    await new Promise<void>((r) => {
      this.#server.close(() => r());
      this.#server.closeAllConnections();
    });
  }
}
