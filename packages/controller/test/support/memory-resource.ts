// An in-memory stand-in for the get/create/update verbs of one namespace's ResourceClient, with the
// apiserver's optimistic concurrency: an update whose resourceVersion is not the stored one is a 409
// Conflict, a missing object a 404. Writes can be made to fail on demand. For unit tests of the
// helpers that write (finalizers, leader election); everything about real apiserver behaviour is tested
// against the real one.
import {
  type ApiError,
  apiErrorFromStatus,
  type KubeList,
  type KubeObject,
  type Status,
  type WatchStream,
  type Writable,
} from "@minitask/client";

function status(code: number, reason: string, message: string): ApiError {
  const body: Status = { apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message };
  return apiErrorFromStatus(body, { code });
}

export class MemoryResource<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  #rv = 0;
  /** Called before every write; throw from it to make the write fail. */
  beforeWrite: (verb: "create" | "update", obj: Writable<T>) => void = () => {};
  readonly writes: { verb: "create" | "update"; obj: T }[] = [];

  seed(obj: T): T {
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } } as T;
    this.#objects.set(obj.metadata?.name ?? "", stored);
    return structuredClone(stored);
  }

  peek(name: string): T | undefined {
    const o = this.#objects.get(name);
    return o ? structuredClone(o) : undefined;
  }

  /** Changes the stored object behind the writer's back (another client's write). */
  mutate(name: string, change: (obj: T) => void): void {
    const o = this.#objects.get(name);
    if (!o) throw new Error(`no ${name}`);
    change(o);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.#rv) };
  }

  async get(name: string): Promise<T> {
    const o = this.#objects.get(name);
    if (!o) throw status(404, "NotFound", `${name} not found`);
    return structuredClone(o);
  }

  async create(obj: Writable<T>): Promise<T> {
    this.beforeWrite("create", obj);
    const name = obj.metadata?.name ?? "";
    if (this.#objects.has(name)) throw status(409, "AlreadyExists", `${name} already exists`);
    const stored = this.seed(obj as T);
    this.writes.push({ verb: "create", obj: stored });
    return stored;
  }

  async update(obj: Writable<T>): Promise<T> {
    this.beforeWrite("update", obj);
    const name = obj.metadata?.name ?? "";
    const cur = this.#objects.get(name);
    if (!cur) throw status(404, "NotFound", `${name} not found`);
    if (obj.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      throw status(409, "Conflict", `the object has been modified; please apply your changes to the latest version`);
    }
    const stored = this.seed(obj as T);
    this.writes.push({ verb: "update", obj: stored });
    return stored;
  }

  /** Lists, with equality label selectors only (`a=b,c=d`). */
  async list(options: { labelSelector?: string } = {}): Promise<KubeList<T>> {
    const want = (options.labelSelector ?? "")
      .split(",")
      .filter(Boolean)
      .map((r) => r.split("=") as [string, string]);
    const items = [...this.#objects.values()].filter((o) => want.every(([k, v]) => o.metadata?.labels?.[k] === v));
    return {
      apiVersion: "v1",
      kind: "List",
      metadata: { resourceVersion: String(this.#rv) },
      items: structuredClone(items),
    };
  }

  /** Deletes, honouring a resourceVersion precondition (409 when it does not match). */
  async delete(name: string, options: { preconditions?: { resourceVersion?: string } } = {}): Promise<T> {
    const cur = this.#objects.get(name);
    if (!cur) throw status(404, "NotFound", `${name} not found`);
    const rv = options.preconditions?.resourceVersion;
    if (rv !== undefined && rv !== cur.metadata?.resourceVersion) throw status(409, "Conflict", "precondition failed");
    this.#objects.delete(name);
    return structuredClone(cur);
  }

  /** A watch that never yields and ends when its signal aborts. */
  async watch(options: { signal?: AbortSignal } = {}): Promise<WatchStream<T>> {
    const signal = options.signal;
    return {
      resourceVersion: undefined,
      close() {},
      async [Symbol.asyncDispose]() {},
      async *[Symbol.asyncIterator]() {
        if (signal && !signal.aborted) await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
      },
    };
  }
}
