// The HTTP endpoints an operator scrapes and probes: /metrics (Prometheus), /healthz and /readyz; over
// HTTPS, and with /metrics behind the apiserver's authentication and authorization, when asked.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { AccessDecision } from "./metrics-auth.ts";
import type { ServingCertificate } from "./serving-cert.ts";

/** A named readiness or liveness check: returns true when healthy, or a reason string when not. */
export type HealthCheck = () => boolean | string;

/**
 * Parses a Go-style bind address: ":8080" (all interfaces), "127.0.0.1:8080", "[::1]:8080", "8080".
 * "0" or "" disables the endpoint (undefined).
 */
export function parseBindAddress(addr: string): { host: string; port: number } | undefined {
  const a = addr.trim();
  if (a === "" || a === "0") return undefined;
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(a);
  if (!m) throw new Error(`invalid bind address "${addr}" (expected [HOST]:PORT, e.g. ":8080" or "127.0.0.1:8080")`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid bind address "${addr}": port out of range`);
  const host = m[1] ?? (m[2] || "0.0.0.0");
  return { host, port };
}

/** What an {@link EndpointServer} serves. */
export interface EndpointsOptions {
  readonly registry?: Registry;
  readonly readyChecks?: Readonly<Record<string, HealthCheck>>;
  readonly liveChecks?: Readonly<Record<string, HealthCheck>>;
  /** Serve /metrics (true when a registry is given). */
  readonly metrics?: boolean;
  /** Serve /healthz and /readyz. Default true. */
  readonly health?: boolean;
  /** Extra read-only JSON endpoints, by path (e.g. a debug view of the caches). */
  readonly jsonRoutes?: Readonly<Record<string, () => unknown>>;
  /** Serve HTTPS with this certificate instead of plain HTTP. */
  readonly tls?: ServingCertificate;
  /**
   * Asked before /metrics and the JSON routes are served (never before the probes): the request's
   * Authorization header, path and verb (the lower-cased method, as the apiserver names non-resource verbs).
   */
  readonly guard?: (authorization: string | undefined, path: string, verb: string) => Promise<AccessDecision>;
}

function runChecks(checks: Readonly<Record<string, HealthCheck>>, verbose: boolean): { ok: boolean; body: string } {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of Object.entries(checks)) {
    let r: boolean | string;
    try {
      r = check();
    } catch (err) {
      r = (err as Error).message;
    }
    if (r === true) {
      lines.push(`[+]${name} ok`);
    } else {
      ok = false;
      lines.push(`[-]${name} failed: ${r === false ? "not ready" : r}`);
    }
  }
  if (!verbose && ok) return { ok, body: "ok" };
  lines.push(ok ? "check passed" : "check failed");
  return { ok, body: `${lines.join("\n")}\n` };
}

/** One HTTP(S) server for any of /metrics, /healthz, /readyz. */
export class EndpointServer {
  readonly #server: Server | HttpsServer;
  readonly #opts: EndpointsOptions;

  constructor(opts: EndpointsOptions) {
    this.#opts = opts;
    const handler = (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res);
    this.#server = opts.tls
      ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
      : createServer(handler);
    this.#server.keepAliveTimeout = 5_000;
  }

  #handle(req: IncomingMessage, res: ServerResponse) {
    const opts = this.#opts;
    const url = new URL(req.url ?? "/", "http://x");
    const verbose = url.searchParams.has("verbose");
    const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    const health = opts.health ?? true;
    if (health && (url.pathname === "/healthz" || url.pathname === "/livez")) {
      const r = runChecks(opts.liveChecks ?? {}, verbose);
      return send(r.ok ? 200 : 500, r.body);
    }
    if (health && url.pathname === "/readyz") {
      const r = runChecks(opts.readyChecks ?? {}, verbose);
      return send(r.ok ? 200 : 503, r.body);
    }
    const serve = this.#protectedRoute(url.pathname);
    if (!serve) return send(404, "not found\n");
    if (!opts.guard) return serve(send);
    opts.guard(req.headers.authorization, url.pathname, req.method.toLowerCase()).then(
      (d) => {
        if (d.allowed) return serve(send);
        if (d.status === 401) res.setHeader("www-authenticate", 'Bearer realm="metrics"');
        send(d.status, `${d.reason}\n`);
      },
      (err: unknown) => send(500, `${(err as Error).message}\n`),
    );
  }

  /** What serves /metrics or a JSON route, or undefined for an unknown path. */
  #protectedRoute(path: string): ((send: (code: number, body: string, type?: string) => void) => void) | undefined {
    const opts = this.#opts;
    const reg = opts.registry;
    if (path === "/metrics" && (opts.metrics ?? Boolean(reg)) && reg) {
      return (send) =>
        void reg.metrics().then(
          (body) => send(200, body, reg.contentType),
          (err: unknown) => send(500, `${(err as Error).message}\n`),
        );
    }
    const routes = opts.jsonRoutes ?? {};
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return undefined;
    return (send) => {
      let body: string;
      try {
        body = `${JSON.stringify(route())}\n`;
      } catch (err) {
        return send(500, `${(err as Error).message}\n`);
      }
      send(200, body, "application/json");
    };
  }

  /** Listens; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  get options(): EndpointsOptions {
    return this.#opts;
  }
}
