// The reflector's state machine on its own: every row of the transition table in reflector-machine.ts,
// and client-go's resource-version rules for the requests each state makes. No I/O, no clock.
import {
  ApiError,
  GoneError,
  IdleTimeoutError,
  INITIAL_EVENTS_END_ANNOTATION,
  InvalidError,
  type KubeObject,
  type ObjectWatchEvent,
  type WatchStream,
} from "@minitask/client";
import { describe, expect, it } from "vitest";
import {
  type Effect,
  type Empty,
  type InitialWatch,
  type Listing,
  listRequest,
  type MachineConfig,
  MissingInitialEventsEndError,
  type Observation,
  type OpenWatch,
  type ReflectorState,
  recover,
  restart,
  ShortWatchError,
  START,
  type Synced,
  transition,
  UnexpectedObjectError,
  type Watching,
  watchRequest,
} from "../src/reflector-machine.ts";

type Obj = KubeObject;

const config: MachineConfig = {
  expectedKind: "ConfigMap",
  listFromWatchCache: true,
  minWatchDurationMs: 1000,
  initialEventsEndTimeoutMs: 5000,
};

const gone = () => new GoneError({ kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
const tooLarge = () =>
  new ApiError(
    { kind: "Status", code: 504, reason: "Timeout", message: "Too large resource version: 50, current: 40" },
    { code: 504 },
  );
const unsupported = () => new InvalidError({ kind: "Status", code: 422, reason: "Invalid" }, { code: 422 });
const reset = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
const idle = () => new IdleTimeoutError("no bytes for 180000 ms", { cause: undefined });

function cm(name: string, rv?: string, kind = "ConfigMap"): Obj {
  return { apiVersion: "v1", kind, metadata: { name, namespace: "ns", ...(rv ? { resourceVersion: rv } : {}) } };
}

const watch: OpenWatch<Obj> = {
  stream: {} as WatchStream<Obj>,
  events: {} as AsyncIterator<ObjectWatchEvent<Obj>>,
  startedAt: 1000,
  guard: undefined,
};
const otherWatch: OpenWatch<Obj> = { ...watch, startedAt: 2000 };

const empty = (o: Partial<Empty> = {}): Empty => ({ ...START, ...o });
const listing = (o: Partial<Listing<Obj>> = {}): Listing<Obj> => ({
  kind: "Listing",
  rv: "",
  consistent: false,
  afterGone: false,
  at: "0",
  continue: undefined,
  unpaginated: false,
  items: [],
  pages: 0,
  listRV: "",
  startedAt: 100,
  ...o,
});
const initialWatch = (o: Partial<InitialWatch<Obj>> = {}): InitialWatch<Obj> => ({
  kind: "InitialWatch",
  rv: "10",
  consistent: false,
  afterGone: false,
  watch,
  initial: new Map(),
  events: 0,
  ...o,
});
const synced = (o: Partial<Synced> = {}): Synced => ({ kind: "Synced", rv: "10", afterGone: false, ...o });
const watching = (o: Partial<Watching<Obj>> = {}): Watching<Obj> => ({
  kind: "Watching",
  rv: "10",
  afterGone: false,
  watch,
  events: 3,
  ...o,
});

const at = 1500;
const page = (items: Obj[], rv: string, cont?: string): Observation<Obj> => ({
  kind: "page",
  list: { metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) }, items },
  at,
});
const failed = (error: unknown, when = at): Observation<Obj> => ({ kind: "failed", error, at: when });
const event = (e: ObjectWatchEvent<Obj>): Observation<Obj> => ({ kind: "event", event: e });
const bookmark = (rv: string, end = false): Observation<Obj> =>
  event({
    type: "BOOKMARK",
    object: {
      metadata: { resourceVersion: rv, ...(end ? { annotations: { [INITIAL_EVENTS_END_ANNOTATION]: "true" } } : {}) },
    },
  });

