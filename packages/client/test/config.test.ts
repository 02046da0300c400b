// Kubeconfig loading and credentials through @kubernetes/client-node, applied to our transport.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock as ManualClock } from "@minitask/workqueue";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { KubeClient, KubeConfigError, kubeConfigCredentials, loadKubeConfig } from "../src/index.ts";
import { sendJson, startServer, type TestServer } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "minitask-client-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

let n = 0;
function write(name: string, content: string): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}

interface Entry {
  readonly name: string;
  readonly server?: string;
  readonly user?: Record<string, unknown>;
  readonly namespace?: string;
}

/** A kubeconfig (JSON is valid YAML) with one cluster+user+context per entry. */
function kubeconfig(entries: readonly Entry[], current?: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: entries.map((e) => ({ name: e.name, cluster: { server: e.server ?? "https://127.0.0.1:6443" } })),
    users: entries.map((e) => ({ name: e.name, user: e.user ?? { token: `token-${e.name}` } })),
    contexts: entries.map((e) => ({
      name: e.name,
      context: { cluster: e.name, user: e.name, ...(e.namespace ? { namespace: e.namespace } : {}) },
    })),
    ...(current ? { "current-context": current } : {}),
  });
}

async function server(): Promise<TestServer> {
  const s = await startServer((_req, res) => sendJson(res, 200, { major: "1", minor: "35", gitVersion: "v1.35.0" }));
  cleanups.push(() => s.close());
  return s;
}

