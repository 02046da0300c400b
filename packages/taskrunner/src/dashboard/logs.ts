// Container logs for the run page: one apiserver stream per container however many browsers show it
// (`GET …/pods/<pod>/log?container=…&follow=true&limitBytes=…`), shared by reference count, bounded in bytes
// per container and in containers open at once, and closed as soon as no browser shows it any more. A browser
// that joins late gets what was read so far, then the rest as it comes.

import { TextDecoder } from "node:util";
import { type Logger, silentLogger } from "@minitask/informers";

/** A container of a pod. */
export interface ContainerRef {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

/** How a log ended: read to its end, cut at the byte limit, never started (the container did not run), or failed. */
export type LogEnd =
  | { readonly reason: "completed" }
  | { readonly reason: "truncated"; readonly limitBytes: number }
  | { readonly reason: "none"; readonly message: string }
  | { readonly reason: "error"; readonly message: string };

/** Who shows a log: text as it arrives, then the end, once. */
export interface LogSubscriber {
  text(ref: ContainerRef, text: string): void;
  end(ref: ContainerRef, end: LogEnd): void;
}

/** An open log: its bytes as they arrive. `close()` releases the connection. */
export interface LogStream {
  readonly body: AsyncIterable<Uint8Array>;
  close(): void;
}

/** Opens a container's log, following it, the apiserver stopping after `limitBytes`. */
export type LogOpener = (
  ref: ContainerRef,
  o: { readonly limitBytes: number; signal: AbortSignal },
) => Promise<LogStream>;

/** Whether a container's log can be opened now, must wait (the container has not started), or never will. */
export type LogReadiness = "ready" | "waiting" | { readonly none: string };

export interface LogHubOptions {
  readonly open: LogOpener;
  readonly readiness: (ref: ContainerRef) => LogReadiness;
  /** Bytes kept and shown per container; the apiserver stops sending there. Default 256 KiB. */
  readonly maxBytesPerLog?: number;
  /** Containers whose logs are held at once (streaming, waiting or read). Default 64. */
  readonly maxLogs?: number;
  /** Text is passed on at most this often. Default 50 ms. */
  readonly flushMs?: number;
  /** Each stream opened and closed, at debug level. */
  readonly logger?: Logger;
}

export const DEFAULT_MAX_BYTES_PER_LOG = 256 * 1024;
export const DEFAULT_MAX_LOGS = 64;

type EntryState = "waiting" | "streaming" | "ended";

interface Entry {
  readonly ref: ContainerRef;
  readonly subscribers: Set<LogSubscriber>;
  readonly abort: AbortController;
  readonly decoder: TextDecoder;
  state: EntryState;
  /** Everything read so far (for subscribers that join later). */
  text: string;
  /** Read but not yet passed on. */
  pending: string;
  bytes: number;
  end?: LogEnd;
}

const keyOf = (r: ContainerRef) => `${r.namespace}/${r.pod}/${r.container}`;

export class LogHub {
  readonly #o: LogHubOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;
  readonly #maxLogs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(o: LogHubOptions) {
    this.#o = o;
    this.#maxBytes = o.maxBytesPerLog ?? DEFAULT_MAX_BYTES_PER_LOG;
    this.#maxLogs = o.maxLogs ?? DEFAULT_MAX_LOGS;
    this.#log = o.logger ?? silentLogger;
  }

