// The ground truth of a scenario: every write of every TaskRun and Pod, straight from etcd.
//
// The recorder watches etcd itself (its HTTP/JSON gateway, `/v3/watch`) from the revision current when
// the scenario starts. An etcd watch delivers every revision of the watched keys in order and is not
// disturbed by what the scenarios do to the apiserver (restarts, its watch cache starting over, throttling),
// so "exactly one Pod was ever created per TaskRun" and "no phase ever went backwards" are checked on the
// complete history of writes, not on what some apiserver watch happened to deliver. TaskRuns are stored as
// JSON (custom resources always are); Pods as protobuf, of which only the key, the create/delete events
// and the UIDs it mentions (its own and its owner's) are needed.
import { request } from "node:http";

const TASKRUN_PREFIX = "/registry/minitask.myorg.dev/taskruns/";
const POD_PREFIX = "/registry/pods/";
const UID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export interface TaskRunHistory {
  /** `namespace/name`. */
  readonly key: string;
  uid: string;
  /** Times an object was created under this key. */
  creates: number;
  /** `status.phase` of every write, in revision order ("" = none yet). */
  readonly phases: string[];
  /** `status.reason` of the last write. */
  reason: string;
  /** mod revision of the last write (= the object's resourceVersion). */
  lastRevision: number;
  deleted: boolean;
}

export interface PodHistory {
  readonly key: string;
  /** Times a pod was created under this key (a delete + create counts twice). */
  creates: number;
  deletes: number;
  /** UIDs found in the pod at its creations (its own and its owner's). */
  readonly uids: Set<string>;
  lastRevision: number;
}

interface EtcdEvent {
  type?: "PUT" | "DELETE";
  kv: { key: string; create_revision?: string; mod_revision?: string; version?: string; value?: string };
}

interface WatchResponse {
  result?: {
    header?: { revision?: string };
    created?: boolean;
    canceled?: boolean;
    cancel_reason?: string;
    compact_revision?: string;
    events?: EtcdEvent[];
  };
  error?: { message?: string };
}