const step = (s: ReflectorState<Obj>, seen: Observation<Obj>, c: MachineConfig = config) => transition(s, seen, c);

/** The reports among the effects, as [phase, action, backoff]. */
function reports(effects: readonly Effect<Obj>[]): [string, string, boolean][] {
  return effects.flatMap((e) =>
    e.type === "report" ? [[e.phase, e.action, e.backoff] as [string, string, boolean]] : [],
  );
}
function reportedError(effects: readonly Effect<Obj>[]): unknown {
  const r = effects.find((e) => e.type === "report");
  return r?.type === "report" ? r.error : undefined;
}
const types = (effects: readonly Effect<Obj>[]) => effects.map((e) => e.type);

describe("Empty", () => {
  it("start (list mode) → Listing at client-go's relist resource version", () => {
    expect(step(empty(), { kind: "start", at })).toEqual({ next: listing({ at: "0", startedAt: at }), effects: [] });
    expect(step(empty(), { kind: "start", at }, { ...config, listFromWatchCache: false }).next).toMatchObject({
      kind: "Listing",
      at: "",
    });
    expect(step(empty({ rv: "42" }), { kind: "start", at }).next).toMatchObject({
      kind: "Listing",
      at: "42",
      rv: "42",
    });
    expect(step(empty({ rv: "42", consistent: true }), { kind: "start", at }).next).toMatchObject({
      kind: "Listing",
      at: "",
      rv: "42",
      consistent: true,
    });
  });

  it("opened (watch-list mode) → InitialWatch with an empty buffer", () => {
    const t = step(empty({ rv: "42", afterGone: true }), { kind: "opened", watch });
    expect(t.next).toEqual({
      kind: "InitialWatch",
      rv: "42",
      consistent: false,
      afterGone: true,
      watch,
      initial: new Map(),
      events: 0,
    });
    expect(t.effects).toEqual([{ type: "watch-started", rv: "42", watchList: true }]);
    expect(step(empty({ rv: "42", consistent: true }), { kind: "opened", watch }).effects).toEqual([
      { type: "watch-started", rv: "", watchList: true },
    ]);
  });

  it("failed: 410 → Empty, consistent, at once the first time and with backoff once consistent", () => {
    const t = step(empty({ rv: "42" }), failed(gone()));
    expect(t.next).toEqual(empty({ rv: "42", consistent: true }));
    expect(reports(t.effects)).toEqual([["watch-list", "relist", false]]);
    expect(reports(step(empty({ rv: "42", consistent: true }), failed(tooLarge())).effects)).toEqual([
      ["watch-list", "relist", true],
    ]);
  });

  it("failed: not supported → Listing (fallback, at once)", () => {
    const t = step(empty({ rv: "42" }), failed(unsupported(), 1700));
    expect(t.next).toEqual(listing({ rv: "42", at: "42", startedAt: 1700 }));
    expect(types(t.effects)).toEqual(["watch-list-unsupported", "report"]);
    expect(reports(t.effects)).toEqual([["watch-list", "fallback-to-list", false]]);
  });

  it("failed: other → Empty, backoff; the watchdog is counted", () => {
    const t = step(empty({ rv: "42" }), failed(idle()));
    expect(t.next).toEqual(empty({ rv: "42" }));
    expect(types(t.effects)).toEqual(["watchdog", "report"]);
    expect(reports(t.effects)).toEqual([["watch-list", "relist", true]]);
  });

  it("aborted → unchanged", () => {
    const s = empty({ rv: "42" });
    expect(step(s, { kind: "aborted", at })).toEqual({ next: s, effects: [] });
  });
});

