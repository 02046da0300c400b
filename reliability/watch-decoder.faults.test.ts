// Scenario 9: watch-decoder fuzzing (no cluster). fast-check generates streams of watch events as NDJSON
// — valid ones cut into chunks at arbitrary byte offsets (inside multi-byte characters too), with CRLF
// line ends and blank lines, streams that end in the middle of an event, and streams with a garbage line
// — and feeds them to the client's `decodeWatchStream`, then through a real `Reflector` (via a fake
// lister-watcher). Properties: valid events come out complete and in order; garbage or a truncated end
// becomes exactly one `WatchDecodeError` after the valid prefix; a source that fails mid-stream
// propagates its own error; and nothing ever throws past the reflector, which reports each bad stream
// once and carries on.
import {
  decodeWatchStream,
  type KubeList,
  type KubeObject,
  type ObjectWatchEvent,
  parseWatchEvent,
  WatchDecodeError,
  type WatchEvent,
  type WatchStream,
} from "@minitask/client";
import {
  type ListerWatcher,
  Reflector,
  type ReflectorSink,
  silentLogger,
  type WatchErrorInfo,
} from "@minitask/informers";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { recordRow } from "./support/report.ts";

type Obj = KubeObject & { data?: Record<string, string> };
type Ev = { type: "ADDED" | "MODIFIED" | "DELETED"; object: Obj } | { type: "BOOKMARK"; object: Obj };

const encoder = new TextEncoder();
const NUM_RUNS = Number(process.env.RELIABILITY_FUZZ_RUNS ?? 300);

/** Text with multi-byte characters, quotes, backslashes and control characters (but JSON escapes newlines). */
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom("é", "€", "𝄞", "😀", "\\", '"', "\t", "\n", "\u0000"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});

const event: fc.Arbitrary<Ev> = fc
  .record({
    type: fc.constantFrom("ADDED", "MODIFIED", "DELETED", "BOOKMARK"),
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    value: text,
  })
  .map(
    ({ type, name, value }) =>
      ({
        type,
        object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" }, data: { v: value } },
      }) as Ev,
  );

/** Events with strictly rising resource versions. */
const events = fc
  .array(event, { maxLength: 25 })
  .map((evs) =>
    evs.map(
      (e, i) =>
        ({ ...e, object: { ...e.object, metadata: { ...e.object.metadata, resourceVersion: String(100 + i) } } }) as Ev,
    ),
  );

/** A line the decoder must refuse: not JSON, not an object, no/unknown type, no object. */
const garbage: fc.Arbitrary<string> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !s.includes("\n") && s.trim() !== "" && !isValidEvent(s)),
  fc.constantFrom(
    "[]",
    "42",
    "null",
    '"ADDED"',
    '{"type":"ADDED"}',
    '{"object":{}}',
    '{"type":"EXPLODED","object":{}}',
    '{"type":"ADDED","object":[1]}',
    '{"type":"ADDED","object":null}',
    '{"type":"MODIFIED","object":{"metadata":{"name":"x"}}',
    "<html>502 Bad Gateway</html>",
  ),
);

function isValidEvent(line: string): boolean {
  try {
    parseWatchEvent(line);
    return true;
  } catch {
    return false;
  }
}

/** NDJSON of `evs`, each line ended by \n or \r\n, with blank lines here and there. */
function ndjson(evs: readonly Ev[], crlf: readonly boolean[], blanks: readonly boolean[]): string {
  return evs.map((e, i) => `${blanks[i] ? "\n" : ""}${JSON.stringify(e)}${crlf[i] ? "\r\n" : "\n"}`).join("");
}

/** Cuts `bytes` at the given fractions of its length (any byte offset, inside characters too). */
function cut(bytes: Uint8Array, fractions: readonly number[]): Uint8Array[] {
  const offsets = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const o of offsets) {
    if (o > at) out.push(bytes.subarray(at, o));
    at = Math.max(at, o);
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return out;
}

const fractions = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 });
const flags = fc.array(fc.boolean(), { minLength: 30, maxLength: 30 });

