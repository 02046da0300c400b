// Test support for kubectl-task: run the CLI (in-process with captured streams, or as a real child
// process), and a small fake apiserver (Tasks, TaskRuns with watch + resourceVersion replay, pods, pod
// logs, events) for what the real control plane cannot give: pod logs (kwok has none), scripted
// progress, error responses (RBAC, missing CRDs).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeClient } from "@minitask/client";
import type { Task, TaskRun } from "../src/contract.ts";
import type { CoreEvent, Pod } from "../src/kubectl-task/api.ts";
import { main } from "../src/kubectl-task/main.ts";
import type { Io, OutStream } from "../src/kubectl-task/term.ts";

export const CLI = fileURLToPath(new URL("../src/cli/kubectl-task.ts", import.meta.url));
export const BIN = fileURLToPath(new URL("../bin/kubectl-task.js", import.meta.url));
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Capture implements OutStream {
  text = "";
  readonly isTTY: boolean;
  readonly columns = 120;
  constructor(isTTY: boolean) {
    this.isTTY = isTTY;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface InProcessOptions {
  readonly env?: Record<string, string | undefined>;
  readonly tty?: boolean;
  /** Use this server instead of a kubeconfig (the fake apiserver's URL). */
  readonly server?: string;
  readonly now?: number;
  /** Called with a function that simulates Ctrl-C. */
  readonly interrupt?: (press: () => void) => void;
}

/** Runs the CLI in this process (fast; for the fake apiserver). */
export async function runInProcess(args: readonly string[], o: InProcessOptions = {}): Promise<CliResult> {
  const stdout = new Capture(o.tty ?? false);
  const stderr = new Capture(o.tty ?? false);
  const handlers = new Set<() => void>();
  const io: Io = {
    stdout,
    stderr,
    env: o.env ?? {},
    onInterrupt(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    ...(o.now !== undefined ? { now: () => o.now as number } : {}),
  };
  o.interrupt?.(() => {
    for (const h of [...handlers]) h();
  });
  const code = await main(args, io, (session) => {
    if (o.server !== undefined) session.useClient(KubeClient.forServer(o.server, { retry: false }), o.server);
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export interface ChildOptions {
  readonly env?: Record<string, string | undefined>;
  /** Run through the bin shim instead of the TypeScript entry. */
  readonly bin?: boolean;
  /**
   * Called with the child's stdout so far on every chunk; `interrupt` sends SIGINT the way a terminal's
   * Ctrl-C does (to the whole process group when `processGroup` is set, else to the child).
   */
  readonly onStdout?: (text: string, interrupt: () => void) => void;
  /** Run the child in its own process group (as a shell job is). */
  readonly processGroup?: boolean;
  readonly timeoutMs?: number;
}

/** Runs the CLI as a real child process (real exit code, stderr, signals). */
export function runChild(args: readonly string[], o: ChildOptions = {}): Promise<CliResult> {
  const argv = o.bin
    ? [BIN, ...args]
    : ["--conditions=minitask-source", "--disable-warning=ExperimentalWarning", CLI, ...args];
  const child = spawn(process.execPath, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...o.env },
    detached: o.processGroup === true,
  });
  const interrupt = (): void => {
    if (o.processGroup && child.pid !== undefined) process.kill(-child.pid, "SIGINT");
    else child.kill("SIGINT");
  };
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    o.onStdout?.(stdout, interrupt);
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => {
    if (o.processGroup && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    else child.kill("SIGKILL");
  }, o.timeoutMs ?? 90_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // As a shell reports it: 128 + the signal's number when the process died of a signal.
      resolve({ code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : -1), stdout, stderr });
    });
  });
}

/** A kubeconfig file for a plain-HTTP server with a token user. */
export function kubeconfigFor(server: string, namespace = "default"): string {
  const dir = mkdtempSync(join(tmpdir(), "kubectl-task-"));
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: fake",
      "  cluster:",
      `    server: ${server}`,
      "users:",
      "- name: fake",
      "  user:",
      "    token: fake-token",
      "contexts:",
      "- name: fake",
      "  context:",
      "    cluster: fake",
      "    user: fake",
      `    namespace: ${namespace}`,
      "current-context: fake",
      "",
    ].join("\n"),
  );
  return file;
}