describe("Listing", () => {
  it("page with a continue token → Listing (next page); last page → Synced at the first page's RV", () => {
    const first = step(listing(), page([cm("a"), cm("b")], "7", "tok1"));
    expect(first).toEqual({
      next: listing({ continue: "tok1", items: [cm("a"), cm("b")], pages: 1, listRV: "7" }),
      effects: [],
    });
    const second = step(first.next, page([cm("c")], "8", "tok2"));
    expect(second.next).toMatchObject({ kind: "Listing", continue: "tok2", pages: 2, listRV: "7" });
    const last = step(second.next, page([cm("d")], "9"));
    expect(last.next).toEqual({ kind: "Synced", rv: "7", afterGone: false });
    expect(last.effects).toEqual([
      {
        type: "listed",
        items: [cm("a"), cm("b"), cm("c"), cm("d")],
        rv: "7",
        pages: 3,
        requested: "0",
        durationMs: at - 100,
      },
      { type: "healthy" },
      { type: "synced", rv: "7" },
    ]);
  });

  it("the first page's array is not appended to (it belongs to the response)", () => {
    const firstItems = [cm("a")];
    const first = step(listing(), page(firstItems, "7", "tok"));
    step(first.next, page([cm("b")], "7"));
    expect(firstItems).toEqual([cm("a")]);
  });

  it("a single page → Synced, keeping afterGone", () => {
    const t = step(listing({ afterGone: true, at: "5", rv: "5" }), page([cm("a")], "12"));
    expect(t.next).toEqual({ kind: "Synced", rv: "12", afterGone: true });
    expect(t.effects[0]).toMatchObject({ type: "listed", requested: "5", pages: 1 });
  });

  it("failed: 410 on a continue page → one unpaginated list; its page completes the list", () => {
    const s = listing({ continue: "tok", items: [cm("a")], pages: 1, listRV: "7" });
    const t = step(s, failed(gone()));
    expect(t.next).toEqual({ ...s, continue: undefined, unpaginated: true, items: [] });
    expect(types(t.effects)).toEqual(["expired-continue", "report"]);
    expect(reports(t.effects)).toEqual([["list", "relist", false]]);
    const full = step(t.next, page([cm("a"), cm("b")], "9", "ignored"));
    expect(full.next).toEqual({ kind: "Synced", rv: "9", afterGone: false });
    expect(full.effects[0]).toMatchObject({ type: "listed", pages: 2, rv: "9" });
  });

  it("failed: 410 or too large → Empty, consistent; at once unless the list already was consistent", () => {
    for (const [s, backoff] of [
      [listing({ rv: "42", at: "42" }), false],
      [listing({ at: "0" }), false],
      [listing({ at: "" }), true],
      [listing({ rv: "42", at: "", consistent: true }), true],
    ] as const) {
      for (const error of [gone(), tooLarge()]) {
        const t = step(s, failed(error));
        expect(t.next).toEqual(empty({ rv: s.rv, consistent: true }));
        expect(reports(t.effects)).toEqual([["list", "relist", backoff]]);
      }
    }
    // An unpaginated list that fails with 410 relists like a first page.
    expect(step(listing({ at: "42", rv: "42", unpaginated: true }), failed(gone())).next).toEqual(
      empty({ rv: "42", consistent: true }),
    );
  });

  it("failed: other → Empty (consistency kept), backoff", () => {
    const t = step(listing({ rv: "42", at: "", consistent: true, afterGone: true }), failed(reset()));
    expect(t.next).toEqual(empty({ rv: "42", consistent: true, afterGone: true }));
    expect(reports(t.effects)).toEqual([["list", "relist", true]]);
    expect(step(listing({ continue: "tok", pages: 1 }), failed(reset())).next).toEqual(empty());
  });

  it("aborted → Empty", () => {
    expect(step(listing({ rv: "42", pages: 1, continue: "x" }), { kind: "aborted", at })).toEqual({
      next: empty({ rv: "42" }),
      effects: [],
    });
  });
});

