// The static-kubeconfig fast path must read exactly what client-node reads, and hand everything else to it.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeClock as ManualClock } from "@minitask/workqueue";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Credentials,
  KubeConfigError,
  kubeConfigCredentials,
  type LoadKubeConfigOptions,
  loadKubeConfig,
  resolveKubeConfig,
  selectKubeConfig,
} from "../src/index.ts";
import { loadStaticKubeConfig } from "../src/kubeconfig-static.ts";

const dir = mkdtempSync(join(tmpdir(), "minitask-kubeconfig-static-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(name: string, content: string, folder = dir): string {
  mkdirSync(folder, { recursive: true });
  const p = join(folder, `${n++}-${name}`);
  writeFileSync(p, content);
  return p;
}

type Doc = Record<string, unknown>;
function config(cluster: Doc, user: Doc, extra: { namespace?: string; name?: string } = {}): Doc {
  const name = extra.name ?? "a";
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name, user }],
    contexts: [
      { name, context: { cluster: name, user: name, ...(extra.namespace ? { namespace: extra.namespace } : {}) } },
    ],
    "current-context": name,
  };
}

/** What a transport would send: headers, TLS material as text, and the pool key. */
function view(c: Credentials) {
  const text = (v: unknown): unknown =>
    v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString("utf8") : Array.isArray(v) ? v.map(text) : v;
  return {
    headers: c.headers,
    tls: Object.fromEntries(Object.entries(c.tls).map(([k, v]) => [k, text(v)])),
    tlsKey: c.tlsKey,
  };
}

/** Resolves through the fast path and through client-node, and expects the same result. */
async function expectSameAsClientNode(options: LoadKubeConfigOptions): Promise<void> {
  const fast = loadStaticKubeConfig(selectKubeConfig(options), options.context);
  expect(fast, "the fast path should handle this configuration").toBeDefined();
  const loaded = loadKubeConfig(options);
  const kc = loaded.kubeConfig;
  const resolved = resolveKubeConfig(options);
  expect({
    server: resolved.server,
    proxyUrl: resolved.proxyUrl,
    context: resolved.context,
    namespace: resolved.namespace,
    source: resolved.source,
  }).toEqual({
    server: kc.getCurrentCluster()?.server,
    proxyUrl: kc.getCurrentCluster()?.proxyUrl || undefined,
    context: kc.getCurrentContext(),
    namespace: loaded.namespace,
    source: loaded.source,
  });
  expect(view(await resolved.credentials.get())).toEqual(view(await kubeConfigCredentials(kc).get()));
}

const CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("static kubeconfig fast path", () => {
  it("matches client-node: token, CA data, namespace", async () => {
    const file = write(
      "kc",
      JSON.stringify(
        config(
          { server: "https://10.1.2.3:6443/", "certificate-authority-data": b64(CA) },
          { token: "abc" },
          { namespace: " team " },
        ),
      ),
    );
    await expectSameAsClientNode({ kubeconfig: file, env: {} });
  });

  it("matches client-node: certificate files relative to the kubeconfig's folder (YAML)", async () => {
    const folder = join(dir, "certs");
    write("unused", "", folder);
    writeFileSync(join(folder, "ca.crt"), CA);
    writeFileSync(join(folder, "client.crt"), "CERT");
    writeFileSync(join(folder, "client.key"), "KEY");
    const file = write(
      "kc.yaml",
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: c",
        "  cluster:",
        "    server: https://example.test:443",
        "    certificate-authority: ca.crt",
        "    extensions: [{name: x, extension: {a: 1}}]",
        "users:",
        "- name: u",
        "  user:",
        "    client-certificate: client.crt",
        "    client-key: ./client.key",
        "contexts:",
        "- name: ctx",
        "  context: {cluster: c, user: u}",
        "current-context: ctx",
        "preferences: {}",
      ].join("\n"),
      folder,
    );
    await expectSameAsClientNode({ kubeconfig: file, env: {} });
  });

  it("matches client-node: certificate data, insecure-skip-tls-verify, tls-server-name, proxy-url, impersonation", async () => {
    const file = write(
      "kc",
      JSON.stringify(
        config(
          {
            server: "https://h:6443",
            "insecure-skip-tls-verify": true,
            "tls-server-name": "api.internal",
            "proxy-url": "http://proxy:3128",
          },
          { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY"), as: "jane" },
        ),
      ),
    );
    await expectSameAsClientNode({ kubeconfig: file, env: {} });
  });

  it("matches client-node: basic auth over plain http", async () => {
    const file = write(
      "kc",
      JSON.stringify(config({ server: "http://127.0.0.1:8080" }, { username: "u", password: "" })),
    );
    await expectSameAsClientNode({ kubeconfig: file, env: {} });
  });

  it("matches client-node: KUBECONFIG merge (first definitions and current-context win), context override", async () => {
    const one = write("kc1", JSON.stringify(config({ server: "https://one" }, { token: "first" })));
    const twoDoc = config({ server: "https://two" }, { token: "second" });
    (twoDoc.clusters as Doc[]).push({ name: "b", cluster: { server: "https://b" } });
    (twoDoc.users as Doc[]).push({ name: "b", user: { token: "tb" } });
    (twoDoc.contexts as Doc[]).push({ name: "b", context: { cluster: "b", user: "b", namespace: "nb" } });
    twoDoc["current-context"] = "b";
    const two = write("kc2", JSON.stringify(twoDoc));
    const KUBECONFIG = [one, join(dir, "missing"), two].join(":");
    await expectSameAsClientNode({ env: { KUBECONFIG } });
    expect(resolveKubeConfig({ env: { KUBECONFIG } }).server).toBe("https://one");
    await expectSameAsClientNode({ env: { KUBECONFIG }, context: "b" });
    expect(resolveKubeConfig({ env: { KUBECONFIG }, context: "b" }).namespace).toBe("nb");
  });

  it("matches client-node: the in-cluster service account (IPv6 host, plain-http port)", async () => {
    const root = join(dir, "incluster");
    const sa = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "sa-token\n");
    writeFileSync(join(sa, "ca.crt"), CA);
    writeFileSync(join(sa, "namespace"), "controllers");
    const home = join(dir, "nohome");
    for (const [host, port] of [
      ["10.0.0.1", "443"],
      ["fd00::1", "6443"],
      ["10.0.0.1", "8080"],
    ] as const) {
      const env = { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port, HOME: home };
      await expectSameAsClientNode({ env, inClusterRoot: root });
    }
    expect(
      resolveKubeConfig({
        env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" },
        inClusterRoot: root,
      }).server,
    ).toBe("https://[fd00::1]:6443");
  });

  it("re-reads the in-cluster token when the cache expires and on a forced refresh", async () => {
    const root = join(dir, "rotate");
    const sa = join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "one");
    writeFileSync(join(sa, "ca.crt"), CA);
    const clock = new ManualClock();
    const fast = loadStaticKubeConfig(
      selectKubeConfig({ env: { KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "443" }, inClusterRoot: root }),
      undefined,
      { clock },
    );
    const first = await fast?.credentials.get();
    expect(first?.headers.authorization).toBe("Bearer one");
    writeFileSync(join(sa, "token"), "two");
    expect((await fast?.credentials.get())?.headers.authorization).toBe("Bearer one");
    clock.advance(60_001);
    const second = await fast?.credentials.get();
    expect(second?.headers.authorization).toBe("Bearer two");
    expect(second?.tls).toBe(first?.tls);
    writeFileSync(join(sa, "token"), "three");
    expect((await fast?.credentials.get({ forceRefresh: true }))?.headers.authorization).toBe("Bearer three");
  });

  it("leaves to client-node whatever it does not handle completely", () => {
    const cases: Record<string, Doc | string> = {
      exec: config({ server: "https://h" }, { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x" } }),
      "auth-provider": config({ server: "https://h" }, { "auth-provider": { name: "oidc", config: {} } }),
      "token-file": config({ server: "https://h" }, { "token-file": "/t" }),
      tokenFile: config({ server: "https://h" }, { tokenFile: "/t" }),
      "unknown user field": config({ server: "https://h" }, { token: "t", "as-groups": ["g"] }),
      "unknown cluster field": config({ server: "https://h", "disable-compression": true }, { token: "t" }),
      "username without password": config({ server: "https://h" }, { username: "u" }),
      "string insecure flag": config({ server: "https://h", "insecure-skip-tls-verify": "true" }, { token: "t" }),
      "no server": config({ "certificate-authority-data": "x" }, { token: "t" }),
      "context without user": {
        ...config({ server: "https://h" }, {}),
        contexts: [{ name: "a", context: { cluster: "a" } }],
      },
      "no current context": { ...config({ server: "https://h" }, { token: "t" }), "current-context": "" },
      "unknown current context": { ...config({ server: "https://h" }, { token: "t" }), "current-context": "zz" },
      "duplicate names": {
        ...config({ server: "https://h" }, { token: "t" }),
        users: [
          { name: "a", user: { token: "1" } },
          { name: "a", user: { token: "2" } },
        ],
      },
      "not YAML": "clusters: [",
      "not a mapping": "- a\n- b\n",
    };
    for (const [what, doc] of Object.entries(cases)) {
      const file = write("kc", typeof doc === "string" ? doc : JSON.stringify(doc));
      expect(loadStaticKubeConfig(selectKubeConfig({ kubeconfig: file, env: {} }), undefined), what).toBeUndefined();
    }
    const missing = join(dir, "missing-explicit");
    expect(loadStaticKubeConfig({ kind: "file", paths: [missing], required: true }, undefined)).toBeUndefined();
  });

  it("keeps client-node's errors for configurations it cannot use", () => {
    const file = write("kc", JSON.stringify(config({ server: "https://h" }, { token: "t" })));
    expect(() => resolveKubeConfig({ kubeconfig: file, context: "nope", env: {} })).toThrow(
      new KubeConfigError('context "nope" not found in the kubeconfig'),
    );
    const broken = write("kc", "clusters: [");
    expect(() => resolveKubeConfig({ kubeconfig: broken, env: {} })).toThrow(/cannot load kubeconfig/);
  });

  it("does not import @kubernetes/client-node for a static kubeconfig, and does for an exec plugin", () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const staticFile = write("kc", JSON.stringify(config({ server: "https://h:6443" }, { token: "t" })));
    const execFile = write(
      "kc",
      JSON.stringify(
        config({ server: "https://h:6443" }, { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x" } }),
      ),
    );
    const probe = (kubeconfig: string): string => {
      const script = `
        import { registerHooks } from "node:module";
        let seen = false;
        registerHooks({ resolve(specifier, context, next) {
          if (specifier.startsWith("@kubernetes/client-node")) seen = true;
          return next(specifier, context);
        } });
        const { KubeClient } = await import("@minitask/client");
        const client = KubeClient.load({ kubeconfig: ${JSON.stringify(kubeconfig)}, env: {} });
        await client.close();
        process.stdout.write(seen ? "loaded" : "not loaded");`;
      const r = spawnSync(
        process.execPath,
        ["--conditions=minitask-source", "--disable-warning=ExperimentalWarning", "--input-type=module", "-e", script],
        { cwd: root, encoding: "utf8", timeout: 60_000 },
      );
      expect(r.stderr).toBe("");
      return r.stdout;
    };
    expect(probe(staticFile)).toBe("not loaded");
    expect(probe(execFile)).toBe("loaded");
  });
});
