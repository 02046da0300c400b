// Model-based property test: random sequences of queue operations, run against the real rate limiting queue (on a
// fake clock) and against a small reference model of client-go's semantics, compared after every step.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FakeClock,
  flushPromises,
  type GetResult,
  newItemExponentialFailureRateLimiter,
  newPriorityQueue,
  newRateLimitingQueue,
} from "../src/index.ts";

const KEYS = ["a", "b", "c", "d", "e"] as const;

type Command =
  | { t: "add"; k: string }
  | { t: "addAfter"; k: string; ms: number }
  | { t: "addRateLimited"; k: string }
  | { t: "forget"; k: string }
  | { t: "get"; w: number }
  | { t: "done"; w: number }
  | { t: "advance"; ms: number }
  | { t: "shutDown" }
  | { t: "shutDownWithDrain" };

type WorkerState = { kind: "idle" } | { kind: "waiting" } | { kind: "holding"; item: string };

/** The reference: client-go's queue, delaying queue and exponential limiter, written as plainly as possible. */
class Model {
  now = 0;
  shutdown = false;
  dirty = new Set<string>();
  processing = new Set<string>();
  queue: string[] = [];
  delayed = new Map<string, { at: number; seq: number }>();
  seq = 0;
  failures = new Map<string, number>();
  waiters: number[] = [];
  workers: WorkerState[];
  drainPending = false;
  /** Items handed to workers, in order. */
  handedOut: string[] = [];

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => ({ kind: "idle" }));
  }

  add(k: string): void {
    if (this.shutdown || this.dirty.has(k)) return;
    this.dirty.add(k);
    if (this.processing.has(k)) return;
    this.ready(k);
  }
  ready(k: string): void {
    const w = this.waiters.shift();
    if (w === undefined) this.queue.push(k);
    else this.hand(w, k);
  }
  hand(w: number, k: string): void {
    this.dirty.delete(k);
    this.processing.add(k);
    this.workers[w] = { kind: "holding", item: k };
    this.handedOut.push(k);
  }
  get(w: number): void {
    const k = this.queue.shift();
    if (k !== undefined) this.hand(w, k);
    else if (!this.shutdown) {
      this.waiters.push(w);
      this.workers[w] = { kind: "waiting" };
    }
  }
  done(w: number): void {
    const state = this.workers[w]!;
    if (state.kind !== "holding") return;
    this.workers[w] = { kind: "idle" };
    this.processing.delete(state.item);
    if (this.dirty.has(state.item)) this.ready(state.item);
    if (this.processing.size === 0) this.drainPending = false;
  }
  addAfter(k: string, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) {
      this.add(k);
      return;
    }
    const at = this.now + ms;
    const existing = this.delayed.get(k);
    if (existing === undefined) this.delayed.set(k, { at, seq: this.seq++ });
    else if (at < existing.at) existing.at = at;
  }
  addRateLimited(k: string): void {
    if (this.shutdown) return;
    const n = this.failures.get(k) ?? 0;
    this.failures.set(k, n + 1);
    this.addAfter(k, Math.min(2 ** n, 16));
  }
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = [...this.delayed].filter(([, e]) => e.at <= target);
      if (due.length === 0) break;
      const first = Math.min(...due.map(([, e]) => e.at));
      this.now = first;
      const batch = due.filter(([, e]) => e.at <= first).sort((x, y) => x[1].at - y[1].at || x[1].seq - y[1].seq);
      for (const [k] of batch) {
        this.delayed.delete(k);
        this.add(k);
      }
    }
    this.now = target;
  }
  shutDown(): void {
    this.shutdown = true;
    this.delayed.clear();
    for (const w of this.waiters) this.workers[w] = { kind: "idle" };
    this.waiters = [];
    this.drainPending = false;
  }
  shutDownWithDrain(): void {
    this.shutDown();
    this.drainPending = this.processing.size > 0;
  }
}

/** The real queue with its workers' pending `get` calls. */
class Real {
  clock = new FakeClock();
  q = newRateLimitingQueue<string>({
    clock: this.clock,
    rateLimiter: newItemExponentialFailureRateLimiter<string>(1, 16),
  });
  workers: WorkerState[];
  gotShutdown = 0;
  drain: { settled: boolean } | null = null;
  handedOut: string[] = [];

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => ({ kind: "idle" }));
  }

  get(w: number): void {
    this.workers[w] = { kind: "waiting" };
    void this.q.get().then((r: GetResult<string>) => {
      if (r.shutdown) {
        this.workers[w] = { kind: "idle" };
        this.gotShutdown++;
      } else {
        this.workers[w] = { kind: "holding", item: r.item };
        this.handedOut.push(r.item);
      }
    });
  }
}