describe("InitialWatch", () => {
  it("object events → collected by key (deletes too), counted per stream", () => {
    const s = initialWatch();
    const t = step(s, event({ type: "ADDED", object: cm("a", "5") }));
    expect(t.next).toEqual({ ...s, events: 1 });
    expect(t.effects).toEqual([{ type: "collect", event: "ADDED", key: "ns/a", obj: cm("a", "5"), into: s.initial }]);
    expect(step(t.next, event({ type: "DELETED", object: cm("a", "6") })).effects).toMatchObject([
      { type: "collect", event: "DELETED", key: "ns/a" },
    ]);
  });

  it("an object of the wrong kind → skipped and reported, the stream goes on", () => {
    const t = step(initialWatch(), event({ type: "ADDED", object: cm("p", "5", "Pod") }));
    expect(t.next).toMatchObject({ kind: "InitialWatch", events: 1 });
    expect(types(t.effects)).toEqual(["skipped", "report"]);
    expect(reports(t.effects)).toEqual([["watch", "skip-event", false]]);
    expect(reportedError(t.effects)).toBeInstanceOf(UnexpectedObjectError);
  });

  it("a bookmark → counted; the initial-events-end bookmark → Watching at its RV, with a replace", () => {
    const s = initialWatch({ events: 4, afterGone: true });
    expect(step(s, bookmark("11"))).toEqual({ next: { ...s, events: 5 }, effects: [{ type: "bookmark" }] });
    const t = step(s, bookmark("20", true));
    expect(t.next).toEqual({ kind: "Watching", rv: "20", afterGone: true, watch, events: 5 });
    expect(t.effects).toEqual([
      { type: "bookmark" },
      { type: "initial-events-end", initial: s.initial, rv: "20" },
      { type: "healthy" },
      { type: "synced", rv: "20" },
    ]);
  });

  it("ended before the end bookmark → fallback to list, at once", () => {
    const t = step(initialWatch({ events: 2 }), { kind: "ended", at: 1400 });
    expect(t.next).toEqual(listing({ rv: "10", at: "10", startedAt: 1400 }));
    expect(t.effects[0]).toEqual({ type: "watch-ended", events: 2, durationMs: 400, outcome: "closed" });
    expect(types(t.effects)).toEqual(["watch-ended", "watch-list-unsupported", "report"]);
    expect(reports(t.effects)).toEqual([["watch-list", "fallback-to-list", false]]);
    expect(reportedError(t.effects)).toBeInstanceOf(MissingInitialEventsEndError);
  });

  it("quiet (the guard closed it) → fallback to list, reported as an error of the stream", () => {
    const t = step(initialWatch(), { kind: "quiet", at: 6000 });
    expect(t.next.kind).toBe("Listing");
    expect(t.effects[0]).toMatchObject({ type: "watch-ended", outcome: "error", durationMs: 5000 });
    const error = reportedError(t.effects);
    expect(error).toBeInstanceOf(MissingInitialEventsEndError);
    expect((error as Error).message).toMatch(/no event for 5000 ms/);
  });

  it("failed: 410 → Empty consistent at once; other → Empty with backoff; the watchdog is counted", () => {
    const g = step(initialWatch(), failed(gone()));
    expect(g.next).toEqual(empty({ rv: "10", consistent: true }));
    expect(reports(g.effects)).toEqual([["watch-list", "relist", false]]);
    const i = step(initialWatch(), failed(idle()));
    expect(i.next).toEqual(empty({ rv: "10" }));
    expect(types(i.effects)).toEqual(["watch-ended", "watchdog", "report"]);
    expect(reports(i.effects)).toEqual([["watch-list", "relist", true]]);
    expect(step(initialWatch(), failed(unsupported())).next.kind).toBe("Listing");
  });

  it("aborted → Empty", () => {
    const t = step(initialWatch({ consistent: true }), { kind: "aborted", at });
    expect(t.next).toEqual(empty({ rv: "10", consistent: true }));
    expect(t.effects).toEqual([{ type: "watch-ended", events: 0, durationMs: 500, outcome: "aborted" }]);
  });
});

