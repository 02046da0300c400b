// Streaming decode of list responses. A big list (10,000 objects ≈ 15 MB) arrives over hundreds of
// milliseconds while the apiserver encodes it; decoding each item as soon as its bytes are in overlaps our
// work with the server's, instead of waiting for the whole body and then parsing 15 MB in one go.
//
// The scanner tracks JSON structure byte by byte (strings and escapes, nesting), skipping through strings
// with `indexOf`. Each element of the top-level `items` array is handed to `JSON.parse` on its own; the
// rest of the body (kind, apiVersion, metadata with resourceVersion/continue) is kept and parsed at the end
// with `items` emptied. Malformed input fails with `ListDecodeError` (the reflector backs off and retries).
import type {
  HttpRequest,
  KubeClient,
  KubeList,
  KubeObject,
  ListOptions,
  ResourceClient,
  WatchOptions,
  WatchStream,
} from "@minitask/client";
import { apiVersionOf } from "@minitask/client";
import { fieldSelectorString } from "./fields.ts";
import type { ListerWatcher } from "./reflector.ts";
import { labelSelectorString } from "./selector.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const decoder = new TextDecoder("utf-8");

/** The list body was not the JSON it should be. */
export class ListDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ListDecodeError";
  }
}

function concat(parts: readonly Uint8Array[], tail: Uint8Array): Uint8Array {
  let n = tail.length;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  out.set(tail, o);
  return out;
}

/** Incremental decoder of one `{…, "items": [ {…}, … ], …}` body. */
export class ListBodyDecoder<T = unknown> {
  readonly items: T[] = [];
  #depth = 0;
  #inString = false;
  /** Trailing backslashes (inside a string) at the end of the previous chunk. */
  #backslashCarry = 0;
  /** The last string completed at depth 1 (a key of the top-level object, or a value). */
  #lastTopString = "";
  #topStringParts: Uint8Array[] = [];
  #capturingTopString = false;
  #inItems = false;
  #itemParts: Uint8Array[] = [];
  #inItem = false;
  #envelopeParts: Uint8Array[] = [];
  readonly #onItem: ((item: T) => void) | undefined;

