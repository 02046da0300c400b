// Test helpers: a local HTTP server of the test's own, and a clock that does not wait.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock, Timer } from "@minitask/workqueue";

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Handler gets the request with its body already read. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, recorded: RecordedRequest) => void;

export async function startServer(handler: Handler, port = 0): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      handler(req, res, recorded);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: http.ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function statusBody(code: number, reason: string, message: string, details?: unknown): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
    ...(details === undefined ? {} : { details }),
  };
}

/**
 * A clock whose timers fire on the next macrotask (no real waiting) and which records every delay it
 * was asked for; `now()` advances by the delays.
 */
export class InstantClock implements Clock {
  readonly delays: number[] = [];
  #offset = 0;
  now(): number {
    return performance.now() + this.#offset;
  }
  setTimer(callback: () => void, ms: number): Timer {
    this.delays.push(ms);
    let cancelled = false;
    setImmediate(() => {
      if (cancelled) return;
      this.#offset += ms;
      callback();
    });
    return { stop: () => (cancelled = true), unref: () => {} };
  }
}

/** Resolves when `predicate` is true, polling on macrotasks; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((r) => setTimeout(r, 5));
  }
}
