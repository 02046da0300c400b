// `npm run demo -- --once` end to end: its own control plane with the real node, the controller, the
// plugin's --follow showing the steps' real output, exit code from the run, and nothing left running
// afterwards. (Its real node runs beside the test run's own: each kubelet has its own cgroup root.)
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const DEMO = fileURLToPath(new URL("./demo.ts", import.meta.url));

it("npm run demo -- --once brings everything up, runs hello on the real node to Succeeded, and tears it all down", async () => {
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
});