/** Directory of the node binary running the tests (first on PATH for `#!/usr/bin/env node`). */
export const NODE_DIR = dirname(process.execPath);

// ---------------------------------------------------------------------------------------------------
// The fake apiserver.

type Obj = Task | TaskRun | Pod | CoreEvent;

interface LogEntry {
  text: string;
  /** Keep a followed stream open after the text (a still-running container). */
  hold?: boolean;
}

interface Watcher {
  readonly ns: string | undefined;
  readonly name: string | undefined;
  readonly res: ServerResponse;
}

interface HistoryEntry {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: TaskRun;
}

const GROUP_PATH = "/apis/minitask.myorg.dev/v1";

function status(res: ServerResponse, code: number, reason: string, message: string, details?: object): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code,
      reason,
      message,
      ...(details ? { details } : {}),
    }),
  );
}

function json(res: ServerResponse, body: unknown, code = 200): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += String(chunk);
  return s;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export interface Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: string;
}

/** A minimal apiserver for the resources the plugin uses. */
export class FakeApiServer {
  readonly tasks = new Map<string, Task>();
  readonly runs = new Map<string, TaskRun>();
  readonly pods = new Map<string, Pod>();
  /** `ns/pod/container` → log. */
  readonly logs = new Map<string, LogEntry>();
  readonly events: CoreEvent[] = [];
  readonly requests: Request[] = [];
  /** `VERB resource` pairs answered with 403 (e.g. `list taskruns`). */
  readonly forbidden = new Set<string>();
  /** Answer every minitask.myorg.dev request with a bare 404 (CRDs not installed). */
  crdsMissing = false;
  /** Called after a TaskRun is created (the test's "controller"). */
  onCreate: ((run: TaskRun) => void) | undefined;
  #rv = 100;
  #nameSeq = 0;
  readonly #history: HistoryEntry[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #openLogs = new Set<ServerResponse>();
  #server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => status(res, 500, "InternalError", String(err)));
    });
    await new Promise<void>((r) => this.#server?.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const w of this.#watchers) w.res.end();
    for (const r of this.#openLogs) r.end();
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }

  #nextRv(): string {
    this.#rv++;
    return String(this.#rv);
  }

  addTask(ns: string, task: Task): void {
    this.tasks.set(`${ns}/${task.metadata?.name}`, {
      apiVersion: "minitask.myorg.dev/v1",
      kind: "Task",
      ...task,
      metadata: {
        creationTimestamp: new Date().toISOString(),
        ...task.metadata,
        namespace: ns,
        uid: `uid-${task.metadata?.name}`,
      },
    });
  }

  /** Stores a run (as a controller or a test would) and tells the watchers. */
  putRun(run: TaskRun, type: "ADDED" | "MODIFIED" = "MODIFIED"): TaskRun {
    const ns = run.metadata?.namespace ?? "default";
    const stored: TaskRun = {
      apiVersion: "minitask.myorg.dev/v1",
      kind: "TaskRun",
      ...run,
      metadata: { ...run.metadata, namespace: ns, resourceVersion: this.#nextRv() },
    };
    this.runs.set(`${ns}/${stored.metadata?.name}`, stored);
    this.#emit({ rv: this.#rv, type, object: stored });
    return stored;
  }

  /** Updates the status of a stored run. */
  setStatus(ns: string, name: string, s: NonNullable<TaskRun["status"]>): TaskRun {
    const run = this.runs.get(`${ns}/${name}`);
    if (run === undefined) throw new Error(`no run ${ns}/${name}`);
    return this.putRun({ ...run, status: s });
  }

  addPod(ns: string, name: string, steps: readonly string[]): void {
    const containers = steps.map((s) => ({ name: `step-${s}` }));
    this.pods.set(`${ns}/${name}`, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns, uid: `uid-${name}` },
      spec: { initContainers: containers.slice(0, -1), containers: containers.slice(-1) },
    });
  }

  setLog(ns: string, pod: string, container: string, text: string, hold = false): void {
    this.logs.set(`${ns}/${pod}/${container}`, { text, hold });
  }

  /** Ends held (followed) log streams. */
  releaseLogs(): void {
    for (const r of this.#openLogs) r.end();
    this.#openLogs.clear();
  }

  #emit(e: HistoryEntry): void {
    this.#history.push(e);
    for (const w of this.#watchers) this.#send(w, e);
  }

  #send(w: Watcher, e: HistoryEntry): void {
    const m = e.object.metadata;
    if (w.ns !== undefined && m?.namespace !== w.ns) return;
    if (w.name !== undefined && m?.name !== w.name) return;
    w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const body = await readBody(req);
    const method = req.method ?? "GET";
    this.requests.push({ method, path: url.pathname, query: url.searchParams, body });
    const p = url.pathname;

    if (p.startsWith(GROUP_PATH)) {
      if (this.crdsMissing) return status(res, 404, "NotFound", "the server could not find the requested resource");
      const m = /^\/apis\/minitask\.myorg\.dev\/v1(?:\/namespaces\/([^/]+))?\/(tasks|taskruns)(?:\/([^/]+))?$/.exec(p);
      if (m === null) return status(res, 404, "NotFound", "404 page not found");
      const [, ns, resource, name] = m as unknown as [
        string,
        string | undefined,
        "tasks" | "taskruns",
        string | undefined,
      ];
      const watch = url.searchParams.get("watch") === "true";
      const verb =
        method === "GET"
          ? name
            ? "get"
            : watch
              ? "watch"
              : "list"
          : (({ POST: "create", PATCH: "patch", DELETE: "delete", PUT: "update" } as Record<string, string>)[method] ??
            method);
      if (this.forbidden.has(`${verb} ${resource}`)) {
        return status(
          res,
          403,
          "Forbidden",
          `${resource}.minitask.myorg.dev is forbidden: User "system:serviceaccount:${ns ?? "default"}:nobody" cannot ${verb} resource "${resource}" in API group "minitask.myorg.dev"${ns ? ` in the namespace "${ns}"` : " at the cluster scope"}`,
          { group: "minitask.myorg.dev", kind: resource },
        );
      }
      const store = (resource === "tasks" ? this.tasks : this.runs) as Map<string, Obj>;
      const kind = resource === "tasks" ? "Task" : "TaskRun";
      if (method === "GET" && watch) return this.#watch(res, ns, url.searchParams);
      if (method === "GET" && name === undefined) {
        const items = [...store.entries()]
          .filter(([k]) => ns === undefined || k.startsWith(`${ns}/`))
          .map(([, v]) => v);
        const sel = url.searchParams.get("labelSelector");
        const filtered = sel
          ? items.filter((o) =>
              sel.split(",").every((kv) => {
                const [k, v] = kv.split("=");
                return o.metadata?.labels?.[k ?? ""] === v;
              }),
            )
          : items;
        return json(res, {
          apiVersion: "minitask.myorg.dev/v1",
          kind: `${kind}List`,
          metadata: { resourceVersion: String(this.#rv) },
          items: filtered,
        });
      }
      if (method === "GET" && name !== undefined) {
        const o = store.get(`${ns}/${name}`);
        return o
          ? json(res, o)
          : status(res, 404, "NotFound", `${resource}.minitask.myorg.dev "${name}" not found`, {
              name,
              group: "minitask.myorg.dev",
              kind: resource,
            });
      }
      if (method === "POST" && resource === "taskruns" && ns !== undefined) {
        const obj = JSON.parse(body) as TaskRun;
        const gen = obj.metadata?.generateName;
        const runName = obj.metadata?.name ?? `${gen}${String(++this.#nameSeq).padStart(5, "x")}`;
        const created: TaskRun = {
          ...obj,
          metadata: {
            ...obj.metadata,
            name: runName,
            namespace: ns,
            uid: `uid-${runName}`,
            creationTimestamp: new Date().toISOString(),
          },
          spec: { timeout: "1h", ...obj.spec },
        };
        if (url.searchParams.get("dryRun") === "All") return json(res, created, 201);
        const stored = this.putRun(created, "ADDED");
        json(res, stored, 201);
        this.onCreate?.(stored);
        return;
      }
      if (method === "PATCH" && resource === "taskruns" && name !== undefined) {
        const run = this.runs.get(`${ns}/${name}`);
        if (!run)
          return status(res, 404, "NotFound", `taskruns.minitask.myorg.dev "${name}" not found`, {
            name,
            kind: resource,
          });
        return json(res, this.putRun(mergePatch(run, JSON.parse(body)) as TaskRun));
      }
      if (method === "DELETE" && name !== undefined) {
        const o = store.get(`${ns}/${name}`);
        if (!o)
          return status(res, 404, "NotFound", `${resource}.minitask.myorg.dev "${name}" not found`, {
            name,
            kind: resource,
          });
        store.delete(`${ns}/${name}`);
        if (resource === "taskruns") this.#emit({ rv: Number(this.#nextRv()), type: "DELETED", object: o as TaskRun });
        return json(res, { kind: "Status", apiVersion: "v1", status: "Success" });
      }
      return status(res, 405, "MethodNotAllowed", `${method} not supported here`);
    }

    const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/log)?$/.exec(p);
    if (pod !== null && method === "GET") {
      const [, ns, name, log] = pod as unknown as [string, string, string, string | undefined];
      const key = `${ns}/${name}`;
      if (!this.pods.has(key)) return status(res, 404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" });
      if (log === undefined) return json(res, this.pods.get(key));
      const container = url.searchParams.get("container") ?? "";
      const entry = this.logs.get(`${key}/${container}`);
      if (entry === undefined) {
        return status(
          res,
          400,
          "BadRequest",
          `container "${container}" in pod "${name}" is waiting to start: PodInitializing`,
        );
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.write(entry.text);
      if (entry.hold && url.searchParams.get("follow") === "true") {
        this.#openLogs.add(res);
        res.on("close", () => this.#openLogs.delete(res));
        return;
      }
      res.end();
      return;
    }

    const events = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(p);
    if (events !== null && method === "GET") {
      const sel = url.searchParams.get("fieldSelector") ?? "";
      const conds = sel
        .split(",")
        .filter((x) => x)
        .map((kv) => kv.split("=") as [string, string]);
      const items = this.events.filter((e) =>
        conds.every(([k, v]) => {
          const field = k.replace("involvedObject.", "") as "uid" | "name" | "kind";
          return e.involvedObject?.[field] === v;
        }),
      );
      return json(res, { apiVersion: "v1", kind: "EventList", metadata: {}, items });
    }
    return status(res, 404, "NotFound", "404 page not found");
  }

  #watch(res: ServerResponse, ns: string | undefined, q: URLSearchParams): void {
    const field = q.get("fieldSelector") ?? "";
    const name = /metadata\.name=([^,]+)/.exec(field)?.[1];
    res.writeHead(200, { "content-type": "application/json" });
    const w: Watcher = { ns, name, res };
    const from = Number(q.get("resourceVersion") ?? this.#rv);
    for (const e of this.#history) if (e.rv > from) this.#send(w, e);
    this.#watchers.add(w);
    res.on("close", () => this.#watchers.delete(w));
  }
}

/** A two-step task `hello` (greet, farewell) with one required and one defaulted param. */
export function helloTask(): Task {
  return {
    metadata: { name: "hello" },
    spec: {
      description: "Says hello, then goodbye.",
      params: [{ name: "who" }, { name: "greeting", default: "Hello" }],
      steps: [
        { name: "greet", image: "busybox", script: "echo $(params.greeting), $(params.who)" },
        { name: "farewell", image: "busybox", script: "echo bye" },
      ],
    },
  };
}
