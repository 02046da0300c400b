// The reflector's state machine, with no I/O: the states (each carrying its own data), what the reflector
// can observe in a state, and one pure `transition` from (state, observation) to (next state, effects).
// `reflector.ts` runs it: it performs each state's request or reads its stream, feeds what it saw to
// `transition`, carries out the effects (sink calls, counters, reports) and backs off when told to.
// Modelled on kube-rs's `watcher.rs` (`enum State`, one `step`, backoff outside the watcher).
//
//            start              last page
//   Empty ──────────▶ Listing ───────────▶ Synced(rv) ──opened──▶ Watching(rv) ──event──▶ Watching(rv')
//     │                 ⟲ next page           ▲                      ▲    │
//     │ opened (watch-list)                   └── ended / failed ────┼────┘
//     └──────────▶ InitialWatch ── initial-events-end bookmark ──────┘ (the same stream goes on)
//   410 Gone / Expired / "too large resource version" ──▶ Empty (relist)
//
// | state        | observation                   | next                             | effects                      |
// |--------------|-------------------------------|----------------------------------|------------------------------|
// | Empty        | start (list mode)             | Listing (first page)             |                              |
// | Empty        | opened (watch-list mode)      | InitialWatch                     | watch-started                |
// | Empty        | failed                        | see "watch-list failed"          |                              |
// | Listing      | page with a continue token    | Listing (next page)              |                              |
// | Listing      | last page                     | Synced(list RV)                  | listed, healthy, synced      |
// | Listing      | failed: 410 on a continue     | Listing (one unpaginated list)   | expired-continue, report     |
// | Listing      | failed: 410 / too large       | Empty (consistent)               | report (at once, unless this |
// |              |                               |                                  |   list was consistent)       |
// | Listing      | failed: other                 | Empty                            | report (backoff)             |
// | InitialWatch | object event                  | InitialWatch                     | collect (or skipped, report) |
// | InitialWatch | bookmark                      | InitialWatch                     | bookmark                     |
// | InitialWatch | initial-events-end bookmark   | Watching(bookmark RV)            | initial-events-end, healthy, |
// |              |                               |                                  |   synced                     |
// | InitialWatch | ended / quiet / failed        | see "watch-list failed"          | watch-ended                  |
// | Synced       | opened                        | Watching(rv)                     | watch-started, healthy       |
// | Synced       | failed                        | see "watch failed"               |                              |
// | Watching     | object event / bookmark       | Watching(event RV)               | apply / bookmark (or skipped)|
// | Watching     | ended after an event or 1 s   | Synced(rv): resume, no relist    | watch-ended                  |
// | Watching     | ended at once, no event       | see "watch failed" (ShortWatch)  | watch-ended                  |
// | Watching     | failed                        | see "watch failed"               | watch-ended                  |
// | any          | aborted                       | the same position, without a stream (the run ends)              |
//
// watch-list failed: 410 / too large → Empty (consistent; report at once unless already consistent);
//   not supported by the server → Listing (watch-list-unsupported, report "fallback-to-list" at once);
//   other → Empty (report, backoff).
// watch failed: 410 / too large → Empty (relist; report at once, with backoff if the previous watch also
//   ended in a 410 and no event came in between); other → Synced(rv) (report "rewatch", backoff).
//
// A transition consumes its state: buffers (a list's items, a watch-list's initial objects) move on to the
// next state instead of being copied, so the caller must not use a state after passing it in.
import {
  type ApiError,
  IdleTimeoutError,
  INITIAL_EVENTS_END_ANNOTATION,
  isApiError,
  isGone,
  type KubeList,
  type KubeObject,
  type ObjectWatchEvent,
  type WatchStream,
} from "@minitask/client";
import type { RecoveryAction, ReflectorPhase } from "./observe.ts";

// ---- the states

/** Nothing usable is known: the next step lists (or opens a watch-list stream). */
export interface Empty {
  readonly kind: "Empty";
  /** Resource version of the last sync (`""` before the first): a relist reads "not older than" it. */
  readonly rv: string;
  /** The server refused `rv` (410 on a list or watch-list, "too large"): the next read is consistent (`""`). */
  readonly consistent: boolean;
  /** A watch ended in 410 and no event arrived since: another 410 backs off instead of relisting at once. */
  readonly afterGone: boolean;
}

