// One copy of the short strings that repeat across a cache. JSON.parse allocates every string value anew, so
// 10,000 objects of one namespace hold 10,000 copies of its name, pods of one workload as many copies of
// each label value, and objects created in the same second as many copies of the timestamp. Sharing them
// costs a map lookup per field and saves ~40 bytes per repeated string. Names, uids and resource versions
// are unique, so they are left alone.
import type { KubeObject } from "@minitask/client";

const MAX_LENGTH = 64;

export class StringInterner {
  readonly #table = new Map<string, string>();
  readonly #capacity: number;

  /** `capacity` bounds the table: when it is full it starts over (strings already shared stay shared). */
  constructor(capacity = 20_000) {
    this.#capacity = capacity;
  }

  intern(s: string): string {
    if (s.length > MAX_LENGTH) return s;
    const hit = this.#table.get(s);
    if (hit !== undefined) return hit;
    if (this.#table.size >= this.#capacity) this.#table.clear();
    this.#table.set(s, s);
    return s;
  }

  #internValues(map: Record<string, string> | undefined | null): void {
    if (map === undefined || map === null || typeof map !== "object" || Object.isFrozen(map)) return;
    for (const k in map) {
      const v = map[k];
      if (typeof v === "string") map[k] = this.intern(v);
    }
  }

  get size(): number {
    return this.#table.size;
  }

  /**
   * Interns, in place, `apiVersion`, `kind`, and in `metadata` the namespace, `generateName`,
   * `creationTimestamp`, short label and annotation values, and owner references' `apiVersion`/`kind`.
   * Objects a custom transform has frozen are left as they are.
   */
  internMetadata(obj: KubeObject): void {
    if (Object.isFrozen(obj)) return;
    const o = obj as { apiVersion?: unknown; kind?: unknown };
    if (typeof o.apiVersion === "string") o.apiVersion = this.intern(o.apiVersion);
    if (typeof o.kind === "string") o.kind = this.intern(o.kind);
    const m = obj.metadata as
      | {
          namespace?: string;
          generateName?: string;
          creationTimestamp?: string;
          labels?: Record<string, string>;
          annotations?: Record<string, string>;
          ownerReferences?: { apiVersion?: string; kind?: string }[];
        }
      | undefined;
    if (m === undefined || m === null || Object.isFrozen(m)) return;
    if (typeof m.namespace === "string") m.namespace = this.intern(m.namespace);
    if (typeof m.generateName === "string") m.generateName = this.intern(m.generateName);
    if (typeof m.creationTimestamp === "string") m.creationTimestamp = this.intern(m.creationTimestamp);
    this.#internValues(m.labels);
    this.#internValues(m.annotations);
    const owners = m.ownerReferences;
    if (Array.isArray(owners)) {
      for (const o of owners) {
        if (o === null || typeof o !== "object" || Object.isFrozen(o)) continue;
        if (typeof o.apiVersion === "string") o.apiVersion = this.intern(o.apiVersion);
        if (typeof o.kind === "string") o.kind = this.intern(o.kind);
      }
    }
  }
}