describe("loadKubeConfig", () => {
  it("loads an explicit file, applies its token to requests over our transport (plain http too)", async () => {
    const s = await server();
    const file = write("kc", kubeconfig([{ name: "a", server: s.url, namespace: "team-a" }], "a"));
    const client = KubeClient.load({ kubeconfig: file, env: {} });
    cleanups.push(() => client.close());
    expect(client.defaultNamespace).toBe("team-a");
    expect((await client.version()).gitVersion).toBe("v1.35.0");
    expect(s.requests[0]?.headers.authorization).toBe("Bearer token-a");
    expect(s.requests[0]?.headers["user-agent"]).toMatch(/^minitask\//);
  });

  it("honours a context override and rejects an unknown one", async () => {
    const file = write("kc", kubeconfig([{ name: "a" }, { name: "b", namespace: "nb" }], "a"));
    const loaded = loadKubeConfig({ kubeconfig: file, context: "b", env: {} });
    expect(loaded.kubeConfig.getCurrentContext()).toBe("b");
    expect(loaded.namespace).toBe("nb");
    expect(loaded.source).toEqual({ kind: "file", paths: [file] });
    const creds = await kubeConfigCredentials(loaded.kubeConfig).get();
    expect(creds.headers.authorization).toBe("Bearer token-b");
    expect(() => loadKubeConfig({ kubeconfig: file, context: "nope", env: {} })).toThrow(KubeConfigError);
  });

  it("merges KUBECONFIG files: first current-context and first definition of a name win; missing files skipped", () => {
    const first = write("kc1", kubeconfig([{ name: "a", user: { token: "first" } }], "a"));
    const second = write("kc2", kubeconfig([{ name: "a", user: { token: "second" } }, { name: "b" }], "b"));
    const missing = join(dir, "does-not-exist");
    const loaded = loadKubeConfig({ env: { KUBECONFIG: [first, missing, second].join(":") } });
    expect(loaded.kubeConfig.getCurrentContext()).toBe("a");
    expect(loaded.kubeConfig.getContexts().map((c) => c.name)).toEqual(["a", "b"]);
    expect(loaded.kubeConfig.getUser("a")?.token).toBe("first");
    expect(loaded.namespace).toBe("default");
  });

  it("an explicit path wins over KUBECONFIG", () => {
    const a = write("kc", kubeconfig([{ name: "a" }], "a"));
    const b = write("kc", kubeconfig([{ name: "b" }], "b"));
    expect(loadKubeConfig({ kubeconfig: b, env: { KUBECONFIG: a } }).kubeConfig.getCurrentContext()).toBe("b");
  });

  it("loads the in-cluster service account (token, CA, namespace) when nothing else is configured", async () => {
    const root = join(dir, "incluster");
    const sa = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "sa-token\n");
    writeFileSync(join(sa, "ca.crt"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    writeFileSync(join(sa, "namespace"), "controllers");
    const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443", HOME: join(dir, "nohome") };
    const loaded = loadKubeConfig({ env, inClusterRoot: root });
    expect(loaded.source).toEqual({ kind: "in-cluster" });
    expect(loaded.namespace).toBe("controllers");
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe("https://10.0.0.1:443");
    const creds = await kubeConfigCredentials(loaded.kubeConfig).get();
    expect(creds.headers.authorization).toBe("Bearer sa-token");
    expect(String(creds.tls.ca)).toContain("BEGIN CERTIFICATE");
    // process.env was left alone.
    expect(process.env.KUBERNETES_SERVICE_HOST).not.toBe("10.0.0.1");
    expect(() => loadKubeConfig({ env: {}, inCluster: "only" })).toThrow(KubeConfigError);
  });

  it("fails clearly when there is no configuration at all", () => {
    expect(() => loadKubeConfig({ env: { HOME: join(dir, "nohome") } })).toThrow(KubeConfigError);
  });
});

describe("kubeConfigCredentials", () => {
  it("re-runs an exec credential plugin when the cached credentials are stale, and on forced refresh", async () => {
    const counter = join(dir, "exec-counter");
    writeFileSync(counter, "0");
    const script = write(
      "plugin.mjs",
      `import fs from "node:fs";
const n = Number(fs.readFileSync(${JSON.stringify(counter)}, "utf8")) + 1;
fs.writeFileSync(${JSON.stringify(counter)}, String(n));
process.stdout.write(JSON.stringify({
  apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential",
  status: { token: "exec-" + n, expirationTimestamp: "2000-01-01T00:00:00Z" },
}));`,
    );
    const file = write(
      "kc",
      kubeconfig(
        [
          {
            name: "a",
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1",
                command: process.execPath,
                args: [script],
                interactiveMode: "Never",
              },
            },
          },
        ],
        "a",
      ),
    );
    const clock = new ManualClock();
    const provider = kubeConfigCredentials(loadKubeConfig({ kubeconfig: file, env: {} }).kubeConfig, {
      clock,
      refreshIntervalMs: 60_000,
    });
    expect((await provider.get()).headers.authorization).toBe("Bearer exec-1");
    expect((await provider.get()).headers.authorization).toBe("Bearer exec-1");
    clock.advance(60_001);
    expect((await provider.get()).headers.authorization).toBe("Bearer exec-2");
    expect((await provider.get({ forceRefresh: true })).headers.authorization).toBe("Bearer exec-3");
    // Concurrent callers share one refresh.
    clock.advance(60_001);
    const [x, y] = await Promise.all([provider.get(), provider.get()]);
    expect(x.headers.authorization).toBe("Bearer exec-4");
    expect(y).toBe(x);
  });

  it("reads client certificates and notices when the certificate file changes", async () => {
    const cert = write("client.crt", "CERT-ONE");
    const key = write("client.key", "KEY-ONE");
    const file = write("kc", kubeconfig([{ name: "a", user: { "client-certificate": cert, "client-key": key } }], "a"));
    const clock = new ManualClock();
    const provider = kubeConfigCredentials(loadKubeConfig({ kubeconfig: file, env: {} }).kubeConfig, { clock });
    const first = await provider.get();
    expect(String(first.tls.cert)).toBe("CERT-ONE");
    expect(String(first.tls.key)).toBe("KEY-ONE");
    expect(first.headers.authorization).toBeUndefined();
    clock.advance(60_001);
    const same = await provider.get();
    expect(same.tlsKey).toBe(first.tlsKey);
    expect(same.tls).toBe(first.tls);
    writeFileSync(cert, "CERT-TWO");
    clock.advance(60_001);
    const rotated = await provider.get();
    expect(String(rotated.tls.cert)).toBe("CERT-TWO");
    expect(rotated.tlsKey).not.toBe(first.tlsKey);
  });

  it("passes insecure-skip-tls-verify and tls-server-name through", async () => {
    const file = write(
      "kc",
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "a",
            cluster: { server: "https://h:6443", "insecure-skip-tls-verify": true, "tls-server-name": "api" },
          },
        ],
        users: [{ name: "a", user: { username: "admin", password: "pw" } }],
        contexts: [{ name: "a", context: { cluster: "a", user: "a" } }],
        "current-context": "a",
      }),
    );
    const creds = await kubeConfigCredentials(loadKubeConfig({ kubeconfig: file, env: {} }).kubeConfig).get();
    expect(creds.tls.rejectUnauthorized).toBe(false);
    expect(creds.tls.servername).toBe("api");
    expect(creds.headers.authorization).toBe(`Basic ${Buffer.from("admin:pw").toString("base64")}`);
  });
});
