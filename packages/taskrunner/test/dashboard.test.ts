// The dashboard without a cluster: the views a run page is made of (and what they leave out), which logs a
// browser may read, the log hub's sharing and limits, the HTTP and WebSocket server over in-memory informers
// (who may connect, the run page's messages, streams closed when the browser leaves), the browser script's
// syntax, and the deploy/ RBAC a run page needs.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import type { KubeList, KubeObject, ObjectWatchEvent, WatchStream } from "@minitask/client";
import { type ListerWatcher, SharedIndexInformer, silentLogger } from "@minitask/informers";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parseAllDocuments } from "yaml";
import type { Task, TaskRun } from "../src/contract.ts";
import { requiredPermissions } from "../src/controller/preflight.ts";
import type { CoreEvent } from "../src/dashboard/events.ts";
import { type ContainerRef, type LogEnd, LogHub, type LogStream } from "../src/dashboard/logs.ts";
import { DASHBOARD_HTML, DASHBOARD_JS } from "../src/dashboard/page.ts";
import { Dashboard, type DashboardMessage, isAllowedHost } from "../src/dashboard/server.ts";
import { logReadiness, logRefusal, runDetail } from "../src/dashboard/views.ts";
import type { Pod } from "../src/reconciler/corev1.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SECRET = "s3cr3t-value";

const run = (status: TaskRun["status"] = {}, name = "build-run"): TaskRun => ({
  apiVersion: "minitask.myorg.dev/v1",
  kind: "TaskRun",
  metadata: {
    name,
    namespace: "ns",
    uid: `uid-${name}`,
    resourceVersion: "1",
    creationTimestamp: "2025-01-01T00:00:00Z",
  },
  spec: { taskRef: "build", params: [{ name: "token", value: SECRET }], retries: 1, timeout: "10m" },
  status,
});

const pod = (name: string, owner: string, extra: Partial<Pod> = {}): Pod => ({
  metadata: {
    name,
    namespace: "ns",
    uid: `pod-${name}`,
    resourceVersion: "1",
    ownerReferences: [{ apiVersion: "minitask.myorg.dev/v1", kind: "TaskRun", name: "build-run", uid: owner }],
  },
  spec: {
    initContainers: [
      { name: "sidecar-db", image: "busybox:1.36", env: [{ name: "PASSWORD", value: SECRET }] },
      { name: "step-checkout", image: "busybox:1.36", command: ["/bin/sh", "-c", `echo ${SECRET}`] },
    ],
    containers: [{ name: "step-build", image: "busybox:1.36" }],
  },
  status: {
    phase: "Running",
    initContainerStatuses: [
      { name: "sidecar-db", state: { running: { startedAt: "2025-01-01T00:00:01Z" } } },
      {
        name: "step-checkout",
        state: { terminated: { exitCode: 0, startedAt: "2025-01-01T00:00:02Z", finishedAt: "2025-01-01T00:00:03Z" } },
      },
    ],
    containerStatuses: [{ name: "step-build", state: { waiting: { reason: "PodInitializing" } } }],
  },
  ...extra,
});

const status: TaskRun["status"] = {
  phase: "Running",
  reason: "Running",
  podName: "build-run-pod-retry1",
  startTime: "2025-01-01T00:00:01Z",
  steps: [
    {
      name: "checkout",
      container: "step-checkout",
      state: "Succeeded",
      exitCode: 0,
      startedAt: "2025-01-01T00:00:02Z",
    },
    { name: "build", container: "step-build", state: "Waiting", reason: "PodInitializing" },
  ],
  results: [{ name: "commit", value: "abc123" }],
  retriesStatus: [
    {
      podName: "build-run-pod",
      phase: "Failed",
      reason: "StepFailed",
      message: 'step "build" failed with exit code 3',
      startTime: "2025-01-01T00:00:00Z",
      finishTime: "2025-01-01T00:00:01Z",
      steps: [{ name: "checkout", state: "Failed", exitCode: 3 }],
    },
  ],
};

