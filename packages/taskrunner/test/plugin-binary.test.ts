// The single-executable kubectl-task (npm run build:plugin, scripts/build-plugin.ts) without a cluster: it runs
// with no node on PATH, answers --version with the commit it was built from, says and prints exactly what the
// plugin run from source does (help, completion, usage errors, the one-line errors), talks to an apiserver
// (a fake one here; the real control plane in plugin-binary.cluster.test.ts) — also through a kubeconfig
// only @kubernetes/client-node understands, bundled inside — and the krew archive and manifest built beside
// it pass krew's manifest rules. The build is cached: with nothing changed, beforeAll only re-bundles.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  archiveName,
  buildPlugin,
  HOMEPAGE,
  krewManifest,
  type PluginBuild,
  SEA_FUSE,
} from "../../../scripts/build-plugin.ts";
import { VERSION } from "../src/version.ts";
import { type CliResult, FakeApiServer, helloTask, kubeconfigFor, runChild } from "./kubectl-task.support.ts";

const NS = "team-a";
let build: PluginBuild;
/** A PATH with no node on it (and nothing else but what a test puts there). */
let noNode: string;
let home: string;

beforeAll(async () => {
  build = await buildPlugin();
  const dir = mkdtempSync(join(tmpdir(), "plugin-binary-"));
  noNode = join(dir, "bin");
  home = join(dir, "home");
  mkdirSync(noNode);
  mkdirSync(home);
}, 600_000);