/** A list in progress, page by page. */
export interface Listing<T> {
  readonly kind: "Listing";
  readonly rv: string;
  readonly consistent: boolean;
  readonly afterGone: boolean;
  /** The resource version asked for: `"0"` (watch cache), `""` (consistent read) or `rv` (not older than). */
  readonly at: string;
  /** Continue token of the next page (`undefined`: the first page, or the unpaginated list). */
  readonly continue: string | undefined;
  /** A continue token expired: the next request is one unpaginated list at `at`. */
  readonly unpaginated: boolean;
  /** Objects of the pages read so far. */
  readonly items: T[];
  readonly pages: number;
  /** The list's resource version, from its first page. */
  readonly listRV: string;
  readonly startedAt: number;
}

/** A watch-list stream before its initial-events-end bookmark: the initial objects are collected. */
export interface InitialWatch<T> {
  readonly kind: "InitialWatch";
  readonly rv: string;
  readonly consistent: boolean;
  readonly afterGone: boolean;
  readonly watch: OpenWatch<T>;
  /** The initial objects so far, by key (filled by the runner, through `collect` effects). */
  readonly initial: Map<string, T>;
  /** Events read from this stream. */
  readonly events: number;
}

/** The cache holds the complete state as of `rv` and no stream is open: the next step watches from `rv`. */
export interface Synced {
  readonly kind: "Synced";
  readonly rv: string;
  readonly afterGone: boolean;
}

/** A watch stream is open; `rv` is the last event or bookmark applied. */
export interface Watching<T> {
  readonly kind: "Watching";
  readonly rv: string;
  readonly afterGone: boolean;
  readonly watch: OpenWatch<T>;
  /** Events read from this stream (a watch-list's initial events included). */
  readonly events: number;
}

export type ReflectorState<T> = Empty | Listing<T> | InitialWatch<T> | Synced | Watching<T>;

/** An open watch, as the runner opened it. */
export interface OpenWatch<T> {
  readonly stream: WatchStream<T>;
  readonly events: AsyncIterator<ObjectWatchEvent<T>>;
  /** Clock time the server accepted the watch. */
  readonly startedAt: number;
  /** Watch-list only: closes the stream when no event comes for a while before the end bookmark. */
  readonly guard: QuietGuard | undefined;
}

/** The watch-list guard's interface (one timer per stream; see the runner). */
export interface QuietGuard {
  /** Whether it closed the stream. */
  readonly fired: boolean;
  /** An event arrived. */
  touch(): void;
  stop(): void;
}

/** The state a reflector starts in. */
export const START: Empty = { kind: "Empty", rv: "", consistent: false, afterGone: false };

// ---- what the runner observes (every observation but an event carries the clock time it was made)

export type Observation<T> =
  /** Empty, list mode: nothing to wait for. */
  | { readonly kind: "start"; readonly at: number }
  /** Listing: a page arrived. */
  | { readonly kind: "page"; readonly list: KubeList<T>; readonly at: number }
  /** Empty (watch-list) or Synced: the server accepted the watch. */
  | { readonly kind: "opened"; readonly watch: OpenWatch<T> }
  /** InitialWatch or Watching: the stream delivered an event. */
  | { readonly kind: "event"; readonly event: ObjectWatchEvent<T> }
  /** The stream ended cleanly. */
  | { readonly kind: "ended"; readonly at: number }
  /** InitialWatch: the stream ended because the guard closed it (no event for too long). */
  | { readonly kind: "quiet"; readonly at: number }
  /** The request or the stream failed. */
  | { readonly kind: "failed"; readonly error: unknown; readonly at: number }
  /** The run's signal aborted the request or the stream. */
  | { readonly kind: "aborted"; readonly at: number };

// ---- what the runner does, in order

export type ObjectEventType = "ADDED" | "MODIFIED" | "DELETED";

