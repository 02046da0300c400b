// `npm run demo` end to end: its own control plane with the real node, the controller, the plugin's --follow
// showing the steps' real output, and nothing left running afterwards — with --once (exit code from the run),
// and without it: then every command it prints under "Explore" is run as printed, in a shell in the
// repository's folder, before Ctrl-C tears it all down. Also what `npm run cluster -- up` prints. (The demo's
// real node runs beside the test run's own: each kubelet has its own cgroup root.)
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ControlPlane } from "@minitask/testenv";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DEMO = fileURLToPath(new URL("./demo.ts", import.meta.url));
/** A user's PATH: node and npm (they ran npm run demo), the system's folders; no kubectl of ours. */
const USER_PATH = [dirname(process.execPath), "/usr/bin", "/bin"].join(":");

/** Runs `script` with /bin/sh -ex in the repository's folder, as a user pasting the lines would. */
async function shell(script: string, env: Record<string, string>) {
  try {
    const r = await run("/bin/sh", ["-exc", script], { cwd: ROOT, env, timeout: 240_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Resolves with the child's stdout once it contains `text`; rejects if it exits first or the deadline passes. */
function stdoutUntil(child: ChildProcess, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${text}":\n${out}`));
    });
  });
}

describe("npm run demo", () => {
  it("--once brings everything up, runs hello on the real node to Succeeded, and tears it all down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-demo-"));
    const stateDir = join(dir, "state");
    try {
      const { stdout } = await run(process.execPath, ["--conditions=minitask-source", DEMO, "--once"], {
        env: { ...process.env, MINITASK_DEMO_DIR: stateDir, NO_COLOR: "1" },
        timeout: 480_000,
      });
      expect(stdout).toContain("a real node (kubelet + containerd) run locally");
      expect(stdout).toMatch(/taskrun hello-run-\w+ created/);
      expect(stdout).toMatch(/step greet/);
      expect(stdout).toContain("hello from minitask");
      expect(stdout).toContain("goodbye");
      expect(stdout).toMatch(/step farewell succeeded/);
      expect(stdout).toContain("The run Succeeded.");
      expect(stdout).toContain("everything stopped");
      expect(existsSync(join(stateDir, "state.json"))).toBe(false);
      expect(stdout).not.toContain("left behind");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it("every command it prints works as printed; Ctrl-C then tears everything down", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-demo-"));
    const stateDir = join(dir, "state");
    const demo = spawn(process.execPath, ["--conditions=minitask-source", DEMO], {
      env: { ...process.env, MINITASK_DEMO_DIR: stateDir, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((r) => demo.once("exit", (code) => r(code)));
    try {
      const out = await stdoutUntil(demo, "Running until Ctrl-C", 480_000);
      expect(out).toContain("The run Succeeded.");
      // The Explore block: a label column, then a shell line (or comment) per line.
      const block = out.slice(
        out.indexOf("Explore (in a shell in this folder):"),
        out.indexOf("\n\n", out.indexOf("Explore")),
      );
      const rows = block
        .split("\n")
        .slice(1)
        .map((l) => ({ label: l.slice(0, 19).trim(), text: l.slice(19).trim() }));
      expect(rows.map((r) => r.label)).toEqual([
        "dashboard",
        "your shell",
        "",
        "the plugin",
        "more examples",
        "",
        "",
        "one executable",
        "controller log",
      ]);
      const dashboard = rows.find((r) => r.label === "dashboard")?.text ?? "";
      expect((await fetch(dashboard)).status).toBe(200);
      expect(existsSync(rows.find((r) => r.label === "controller log")?.text ?? "")).toBe(true);
      const script = rows
        .filter((r) => r.label !== "dashboard" && r.label !== "controller log")
        .map((r) => r.text)
        .join("\n");
      expect(script).toContain('PATH="');
      expect(script).toContain("kubectl task runs");

      const r = await shell(script, { PATH: USER_PATH, HOME: dir });
      expect(r.stderr).not.toMatch(/unknown command|not found|No such file/);
      expect(r.code).toBe(0);
      // kubectl task runs: the demo's hello run.
      expect(r.stdout).toMatch(/^NAME\s+TASK\s+PHASE/m);
      expect(r.stdout).toMatch(/^hello-run-\w+\s+hello\s+Succeeded\s/m);
      // The examples applied and a run of greet created with kubectl, then one followed with the plugin.
      expect(r.stdout).toContain("task.minitask.myorg.dev/greet created");
      expect(r.stdout).toMatch(/^taskrun\.minitask\.myorg\.dev\/greet-run-\w+ created$/m);
      expect(r.stdout).toMatch(/^taskrun\.minitask\.myorg\.dev\/build-and-test-run-\w+ created$/m);
      expect(r.stdout).toContain("Hello, you!");
      expect(r.stdout).toMatch(/^taskrun greet-run-\w+ succeeded in /m);
      // npm run build:plugin: the single executable's path.
      expect(r.stdout).toContain(join(ROOT, "dist/bin/kubectl-task"));
      expect(existsSync(join(ROOT, "dist/bin/kubectl-task"))).toBe(true);

      demo.kill("SIGINT");
      const rest = await new Promise<string>((resolve) => {
        let tail = "";
        demo.stdout?.on("data", (d: Buffer) => {
          tail += d.toString();
        });
        void exited.then(() => resolve(tail));
      });
      expect(await exited).toBe(0);
      expect(rest).toContain("everything stopped");
      expect(existsSync(join(stateDir, "state.json"))).toBe(false);
    } finally {
      if (demo.exitCode === null) {
        demo.kill("SIGINT");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

describe("npm run cluster -- up", () => {
  it('what it prints to try works as printed, and so does `eval "$(npm run -s cluster -- env)"`', async () => {
    const dir = mkdtempSync(join(tmpdir(), "minitask-cluster-cli-"));
    // The user's HOME: the control plane's binaries are cached under it (or MINITASK_CACHE_DIR).
    const env: Record<string, string> = {
      PATH: USER_PATH,
      HOME: process.env.HOME ?? dir,
      MINITASK_CLUSTER_DIR: join(dir, "state"),
      ...(process.env.MINITASK_CACHE_DIR ? { MINITASK_CACHE_DIR: process.env.MINITASK_CACHE_DIR } : {}),
    };
    try {
      const up = await shell("npm run -s cluster -- up", env);
      expect(up.code).toBe(0);
      expect(up.stdout.trim()).toBe(join(dir, "state", "kubeconfig"));
      const tries = up.stderr
        .split("\n")
        .filter((l) => l.startsWith("cluster: try:"))
        .map((l) => l.slice("cluster: try:".length).trim());
      expect(tries.length).toBeGreaterThan(0);
      for (const t of tries) {
        const r = await shell(t, env);
        expect({ t, code: r.code }).toEqual({ t, code: 0 });
        expect(r.stdout).toMatch(/\sReady\s/);
      }
      const kubectl = /^cluster: kubectl: (\S+)$/m.exec(up.stderr)?.[1] ?? "";
      const evald = await shell(`eval "$(npm run -s cluster -- env)"\n"${kubectl}" get nodes`, env);
      expect(evald.code).toBe(0);
      expect(evald.stdout).toMatch(/\sReady\s/);
      const down = await shell("npm run -s cluster -- down", env);
      expect(down.code).toBe(0);
      expect(existsSync(join(dir, "state", "state.json"))).toBe(false);
    } finally {
      await ControlPlane.attach(join(dir, "state"))
        ?.stop()
        .catch(() => []);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
