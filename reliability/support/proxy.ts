// A small TCP proxy of the suite's own, between the controller and the apiserver. It forwards bytes
// untouched (TLS passes through end to end), and can:
//   - drop every open connection at once (RST), like a load balancer or NAT table losing its state;
//   - stall: connections open now, and new ones until `unstall()`, accept bytes but forward nothing in
//     either direction — half-open connections that look alive to both ends. Stalled connections stay
//     stalled for good (only the client can end them: its watchdog / timeouts must notice);
//   - delay every chunk from the client to the server by a fixed latency (order preserved), which
//     adds that latency to every request.
import { createServer, type Server, Socket } from "node:net";

export interface ProxyStats {
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Connections reset by `dropAll()`. */
  readonly dropped: number;
  /** Connections stalled (now or before). */
  readonly stalled: number;
}

interface Conn {
  readonly client: Socket;
  readonly upstream: Socket;
  stalled: boolean;
  /** Client → server chunks waiting for their release time (latency mode). */
  readonly delayed: { at: number; data: Buffer }[];
  timer: NodeJS.Timeout | undefined;
}

export class FaultProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #conns = new Set<Conn>();
  #port = 0;
  #stallNew = false;
  #latencyMs = 0;
  #accepted = 0;
  #dropped = 0;
  #stalled = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a random loopback port in front of `target`. */
  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const p = new FaultProxy(target);
    await new Promise<void>((resolve, reject) => {
      p.#server.once("error", reject);
      p.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const addr = p.#server.address();
    p.#port = typeof addr === "object" && addr ? addr.port : 0;
    return p;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  stats(): ProxyStats {
    return { accepted: this.#accepted, open: this.#conns.size, dropped: this.#dropped, stalled: this.#stalled };
  }

  /** Resets every open connection (both sides). New connections are accepted as usual. */
  dropAll(): number {
    let n = 0;
    for (const c of [...this.#conns]) {
      n++;
      this.#close(c, true);
    }
    this.#dropped += n;
    return n;
  }

  /** Stalls every open connection for good, and new connections until `unstall()`. */
  stall(): void {
    this.#stallNew = true;
    for (const c of this.#conns) this.#freeze(c);
  }

  /** New connections are forwarded again; the ones already stalled stay stalled. */
  unstall(): void {
    this.#stallNew = false;
  }

  /** Delay of every client → server chunk (0: none). */
  setLatency(ms: number): void {
    this.#latencyMs = Math.max(0, ms);
  }

  async close(): Promise<void> {
    for (const c of [...this.#conns]) this.#close(c, false);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#accepted++;
    const upstream = new Socket();
    const conn: Conn = { client, upstream, stalled: false, delayed: [], timer: undefined };
    this.#conns.add(conn);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on("error", () => this.#close(conn, false));
    upstream.on("error", () => this.#close(conn, false));
    client.on("close", () => this.#close(conn, false));
    upstream.on("close", () => this.#close(conn, false));
    if (this.#stallNew) this.#freeze(conn);
    upstream.connect(this.#target.port, this.#target.host);
    client.on("data", (data: Buffer) => {
      if (conn.stalled) return; // swallowed: accepted, never forwarded
      if (this.#latencyMs > 0 || conn.delayed.length > 0) {
        conn.delayed.push({ at: Date.now() + this.#latencyMs, data });
        this.#schedule(conn);
        return;
      }
      upstream.write(data);
    });
    upstream.on("data", (data: Buffer) => {
      if (conn.stalled) return;
      client.write(data);
    });
  }

  /** One timer per connection, for the head of its delay queue. */
  #schedule(conn: Conn): void {
    if (conn.timer !== undefined) return;
    const head = conn.delayed[0];
    if (head === undefined) return;
    conn.timer = setTimeout(
      () => {
        conn.timer = undefined;
        const now = Date.now();
        while (conn.delayed[0] !== undefined && conn.delayed[0].at <= now) {
          const next = conn.delayed.shift();
          if (next && !conn.stalled && !conn.upstream.destroyed) conn.upstream.write(next.data);
        }
        this.#schedule(conn);
      },
      Math.max(0, head.at - Date.now()),
    );
  }

  #freeze(conn: Conn): void {
    if (conn.stalled) return;
    conn.stalled = true;
    this.#stalled++;
    conn.delayed.length = 0;
  }

  #close(conn: Conn, reset: boolean): void {
    if (!this.#conns.delete(conn)) return;
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    for (const s of [conn.client, conn.upstream]) {
      if (s.destroyed) continue;
      if (reset && s.readyState === "open") s.resetAndDestroy();
      else s.destroy();
    }
  }
}
