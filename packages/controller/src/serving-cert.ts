// The secure metrics server's certificate: `tls.crt` + `tls.key` from a folder (a cert-manager Secret mounted
// there, say), or a self-signed one made in memory at start-up, as controller-runtime does without CertDir.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** PEM certificate chain and private key. */
export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
}

/** Reads `<dir>/<certName>` and `<dir>/<keyName>`; throws one line naming the file that is missing. */
export function readServingCertificate(dir: string, certName = "tls.crt", keyName = "tls.key"): ServingCertificate {
  const read = (name: string) => {
    const file = join(dir, name);
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(`cannot read the metrics serving certificate ${file}: ${(err as NodeJS.ErrnoException).code}`);
    }
  };
  return { cert: read(certName), key: read(keyName) };
}

/**
 * A self-signed ECDSA P-256 certificate for `localhost`, 127.0.0.1, ::1 and this host's name, valid for a year.
 * Scrapers must skip verification (Prometheus: `insecure_skip_verify`) or be given a real certificate.
 */
export async function selfSignedCertificate(extraNames: readonly string[] = []): Promise<ServingCertificate> {
  // Loaded only when needed: the library installs a global Reflect polyfill.
  const { generate } = await import("selfsigned");
  const host = hostname();
  const dns = [...new Set(["localhost", host, ...extraNames])];
  const pems = await generate([{ name: "commonName", value: `${host}@${Math.floor(Date.now() / 1000)}` }], {
    keyType: "ec",
    curve: "P-256",
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