  constructor(onItem?: (item: T) => void) {
    this.#onItem = onItem;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    /** Start of the envelope bytes (outside items) not yet copied, in this chunk. */
    let envStart = this.#inItems ? -1 : 0;
    /** Start of the current item in this chunk (0 when it began in an earlier chunk). */
    let itemStart = this.#inItem ? 0 : -1;
    let topStringStart = this.#capturingTopString ? 0 : -1;
    while (i < n) {
      if (this.#inString) {
        // Jump to the next quote; it ends the string unless escaped by an odd run of backslashes.
        const q = chunk.indexOf(QUOTE, i);
        if (q === -1) {
          let k = 0;
          while (k < n - i && chunk[n - 1 - k] === BACKSLASH) k++;
          this.#backslashCarry = k === n - i ? this.#backslashCarry + k : k;
          i = n;
          break;
        }
        let k = 0;
        while (q - 1 - k >= i && chunk[q - 1 - k] === BACKSLASH) k++;
        if (q - k === i) k += this.#backslashCarry;
        this.#backslashCarry = 0;
        if (k % 2 === 1) {
          i = q + 1;
          continue;
        }
        this.#inString = false;
        if (this.#capturingTopString) {
          this.#capturingTopString = false;
          const bytes = chunk.subarray(topStringStart, q);
          this.#lastTopString = decoder.decode(
            this.#topStringParts.length > 0 ? concat(this.#topStringParts, bytes) : bytes,
          );
          this.#topStringParts = [];
          topStringStart = -1;
        }
        i = q + 1;
        continue;
      }
      const b = chunk[i]!;
      if (b === QUOTE) {
        this.#inString = true;
        this.#backslashCarry = 0;
        if (this.#depth === 1) {
          this.#capturingTopString = true;
          topStringStart = i + 1;
        }
      } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        if (b === OPEN_BRACKET && this.#depth === 1 && !this.#inItems && this.#lastTopString === "items") {
          this.#inItems = true;
          this.#envelopeParts.push(chunk.subarray(envStart, i + 1));
          envStart = -1;
        } else if (b === OPEN_BRACE && this.#inItems && this.#depth === 2) {
          this.#inItem = true;
          itemStart = i;
        }
        this.#depth++;
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        this.#depth--;
        if (this.#depth < 0) throw new ListDecodeError("unbalanced JSON in the list response");
        if (this.#inItem && this.#depth === 2) {
          if (b !== CLOSE_BRACE) throw new ListDecodeError("malformed item in the list response");
          const bytes = chunk.subarray(itemStart, i + 1);
          this.#emit(this.#itemParts.length > 0 ? concat(this.#itemParts, bytes) : bytes);
          this.#itemParts = [];
          this.#inItem = false;
          itemStart = -1;
        } else if (this.#inItems && this.#depth === 1) {
          this.#inItems = false;
          envStart = i;
        }
      }
      i++;
    }
    if (envStart >= 0) this.#envelopeParts.push(chunk.subarray(envStart));
    if (this.#inItem && itemStart >= 0) this.#itemParts.push(chunk.subarray(itemStart));
    if (this.#capturingTopString && topStringStart >= 0) this.#topStringParts.push(chunk.subarray(topStringStart));
  }

  /** The list (envelope with all decoded items). Throws when the body ended in the middle. */
  end(): KubeList<T> {
    if (this.#depth !== 0 || this.#inString) throw new ListDecodeError("the list response ended early");
    const text = decoder.decode(concat(this.#envelopeParts, new Uint8Array(0)));
    let envelope: KubeList<T>;
    try {
      envelope = JSON.parse(text) as KubeList<T>;
    } catch (cause) {
      throw new ListDecodeError("the list response is not JSON", { cause });
    }
    if (typeof envelope !== "object" || envelope === null)
      throw new ListDecodeError("the list response is not an object");
    envelope.metadata ??= {};
    envelope.items = this.items;
    return envelope;
  }

  #emit(bytes: Uint8Array): void {
    let item: T;
    try {
      item = JSON.parse(decoder.decode(bytes)) as T;
    } catch (cause) {
      throw new ListDecodeError("malformed item in the list response", { cause });
    }
    this.items.push(item);
    this.#onItem?.(item);
  }
}

/**
 * A lister-watcher over a `ResourceClient` whose lists are decoded while they arrive (watches are the
 * client's own). Same requests and results as `ResourceClient.list`, including `apiVersion`/`kind`
 * filled into items.
 */
export class StreamingListerWatcher<T extends KubeObject> implements ListerWatcher<T> {
  readonly #client: KubeClient;
  readonly #resource: ResourceClient<T>;

  constructor(client: KubeClient, resource: ResourceClient<T>) {
    this.#client = client;
    this.#resource = resource;
  }

  async list(options: ListOptions): Promise<KubeList<T>> {
    const d = this.#resource.descriptor;
    const req: HttpRequest = {
      method: "GET",
      path: this.#resource.path(),
      query: {
        labelSelector: labelSelectorString(options.labelSelector),
        fieldSelector: fieldSelectorString(options.fieldSelector),
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
        timeoutSeconds: options.timeoutSeconds,
      },
      signal: options.signal,
      retry: options.retry,
      metric: { verb: "list", resource: d.resource, group: d.group },
    };
    const response = await this.#client.requestStream(req);
    const body = new ListBodyDecoder<T>();
    try {
      for await (const chunk of response.body) body.push(chunk);
    } finally {
      response.close();
    }
    const list = body.end();
    const apiVersion = list.apiVersion ?? apiVersionOf(d);
    const kind = d.kind ?? list.kind?.replace(/List$/, "");
    for (const item of list.items) {
      item.apiVersion ??= apiVersion;
      if (kind !== undefined) item.kind ??= kind;
    }
    return list;
  }

  watch(options: WatchOptions): Promise<WatchStream<T>> {
    return this.#resource.watch(options);
  }
}