async function step(cmd: Command, model: Model, real: Real): Promise<void> {
  switch (cmd.t) {
    case "add":
      model.add(cmd.k);
      real.q.add(cmd.k);
      break;
    case "addAfter":
      model.addAfter(cmd.k, cmd.ms);
      real.q.addAfter(cmd.k, cmd.ms);
      break;
    case "addRateLimited":
      model.addRateLimited(cmd.k);
      real.q.addRateLimited(cmd.k);
      break;
    case "forget":
      model.failures.delete(cmd.k);
      real.q.forget(cmd.k);
      break;
    case "get":
      if (model.workers[cmd.w]!.kind !== "idle") return;
      model.get(cmd.w);
      real.get(cmd.w);
      break;
    case "done": {
      const state = real.workers[cmd.w]!;
      if (state.kind !== "holding") return;
      model.done(cmd.w);
      real.workers[cmd.w] = { kind: "idle" };
      real.q.done(state.item);
      break;
    }
    case "advance":
      model.advance(cmd.ms);
      real.clock.advance(cmd.ms);
      break;
    case "shutDown":
      model.shutDown();
      real.q.shutDown();
      break;
    case "shutDownWithDrain": {
      model.shutDownWithDrain();
      const drain = { settled: false };
      real.drain = drain;
      void real.q.shutDownWithDrain().then(() => {
        drain.settled = true;
      });
      break;
    }
  }
  await flushPromises();
  check(model, real);
}

function check(model: Model, real: Real): void {
  // Same workers hold the same items; a held item is never held by a second worker.
  expect(real.workers).toEqual(model.workers);
  const held = real.workers.flatMap((s) => (s.kind === "holding" ? [s.item] : []));
  expect(new Set(held).size).toBe(held.length);
  // Same order of hand-outs (FIFO, dedupe) and the same waiting and delayed sets.
  expect(real.handedOut).toEqual(model.handedOut);
  expect(real.q.len()).toBe(model.queue.length);
  expect(real.q.delayedLen()).toBe(model.delayed.size);
  expect(real.q.shuttingDown()).toBe(model.shutdown);
  for (const k of KEYS) expect(real.q.numRequeues(k)).toBe(model.failures.get(k) ?? 0);
  if (real.drain !== null) expect(real.drain.settled).toBe(!model.drainPending);
}

const key = fc.constantFrom(...KEYS);

function commands(workers: number): fc.Arbitrary<Command[]> {
  const worker = fc.integer({ min: 0, max: workers - 1 });
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 5, arbitrary: key.map((k) => ({ t: "add", k }) as const) },
    {
      weight: 3,
      arbitrary: fc.record({ t: fc.constant("addAfter" as const), k: key, ms: fc.integer({ min: -2, max: 40 }) }),
    },
    { weight: 2, arbitrary: key.map((k) => ({ t: "addRateLimited", k }) as const) },
    { weight: 1, arbitrary: key.map((k) => ({ t: "forget", k }) as const) },
    { weight: 5, arbitrary: worker.map((w) => ({ t: "get", w }) as const) },
    { weight: 5, arbitrary: worker.map((w) => ({ t: "done", w }) as const) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 }).map((ms) => ({ t: "advance", ms }) as const) },
    { weight: 1, arbitrary: fc.constant({ t: "shutDown" } as const) },
    { weight: 1, arbitrary: fc.constant({ t: "shutDownWithDrain" } as const) },
  );
  return fc.array(command, { maxLength: 60 });
}

describe("workqueue property: agrees with a reference model of client-go", () => {
  // 3 workers: `done` finds records by scanning those in flight; 12 workers: beyond the scan limit, by the key map.
  // Keys outnumber 3 workers but not 12, so both contention for keys and many idle workers are exercised.
  it.each([3, 12])(
    "never processes an item concurrently, loses nothing, dedupes, and shuts down as specified (%i workers)",
    async (workers) => {
      await fc.assert(
        fc.asyncProperty(commands(workers), async (cmds) => {
          const model = new Model(workers);
          const real = new Real(workers);
          for (const cmd of cmds) await step(cmd, model, real);
          // Finish: let every delay pass, then have the workers finish and drain everything that is left.
          await step({ t: "advance", ms: 1000 }, model, real);
          for (let round = 0; round < 100; round++) {
            for (let w = 0; w < workers; w++) await step({ t: "done", w }, model, real);
            if (model.queue.length === 0 && model.processing.size === 0) break;
            for (let w = 0; w < workers; w++) await step({ t: "get", w }, model, real);
          }
          // Nothing lost: no key is still waiting to be processed once the workers are done.
          expect(model.dirty.size).toBe(0);
          expect(real.q.len()).toBe(0);
          expect(real.workers.every((s) => s.kind !== "holding")).toBe(true);
        }),
        { numRuns: 200 },
      );
    },
    30_000,
  );
});