async function decodeAll(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<{ out: WatchEvent<unknown>[]; error: unknown }> {
  const out: WatchEvent<unknown>[] = [];
  try {
    for await (const e of decodeWatchStream(chunks)) out.push(e);
  } catch (error) {
    return { out, error };
  }
  return { out, error: undefined };
}

const started = Date.now();
let cases = 0;
let passed = 0;

afterAll(() => {
  recordRow({
    scenario: "9 watch-decoder fuzzing",
    taskRuns: 0,
    terminal: 0,
    expected: 0,
    duplicates: 0,
    missingPods: 0,
    regressions: 0,
    cacheDiffs: 0,
    recovery: `fast-check: ${passed}/5 properties hold over ${cases} generated streams`,
    durationS: (Date.now() - started) / 1000,
    problems: passed === 5 ? [] : [`${5 - passed} of 5 properties failed (see the test output)`],
  });
});

/** Runs a property and counts its cases for the summary row. */
async function check<Ts extends [unknown, ...unknown[]]>(
  prop: fc.IAsyncPropertyWithHooks<Ts>,
  numRuns: number,
): Promise<void> {
  const details = await fc.check(prop, { numRuns });
  cases += details.numRuns;
  if (details.failed) throw new Error(fc.defaultReportMessage(details));
  passed++;
}

describe("reliability: watch-decoder fuzzing", () => {
  it("decodes valid events in order, however the bytes are chunked", async () => {
    await check(
      fc.asyncProperty(events, fractions, flags, flags, async (evs, fr, crlf, blanks) => {
        const { out, error } = await decodeAll(cut(encoder.encode(ndjson(evs, crlf, blanks)), fr));
        expect(error).toBeUndefined();
        expect(out).toEqual(evs);
      }),
      NUM_RUNS,
    );
  });

  it("turns a garbage line into exactly one WatchDecodeError after the valid prefix", async () => {
    await check(
      fc.asyncProperty(events, garbage, events, fractions, flags, async (before, bad, after, fr, crlf) => {
        const body = `${ndjson(before, crlf, [])}${bad}\n${ndjson(after, crlf, [])}`;
        const { out, error } = await decodeAll(cut(encoder.encode(body), fr));
        expect(out).toEqual(before);
        expect(error).toBeInstanceOf(WatchDecodeError);
        expect((error as WatchDecodeError).kind).toMatch(/^(invalid-json|invalid-event)$/);
      }),
      NUM_RUNS,
    );
  });

  it("reports a stream that ends inside an event as one truncated error", async () => {
    await check(
      fc.asyncProperty(
        events,
        event,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fractions,
        async (before, last, where, fr) => {
          const line = JSON.stringify(last);
          // Cut strictly inside the top-level object: never valid JSON.
          const partial = line.slice(0, 1 + Math.floor(where * (line.length - 2)));
          const { out, error } = await decodeAll(cut(encoder.encode(`${ndjson(before, [], [])}${partial}`), fr));
          expect(out).toEqual(before);
          expect(error).toBeInstanceOf(WatchDecodeError);
          expect((error as WatchDecodeError).kind).toBe("truncated");
        },
      ),
      NUM_RUNS,
    );
  });

  it("passes a failing source's own error through, after the events that arrived", async () => {
    await check(
      fc.asyncProperty(events, fractions, async (evs, fr) => {
        const chunks = cut(encoder.encode(ndjson(evs, [], [])), fr);
        const boom = new Error("socket hang up");
        async function* source() {
          yield* chunks;
          throw boom;
        }
        const { out, error } = await decodeAll(source());
        expect(out).toEqual(evs);
        expect(error).toBe(boom);
      }),
      NUM_RUNS,
    );
  });

  it("never throws past the reflector: valid events reach the store in order, each bad stream is reported once", async () => {
    const stream = fc.record({
      evs: events,
      ending: fc.oneof(
        fc.constant<{ kind: "clean" }>({ kind: "clean" }),
        garbage.map((line) => ({ kind: "garbage" as const, line })),
        fc.constant<{ kind: "truncated" }>({ kind: "truncated" }),
        fc.constant<{ kind: "source-error" }>({ kind: "source-error" }),
      ),
      fr: fractions,
    });
    await check(
      fc.asyncProperty(fc.array(stream, { minLength: 1, maxLength: 4 }), async (streams) => {
        const applied: string[] = [];
        const sink: ReflectorSink<Obj> = {
          replace: (items, rv) => applied.push(`replace ${items.length} @${rv}`),
          added: (o) => applied.push(`ADDED ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
          modified: (o) => applied.push(`MODIFIED ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
          deleted: (o) => applied.push(`DELETED ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
        };
        const lw = new ScriptedLW(streams.map((st) => bodyOf(st.evs, st.ending, st.fr)));
        const errors: WatchErrorInfo[] = [];
        const reflector = new Reflector<Obj>(lw, sink, {
          watchList: false,
          backoff: { initialMs: 1, maxMs: 2 },
          minWatchDurationMs: 0,
          logger: silentLogger,
          onWatchError: (e) => errors.push(e),
        });
        const stop = new AbortController();
        const running = reflector.run(stop.signal);
        await lw.exhausted;
        stop.abort();
        await expect(running).resolves.toBeUndefined();

        const expected = ["replace 0 @1"];
        for (const st of streams) {
          for (const e of st.evs)
            if (e.type !== "BOOKMARK")
              expected.push(`${e.type} ${e.object.metadata?.name}@${e.object.metadata?.resourceVersion}`);
        }
        expect(applied).toEqual(expected);
        const bad = streams.filter((st) => st.ending.kind !== "clean").length;
        const decodeErrors = errors.filter(
          (e) => e.error instanceof WatchDecodeError || (e.error as Error).message === "socket hang up",
        );
        expect(decodeErrors.length).toBe(bad);
        expect(errors.every((e) => e.phase === "watch")).toBe(true);
      }),
      Math.max(20, Math.floor(NUM_RUNS / 3)),
    );
  });
});

type Ending = { kind: "clean" } | { kind: "garbage"; line: string } | { kind: "truncated" } | { kind: "source-error" };

/** The chunks of one watch response body (and whether its source fails at the end). */
function bodyOf(evs: readonly Ev[], ending: Ending, fr: readonly number[]): { chunks: Uint8Array[]; fail: boolean } {
  let body = ndjson(evs, [], []);
  if (ending.kind === "garbage") body += `${ending.line}\n`;
  if (ending.kind === "truncated") body += '{"type":"ADDED","object":{"metadata":{"name":"cut';
  return { chunks: cut(encoder.encode(body), fr), fail: ending.kind === "source-error" };
}

/**
 * A lister-watcher that lists nothing (at RV 1), then serves the scripted watch bodies one per watch
 * call, then watches that stay open (and empty) until aborted; `exhausted` resolves at that point.
 */
class ScriptedLW implements ListerWatcher<Obj> {
  readonly #bodies: { chunks: Uint8Array[]; fail: boolean }[];
  #done: () => void = () => {};
  readonly exhausted = new Promise<void>((resolve) => {
    this.#done = resolve;
  });

  constructor(bodies: { chunks: Uint8Array[]; fail: boolean }[]) {
    this.#bodies = [...bodies];
  }

  async list(): Promise<KubeList<Obj>> {
    return { apiVersion: "v1", kind: "ConfigMapList", metadata: { resourceVersion: "1" }, items: [] };
  }

  async watch(options: { signal?: AbortSignal }): Promise<WatchStream<Obj>> {
    const next = this.#bodies.shift();
    if (next === undefined) {
      this.#done();
      return new FakeWatchStream(undefined, options.signal);
    }
    return new FakeWatchStream(next, options.signal);
  }
}

/** A `WatchStream` over scripted bytes, decoded by the real decoder; without a body, open until closed. */
class FakeWatchStream implements WatchStream<Obj> {
  readonly #body: { chunks: Uint8Array[]; fail: boolean } | undefined;
  readonly #closed = new AbortController();
  #rv: string | undefined;

  constructor(body: { chunks: Uint8Array[]; fail: boolean } | undefined, signal: AbortSignal | undefined) {
    this.#body = body;
    signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  close(): void {
    this.#closed.abort();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ObjectWatchEvent<Obj>> {
    const body = this.#body;
    if (body === undefined) {
      if (!this.#closed.signal.aborted) {
        await new Promise<void>((resolve) =>
          this.#closed.signal.addEventListener("abort", () => resolve(), { once: true }),
        );
      }
      return;
    }
    async function* source() {
      yield* body?.chunks ?? [];
      if (body?.fail) throw new Error("socket hang up");
    }
    for await (const e of decodeWatchStream(source())) {
      if (this.#closed.signal.aborted) return;
      if (e.type === "ERROR") throw new Error("unexpected ERROR event");
      this.#rv = (e.object as Obj).metadata?.resourceVersion ?? this.#rv;
      yield e as ObjectWatchEvent<Obj>;
    }
  }
}