export type Effect<T> =
  /** Count the event and hand the object to the sink. */
  | { readonly type: "apply"; readonly event: ObjectEventType; readonly obj: T }
  /** Count the event and put the (prepared) object into, or take it out of, the initial objects. */
  | {
      readonly type: "collect";
      readonly event: ObjectEventType;
      readonly key: string;
      readonly obj: T;
      readonly into: Map<string, T>;
    }
  /** Count a bookmark. */
  | { readonly type: "bookmark" }
  /** A list completed: count it, replace the sink's contents, tell the observer. */
  | {
      readonly type: "listed";
      readonly items: T[];
      readonly rv: string;
      readonly pages: number;
      readonly requested: string;
      readonly durationMs: number;
    }
  /** A watch-list's initial events ended: the collected objects replace the sink's contents. */
  | { readonly type: "initial-events-end"; readonly initial: Map<string, T>; readonly rv: string }
  /** The first sync (tells the observer once). */
  | { readonly type: "synced"; readonly rv: string }
  /** The start of a healthy period for the backoff. */
  | { readonly type: "healthy" }
  | { readonly type: "watch-started"; readonly rv: string; readonly watchList: boolean }
  | {
      readonly type: "watch-ended";
      readonly events: number;
      readonly durationMs: number;
      readonly outcome: "closed" | "error" | "aborted";
    }
  /** A relist because the watch could not resume. */
  | { readonly type: "relist"; readonly reason: string }
  /** The inactivity watchdog aborted the stream. */
  | { readonly type: "watchdog" }
  /** A continue token expired. */
  | { readonly type: "expired-continue" }
  /** The server does not do watch-list (in `"auto"` mode: stop trying). */
  | { readonly type: "watch-list-unsupported" }
  /** An event was skipped (a report follows). */
  | { readonly type: "skipped" }
  /** Report a failure with what happens next; `backoff`: wait (the backoff, or Retry-After) before the next step. */
  | {
      readonly type: "report";
      readonly error: unknown;
      readonly phase: ReflectorPhase;
      readonly action: RecoveryAction;
      readonly backoff: boolean;
    };

export interface Transition<T> {
  readonly next: ReflectorState<T>;
  readonly effects: readonly Effect<T>[];
}

export interface MachineConfig {
  /** Kind of the watched objects; events carrying another kind are skipped. */
  readonly expectedKind: string | undefined;
  /** Serve the first list from the watch cache (`resourceVersion=0`). */
  readonly listFromWatchCache: boolean;
  /** A watch that ends cleanly this soon with no event counts as a failure. */
  readonly minWatchDurationMs: number;
  /** The watch-list guard's quiet time (only for the error message). */
  readonly initialEventsEndTimeoutMs: number;
}

// ---- errors

/** The initial-events-end bookmark never came (or the stream ended before it). */
export class MissingInitialEventsEndError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingInitialEventsEndError";
  }
}

/** A watch ended cleanly at once, without any event. */
export class ShortWatchError extends Error {
  constructor(durationMs: number) {
    super(`very short watch: the watch ended after ${Math.round(durationMs)} ms without any event`);
    this.name = "ShortWatchError";
  }
}

/** A watch event whose object is not one of ours (wrong kind, no name, not an object). */
export class UnexpectedObjectError extends Error {
  readonly eventType: string;
  readonly object: unknown;
  constructor(message: string, eventType: string, object: unknown) {
    super(message);
    this.name = "UnexpectedObjectError";
    this.eventType = eventType;
    this.object = object;
  }
}

/** client-go's "too large resource version": the server's cache is behind the RV asked for. */
export function isTooLargeResourceVersion(err: unknown): boolean {
  if (!isApiError(err)) return false;
  const e = err as ApiError;
  return (
    e.causes.some((c) => c.reason === "ResourceVersionTooLarge") ||
    (e.code === 504 && /too large resource version/i.test(e.message))
  );
}

/** The resource version cannot be read at or resumed from: list again. */
function expired(err: unknown): boolean {
  return isGone(err) || isTooLargeResourceVersion(err);
}

/** Statuses that mean "this server does not do watch-list" (validation, method, feature off). */
function watchListUnsupported(err: unknown): boolean {
  if (err instanceof MissingInitialEventsEndError) return true;
  if (!isApiError(err)) return false;
  return (
    err.code === 400 || err.code === 403 || err.code === 405 || err.code === 406 || err.code === 422 || err.code === 501
  );
}

// ---- client-go's resource-version rules for requests

/** Where a list reads: client-go's `relistResourceVersion`. */
export function listResourceVersion(s: Empty, config: Pick<MachineConfig, "listFromWatchCache">): string {
  if (s.consistent) return "";
  if (s.rv === "") return config.listFromWatchCache ? "0" : "";
  return s.rv;
}

/** The resource-version part of a list request. */
export function listRequest(
  s: Listing<unknown>,
  pageSize: number,
): {
  limit: number | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: "NotOlderThan" | undefined;
  continue?: string;
} {
  const limit = pageSize > 0 ? pageSize : undefined;
  if (s.continue !== undefined) {
    return { limit, continue: s.continue, resourceVersion: undefined, resourceVersionMatch: undefined };
  }
  return {
    limit: s.unpaginated ? undefined : limit,
    resourceVersion: s.at === "" ? undefined : s.at,
    // Any RV other than 0 means "at least as new as this" (never an exact, possibly compacted, read).
    resourceVersionMatch: s.at !== "" && s.at !== "0" ? "NotOlderThan" : undefined,
  };
}