type PCommand = { t: "add"; k: string; p: number } | { t: "get"; w: number } | { t: "done"; w: number };

/** Reference model of the priority queue: highest priority first, FIFO among equals, priorities only rise. */
class PriorityModel {
  seq = 0;
  waiting = new Map<string, { p: number; seq: number }>();
  processing = new Set<string>();
  dirtyWhileProcessing = new Map<string, number>();
  waiters: number[] = [];
  workers: WorkerState[];
  handedOut: string[] = [];

  constructor(workers: number) {
    this.workers = Array.from({ length: workers }, () => ({ kind: "idle" }));
  }
  ready(k: string, p: number): void {
    const w = this.waiters.shift();
    if (w === undefined) this.waiting.set(k, { p, seq: this.seq++ });
    else this.hand(w, k);
  }
  hand(w: number, k: string): void {
    this.processing.add(k);
    this.workers[w] = { kind: "holding", item: k };
    this.handedOut.push(k);
  }
  add(k: string, p: number): void {
    if (this.processing.has(k)) {
      const d = this.dirtyWhileProcessing.get(k);
      this.dirtyWhileProcessing.set(k, d === undefined ? p : Math.max(d, p));
      return;
    }
    const w = this.waiting.get(k);
    if (w === undefined) this.ready(k, p);
    else if (p > w.p) this.waiting.set(k, { p, seq: this.seq++ });
  }
  get(w: number): void {
    let best: [string, { p: number; seq: number }] | undefined;
    for (const e of this.waiting) {
      if (best === undefined || e[1].p > best[1].p || (e[1].p === best[1].p && e[1].seq < best[1].seq)) best = e;
    }
    if (best === undefined) {
      this.waiters.push(w);
      this.workers[w] = { kind: "waiting" };
      return;
    }
    this.waiting.delete(best[0]);
    this.hand(w, best[0]);
  }
  done(w: number): void {
    const s = this.workers[w]!;
    if (s.kind !== "holding") return;
    this.workers[w] = { kind: "idle" };
    this.processing.delete(s.item);
    const d = this.dirtyWhileProcessing.get(s.item);
    if (d !== undefined) {
      this.dirtyWhileProcessing.delete(s.item);
      this.ready(s.item, d);
    }
  }
}

describe("priority queue property: agrees with a reference model", () => {
  it("hands out by priority, FIFO among equals, never concurrently, losing nothing", async () => {
    const workers = 3;
    const worker = fc.integer({ min: 0, max: workers - 1 });
    const cmd: fc.Arbitrary<PCommand> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({ t: fc.constant("add" as const), k: key, p: fc.constantFrom(-1, 0, 0, 5) }),
      },
      { weight: 3, arbitrary: worker.map((w) => ({ t: "get", w }) as const) },
      { weight: 3, arbitrary: worker.map((w) => ({ t: "done", w }) as const) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { maxLength: 60 }), async (cmds) => {
        const model = new PriorityModel(workers);
        const q = newPriorityQueue<string>();
        const real: WorkerState[] = Array.from({ length: workers }, () => ({ kind: "idle" }));
        const handedOut: string[] = [];
        const run = async (c: PCommand) => {
          if (c.t === "add") {
            model.add(c.k, c.p);
            q.addWithOptions(c.k, { priority: c.p });
          } else if (c.t === "get") {
            if (real[c.w]!.kind !== "idle") return;
            model.get(c.w);
            real[c.w] = { kind: "waiting" };
            void q.get().then((r) => {
              if (!r.shutdown) {
                real[c.w] = { kind: "holding", item: r.item };
                handedOut.push(r.item);
              }
            });
          } else {
            const s = real[c.w]!;
            if (s.kind !== "holding") return;
            model.done(c.w);
            real[c.w] = { kind: "idle" };
            q.done(s.item);
          }
          await flushPromises();
          expect(real).toEqual(model.workers);
          expect(handedOut).toEqual(model.handedOut);
          expect(q.len()).toBe(model.waiting.size);
        };
        for (const c of cmds) await run(c);
        for (let round = 0; round < 50 && (model.waiting.size > 0 || model.processing.size > 0); round++) {
          for (let w = 0; w < workers; w++) await run({ t: "done", w });
          for (let w = 0; w < workers; w++) await run({ t: "get", w });
        }
        expect(model.waiting.size + model.processing.size + model.dirtyWhileProcessing.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  }, 30_000);
});
