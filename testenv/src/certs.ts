// Per-run PKI for the local control plane, made with the openssl CLI: a CA, the apiserver's serving
// certificate, client certificates for each component and the admin, and the service-account key pair.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestEnvError } from "./build.ts";

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serving: { cert: string; key: string };
  readonly clients: Record<ClientName, { cert: string; key: string }>;
  readonly saKey: string;
  readonly saPub: string;
}

/** Identities: CN and O (groups) of each client certificate. */
const CLIENTS = {
  admin: { cn: "minitask-admin", o: "system:masters" },
  "kube-controller-manager": { cn: "system:kube-controller-manager", o: "" },
  "kube-scheduler": { cn: "system:kube-scheduler", o: "" },
  "kubelet-client": { cn: "kube-apiserver-kubelet-client", o: "system:masters" },
  kwok: { cn: "kwok", o: "system:masters" },
} as const;
export type ClientName = keyof typeof CLIENTS;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new TestEnvError("openssl is needed to make the control plane's certificates");
    throw new TestEnvError(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function issue(dir: string, name: string, subject: string, ext: string): { cert: string; key: string } {
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "365",
      "-extfile",
      extFile,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  openssl(
    [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "3650",
      "-subj",
      "/CN=minitask-testenv-ca",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ],
    dir,
  );
  const serving = issue(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1",
      "",
    ].join("\n"),
  );
  const clients = {} as Record<ClientName, { cert: string; key: string }>;
  for (const [name, id] of Object.entries(CLIENTS) as [ClientName, { cn: string; o: string }][]) {
    const subject = id.o ? `/O=${id.o}/CN=${id.cn}` : `/CN=${id.cn}`;
    clients[name] = issue(
      dir,
      name,
      subject,
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
    );
  }
  openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key"], dir);
  openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serving,
    clients,
    saKey: join(dir, "sa.key"),
    saPub: join(dir, "sa.pub"),
  };
}

/** One more client certificate signed by the cluster's CA (e.g. a kubelet's `system:node:<name>`). */
export function issueClientCert(pki: Pki, name: string, cn: string, o = ""): { cert: string; key: string } {
  return issue(
    pki.dir,
    name,
    o ? `/O=${o}/CN=${cn}` : `/CN=${cn}`,
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
}