/** The executable (or another name for it) with only `env` and a PATH without node. */
function exe(args: readonly string[], env: Record<string, string> = {}, file = build.binary): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env: { PATH: noNode, HOME: home, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the single executable", { timeout: 60_000 }, () => {
  it("is a linux-x64 ELF with the SEA blob injected, and the PATH it runs with has no node", () => {
    const head = readFileSync(build.binary).subarray(0, 20);
    expect(head.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(head[4]).toBe(2); // 64-bit
    expect(head.readUInt16LE(18)).toBe(62); // EM_X86_64
    // The fuse postject flips from ":0" to ":1" once the blob is in.
    expect(readFileSync(build.binary).includes(`${SEA_FUSE}:1`)).toBe(true);
    expect(spawnSync("/bin/sh", ["-c", "command -v node"], { env: { PATH: noNode } }).status).not.toBe(0);
  });

  it("--version: the package version and the commit baked in at build time", async () => {
    expect(build.commit).toMatch(/^([0-9a-f]{4,40}|unknown)$/);
    expect(await exe(["--version"])).toEqual({
      code: 0,
      stdout: `kubectl-task ${VERSION} (commit ${build.commit})\n`,
      stderr: "",
    });
  });

  it("help, completion scripts and usage errors are byte for byte those of the plugin run from source", async () => {
    for (const args of [
      ["--help"],
      ["start", "--help"],
      ["logs", "--help"],
      ["completion", "bash"],
      ["completion", "zsh"],
      ["frobnicate"],
      ["completion", "fish"],
      ["start"],
    ]) {
      const fromSource = await runChild(args, { env: { HOME: home, KUBECONFIG: "" } });
      const binary = await exe(args);
      expect({ args, ...binary }).toEqual({ args, ...fromSource });
    }
    expect((await exe(["frobnicate"])).stderr).toBe("error: unknown command 'frobnicate' (see --help)\n");
  });

  it("kubectl_complete-task (a symlink to it) answers as __complete", async () => {
    const viaLink = await exe([""], {}, build.complete);
    expect(viaLink).toEqual({
      code: 0,
      stdout: "start\nrerun\nlist\nruns\nlogs\ndescribe\ncancel\ndelete\ncompletion\nhelp\n:4\n",
      stderr: "",
    });
    expect(await exe(["ru"], {}, build.complete)).toMatchObject({ code: 0, stdout: "runs\n:4\n" });
    expect(await exe(["__complete", "ru"])).toMatchObject({ code: 0, stdout: "runs\n:4\n" });
  });

  it("no kubeconfig, or an unreachable cluster: one line on stderr and exit 1, as from source", async () => {
    const none = await exe(["runs"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: kubeconfig: no kubeconfig: [^\n]+\n$/);
    const dead = await new FakeApiServer().start();
    const url = dead.url;
    await dead.stop();
    const unreachable = await exe(["runs"], { KUBECONFIG: kubeconfigFor(url, NS) });
    expect(unreachable).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: cannot reach the cluster at ${url} (context "fake"): ECONNREFUSED; is it running, and are --kubeconfig/--context right?\n`,
    });
  });
});

describe("the single executable against an apiserver", { timeout: 60_000 }, () => {
  let api: FakeApiServer;
  beforeAll(async () => {
    api = await new FakeApiServer().start();
    api.addTask(NS, helloTask());
  });
  afterAll(async () => {
    await api.stop();
  });

  it("start creates the run, runs lists it, logs shows its steps in order", async () => {
    const env = { KUBECONFIG: kubeconfigFor(api.url, NS) };
    const started = await exe(["start", "hello", "-p", "who=binary"], env);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const name = started.stdout.trim();
    expect(name).toMatch(/^hello-run-[a-z0-9]{5}$/);
    expect(api.runs.get(`${NS}/${name}`)?.spec.params).toEqual([{ name: "who", value: "binary" }]);
    expect(await exe(["runs", "-o", "name"], env)).toEqual({
      code: 0,
      stdout: `taskrun.minitask.myorg.dev/${name}\n`,
      stderr: "",
    });

    api.addPod(NS, `${name}-pod`, ["greet", "farewell"]);
    api.setLog(NS, `${name}-pod`, "step-greet", "Hello, binary\n");
    api.setLog(NS, `${name}-pod`, "step-farewell", "bye\n");
    api.setStatus(NS, name, {
      phase: "Succeeded",
      podName: `${name}-pod`,
      steps: [
        { name: "greet", state: "Succeeded", exitCode: 0 },
        { name: "farewell", state: "Succeeded", exitCode: 0 },
      ],
    });
    const logs = await exe(["logs", name], env);
    const fromSource = await runChild(["logs", name], { env });
    expect(logs).toEqual(fromSource);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("[greet] Hello, binary\n");
    expect(logs.stdout.indexOf("[greet]")).toBeLessThan(logs.stdout.indexOf("[farewell] bye"));

    const missing = await exe(["start", "nope"], env);
    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: task "nope" not found in namespace "${NS}"; tasks there: hello\n`,
    });
  });

  it("a kubeconfig with an exec credential plugin goes through the bundled @kubernetes/client-node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "plugin-exec-"));
    const helper = join(dir, "credential.sh");
    writeFileSync(
      helper,
      '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\'\n',
    );
    chmodSync(helper, 0o755);
    const kc = join(dir, "kubeconfig");
    writeFileSync(
      kc,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: fake",
        `  cluster: {server: "${api.url}"}`,
        "users:",
        "- name: exec",
        "  user:",
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1",
        `      command: ${helper}`,
        "      interactiveMode: Never",
        "contexts:",
        "- name: fake",
        `  context: {cluster: fake, user: exec, namespace: ${NS}}`,
        "current-context: fake",
        "",
      ].join("\n"),
    );
    const before = api.requests.length;
    const r = await exe(["list", "-o", "name"], { KUBECONFIG: kc });
    expect(r).toEqual({ code: 0, stdout: "task.minitask.myorg.dev/hello\n", stderr: "" });
    expect(api.requests.length).toBeGreaterThan(before);
  });
});

/**
 * krew's manifest rules (sigs.k8s.io/krew internal/index/validation ValidatePlugin and validatePlatform),
 * plus what `kubectl krew install --manifest --archive` needs: every platform's archive exists under its
 * uri's file name, its sha256 is that file's, and after the `files` operations its `bin` is in it.
 */