describe("Synced", () => {
  it("opened → Watching from rv; a healthy period starts", () => {
    const t = step(synced({ afterGone: true }), { kind: "opened", watch: otherWatch });
    expect(t.next).toEqual({ kind: "Watching", rv: "10", afterGone: true, watch: otherWatch, events: 0 });
    expect(t.effects).toEqual([{ type: "watch-started", rv: "10", watchList: false }, { type: "healthy" }]);
  });

  it("failed: 410 → Empty (relist) at once the first time, with backoff after another 410", () => {
    const t = step(synced(), failed(gone()));
    expect(t.next).toEqual(empty({ rv: "10", afterGone: true }));
    expect(types(t.effects)).toEqual(["relist", "report"]);
    expect(reports(t.effects)).toEqual([["watch", "relist", false]]);
    expect(reports(step(synced({ afterGone: true }), failed(gone())).effects)).toEqual([["watch", "relist", true]]);
  });

  it("failed: too large → Empty with a consistent read next", () => {
    expect(step(synced(), failed(tooLarge())).next).toEqual(empty({ rv: "10", consistent: true, afterGone: true }));
  });

  it("failed: other → Synced (rewatch), backoff", () => {
    const t = step(synced(), failed(reset()));
    expect(t.next).toEqual(synced());
    expect(reports(t.effects)).toEqual([["watch", "rewatch", true]]);
  });

  it("aborted → unchanged", () => {
    const s = synced();
    expect(step(s, { kind: "aborted", at })).toEqual({ next: s, effects: [] });
  });
});

describe("Watching", () => {
  it("object events → applied; the RV follows them and a 410 streak ends", () => {
    const t = step(watching({ afterGone: true }), event({ type: "MODIFIED", object: cm("a", "11") }));
    expect(t.next).toEqual(watching({ rv: "11", events: 4 }));
    expect(t.effects).toEqual([{ type: "apply", event: "MODIFIED", obj: cm("a", "11") }]);
    // An object without a resource version leaves it where it was.
    expect(step(watching(), event({ type: "ADDED", object: cm("b") })).next).toMatchObject({ rv: "10" });
  });

  it("a bookmark → the RV advances, nothing is applied", () => {
    const t = step(watching({ afterGone: true }), bookmark("30"));
    expect(t).toEqual({ next: watching({ rv: "30", events: 4 }), effects: [{ type: "bookmark" }] });
  });

  it("a bad object → skipped and reported; the RV and the 410 streak stay", () => {
    const t = step(watching({ afterGone: true }), event({ type: "ADDED", object: { metadata: { namespace: "ns" } } }));
    expect(t.next).toEqual(watching({ afterGone: true, events: 4 }));
    expect(reports(t.effects)).toEqual([["watch", "skip-event", false]]);
  });

  it("ended after events → Synced: watch again from rv, no relist, nothing reported", () => {
    const t = step(watching({ rv: "15" }), { kind: "ended", at: 1200 });
    expect(t).toEqual({
      next: synced({ rv: "15" }),
      effects: [{ type: "watch-ended", events: 3, durationMs: 200, outcome: "closed" }],
    });
    // No event, but long enough: a normal server-side timeout.
    expect(step(watching({ events: 0 }), { kind: "ended", at: 2000 }).effects).toHaveLength(1);
  });

  it("ended at once without an event → a ShortWatchError, backoff, Synced", () => {
    const t = step(watching({ events: 0 }), { kind: "ended", at: 1300 });
    expect(t.next).toEqual(synced());
    expect(reports(t.effects)).toEqual([["watch", "rewatch", true]]);
    expect(reportedError(t.effects)).toBeInstanceOf(ShortWatchError);
  });

  it("failed → Synced (rewatch, backoff); 410 → Empty (relist); the watchdog is counted", () => {
    const r = step(watching(), failed(reset()));
    expect(r.next).toEqual(synced());
    expect(types(r.effects)).toEqual(["watch-ended", "report"]);
    expect(r.effects[0]).toMatchObject({ outcome: "error" });
    const g = step(watching({ rv: "17" }), failed(gone()));
    expect(g.next).toEqual(empty({ rv: "17", afterGone: true }));
    expect(types(g.effects)).toEqual(["watch-ended", "relist", "report"]);
    expect(g.effects[1]).toEqual({ type: "relist", reason: "GoneError: too old resource version" });
    const i = step(watching(), failed(idle()));
    expect(types(i.effects)).toEqual(["watch-ended", "watchdog", "report"]);
    expect(reports(i.effects)).toEqual([["watch", "rewatch", true]]);
  });

  it("aborted → Synced", () => {
    const t = step(watching(), { kind: "aborted", at });
    expect(t).toEqual({
      next: synced(),
      effects: [{ type: "watch-ended", events: 3, durationMs: 500, outcome: "aborted" }],
    });
  });
});