describe("run page views", () => {
  it("shows steps, results, attempts and sidecars, and never env, commands or param values", () => {
    const tr = run(status);
    const pods: Record<string, Pod> = {
      "build-run-pod-retry1": pod("build-run-pod-retry1", "uid-build-run"),
      "build-run-pod": pod("build-run-pod", "uid-build-run"),
    };
    const d = runDetail(tr, (n) => pods[n]);
    expect(d.attempt).toBe(2);
    expect(d.retries).toBe(1);
    expect(d.timeout).toBe("10m");
    expect(d.steps.map((s) => [s.name, s.container, s.state, s.exitCode])).toEqual([
      ["checkout", "step-checkout", "Succeeded", 0],
      ["build", "step-build", "Waiting", undefined],
    ]);
    expect(d.results).toEqual([{ name: "commit", value: "abc123" }]);
    expect(d.attempts).toEqual([
      expect.objectContaining({ number: 1, podName: "build-run-pod", phase: "Failed", reason: "StepFailed" }),
    ]);
    expect(d.attempts[0]?.steps[0]).toMatchObject({ name: "checkout", container: "step-checkout", exitCode: 3 });
    expect(d.sidecars).toEqual([
      {
        name: "db",
        container: "sidecar-db",
        image: "busybox:1.36",
        state: "Running",
        startedAt: "2025-01-01T00:00:01Z",
      },
    ]);
    expect(d.pods).toEqual(["build-run-pod-retry1", "build-run-pod"]);
    expect(JSON.stringify(d)).not.toContain(SECRET);
  });

  it("counts only pods the run owns", () => {
    const tr = run(status);
    const stranger = pod("build-run-pod-retry1", "someone-else");
    const d = runDetail(tr, () => stranger);
    expect(d.pods).toEqual([]);
    expect(d.sidecars).toEqual([]);
  });

  it("lets a browser read only step and sidecar logs of the run's own pods", () => {
    const tr = run(status);
    const p = pod("build-run-pod-retry1", "uid-build-run");
    expect(logRefusal(tr, p, "build-run-pod-retry1", "step-build")).toBeUndefined();
    expect(logRefusal(tr, p, "build-run-pod-retry1", "sidecar-db")).toBeUndefined();
    expect(logRefusal(undefined, p, "build-run-pod-retry1", "step-build")).toBe("no such run");
    expect(logRefusal(tr, p, "other-pod", "step-build")).toMatch(/not a pod of this run/);
    expect(logRefusal(tr, undefined, "build-run-pod-retry1", "step-build")).toMatch(/gone/);
    expect(logRefusal(tr, pod("build-run-pod-retry1", "x"), "build-run-pod-retry1", "step-build")).toMatch(/gone/);
    expect(logRefusal(tr, p, "build-run-pod-retry1", "step-nope")).toMatch(/not a step or sidecar/);
    const withOther: Pod = { ...p, spec: { containers: [{ name: "istio-proxy", image: "x" }] } };
    expect(logRefusal(tr, withOther, "build-run-pod-retry1", "istio-proxy")).toMatch(/not a step or sidecar/);
  });

  it("opens a log once its container has started, never for one that did not run", () => {
    const p = pod("p", "u");
    expect(logReadiness(p, "step-checkout")).toBe("ready");
    expect(logReadiness(p, "sidecar-db")).toBe("ready");
    expect(logReadiness(p, "step-build")).toBe("waiting");
    expect(logReadiness({ ...p, status: { ...p.status, phase: "Failed" } }, "step-build")).toEqual({
      none: "the container did not run",
    });
    expect(logReadiness(undefined, "step-build")).toEqual({ none: "the pod is gone" });
  });
});

/** A log stream the test writes to. */
class FakeLog implements LogStream {
  readonly ref: ContainerRef;
  readonly signal: AbortSignal;
  readonly limitBytes: number;
  #queue: (Uint8Array | null)[] = [];
  #wake: (() => void) | undefined;
  closed = false;

  constructor(ref: ContainerRef, o: { limitBytes: number; signal: AbortSignal }) {
    this.ref = ref;
    this.signal = o.signal;
    this.limitBytes = o.limitBytes;
    o.signal.addEventListener("abort", () => this.end());
  }

