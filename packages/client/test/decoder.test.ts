import { describe, expect, it } from "vitest";
import { isInitialEventsEndBookmark, LineSplitter } from "../src/decoder.ts";
import { decodeWatchStream, parseWatchEvent, WatchDecodeError, type WatchEvent } from "../src/index.ts";

const enc = new TextEncoder();

async function collect(
  chunks: Iterable<Uint8Array | string>,
  options: { maxLineBytes?: number } = {},
): Promise<{ events: WatchEvent<unknown>[]; error: unknown }> {
  const events: WatchEvent<unknown>[] = [];
  try {
    for await (const e of decodeWatchStream(chunks, options)) events.push(e);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

function cm(name: string, rv: string, data: Record<string, string> = {}): unknown {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", resourceVersion: rv }, data };
}

const sample: WatchEvent<unknown>[] = [
  { type: "ADDED", object: cm("a", "1", { greeting: "grüße 日本 🚀" }) },
  { type: "MODIFIED", object: cm("a", "2", { emoji: "🧪🚀", accents: "éàü" }) },
  { type: "BOOKMARK", object: { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "3" } } },
  { type: "DELETED", object: cm("a", "4") },
];
const sampleBytes = enc.encode(sample.map((e) => `${JSON.stringify(e)}\n`).join(""));

describe("decodeWatchStream", () => {
  it("decodes one chunk holding several events", async () => {
    const { events, error } = await collect([sampleBytes]);
    expect(error).toBeUndefined();
    expect(events).toEqual(sample);
  });

  it("decodes the same events wherever a single split falls (every byte position)", async () => {
    for (let i = 0; i <= sampleBytes.length; i++) {
      const { events, error } = await collect([sampleBytes.subarray(0, i), sampleBytes.subarray(i)]);
      expect(error, `split at ${i}`).toBeUndefined();
      expect(events, `split at ${i}`).toEqual(sample);
    }
  });

  it("decodes the same events for every pair of split positions", async () => {
    const two = sampleBytes.subarray(0, sampleBytes.indexOf(0x0a, sampleBytes.indexOf(0x0a) + 1) + 1);
    const expected = sample.slice(0, 2);
    for (let i = 0; i <= two.length; i += 1) {
      for (let j = i; j <= two.length; j += 3) {
        const { events, error } = await collect([two.subarray(0, i), two.subarray(i, j), two.subarray(j)]);
        expect(error).toBeUndefined();
        expect(events).toEqual(expected);
      }
    }
  });

  it("decodes a stream delivered one byte at a time (multi-byte UTF-8 split in every way)", async () => {
    const bytes = Array.from(sampleBytes, (b) => Uint8Array.of(b));
    const { events, error } = await collect(bytes);
    expect(error).toBeUndefined();
    expect(events).toEqual(sample);
  });

  it("splits inside a 4-byte UTF-8 sequence without corrupting it", async () => {
    const line = enc.encode(`${JSON.stringify({ type: "ADDED", object: { data: "🚀" } })}\n`);
    const rocket = enc.encode("🚀");
    const at = indexOfBytes(line, rocket);
    for (let k = 1; k < 4; k++) {
      const { events } = await collect([line.subarray(0, at + k), line.subarray(at + k)]);
      expect(events).toEqual([{ type: "ADDED", object: { data: "🚀" } }]);
    }
  });

  it("decodes a 5 MiB object arriving in 16 KiB chunks", async () => {
    const big = "x".repeat(5 * 1024 * 1024);
    const event = { type: "ADDED", object: { kind: "ConfigMap", metadata: { name: "big" }, data: { big } } };
    const bytes = enc.encode(`${JSON.stringify(event)}\n${JSON.stringify({ type: "DELETED", object: { a: 1 } })}\n`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
    const { events, error } = await collect(chunks);
    expect(error).toBeUndefined();
    expect(events).toHaveLength(2);
    const first = events[0] as { object: { data: { big: string } } };
    expect(first.object.data.big.length).toBe(big.length);
    expect(events[1]).toEqual({ type: "DELETED", object: { a: 1 } });
  });

  it("accepts string chunks, CRLF line ends, blank lines and trailing blank lines", async () => {
    const text = sample.map((e) => `${JSON.stringify(e)}\r\n`).join("\n \r\n");
    const { events, error } = await collect([text.slice(0, 17), text.slice(17), "\n\n", "\r\n", "   "]);
    expect(error).toBeUndefined();
    expect(events).toEqual(sample);
  });

  it("parses a complete last event that lacks the final newline", async () => {
    const text = JSON.stringify(sample[0]);
    const { events, error } = await collect([text]);
    expect(error).toBeUndefined();
    expect(events).toEqual([sample[0]]);
  });

  it("fails with kind 'truncated' when the stream ends inside an event, after yielding the complete ones", async () => {
    const full = `${JSON.stringify(sample[0])}\n${JSON.stringify(sample[1])}\n`;
    const cut = `${full}${JSON.stringify(sample[2]).slice(0, 20)}`;
    const { events, error } = await collect([cut]);
    expect(events).toEqual(sample.slice(0, 2));
    expect(error).toBeInstanceOf(WatchDecodeError);
    expect((error as WatchDecodeError).kind).toBe("truncated");
  });

  it("turns a garbage line into exactly one error that ends the stream", async () => {
    const text = `${JSON.stringify(sample[0])}\nthis is not json\n${JSON.stringify(sample[1])}\n`;
    const { events, error } = await collect([text]);
    expect(events).toEqual([sample[0]]);
    expect(error).toBeInstanceOf(WatchDecodeError);
    expect((error as WatchDecodeError).kind).toBe("invalid-json");
    expect((error as WatchDecodeError).excerpt).toBe("this is not json");
    expect((error as WatchDecodeError).line).toBe(2);
  });

  it.each([
    ['{"object":{"a":1}}', "no type"],
    ['{"type":"ADDED"}', "no object"],
    ['{"type":"ADDED","object":null}', "null object"],
    ['{"type":"ADDED","object":[1]}', "array object"],
    ['{"type":"RENAMED","object":{}}', "unknown type"],
    ['{"type":7,"object":{}}', "numeric type"],
    ["[1,2,3]", "an array"],
    ['"just a string"', "a string"],
    ["42", "a number"],
  ])("rejects %s (%s) as invalid-event", async (line) => {
    const { events, error } = await collect([`${line}\n`]);
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(WatchDecodeError);
    expect((error as WatchDecodeError).kind).toBe("invalid-event");
  });

  it("yields ERROR events with their Status (turning them into errors is the client's job)", async () => {
    const status = {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: 410,
      reason: "Expired",
      message: "too old",
    };
    const { events } = await collect([`${JSON.stringify({ type: "ERROR", object: status })}\n`]);
    expect(events).toEqual([{ type: "ERROR", object: status }]);
  });

  it("rejects a line longer than maxLineBytes", async () => {
    const line = `${JSON.stringify({ type: "ADDED", object: { data: "y".repeat(1000) } })}\n`;
    const { events, error } = await collect([line.slice(0, 400), line.slice(400)], { maxLineBytes: 512 });
    expect(events).toEqual([]);
    expect((error as WatchDecodeError).kind).toBe("line-too-long");
  });

  it("propagates errors of the chunk source unchanged", async () => {
    const boom = new Error("socket hang up");
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield enc.encode(`${JSON.stringify(sample[0])}\n`);
      throw boom;
    }
    const events: WatchEvent<unknown>[] = [];
    await expect(
      (async () => {
        for await (const e of decodeWatchStream(chunks())) events.push(e);
      })(),
    ).rejects.toBe(boom);
    expect(events).toEqual([sample[0]]);
  });

  it("releases the source when the consumer stops early", async () => {
    let finalized = false;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        yield sampleBytes;
        yield sampleBytes;
      } finally {
        finalized = true;
      }
    }
    for await (const e of decodeWatchStream(chunks())) {
      expect(e.type).toBe("ADDED");
      break;
    }
    expect(finalized).toBe(true);
  });
});

describe("LineSplitter", () => {
  it("returns completed lines per chunk and the rest at the end", () => {
    const s = new LineSplitter();
    expect(s.push("ab")).toEqual([]);
    expect(s.push("c\nd")).toEqual(["abc"]);
    expect(s.bufferedBytes).toBe(1);
    expect(s.push("\n\ne\r\nf")).toEqual(["d", "e"]);
    expect(s.end()).toBe("f");
    expect(s.end()).toBeUndefined();
  });
});

describe("parseWatchEvent / isInitialEventsEndBookmark", () => {
  it("recognises the watch-list end bookmark", () => {
    const e = parseWatchEvent(
      JSON.stringify({
        type: "BOOKMARK",
        object: { metadata: { resourceVersion: "9", annotations: { "k8s.io/initial-events-end": "true" } } },
      }),
    );
    expect(isInitialEventsEndBookmark(e)).toBe(true);
    expect(isInitialEventsEndBookmark({ type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } })).toBe(
      false,
    );
    expect(isInitialEventsEndBookmark({ type: "ADDED", object: {} })).toBe(false);
  });
});

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