describe("outside the table", () => {
  it("an observation a state cannot make is a bug (thrown)", () => {
    expect(() => step(empty(), event({ type: "ADDED", object: cm("a") }))).toThrow(
      /observation "event" in state Empty/,
    );
    expect(() => step(synced(), page([], "1"))).toThrow(/state Synced/);
    expect(() => step(watching(), { kind: "opened", watch })).toThrow(/state Watching/);
  });

  it("recover: report the bug and start over from Empty at the same position", () => {
    const t = recover(watching({ rv: "17", afterGone: true }), new TypeError("bug"));
    expect(t.next).toEqual(empty({ rv: "17", afterGone: true }));
    expect(reports(t.effects)).toEqual([["watch", "relist", true]]);
    expect(reports(recover(listing(), new TypeError("bug")).effects)).toEqual([["list", "relist", true]]);
    expect(reports(recover(initialWatch(), new TypeError("bug")).effects)).toEqual([["watch-list", "relist", true]]);
    expect(restart(listing({ rv: "5", consistent: true }))).toEqual(empty({ rv: "5", consistent: true }));
  });
});

describe("client-go's resource-version rules for requests", () => {
  it("lists: RV 0 from the watch cache, then not older than the last RV; continue pages carry only the token", () => {
    expect(listRequest(listing({ at: "0" }), 500)).toEqual({
      limit: 500,
      resourceVersion: "0",
      resourceVersionMatch: undefined,
    });
    expect(listRequest(listing({ at: "" }), 500)).toEqual({
      limit: 500,
      resourceVersion: undefined,
      resourceVersionMatch: undefined,
    });
    expect(listRequest(listing({ at: "42" }), 0)).toEqual({
      limit: undefined,
      resourceVersion: "42",
      resourceVersionMatch: "NotOlderThan",
    });
    expect(listRequest(listing({ at: "42", continue: "tok" }), 500)).toEqual({
      limit: 500,
      continue: "tok",
      resourceVersion: undefined,
      resourceVersionMatch: undefined,
    });
    expect(listRequest(listing({ at: "42", unpaginated: true }), 500)).toEqual({
      limit: undefined,
      resourceVersion: "42",
      resourceVersionMatch: "NotOlderThan",
    });
  });

  it("watches: from the last RV; a watch-list asks for the initial events not older than it", () => {
    expect(watchRequest(synced({ rv: "42" }))).toEqual({ resourceVersion: "42" });
    expect(watchRequest(empty())).toEqual({
      resourceVersion: undefined,
      resourceVersionMatch: "NotOlderThan",
      sendInitialEvents: true,
    });
    expect(watchRequest(empty({ rv: "42" }))).toMatchObject({ resourceVersion: "42", sendInitialEvents: true });
    expect(watchRequest(empty({ rv: "42", consistent: true }))).toMatchObject({ resourceVersion: undefined });
  });
});