  /** How many containers' logs are held, and how many of them have an open stream. */
  stats(): { logs: number; streaming: number } {
    let streaming = 0;
    for (const e of this.#entries.values()) if (e.state === "streaming") streaming++;
    return { logs: this.#entries.size, streaming };
  }

  /** Starts showing `ref` to `sub`: what was read so far at once, then the rest as it arrives. */
  subscribe(ref: ContainerRef, sub: LogSubscriber): void {
    const key = keyOf(ref);
    let e = this.#entries.get(key);
    if (!e) {
      if (this.#closed || this.#entries.size >= this.#maxLogs) {
        sub.end(ref, {
          reason: "error",
          message: `this dashboard shows at most ${this.#maxLogs} logs at once; close other run pages`,
        });
        return;
      }
      e = {
        ref,
        subscribers: new Set(),
        abort: new AbortController(),
        decoder: new TextDecoder(),
        state: "waiting",
        text: "",
        pending: "",
        bytes: 0,
      };
      this.#entries.set(key, e);
    } else if (e.subscribers.has(sub)) {
      return;
    }
    // What the others have seen, then join them (text still pending reaches everyone at the next flush).
    const seen = e.text.slice(0, e.text.length - e.pending.length);
    if (seen) sub.text(ref, seen);
    e.subscribers.add(sub);
    if (e.state === "ended" && e.end && !e.pending) sub.end(ref, e.end);
    if (e.state === "waiting") this.#maybeStart(e);
  }

  /** Stops showing `ref` to `sub`; the last one to leave closes the stream and drops the text. */
  unsubscribe(ref: ContainerRef, sub: LogSubscriber): void {
    const key = keyOf(ref);
    const e = this.#entries.get(key);
    if (!e?.subscribers.delete(sub)) return;
    if (e.subscribers.size === 0) {
      this.#entries.delete(key);
      e.abort.abort();
    }
  }

  /** Something about a pod changed (a container started, the pod finished): waiting logs may start now. */
  podChanged(namespace: string, pod: string): void {
    for (const e of this.#entries.values()) {
      if (e.state === "waiting" && e.ref.namespace === namespace && e.ref.pod === pod) this.#maybeStart(e);
    }
  }

  /** Closes every stream. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const e of this.#entries.values()) e.abort.abort();
    this.#entries.clear();
  }

  #maybeStart(e: Entry): void {
    const r = this.#o.readiness(e.ref);
    if (r === "waiting") return;
    if (r !== "ready") {
      this.#finish(e, { reason: "none", message: r.none });
      return;
    }
    e.state = "streaming";
    void this.#pump(e);
  }

  async #pump(e: Entry): Promise<void> {
    let stream: LogStream | undefined;
    const { namespace, pod, container } = e.ref;
    this.#log.debug({ namespace, pod, container }, "dashboard: log stream opened");
    try {
      stream = await this.#o.open(e.ref, { limitBytes: this.#maxBytes, signal: e.abort.signal });
      for await (const chunk of stream.body) {
        if (e.abort.signal.aborted) break;
        const room = this.#maxBytes - e.bytes;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        e.bytes += part.length;
        this.#append(e, e.decoder.decode(part, { stream: true }));
        if (e.bytes >= this.#maxBytes) break;
      }
      this.#append(e, e.decoder.decode());
      this.#finish(
        e,
        e.bytes >= this.#maxBytes ? { reason: "truncated", limitBytes: this.#maxBytes } : { reason: "completed" },
      );
    } catch (err) {
      if (e.abort.signal.aborted) return;
      this.#finish(e, { reason: "error", message: err instanceof Error ? err.message : String(err) });
    } finally {
      stream?.close();
      const reason = e.abort.signal.aborted ? "no browser shows it" : (e.end?.reason ?? "");
      this.#log.debug({ namespace, pod, container, reason }, "dashboard: log stream closed");
    }
  }

  #append(e: Entry, text: string): void {
    if (!text || e.abort.signal.aborted) return;
    e.text += text;
    e.pending += text;
    this.#schedule();
  }

  #finish(e: Entry, end: LogEnd): void {
    if (e.abort.signal.aborted || e.state === "ended") return;
    e.state = "ended";
    e.end = end;
    if (e.pending) this.#schedule();
    else for (const s of e.subscribers) s.end(e.ref, end);
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => this.#flush(), this.#o.flushMs ?? 50);
  }

  #flush(): void {
    this.#timer = undefined;
    for (const e of this.#entries.values()) {
      if (!e.pending) continue;
      const text = e.pending;
      e.pending = "";
      for (const s of e.subscribers) s.text(e.ref, text);
      if (e.state === "ended" && e.end) for (const s of e.subscribers) s.end(e.ref, e.end);
    }
  }
}
