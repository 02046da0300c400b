// Shared helpers of the informer tests.
import type { DeepReadonly, KubeObject, ResourceClient } from "@minitask/client";
import { expect } from "vitest";
import { DeletedFinalStateUnknown, type ResourceEventHandler, type Store } from "../src/index.ts";

/** Polls `check` until it returns true (or a value), failing after `timeoutMs`. */
export async function eventually<R>(
  check: () => R | Promise<R>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 25,
): Promise<Exclude<R, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const r = await check();
      if (r !== false && r !== undefined) return r as Exclude<R, false | undefined>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export type Recorded =
  | { type: "add"; key: string; rv: string; initial: boolean; obj: unknown }
  | { type: "update"; key: string; oldRv: string; rv: string; old: unknown; obj: unknown }
  | { type: "delete"; key: string; rv: string; tombstone: boolean; obj: unknown };

function keyOf(o: { readonly metadata?: { readonly name?: string; readonly namespace?: string } }): string {
  const m = o.metadata;
  return m?.namespace ? `${m.namespace}/${m.name}` : (m?.name ?? "");
}

function rvOf(o: { readonly metadata?: { readonly resourceVersion?: string } }): string {
  return o.metadata?.resourceVersion ?? "";
}

/** A handler that records every notification. */
export function recorder<T extends KubeObject>(): ResourceEventHandler<T> & { events: Recorded[] } {
  const events: Recorded[] = [];
  return {
    events,
    onAdd(obj, initial) {
      events.push({ type: "add", key: keyOf(obj), rv: rvOf(obj), initial, obj });
    },
    onUpdate(old, obj) {
      events.push({ type: "update", key: keyOf(obj), oldRv: rvOf(old), rv: rvOf(obj), old, obj });
    },
    onDelete(obj) {
      if (obj instanceof DeletedFinalStateUnknown) {
        events.push({ type: "delete", key: obj.key, rv: rvOf(obj.obj), tombstone: true, obj: obj.obj });
      } else {
        events.push({ type: "delete", key: keyOf(obj), rv: rvOf(obj), tombstone: false, obj });
      }
    },
  };
}

/**
 * Replays recorded notifications onto a map (key → rv): what a handler-driven mirror of the cache would
 * hold. Used to prove "no lost or phantom objects" from the handler's point of view.
 */
export function replay(events: readonly Recorded[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of events) {
    if (e.type === "delete") m.delete(e.key);
    else m.set(e.key, e.rv);
  }
  return m;
}

/** Asserts the cache holds exactly what a fresh consistent list returns (keys and resource versions). */
export async function expectCacheMatchesServer<T extends KubeObject>(
  store: Store<T>,
  client: ResourceClient<T>,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
  timeoutMs = 30_000,
): Promise<void> {
  let diff = "";
  await eventually(
    async () => {
      const list = await client.listAll({ ...selectors });
      const server = new Map(list.items.map((o) => [keyOf(o), rvOf(o)]));
      const cache = new Map(store.list().map((o: DeepReadonly<T>) => [keyOf(o as KubeObject), rvOf(o as KubeObject)]));
      const missing = [...server].filter(([k, rv]) => cache.get(k) !== rv).map(([k]) => k);
      const phantom = [...cache.keys()].filter((k) => !server.has(k));
      diff = `missing/stale: ${missing.slice(0, 5).join(",")} (${missing.length}); phantom: ${phantom.slice(0, 5).join(",")} (${phantom.length})`;
      return missing.length === 0 && phantom.length === 0;
    },
    "the cache to match a fresh list",
    timeoutMs,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)} — ${diff}`);
  });
  expect(diff).toMatch(/\(0\); phantom: .*\(0\)$/);
}
