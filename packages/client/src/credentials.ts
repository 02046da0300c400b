// Credentials as the transport uses them: headers and TLS material, from a provider that caches them.
import { createHash } from "node:crypto";

/** TLS material for the connection to the apiserver. */
export interface TlsMaterial {
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly pfx?: string | Buffer;
  readonly passphrase?: string;
  /** False only with `insecure-skip-tls-verify`. */
  readonly rejectUnauthorized?: boolean;
  /** `tls-server-name` of the cluster. */
  readonly servername?: string;
}

/** What a request needs to authenticate: headers and the TLS material (client certificates, CA). */
export interface Credentials {
  /** `Authorization`, `Impersonate-User`, … */
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: TlsMaterial;
  /** Changes exactly when `tls` changes; the transport builds a new connection pool when it does. */
  readonly tlsKey: string;
}

/** Source of credentials; the transport asks on every request, so implementations cache. */
export interface CredentialProvider {
  /** `forceRefresh` after a 401: re-read token files, re-run exec plugins whose tokens expired. */
  get(options?: { readonly forceRefresh?: boolean }): Promise<Credentials>;
  /** Whether `forceRefresh` can produce different credentials (then a 401 is retried once). */
  readonly refreshable: boolean;
}

export function tlsKeyOf(tls: TlsMaterial): string {
  const h = createHash("sha256");
  const add = (name: string, v: unknown): void => {
    h.update(`${name}:`);
    if (v === undefined) h.update("-");
    else if (typeof v === "string" || Buffer.isBuffer(v)) h.update(v);
    else if (Array.isArray(v)) for (const x of v) add(`${name}[]`, x);
    else h.update(String(v));
    h.update("\n");
  };
  add("ca", tls.ca);
  add("cert", tls.cert);
  add("key", tls.key);
  add("pfx", tls.pfx);
  add("passphrase", tls.passphrase);
  add("rejectUnauthorized", tls.rejectUnauthorized);
  add("servername", tls.servername);
  return h.digest("hex");
}

/** Fixed credentials: a bearer token and/or TLS material. */
export function staticCredentials(
  options: { readonly token?: string; readonly headers?: Record<string, string>; readonly tls?: TlsMaterial } = {},
): CredentialProvider {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const tls = options.tls ?? {};
  const creds: Credentials = { headers, tls, tlsKey: tlsKeyOf(tls) };
  return { get: async () => creds, refreshable: false };
}