  write(text: string): void {
    this.#queue.push(new TextEncoder().encode(text));
    this.#wake?.();
  }

  end(): void {
    this.#queue.push(null);
    this.#wake?.();
  }

  close(): void {
    this.closed = true;
  }

  get body(): AsyncIterable<Uint8Array> {
    const self = this;
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = self.#queue.shift();
          if (next === undefined) {
            await new Promise<void>((r) => {
              self.#wake = r;
            });
            continue;
          }
          if (next === null) return;
          yield next;
        }
      },
    };
  }
}

class Recorder {
  text = "";
  ends: LogEnd[] = [];
  readonly sub = {
    text: (_: ContainerRef, t: string) => {
      this.text += t;
    },
    end: (_: ContainerRef, e: LogEnd) => {
      this.ends.push(e);
    },
  };
}

const until = async (what: string, check: () => boolean, timeoutMs = 2000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("LogHub", () => {
  const ref: ContainerRef = { namespace: "ns", pod: "p", container: "step-a" };
  const hubWith = (o: { readiness?: () => "ready" | "waiting"; maxBytesPerLog?: number; maxLogs?: number } = {}) => {
    const opened: FakeLog[] = [];
    const hub = new LogHub({
      open: async (r, opts) => {
        const l = new FakeLog(r, opts);
        opened.push(l);
        return l;
      },
      readiness: o.readiness ?? (() => "ready"),
      flushMs: 1,
      ...(o.maxBytesPerLog !== undefined ? { maxBytesPerLog: o.maxBytesPerLog } : {}),
      ...(o.maxLogs !== undefined ? { maxLogs: o.maxLogs } : {}),
    });
    return { hub, opened };
  };

  it("opens one stream per container for any number of browsers; a late one gets what was read so far", async () => {
    const { hub, opened } = hubWith();
    const a = new Recorder();
    const b = new Recorder();
    hub.subscribe(ref, a.sub);
    await until("the stream", () => opened.length === 1);
    opened[0]?.write("one\n");
    await until("a's text", () => a.text === "one\n");
    hub.subscribe(ref, b.sub);
    expect(b.text).toBe("one\n");
    opened[0]?.write("two\n");
    opened[0]?.end();
    await until("both ends", () => a.ends.length === 1 && b.ends.length === 1);
    expect(a.text).toBe("one\ntwo\n");
    expect(b.text).toBe("one\ntwo\n");
    expect(a.ends).toEqual([{ reason: "completed" }]);
    expect(opened).toHaveLength(1);
    // One who joins after the end gets the whole log and the end at once.
    const c = new Recorder();
    hub.subscribe(ref, c.sub);
    expect(c.text).toBe("one\ntwo\n");
    expect(c.ends).toEqual([{ reason: "completed" }]);
    hub.close();
  });

  it("closes the stream when the last browser leaves", async () => {
    const { hub, opened } = hubWith();
    const a = new Recorder();
    const b = new Recorder();
    hub.subscribe(ref, a.sub);
    hub.subscribe(ref, b.sub);
    await until("the stream", () => opened.length === 1);
    hub.unsubscribe(ref, a.sub);
    expect(opened[0]?.signal.aborted).toBe(false);
    hub.unsubscribe(ref, b.sub);
    expect(opened[0]?.signal.aborted).toBe(true);
    await until("the connection released", () => opened[0]?.closed === true);
    expect(hub.stats()).toEqual({ logs: 0, streaming: 0 });
  });

  it("cuts a log at its byte limit and says so, asking the apiserver for no more", async () => {
    const { hub, opened } = hubWith({ maxBytesPerLog: 10 });
    const a = new Recorder();
    hub.subscribe(ref, a.sub);
    await until("the stream", () => opened.length === 1);
    expect(opened[0]?.limitBytes).toBe(10);
    opened[0]?.write("0123456789abcdef");
    await until("the end", () => a.ends.length === 1);
    expect(a.text).toBe("0123456789");
    expect(a.ends).toEqual([{ reason: "truncated", limitBytes: 10 }]);
    hub.close();
  });

  it("holds at most maxLogs logs, and refuses more with a reason", async () => {
    const { hub } = hubWith({ maxLogs: 1 });
    const a = new Recorder();
    hub.subscribe(ref, a.sub);
    const b = new Recorder();
    hub.subscribe({ ...ref, container: "step-b" }, b.sub);
    expect(b.ends).toEqual([{ reason: "error", message: expect.stringMatching(/at most 1 logs/) }]);
    hub.close();
  });

  it("waits for a container to start, and opens its log when its pod says it has", async () => {
    let ready: "ready" | "waiting" = "waiting";
    const { hub, opened } = hubWith({ readiness: () => ready });
    const a = new Recorder();
    hub.subscribe(ref, a.sub);
    hub.podChanged("ns", "p");
    expect(opened).toHaveLength(0);
    ready = "ready";
    hub.podChanged("ns", "other");
    expect(opened).toHaveLength(0);
    hub.podChanged("ns", "p");
    await until("the stream", () => opened.length === 1);
    hub.close();
  });

  it("reports a log that cannot be read", async () => {
    const hub = new LogHub({
      open: async () => {
        throw new Error('container "step-a" in pod "p" is waiting to start');
      },
      readiness: () => "ready",
      flushMs: 1,
    });
    const a = new Recorder();
    hub.subscribe(ref, a.sub);
    await until("the end", () => a.ends.length === 1);
    expect(a.ends[0]).toEqual({ reason: "error", message: expect.stringMatching(/waiting to start/) });
    hub.close();
  });
});

/** A ListerWatcher over objects the test changes. */
class FakeLW<T extends KubeObject> implements ListerWatcher<T> {
  readonly items: T[];
  readonly #streams: { push(e: ObjectWatchEvent<T>): void }[] = [];

  constructor(items: T[] = []) {
    this.items = items;
  }

  async list(): Promise<KubeList<T>> {
    return { metadata: { resourceVersion: "1" }, items: structuredClone(this.items) };
  }

  async watch(o: { signal?: AbortSignal | undefined }): Promise<WatchStream<T>> {
    const queue: (ObjectWatchEvent<T> | null)[] = [];
    let wake: (() => void) | undefined;
    const push = (e: ObjectWatchEvent<T> | null) => {
      queue.push(e);
      wake?.();
    };
    o.signal?.addEventListener("abort", () => push(null));
    this.#streams.push({ push });
    return {
      resourceVersion: undefined,
      close: () => push(null),
      [Symbol.asyncDispose]: async () => push(null),
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const e = queue.shift();
          if (e === undefined) {
            await new Promise<void>((r) => {
              wake = r;
            });
            continue;
          }
          if (e === null) return;
          yield e;
        }
      },
    };
  }

  modify(obj: T): void {
    for (const s of this.#streams) s.push({ type: "MODIFIED", object: structuredClone(obj) });
  }
}

