// The live dashboard: one small page, updated over a WebSocket fed from the controller's own informers
// (no apiserver traffic per browser). Read-only; shows no scripts, env or secrets — only names, images,
// phases, reasons, step states and times.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DeepReadonly } from "@minitask/client";
import { isDeletedFinalStateUnknown, type ResourceEventHandler, type SharedIndexInformer } from "@minitask/informers";
import { WebSocket, WebSocketServer } from "ws";
import { resolvedSteps, type Task, type TaskRun } from "../contract.ts";
import { DASHBOARD_HTML } from "./page.ts";

export interface RunView {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly task: string;
  readonly phase: string;
  readonly reason: string;
  readonly message: string;
  readonly created: string;
  readonly started: string;
  readonly finished: string;
  readonly steps: readonly {
    name: string;
    state: string;
    exitCode?: number;
    startedAt?: string;
    finishedAt?: string;
  }[];
}

export interface TaskView {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly description: string;
  readonly steps: readonly { name: string; image: string }[];
  readonly params: readonly string[];
}

export type DashboardMessage =
  | { type: "snapshot"; runs: RunView[]; tasks: TaskView[] }
  | { type: "delta"; runs: RunView[]; tasks: TaskView[]; deletedRuns: string[]; deletedTasks: string[] };

export function runView(tr: DeepReadonly<TaskRun>): RunView {
  const s = tr.status;
  return {
    uid: tr.metadata?.uid ?? "",
    namespace: tr.metadata?.namespace ?? "",
    name: tr.metadata?.name ?? "",
    task: tr.spec?.taskRef ?? "",
    phase: s?.phase ?? "",
    reason: s?.reason ?? "",
    message: s?.message ?? "",
    created: tr.metadata?.creationTimestamp ?? "",
    started: s?.startTime ?? "",
    finished: s?.finishTime ?? "",
    steps: (s?.steps ?? []).map((st) => ({
      name: st.name,
      state: st.state,
      ...(st.exitCode !== undefined ? { exitCode: st.exitCode } : {}),
      ...(st.startedAt ? { startedAt: st.startedAt } : {}),
      ...(st.finishedAt ? { finishedAt: st.finishedAt } : {}),
    })),
  };
}

export function taskView(t: DeepReadonly<Task>): TaskView {
  return {
    uid: t.metadata?.uid ?? "",
    namespace: t.metadata?.namespace ?? "",
    name: t.metadata?.name ?? "",
    description: t.spec?.description ?? "",
    steps: resolvedSteps(t).map((s) => ({ name: s.name, image: s.image })),
    params: (t.spec?.params ?? []).map((p) => p.name),
  };
}

export interface DashboardOptions {
  readonly taskRuns: SharedIndexInformer<TaskRun>;
  readonly tasks: SharedIndexInformer<Task>;
  /** Deltas are batched and sent at most this often. Default 100 ms. */
  readonly flushMs?: number;
}

/** Serves the page at `/` and the live feed at `/ws`. */
export class Dashboard {
  readonly #o: DashboardOptions;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #pendingRuns = new Map<string, RunView>();
  readonly #pendingTasks = new Map<string, TaskView>();
  readonly #deletedRuns = new Set<string>();
  readonly #deletedTasks = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: DashboardOptions) {
    this.#o = opts;
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/" || url.pathname === "/index.html") {
        res.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
          "cache-control": "no-store",
        });
        res.end(DASHBOARD_HTML);
        return;
      }
      if (url.pathname === "/favicon.ico") {
        res.writeHead(204);
        res.end();
        return;
      }
      if (url.pathname === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok");
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    });
    this.#wss = new WebSocketServer({ server: this.#server, path: "/ws" });
    this.#wss.on("connection", (ws) => this.#send(ws, this.snapshot()));
    opts.taskRuns.addEventHandler(this.#handler<TaskRun>(this.#pendingRuns, this.#deletedRuns, runView));
    opts.tasks.addEventHandler(this.#handler<Task>(this.#pendingTasks, this.#deletedTasks, taskView));
  }

  snapshot(): DashboardMessage {
    return {
      type: "snapshot",
      runs: this.#o.taskRuns.getIndexer().list().map(runView),
      tasks: this.#o.tasks.getIndexer().list().map(taskView),
    };
  }

  #handler<T>(
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

  #schedule(): void {
    if (this.#timer || this.#wss.clients.size === 0) {
      if (this.#wss.clients.size === 0) this.#clearPending();
      return;
    }
    this.#timer = setTimeout(() => this.#flush(), this.#o.flushMs ?? 100);
  }

  #clearPending(): void {
    this.#pendingRuns.clear();
    this.#pendingTasks.clear();
    this.#deletedRuns.clear();
    this.#deletedTasks.clear();
  }

  #flush(): void {
    this.#timer = undefined;
    const msg: DashboardMessage = {
      type: "delta",
      runs: [...this.#pendingRuns.values()],
      tasks: [...this.#pendingTasks.values()],
      deletedRuns: [...this.#deletedRuns],
      deletedTasks: [...this.#deletedTasks],
    };
    this.#clearPending();
    for (const ws of this.#wss.clients) this.#send(ws, msg);
  }

  #send(ws: WebSocket, msg: DashboardMessage): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
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
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
    await new Promise<void>((r) => {
      this.#server.close(() => r());
      this.#server.closeAllConnections();
    });
  }
}