async function etcdPost(endpoint: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${endpoint}${path}`, { method: "POST", body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** The etcd revision now. */
export async function etcdRevision(endpoint: string): Promise<number> {
  const r = (await etcdPost(endpoint, "/v3/kv/range", { key: b64("/"), limit: 1 })) as {
    header: { revision: string };
  };
  return Number(r.header.revision);
}

/** Compacts etcd at `revision` (watches and reads from older revisions then fail). */
export async function etcdCompact(endpoint: string, revision: number): Promise<void> {
  await etcdPost(endpoint, "/v3/kv/compaction", { revision: String(revision), physical: true });
}

/** Range end covering every key with `prefix`. */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) + 1;
  return bytes.toString("base64");
}

export class EtcdRecorder {
  readonly taskRuns = new Map<string, TaskRunHistory>();
  readonly pods = new Map<string, PodHistory>();
  /** Problems of the recorder itself (a watch cancelled or cut): its history would be incomplete. */
  readonly errors: string[] = [];
  readonly startRevision: number;
  readonly #endpoint: string;
  readonly #stop = new AbortController();
  readonly #streams: Promise<void>[] = [];
  /** Header revision of the latest response of each stream. */
  readonly #seen = new Map<string, number>();
  #waiters: (() => void)[] = [];
  #podCreates = 0;

  private constructor(endpoint: string, startRevision: number) {
    this.#endpoint = endpoint;
    this.startRevision = startRevision;
  }

  /** Starts recording from the current revision (+1); resolves once both watches are established. */
  static async start(endpoint: string): Promise<EtcdRecorder> {
    const rev = await etcdRevision(endpoint);
    const r = new EtcdRecorder(endpoint, rev);
    const created: Promise<void>[] = [];
    for (const prefix of [TASKRUN_PREFIX, POD_PREFIX]) {
      let ready: () => void = () => {};
      created.push(new Promise<void>((resolve) => (ready = resolve)));
      r.#streams.push(r.#watch(prefix, rev + 1, ready));
    }
    await Promise.race([
      Promise.all(created),
      new Promise((_, reject) => setTimeout(() => reject(new Error("etcd watch not established in 10 s")), 10_000)),
    ]);
    return r;
  }

  /** Pods created so far (all keys). */
  get podCreations(): number {
    return this.#podCreates;
  }

  /** Lowest revision both watches are known to have delivered everything up to. */
  get revision(): number {
    const v = [...this.#seen.values()];
    return v.length < 2 ? this.startRevision : Math.min(...v);
  }

  /** Header revision of the latest response of the TaskRun or the Pod watch. */
  revisionOf(which: "taskruns" | "pods"): number {
    return this.#seen.get(which === "taskruns" ? TASKRUN_PREFIX : POD_PREFIX) ?? this.startRevision;
  }

  /** TaskRun histories of one namespace. */
  runsIn(namespace: string): TaskRunHistory[] {
    return [...this.taskRuns.values()].filter((h) => h.key.startsWith(`${namespace}/`));
  }

  podsIn(namespace: string): PodHistory[] {
    return [...this.pods.values()].filter((h) => h.key.startsWith(`${namespace}/`));
  }

  /** Resolves once `check()` is true (re-checked after every recorded response), or rejects at the deadline. */
  async waitFor(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (this.errors.length) throw new Error(`etcd recorder failed: ${this.errors.join("; ")}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 1000));
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.#waiters.push(done);
      });
    }
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#streams);
  }

  #watch(prefix: string, fromRevision: number, ready: () => void): Promise<void> {
    const body = JSON.stringify({
      create_request: { key: b64(prefix), range_end: prefixEnd(prefix), start_revision: String(fromRevision) },
    });
    const url = new URL(`${this.#endpoint}/v3/watch`);
    return new Promise<void>((resolve) => {
      const req = request(
        url,
        { method: "POST", signal: this.#stop.signal, headers: { "content-type": "application/json" } },
        (res) => {
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buf += chunk;
            let nl = buf.indexOf("\n");
            while (nl >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) this.#onLine(prefix, line, ready);
              nl = buf.indexOf("\n");
            }
          });
          res.on("end", () => {
            if (!this.#stop.signal.aborted) this.errors.push(`etcd watch of ${prefix} ended`);
            resolve();
          });
          res.on("error", () => {
            if (!this.#stop.signal.aborted) this.errors.push(`etcd watch of ${prefix} failed`);
            resolve();
          });
          res.on("close", () => resolve());
        },
      );
      req.on("error", (err) => {
        if (!this.#stop.signal.aborted) this.errors.push(`etcd watch of ${prefix}: ${err.message}`);
        resolve();
      });
      req.end(body);
    });
  }

  #onLine(prefix: string, line: string, ready: () => void): void {
    let msg: WatchResponse;
    try {
      msg = JSON.parse(line) as WatchResponse;
    } catch {
      this.errors.push(`etcd watch of ${prefix}: unparsable line`);
      return;
    }
    if (msg.error) {
      this.errors.push(`etcd watch of ${prefix}: ${msg.error.message}`);
      return;
    }
    const r = msg.result;
    if (!r) return;
    if (r.canceled || r.compact_revision) {
      this.errors.push(`etcd watch of ${prefix} cancelled: ${r.cancel_reason ?? `compacted at ${r.compact_revision}`}`);
      return;
    }
    if (r.created) ready();
    for (const ev of r.events ?? []) {
      if (prefix === TASKRUN_PREFIX) this.#onTaskRun(ev);
      else this.#onPod(ev);
    }
    const rev = Number(r.header?.revision ?? 0);
    if (rev > (this.#seen.get(prefix) ?? 0)) this.#seen.set(prefix, rev);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #onTaskRun(ev: EtcdEvent): void {
    const key = Buffer.from(ev.kv.key, "base64").toString("utf8").slice(TASKRUN_PREFIX.length);
    let h = this.taskRuns.get(key);
    if (!h) {
      h = { key, uid: "", creates: 0, phases: [], reason: "", lastRevision: 0, deleted: false };
      this.taskRuns.set(key, h);
    }
    h.lastRevision = Number(ev.kv.mod_revision ?? 0);
    if (ev.type === "DELETE") {
      h.deleted = true;
      return;
    }
    const obj = JSON.parse(Buffer.from(ev.kv.value ?? "", "base64").toString("utf8")) as {
      metadata?: { uid?: string };
      status?: { phase?: string; reason?: string };
    };
    if (ev.kv.version === "1") h.creates++;
    h.uid = obj.metadata?.uid ?? h.uid;
    h.phases.push(obj.status?.phase ?? "");
    h.reason = obj.status?.reason ?? "";
    h.deleted = false;
  }

  #onPod(ev: EtcdEvent): void {
    const key = Buffer.from(ev.kv.key, "base64").toString("utf8").slice(POD_PREFIX.length);
    let h = this.pods.get(key);
    if (!h) {
      h = { key, creates: 0, deletes: 0, uids: new Set(), lastRevision: 0 };
      this.pods.set(key, h);
    }
    h.lastRevision = Number(ev.kv.mod_revision ?? 0);
    if (ev.type === "DELETE") {
      h.deletes++;
      return;
    }
    if (ev.kv.version === "1") {
      h.creates++;
      this.#podCreates++;
      const raw = Buffer.from(ev.kv.value ?? "", "base64").toString("latin1");
      for (const m of raw.matchAll(UID)) h.uids.add(m[0]);
    }
  }
}