function informer<T extends KubeObject>(lw: FakeLW<T>, signal: AbortSignal): SharedIndexInformer<T> {
  const inf = new SharedIndexInformer<T>(lw, { watchList: false, logger: silentLogger });
  void inf.run(signal);
  return inf;
}

/** A WebSocket client that keeps every message. */
async function connect(port: number, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
  const messages: DashboardMessage[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(String(d)) as DashboardMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = async <K extends DashboardMessage["type"]>(
    type: K,
    match: (m: Extract<DashboardMessage, { type: K }>) => boolean = () => true,
  ): Promise<Extract<DashboardMessage, { type: K }>> => {
    let found: Extract<DashboardMessage, { type: K }> | undefined;
    await until(`a ${type} message`, () => {
      found = messages.find(
        (m): m is Extract<DashboardMessage, { type: K }> =>
          m.type === type && match(m as Extract<DashboardMessage, { type: K }>),
      );
      return found !== undefined;
    });
    return found as Extract<DashboardMessage, { type: K }>;
  };
  return { ws, messages, next, send: (m: unknown) => ws.send(JSON.stringify(m)) };
}

describe("dashboard server", () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  async function start() {
    const abort = new AbortController();
    const tr = run(status);
    const runs = new FakeLW<TaskRun>([tr]);
    const taskLW = new FakeLW<Task>([
      {
        metadata: { name: "build", namespace: "ns", uid: "t1", resourceVersion: "1" },
        spec: { steps: [{ name: "checkout", image: "busybox", script: `echo ${SECRET}` }] },
      },
    ]);
    const podLW = new FakeLW<Pod>([
      pod("build-run-pod-retry1", "uid-build-run"),
      pod("build-run-pod", "uid-build-run"),
      { ...pod("intruder", "uid-other") },
    ]);
    const opened: FakeLog[] = [];
    const eventSelectors: string[] = [];
    const eventLWs: FakeLW<CoreEvent>[] = [];
    const dashboard = new Dashboard({
      taskRuns: informer(runs, abort.signal),
      tasks: informer(taskLW, abort.signal),
      pods: informer(podLW, abort.signal),
      openLog: async (ref, o) => {
        const l = new FakeLog(ref, o);
        opened.push(l);
        return l;
      },
      eventInformers: (_ns, fieldSelector) => {
        eventSelectors.push(fieldSelector);
        const lw = new FakeLW<CoreEvent>(
          fieldSelector.startsWith("involvedObject.uid=")
            ? [
                {
                  metadata: { name: "e1", namespace: "ns", uid: "e1", resourceVersion: "1" },
                  involvedObject: { kind: "TaskRun", name: "build-run" },
                  type: "Normal",
                  reason: "PodCreated",
                  message: "Created pod build-run-pod-retry1",
                  eventTime: "2025-01-01T00:00:01.000000Z",
                  reportingComponent: "minitask.myorg.dev/taskrun-controller",
                },
              ]
            : [],
        );
        eventLWs.push(lw);
        return new SharedIndexInformer<CoreEvent>(lw, { watchList: false, logger: silentLogger });
      },
      flushMs: 5,
    });
    const port = await dashboard.listen("127.0.0.1", 0);
    stops.push(() => abort.abort());
    stops.push(() => dashboard.close());
    return { dashboard, port, runs, podLW, opened, eventSelectors, tr };
  }

  it("serves the page at / and at /runs/<ns>/<name>, its script and style, with a strict policy", async () => {
    const { port } = await start();
    for (const path of ["/", "/runs/ns/build-run"]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(res.headers.get("content-security-policy")).not.toContain("unsafe-inline");
      expect(await res.text()).toBe(DASHBOARD_HTML);
    }
    const js = await fetch(`http://127.0.0.1:${port}/app.js`);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await js.text()).toBe(DASHBOARD_JS);
    expect((await fetch(`http://127.0.0.1:${port}/app.css`)).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await fetch(`http://127.0.0.1:${port}/runs/ns`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/runs/NS/x/y`)).status).toBe(404);
  });

  it("refuses WebSockets from other origins and host names (cross-site reads, DNS rebinding)", async () => {
    const { port } = await start();
    await expect(connect(port, { origin: "http://evil.example" })).rejects.toThrow(
      /403|401|Unexpected server response/,
    );
    await expect(connect(port, { host: "evil.example", origin: "http://evil.example" })).rejects.toThrow();
    const ok = await connect(port, { origin: `http://127.0.0.1:${port}` });
    await ok.next("snapshot");
    ok.ws.close();
    expect(isAllowedHost("localhost:8090")).toBe(true);
    expect(isAllowedHost("[::1]:8090")).toBe(true);
    expect(isAllowedHost("10.0.0.7:8090")).toBe(true);
    expect(isAllowedHost("dashboard.example:8090")).toBe(false);
    expect(isAllowedHost("dashboard.example:8090", ["dashboard.example"])).toBe(true);
  });

  it("sends a watched run's page, its events and the logs of its steps; closes them when the browser leaves", async () => {
    const { dashboard, port, runs, opened, eventSelectors, tr } = await start();
    const c = await connect(port);
    await c.next("snapshot");
    c.send({ type: "watch", namespace: "ns", name: "build-run" });
    const first = await c.next("run");
    expect(first.run?.steps.map((s) => s.name)).toEqual(["checkout", "build"]);
    expect(first.run?.pods).toEqual(["build-run-pod-retry1", "build-run-pod"]);
    const events = await c.next("events", (m) => m.events.length > 0);
    expect(events.events[0]).toMatchObject({ reason: "PodCreated", object: "TaskRun", type: "Normal" });
    expect(eventSelectors.sort()).toEqual([
      "involvedObject.kind=Pod,involvedObject.name=build-run-pod",
      "involvedObject.kind=Pod,involvedObject.name=build-run-pod-retry1",
      "involvedObject.uid=uid-build-run",
    ]);

    // A step's log, streamed.
    c.send({ type: "logs", pod: "build-run-pod-retry1", container: "step-checkout" });
    await until("the log stream", () => opened.length === 1);
    expect(opened[0]?.ref).toEqual({ namespace: "ns", pod: "build-run-pod-retry1", container: "step-checkout" });
    opened[0]?.write("checked out\n");
    const log = await c.next("log");
    expect(log).toMatchObject({ pod: "build-run-pod-retry1", container: "step-checkout", text: "checked out\n" });

    // Not a container of this run's pods: refused, nothing opened.
    c.send({ type: "logs", pod: "intruder", container: "step-checkout" });
    c.send({ type: "logs", pod: "build-run-pod-retry1", container: "istio-proxy" });
    await c.next("logEnd", (m) => m.pod === "intruder");
    await c.next("logEnd", (m) => m.container === "istio-proxy");
    expect(opened).toHaveLength(1);

    // The run changes: the page is sent again.
    runs.modify({
      ...tr,
      metadata: { ...tr.metadata, resourceVersion: "2" },
      status: { ...status, phase: "Succeeded" },
    });
    await c.next("run", (m) => m.run?.phase === "Succeeded");
    expect(JSON.stringify(c.messages)).not.toContain(SECRET);

    expect(dashboard.stats()).toMatchObject({ browsers: 1, watchedRuns: 1, eventFeeds: 1, logStreams: 1 });
    c.ws.close();
    await until("the browser gone", () => dashboard.stats().browsers === 0);
    expect(opened[0]?.signal.aborted).toBe(true);
    expect(dashboard.stats()).toEqual({ browsers: 0, watchedRuns: 0, eventFeeds: 0, logs: 0, logStreams: 0 });
  });

  it("answers a run that does not exist with null, and logs asked without a run with a refusal", async () => {
    const { port, opened } = await start();
    const c = await connect(port);
    c.send({ type: "logs", pod: "build-run-pod-retry1", container: "step-checkout" });
    await c.next("logEnd", (m) => m.end.reason === "error");
    c.send({ type: "watch", namespace: "ns", name: "nope" });
    expect((await c.next("run")).run).toBeNull();
    expect(opened).toHaveLength(0);
    c.ws.close();
  });
});

describe("browser script", () => {
  it("is valid JavaScript", () => {
    expect(() => new Script(DASHBOARD_JS)).not.toThrow();
  });
});

describe("deploy/ RBAC", () => {
  interface Rule {
    apiGroups?: string[];
    resources?: string[];
    verbs?: string[];
  }
  const docs = parseAllDocuments(readFileSync(`${ROOT}/deploy/rbac.yaml`, "utf8")).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: Rule[] },
  );
  const rules = docs
    .filter((d) => (d.kind === "ClusterRole" || d.kind === "Role") && d.metadata.name.startsWith("minitask-controller"))
    .flatMap((d) => d.rules ?? []);
  const allows = (verb: string, group: string, resource: string) =>
    rules.some((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs?.includes(verb));

  it("lets the controller read pod logs and Events for the dashboard's run pages", () => {
    expect(allows("get", "", "pods/log")).toBe(true);
    expect(allows("list", "", "events")).toBe(true);
    expect(allows("watch", "", "events")).toBe(true);
  });

  it("holds every permission the pre-flight checks, with every feature on", () => {
    const perms = requiredPermissions({ leaderElection: true, sharding: true, metricsSecure: true, dashboard: true });
    const missing = perms.filter(
      (p) => !allows(p.verb, p.group, p.subresource ? `${p.resource}/${p.subresource}` : p.resource),
    );
    expect(missing).toEqual([]);
  });
});
