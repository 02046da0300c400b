// The single-executable kubectl-task (npm run build:plugin) as a user runs it: found by the real kubectl on a
// PATH that has no node, against the test control plane, with minitask-controller running a Task on the real
// node — start --follow with the steps' real output, runs, logs, describe, cancel, and kubectl's own
// completion hook reaching kubectl_complete-task (a symlink to the same executable).
import { execFile } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient } from "@minitask/client";
import type { ControllerProcess } from "@minitask/taskrunner/testing";
import { createTestNamespace, eventually, testEnv } from "@minitask/testenv/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildPlugin, type PluginBuild } from "../../../scripts/build-plugin.ts";
import type { Task } from "../src/contract.ts";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import { VERSION } from "../src/version.ts";
import type { CliResult } from "./kubectl-task.support.ts";
import { installCrds, startReadyController } from "./support/cluster.ts";

let client: KubeClient;
let build: PluginBuild;
/** kubectl, kubectl-task and kubectl_complete-task, and nothing else: no node. */
let path: string;

beforeAll(async () => {
  await installCrds();
  client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
  build = await buildPlugin();
  path = mkdtempSync(join(tmpdir(), "plugin-path-"));
  symlinkSync(build.binary, join(path, "kubectl-task"));
  symlinkSync(build.binary, join(path, "kubectl_complete-task"));
  symlinkSync(testEnv().kubectl, join(path, "kubectl"));
}, 600_000);

afterAll(async () => {
  await client?.close();
});

/** `kubectl …` with PATH = only the folder above, as a user's shell would run it. */
function k(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      "kubectl",
      [...args],
      { env: { PATH: path, HOME: path, KUBECONFIG: testEnv().kubeconfig }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const hello: Task = {
  apiVersion: "minitask.myorg.dev/v1",
  kind: "Task",
  metadata: { name: "hello" },
  spec: {
    params: [{ name: "who" }, { name: "greeting", default: "Hello" }],
    steps: [
      { name: "greet", image: "busybox:1.36", script: 'echo "$(params.greeting), $(params.who)"' },
      { name: "farewell", image: "busybox:1.36", script: "echo bye from $(hostname)" },
    ],
  },
};

describe("kubectl task as the single executable", () => {
  let controller: ControllerProcess | undefined;

  afterEach(async () => {
    await controller?.stop("SIGTERM");
    controller = undefined;
  });

  it("kubectl finds it on a PATH without node; --version names the commit it was built from", async () => {
    const plugins = await k(["plugin", "list"]);
    expect(plugins.stdout).toContain(join(path, "kubectl-task"));
    expect(plugins.stderr).not.toMatch(/warning/i);
    expect(await k(["task", "--version"])).toEqual({
      code: 0,
      stdout: `kubectl-task ${VERSION} (commit ${build.commit})\n`,
      stderr: "",
    });
  });

  it("start -f, runs, logs, describe and cancel against the cluster, with real step output", async () => {
    const ns = await createTestNamespace("kt-binary", { node: "real" });
    await taskClient(client, ns).create(hello);
    controller = await startReadyController(["--namespace", ns, "--log-level=info"]);

    const started = await k(["task", "start", "hello", "-p", "who=binary", "-n", ns, "--follow"]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const name = /^taskrun (\S+) created$/m.exec(started.stdout)?.[1] ?? "";
    expect(name).toMatch(/^hello-run-[a-z0-9]{5}$/);
    expect(started.stdout).toContain("[greet] Hello, binary\n");
    expect(started.stdout).toMatch(/^\[farewell\] bye from \S+$/m);
    expect(started.stdout.split("\n").filter((l) => l.startsWith("==="))).toEqual([
      "=== step greet",
      expect.stringMatching(/^=== step greet succeeded \(\S+\)$/),
      "=== step farewell",
      expect.stringMatching(/^=== step farewell succeeded \(\S+\)$/),
    ]);
    expect(started.stdout).toMatch(new RegExp(`^taskrun ${name} succeeded in \\S+$`, "m"));

    const table = await k(["task", "runs", "-n", ns]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${name}\\s+hello\\s+Succeeded\\s+`, "m"));
    const logs = await k(["task", "logs", name, "-n", ns]);
    expect(logs).toMatchObject({ code: 0, stderr: "" });
    expect(logs.stdout).toContain("[greet] Hello, binary\n");
    expect(await k(["task", "logs", name, "-n", ns, "--step", "greet"])).toEqual({
      code: 0,
      stdout: "Hello, binary\n",
      stderr: "",
    });
    const described = await k(["task", "describe", name, "-n", ns]);
    expect(described.stdout).toMatch(/^Phase:\s+Succeeded$/m);
    expect(described.stdout).toMatch(/\n\s+greet\s+Succeeded\s+0\s+/);

    // A run held by a long step, cancelled from the plugin.
    await taskClient(client, ns).create({
      ...hello,
      metadata: { name: "slow" },
      spec: { steps: [{ name: "wait", image: "busybox:1.36", script: "sleep 300" }] },
    });
    const slow = await k(["task", "start", "slow", "-n", ns]);
    expect(slow.code).toBe(0);
    const slowName = slow.stdout.trim();
    await eventually(`${slowName} running`, async () =>
      (await taskRunClient(client, ns).get(slowName)).status?.phase === "Running" ? true : undefined,
    );
    expect(await k(["task", "cancel", slowName, "-n", ns])).toEqual({
      code: 0,
      stdout: `taskrun ${slowName} cancelled\n`,
      stderr: "",
    });
    const ended = await k(["task", "logs", slowName, "-n", ns, "-f"]);
    expect(ended.code).toBe(1);
    expect(ended.stderr.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(`^error: taskrun "${slowName}" failed in \\S+: Cancelled`),
    );
  });

  it("kubectl's completion of `kubectl task …` runs kubectl_complete-task, which lists the cluster's tasks", async () => {
    const ns = await createTestNamespace("kt-binary-complete");
    await taskClient(client, ns).create(hello);
    const commands = await k(["__complete", "task", ""]);
    expect(commands.code).toBe(0);
    expect(commands.stdout.split("\n")).toEqual(expect.arrayContaining(["start", "runs", "logs", ":4"]));
    const tasks = await k(["__complete", "task", "start", "-n", ns, ""]);
    expect(tasks.code).toBe(0);
    expect(tasks.stdout.split("\n")).toEqual(expect.arrayContaining(["hello", ":4"]));
  });
});