/** The resource-version part of a watch request: a watch-list from Empty, a plain watch from Synced. */
export function watchRequest(s: Empty | Synced): {
  resourceVersion: string | undefined;
  resourceVersionMatch?: "NotOlderThan";
  sendInitialEvents?: true;
} {
  if (s.kind === "Synced") return { resourceVersion: s.rv };
  const rv = watchListResourceVersion(s);
  return { resourceVersion: rv === "" ? undefined : rv, resourceVersionMatch: "NotOlderThan", sendInitialEvents: true };
}

function watchListResourceVersion(s: Empty): string {
  return s.consistent ? "" : s.rv;
}

// ---- the transition

/** The one step: from a state and what was observed in it, the next state and what to do. */
export function transition<T extends KubeObject>(
  state: ReflectorState<T>,
  seen: Observation<T>,
  config: MachineConfig,
): Transition<T> {
  switch (state.kind) {
    case "Empty":
      return fromEmpty(state, seen, config);
    case "Listing":
      return fromListing(state, seen);
    case "InitialWatch":
      return fromInitialWatch(state, seen, config);
    case "Synced":
      return fromSynced(state, seen);
    case "Watching":
      return fromWatching(state, seen, config);
  }
}

/** After a bug (an exception the steps did not expect): report it and start over with a list. */
export function recover<T>(state: ReflectorState<T>, error: unknown): Transition<T> {
  const phase: ReflectorPhase =
    state.kind === "InitialWatch"
      ? "watch-list"
      : state.kind === "Synced" || state.kind === "Watching"
        ? "watch"
        : "list";
  return { next: restart(state), effects: [report(error, phase, "relist", true)] };
}

/** Empty at the position of `state` (where a new run, or a recovery, starts). */
export function restart<T>(state: ReflectorState<T>): Empty {
  const consistent = "consistent" in state ? state.consistent : false;
  return { kind: "Empty", rv: state.rv, consistent, afterGone: state.afterGone };
}

function fromEmpty<T extends KubeObject>(s: Empty, seen: Observation<T>, config: MachineConfig): Transition<T> {
  switch (seen.kind) {
    case "start":
      return { next: listing(s, seen.at, config), effects: [] };
    case "opened":
      return {
        next: { ...s, kind: "InitialWatch", watch: seen.watch, initial: new Map(), events: 0 },
        effects: [{ type: "watch-started", rv: watchListResourceVersion(s), watchList: true }],
      };
    case "failed":
      return watchListFailed(s, seen.error, seen.at, [], config);
    case "aborted":
      return { next: s, effects: [] };
    default:
      return unexpected(s, seen);
  }
}

function listing<T>(s: Empty, at: number, config: MachineConfig): Listing<T> {
  return {
    kind: "Listing",
    rv: s.rv,
    consistent: s.consistent,
    afterGone: s.afterGone,
    at: listResourceVersion(s, config),
    continue: undefined,
    unpaginated: false,
    items: [],
    pages: 0,
    listRV: "",
    startedAt: at,
  };
}

function fromListing<T extends KubeObject>(s: Listing<T>, seen: Observation<T>): Transition<T> {
  switch (seen.kind) {
    case "page": {
      const meta = seen.list.metadata;
      if (s.unpaginated) return listed(s, seen.list.items, meta.resourceVersion ?? "", s.pages + 1, seen.at);
      const first = s.pages === 0;
      let items = seen.list.items;
      if (!first) {
        // The first page's array is the response's; the pages after it are appended to a copy.
        items = s.pages === 1 ? [...s.items] : s.items;
        for (const item of seen.list.items) items.push(item);
      }
      const listRV = first ? (meta.resourceVersion ?? "") : s.listRV;
      if (meta.continue) {
        return { next: { ...s, continue: meta.continue, items, pages: s.pages + 1, listRV }, effects: [] };
      }
      return listed(s, items, listRV, s.pages + 1, seen.at);
    }
    case "failed": {
      const empty = { kind: "Empty", rv: s.rv, afterGone: s.afterGone } as const;
      if (s.continue !== undefined && isGone(seen.error)) {
        // The continue token expired (its snapshot was compacted): one full, unpaginated list.
        return {
          next: { ...s, continue: undefined, unpaginated: true, items: [] },
          effects: [{ type: "expired-continue" }, report(seen.error, "list", "relist", false)],
        };
      }
      if (expired(seen.error)) {
        // The RV asked for is gone (or the server is behind it): ask for a consistent read, at once
        // unless this already was one.
        return {
          next: { ...empty, consistent: true },
          effects: [report(seen.error, "list", "relist", s.consistent || s.at === "")],
        };
      }
      return { next: { ...empty, consistent: s.consistent }, effects: [report(seen.error, "list", "relist", true)] };
    }
    case "aborted":
      return { next: { kind: "Empty", rv: s.rv, consistent: s.consistent, afterGone: s.afterGone }, effects: [] };
    default:
      return unexpected(s, seen);
  }
}

