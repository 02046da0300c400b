// Incremental decoding of a watch response body: newline-delimited JSON, one event per line.
//
// Splitting is done on bytes, never on decoded text: the byte 0x0A cannot occur inside a multi-byte UTF-8
// sequence, so a line is always complete UTF-8 once its newline arrives, wherever the chunks were cut.
// Each byte is scanned once, and a line that spans chunks is copied once when it completes (the pieces
// are kept as views until then), so a 5 MiB object arriving in 16 KiB chunks costs linear time.
import { WatchDecodeError } from "./errors.ts";
import type { Status } from "./types.ts";

/** The event types a watch stream may carry. */
export const WatchEventTypes = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"] as const;
/** The type of a watch event: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`. */
export type WatchEventType = (typeof WatchEventTypes)[number];

/** The object of a `BOOKMARK` event: only the resource version (and, for watch-list, an annotation). */
export interface BookmarkObject {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; annotations?: Record<string, string> };
}

/** Annotation set on the bookmark that ends the initial events of a watch-list (`sendInitialEvents`). */
export const INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end";

/** A decoded watch event. `ERROR` carries a `Status`. */
export type WatchEvent<T> =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly object: T }
  | { readonly type: "BOOKMARK"; readonly object: BookmarkObject }
  | { readonly type: "ERROR"; readonly object: Status };

/** What `ResourceClient.watch` yields: `ERROR` events are thrown as typed `ApiError`s instead. */
export type ObjectWatchEvent<T> = Exclude<WatchEvent<T>, { readonly type: "ERROR" }>;

/** True for the bookmark that marks the end of the initial events of a watch-list. */
export function isInitialEventsEndBookmark(event: { readonly type: string; readonly object: unknown }): boolean {
  if (event.type !== "BOOKMARK") return false;
  const meta = (event.object as BookmarkObject | null)?.metadata;
  return meta?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === "true";
}

export interface LineSplitterOptions {
  /** Longest line accepted, in bytes; longer lines fail with `WatchDecodeError` kind `line-too-long`. */
  readonly maxLineBytes?: number;
}

/** Default line limit: far above the apiserver's object size limits, low enough to stop runaway memory. */
export const DEFAULT_MAX_LINE_BYTES = 128 * 1024 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/**
 * Splits a byte stream into lines. `push` returns the lines completed by a chunk (without `\n` or a
 * trailing `\r`; blank lines are dropped); `end` returns the unterminated rest, if it is not blank.
 * Chunks are kept by reference until their line completes: don't mutate a chunk after pushing it.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #parts: Uint8Array[] = [];
  #partsLength = 0;
  /** Number of lines completed so far (including blank ones), for error messages. */
  #lineNumber = 0;

  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** 1-based number of the line currently being assembled. */
  get currentLine(): number {
    return this.#lineNumber + 1;
  }

  /** Bytes buffered for the incomplete line. */
  get bufferedBytes(): number {
    return this.#partsLength;
  }

  push(chunk: Uint8Array | string): string[] {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    const lines: string[] = [];
    let start = 0;
    while (start < bytes.length) {
      const nl = bytes.indexOf(NEWLINE, start);
      if (nl === -1) {
        const rest = bytes.subarray(start);
        this.#checkLength(this.#partsLength + rest.length);
        this.#parts.push(rest);
        this.#partsLength += rest.length;
        break;
      }
      this.#checkLength(this.#partsLength + (nl - start));
      const line = this.#takeLine(bytes.subarray(start, nl));
      this.#lineNumber++;
      if (line !== undefined) lines.push(line);
      start = nl + 1;
    }
    return lines;
  }

  /** Returns the unterminated last line (undefined when there is none or it is blank) and resets. */
  end(): string | undefined {
    if (this.#partsLength === 0) {
      this.#parts = [];
      return undefined;
    }
    const line = this.#takeLine(new Uint8Array(0));
    this.#lineNumber++;
    return line;
  }

  #checkLength(length: number): void {
    if (length > this.#maxLineBytes) {
      const head = this.#parts[0] ?? new Uint8Array(0);
      const excerpt = decoder.decode(head.subarray(0, 256));
      this.#parts = [];
      this.#partsLength = 0;
      throw new WatchDecodeError("line-too-long", `watch event longer than ${this.#maxLineBytes} bytes`, {
        excerpt,
        line: this.#lineNumber + 1,
      });
    }
  }

  /** Joins the buffered parts with `tail` into one decoded line; undefined when blank. */
  #takeLine(tail: Uint8Array): string | undefined {
    let bytes: Uint8Array;
    if (this.#parts.length === 0) {
      bytes = tail;
    } else {
      bytes = new Uint8Array(this.#partsLength + tail.length);
      let offset = 0;
      for (const part of this.#parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
      bytes.set(tail, offset);
      this.#parts = [];
      this.#partsLength = 0;
    }
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    if (isBlank(bytes, end)) return undefined;
    return decoder.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
  }
}

function isBlank(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}

const eventTypes: ReadonlySet<string> = new Set(WatchEventTypes);

/**
 * Parses one line into a watch event. Throws `WatchDecodeError` for non-JSON (kind `invalid-json`, or
 * `truncated` when `final` says this was the unterminated last line of the stream) and for JSON that is
 * not `{type, object}` with a known type and an object (kind `invalid-event`).
 */
export function parseWatchEvent(line: string, lineNumber = 1, final = false): WatchEvent<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (cause) {
    throw final
      ? new WatchDecodeError("truncated", "watch stream ended in the middle of an event", {
          excerpt: line,
          line: lineNumber,
          cause,
        })
      : new WatchDecodeError("invalid-json", "watch stream line is not JSON", {
          excerpt: line,
          line: lineNumber,
          cause,
        });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WatchDecodeError("invalid-event", "watch stream line is not an event object", {
      excerpt: line,
      line: lineNumber,
    });
  }
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (typeof type !== "string" || !eventTypes.has(type)) {
    throw new WatchDecodeError(
      "invalid-event",
      type === undefined ? "watch event has no type" : `unknown watch event type ${JSON.stringify(type)}`,
      { excerpt: line, line: lineNumber },
    );
  }
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    throw new WatchDecodeError("invalid-event", `watch event ${type} has no object`, {
      excerpt: line,
      line: lineNumber,
    });
  }
  return { type, object } as WatchEvent<unknown>;
}

/**
 * Decodes a watch body into events, incrementally. Yields each event as soon as its line is complete;
 * throws `WatchDecodeError` at the first malformed line, which ends the stream (events before it have
 * been yielded). `ERROR` events are yielded as they are (`ResourceClient.watch` turns them into typed
 * errors). Errors of `chunks` itself propagate unchanged. Returning early releases `chunks`.
 */
export async function* decodeWatchStream(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: LineSplitterOptions = {},
): AsyncGenerator<WatchEvent<unknown>, void, undefined> {
  const splitter = new LineSplitter(options);
  let lineNumber = 0;
  for await (const chunk of chunks) {
    const first = splitter.currentLine;
    const lines = splitter.push(chunk);
    // Line numbers are approximate when blank lines were dropped; good enough for messages.
    lineNumber = first;
    for (const line of lines) {
      yield parseWatchEvent(line, lineNumber++);
    }
  }
  const last = splitter.end();
  if (last !== undefined) {
    yield parseWatchEvent(last, splitter.currentLine - 1, true);
  }
}