function krewProblems(manifestText: string, file: string, archives: Map<string, Buffer>): string[] {
  const problems: string[] = [];
  const m = parseYaml(manifestText) as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown };
    spec?: {
      version?: unknown;
      shortDescription?: unknown;
      homepage?: unknown;
      platforms?: {
        selector?: { matchLabels?: Record<string, unknown>; matchExpressions?: { key?: unknown }[] };
        uri?: unknown;
        sha256?: unknown;
        bin?: unknown;
        files?: { from?: unknown; to?: unknown }[];
      }[];
    };
  };
  const name = file.replace(/^.*\//, "").replace(/\.yaml$/, "");
  if (m.apiVersion !== "krew.googlecontainertools.github.com/v1alpha2") problems.push("apiVersion");
  if (m.kind !== "Plugin") problems.push("kind");
  if (!/^[\w-]+$/.test(name)) problems.push("unsafe plugin name");
  if (m.metadata?.name !== name) problems.push(`metadata.name is not ${name}`);
  const spec = m.spec ?? {};
  const short = spec.shortDescription;
  if (typeof short !== "string" || short === "") problems.push("no shortDescription");
  else {
    if (/[\r\n]/.test(short)) problems.push("shortDescription has line breaks");
    // krew-index review asks for a short one (krew's own plugins keep to about 50 characters).
    if (short.length > 60) problems.push("shortDescription is long");
  }
  // krew's semver: v-prefixed.
  if (typeof spec.version !== "string" || !/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(spec.version)) {
    problems.push("version is not v-prefixed semver");
  }
  if (typeof spec.homepage !== "string" || !spec.homepage.startsWith("https://")) problems.push("homepage");
  const platforms = spec.platforms ?? [];
  if (platforms.length === 0) problems.push("no platforms");
  platforms.forEach((p, i) => {
    const at = `platforms[${i}]`;
    if (typeof p.uri !== "string" || !p.uri.startsWith("https://")) problems.push(`${at}: uri`);
    if (typeof p.sha256 !== "string" || !/^[a-f0-9]{64}$/.test(p.sha256)) problems.push(`${at}: sha256`);
    if (typeof p.bin !== "string" || p.bin === "") problems.push(`${at}: bin`);
    if (p.files !== undefined && (p.files.length === 0 || p.files.some((f) => !f.from || !f.to))) {
      problems.push(`${at}: files`);
    }
    const sel = p.selector;
    if (sel === undefined || (sel.matchLabels === undefined && (sel.matchExpressions ?? []).length === 0)) {
      problems.push(`${at}: no selector`);
    } else {
      const keys = [...Object.keys(sel.matchLabels ?? {}), ...(sel.matchExpressions ?? []).map((e) => String(e.key))];
      if (keys.length === 0) problems.push(`${at}: empty selector`);
      for (const k of keys) if (k !== "os" && k !== "arch") problems.push(`${at}: selector key ${k}`);
    }
    const archive = typeof p.uri === "string" ? archives.get(p.uri.replace(/^.*\//, "")) : undefined;
    if (archive === undefined) {
      problems.push(`${at}: no archive for ${String(p.uri)}`);
      return;
    }
    if (createHash("sha256").update(archive).digest("hex") !== p.sha256) problems.push(`${at}: sha256 mismatch`);
    const entries = tarEntries(gunzipSync(archive));
    const installed = new Set<string>();
    for (const f of p.files ?? [{ from: "*", to: "." }]) {
      for (const e of entries.keys()) {
        if (f.from === e || f.from === "*") installed.add(f.to === "." ? e : String(f.to));
      }
    }
    if (typeof p.bin === "string" && !installed.has(p.bin.replace(/^\.\//, ""))) {
      problems.push(`${at}: bin ${p.bin} not in the archive`);
    }
    if (typeof p.bin === "string" && ((entries.get(p.bin.replace(/^\.\//, ""))?.mode ?? 0) & 0o111) === 0) {
      problems.push(`${at}: bin not executable`);
    }
  });
  return problems;
}

/** The regular files of a tar (ustar/gnu headers): name → mode and content. */
function tarEntries(tar: Buffer): Map<string, { mode: number; data: Buffer }> {
  const out = new Map<string, { mode: number; data: Buffer }>();
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString("latin1")
        .replace(/\0.*$/s, "");
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1) || "0";
    if (type === "0") {
      out.set(field(0, 100).replace(/^\.\//, ""), {
        mode: Number.parseInt(field(100, 8).trim(), 8),
        data: tar.subarray(off + 512, off + 512 + size),
      });
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe("the krew archive and manifest", { timeout: 60_000 }, () => {
  it("pass krew's manifest rules, and the archive holds the executable under its sha256", () => {
    const text = readFileSync(build.manifest, "utf8");
    const archives = new Map([[archiveName("linux", "amd64"), readFileSync(build.archive)]]);
    expect(build.manifest.endsWith("/plugins/task.yaml")).toBe(true);
    expect(krewProblems(text, build.manifest, archives)).toEqual([]);
    const m = parseYaml(text) as { spec: { version: string; platforms: { uri: string; sha256: string }[] } };
    expect(m.spec.version).toBe(`v${VERSION}`);
    expect(m.spec.platforms.map((p) => p.uri)).toEqual([
      `${HOMEPAGE}/releases/download/v${VERSION}/kubectl-task_v${VERSION}_linux_amd64.tar.gz`,
    ]);
    expect(m.spec.platforms[0]?.sha256).toBe(build.sha256);
    const entries = tarEntries(gunzipSync(readFileSync(build.archive)));
    expect([...entries.keys()]).toEqual(["kubectl-task"]);
    expect(entries.get("kubectl-task")?.mode).toBe(0o755);
    expect(entries.get("kubectl-task")?.data.equals(readFileSync(build.binary))).toBe(true);
    // tar itself agrees that it is a well-formed archive.
    expect(execFileSync("tar", ["-tzvf", build.archive], { encoding: "utf8" })).toMatch(
      /^-rwxr-xr-x 0\/0\s+\d+ .* kubectl-task\n$/,
    );
  });

  it("the rules catch a broken manifest: wrong name, no selector, bad sha256, missing bin", () => {
    const archive = readFileSync(build.archive);
    const archives = new Map([[archiveName("linux", "amd64"), archive]]);
    const good = krewManifest([{ os: "linux", arch: "amd64", sha256: build.sha256 }]) as {
      metadata: { name: string };
      spec: { shortDescription: string; platforms: Record<string, unknown>[] };
    };
    const broken = structuredClone(good);
    broken.metadata.name = "tasks";
    broken.spec.shortDescription = "two\nlines";
    // JSON is YAML: the broken manifests are written as JSON.
    const p = broken.spec.platforms[0] as Record<string, unknown>;
    delete p.selector;
    p.sha256 = "0".repeat(63);
    p.bin = "kubectl-tasks";
    expect(krewProblems(JSON.stringify(broken), "plugins/task.yaml", archives)).toEqual([
      "metadata.name is not task",
      "shortDescription has line breaks",
      "platforms[0]: sha256",
      "platforms[0]: no selector",
      "platforms[0]: sha256 mismatch",
      "platforms[0]: bin kubectl-tasks not in the archive",
      "platforms[0]: bin not executable",
    ]);
    const other = structuredClone(good);
    (other.spec.platforms[0] as Record<string, unknown>).sha256 = "a".repeat(64);
    expect(krewProblems(JSON.stringify(other), "plugins/task.yaml", archives)).toEqual([
      "platforms[0]: sha256 mismatch",
    ]);
  });
});