function listed<T>(s: Listing<T>, items: T[], rv: string, pages: number, at: number): Transition<T> {
  return {
    next: { kind: "Synced", rv, afterGone: s.afterGone },
    effects: [
      { type: "listed", items, rv, pages, requested: s.at, durationMs: at - s.startedAt },
      { type: "healthy" },
      { type: "synced", rv },
    ],
  };
}

function fromInitialWatch<T extends KubeObject>(
  s: InitialWatch<T>,
  seen: Observation<T>,
  config: MachineConfig,
): Transition<T> {
  switch (seen.kind) {
    case "event": {
      const events = s.events + 1;
      const e = seen.event;
      if (e.type === "BOOKMARK") {
        const meta = e.object.metadata;
        if (meta?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== "true") {
          return { next: { ...s, events }, effects: [{ type: "bookmark" }] };
        }
        const rv = meta.resourceVersion ?? s.rv;
        return {
          next: { kind: "Watching", rv, afterGone: s.afterGone, watch: s.watch, events },
          effects: [
            { type: "bookmark" },
            { type: "initial-events-end", initial: s.initial, rv },
            { type: "healthy" },
            { type: "synced", rv },
          ],
        };
      }
      const checked = check(e, config);
      if (checked instanceof UnexpectedObjectError) return { next: { ...s, events }, effects: skipped(checked) };
      return {
        next: { ...s, events },
        effects: [{ type: "collect", event: e.type, key: objectKey(checked), obj: checked, into: s.initial }],
      };
    }
    case "ended":
    case "quiet":
    case "failed": {
      const ended = watchEnded(s, seen);
      const error =
        seen.kind === "failed"
          ? seen.error
          : new MissingInitialEventsEndError(
              seen.kind === "quiet"
                ? `no initial-events-end bookmark: no event for ${config.initialEventsEndTimeoutMs} ms during the initial events`
                : "the watch-list stream ended before the initial-events-end bookmark",
            );
      return watchListFailed(s, error, seen.at, [ended], config);
    }
    case "aborted":
      return {
        next: { kind: "Empty", rv: s.rv, consistent: s.consistent, afterGone: s.afterGone },
        effects: [watchEnded(s, seen)],
      };
    default:
      return unexpected(s, seen);
  }
}

function watchListFailed<T>(
  s: Empty | InitialWatch<T>,
  error: unknown,
  at: number,
  effects: Effect<T>[],
  config: MachineConfig,
): Transition<T> {
  const empty: Empty = { kind: "Empty", rv: s.rv, consistent: s.consistent, afterGone: s.afterGone };
  if (error instanceof IdleTimeoutError) effects.push({ type: "watchdog" });
  if (expired(error)) {
    effects.push(report(error, "watch-list", "relist", s.consistent));
    return { next: { ...empty, consistent: true }, effects };
  }
  if (watchListUnsupported(error)) {
    // The server does not stream the initial state: list instead (for good, in auto mode).
    effects.push({ type: "watch-list-unsupported" }, report(error, "watch-list", "fallback-to-list", false));
    return { next: listing(empty, at, config), effects };
  }
  effects.push(report(error, "watch-list", "relist", true));
  return { next: empty, effects };
}

function fromSynced<T extends KubeObject>(s: Synced, seen: Observation<T>): Transition<T> {
  switch (seen.kind) {
    case "opened":
      return {
        next: { kind: "Watching", rv: s.rv, afterGone: s.afterGone, watch: seen.watch, events: 0 },
        effects: [{ type: "watch-started", rv: s.rv, watchList: false }, { type: "healthy" }],
      };
    case "failed":
      return watchFailed(s, seen.error, []);
    case "aborted":
      return { next: s, effects: [] };
    default:
      return unexpected(s, seen);
  }
}

