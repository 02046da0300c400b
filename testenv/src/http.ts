// The harness's own tiny HTTPS helper for readiness checks and bootstrap objects. The harness must
// not depend on the library under test, so it talks to the apiserver with node:https directly.
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface TlsIdentity {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export function loadIdentity(paths: { ca: string; cert: string; key: string }): TlsIdentity {
  return {
    ca: readFileSync(paths.ca, "utf8"),
    cert: readFileSync(paths.cert, "utf8"),
    key: readFileSync(paths.key, "utf8"),
  };
}

/** One HTTP(S) request with a short timeout. Never throws for HTTP status codes; throws on network errors. */
export function fetchText(
  url: string,
  opts: { method?: string; body?: unknown; tls?: TlsIdentity; insecure?: boolean; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const u = new URL(url);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = (u.protocol === "https:" ? httpsRequest : httpRequest)(
      u,
      {
        method: opts.method ?? "GET",
        headers: payload
          ? {
              "content-type": "application/json",
              accept: "application/json",
              "content-length": String(Buffer.byteLength(payload)),
            }
          : {},
        ...(opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } : {}),
        rejectUnauthorized: !opts.insecure,
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5000} ms: ${url}`)));
    req.on("error", reject);
    req.end(payload);
  });
}