function fromWatching<T extends KubeObject>(
  s: Watching<T>,
  seen: Observation<T>,
  config: MachineConfig,
): Transition<T> {
  switch (seen.kind) {
    case "event": {
      const events = s.events + 1;
      const e = seen.event;
      if (e.type === "BOOKMARK") {
        const rv = e.object.metadata?.resourceVersion || s.rv;
        return { next: { ...s, rv, events, afterGone: false }, effects: [{ type: "bookmark" }] };
      }
      const checked = check(e, config);
      if (checked instanceof UnexpectedObjectError) return { next: { ...s, events }, effects: skipped(checked) };
      const rv = checked.metadata?.resourceVersion || s.rv;
      return {
        next: { ...s, rv, events, afterGone: false },
        effects: [{ type: "apply", event: e.type, obj: checked }],
      };
    }
    case "ended": {
      const ended = watchEnded(s, seen);
      if (s.events === 0 && ended.durationMs < config.minWatchDurationMs) {
        return watchFailed(s, new ShortWatchError(ended.durationMs), [ended]);
      }
      // A server-side timeout or a clean close: resume from where we are, without relisting.
      return { next: { kind: "Synced", rv: s.rv, afterGone: s.afterGone }, effects: [ended] };
    }
    case "failed":
      return watchFailed(s, seen.error, [watchEnded(s, seen)]);
    case "aborted":
      return { next: { kind: "Synced", rv: s.rv, afterGone: s.afterGone }, effects: [watchEnded(s, seen)] };
    default:
      return unexpected(s, seen);
  }
}

function watchFailed<T>(s: Synced | Watching<T>, error: unknown, effects: Effect<T>[]): Transition<T> {
  if (error instanceof IdleTimeoutError) effects.push({ type: "watchdog" });
  if (expired(error)) {
    // Too old to resume from: relist at the last RV ("not older than"), or with a consistent read when the
    // server is behind it.
    effects.push({ type: "relist", reason: describe(error) }, report(error, "watch", "relist", s.afterGone));
    return {
      next: { kind: "Empty", rv: s.rv, consistent: isTooLargeResourceVersion(error), afterGone: true },
      effects,
    };
  }
  effects.push(report(error, "watch", "rewatch", true));
  return { next: { kind: "Synced", rv: s.rv, afterGone: s.afterGone }, effects };
}

function watchEnded<T>(
  s: InitialWatch<T> | Watching<T>,
  seen: { readonly kind: "ended" | "quiet" | "failed" | "aborted"; readonly at: number },
): Effect<T> & { readonly type: "watch-ended" } {
  const outcome = seen.kind === "ended" ? "closed" : seen.kind === "aborted" ? "aborted" : "error";
  return { type: "watch-ended", events: s.events, durationMs: seen.at - s.watch.startedAt, outcome };
}

function report<T>(error: unknown, phase: ReflectorPhase, action: RecoveryAction, backoff: boolean): Effect<T> {
  return { type: "report", error, phase, action, backoff };
}

function skipped<T>(error: UnexpectedObjectError): Effect<T>[] {
  return [{ type: "skipped" }, report(error, "watch", "skip-event", false)];
}

/** The event's object when it is one of ours; otherwise the problem. */
function check<T extends KubeObject>(
  event: { readonly type: ObjectEventType; readonly object: T },
  config: MachineConfig,
): T | UnexpectedObjectError {
  const obj = event.object as unknown;
  let problem: string | undefined;
  if (typeof obj !== "object" || obj === null) problem = "the event carries no object";
  else {
    const o = obj as KubeObject;
    if (config.expectedKind !== undefined && o.kind !== undefined && o.kind !== config.expectedKind) {
      problem = `expected a ${config.expectedKind}, but the watch event carried a ${o.kind}`;
    } else if (typeof o.metadata?.name !== "string" || o.metadata.name === "") {
      problem = "the watch event's object has no metadata.name";
    }
  }
  return problem === undefined ? (obj as T) : new UnexpectedObjectError(problem, event.type, obj);
}

function unexpected<T>(s: ReflectorState<T>, seen: Observation<T>): never {
  throw new Error(`reflector: observation "${seen.kind}" in state ${s.kind}`);
}

function objectKey(obj: KubeObject): string {
  const m = obj.metadata;
  return m?.namespace ? `${m.namespace}/${m.name}` : (m?.name ?? "");
}

/** A one-line description of an error (`Name: message`). */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
