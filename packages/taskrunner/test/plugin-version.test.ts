// Release hygiene: one version across the workspaces (and src/version.ts, which --version prints), the same
// version and commit from `minitask-controller --version` and `kubectl task --version`, "unknown" instead of a
// crash where there is no git checkout, and a CHANGELOG in Keep a Changelog form.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION } from "../src/version.ts";
import { ROOT, runChild } from "./kubectl-task.support.ts";

interface PackageJson {
  name: string;
  version?: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readPackage = (dir: string) => JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as PackageJson;

const head = () => execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();

describe("versions", { timeout: 60_000 }, () => {
  it("every workspace, the root and src/version.ts carry one version; internal dependencies name it", () => {
    const root = readPackage(".");
    const workspaces = root.workspaces ?? [];
    expect(workspaces.length).toBeGreaterThanOrEqual(8);
    const versions = new Map([
      [root.name, root.version],
      ...workspaces.map((w) => [readPackage(w).name, readPackage(w).version] as const),
    ]);
    expect(new Set(versions.values())).toEqual(new Set([VERSION]));
    for (const w of workspaces) {
      const p = readPackage(w);
      for (const [dep, range] of Object.entries({ ...p.dependencies, ...p.devDependencies })) {
        if (dep.startsWith("@minitask/"))
          expect({ pkg: p.name, dep, range }).toEqual({ pkg: p.name, dep, range: VERSION });
      }
    }
  });

  it("minitask-controller --version and kubectl task --version: the same version and the checkout's commit", async () => {
    const before = head();
    const controller = spawnSync(
      process.execPath,
      ["--conditions=minitask-source", join(ROOT, "packages/taskrunner/src/cli/minitask-controller.ts"), "--version"],
      { encoding: "utf8" },
    );
    const plugin = await runChild(["--version"], { bin: true });
    const after = head();
    // Someone committing in between would move HEAD; then the two lines may name either commit.
    const commit = before === after ? before : "[0-9a-f]+";
    expect(controller.stdout).toMatch(
      new RegExp(`^minitask-controller ${VERSION.replaceAll(".", "\\.")} \\(commit ${commit}\\)\\n$`),
    );
    expect(controller.status).toBe(0);
    expect(plugin).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(`^kubectl-task ${VERSION.replaceAll(".", "\\.")} \\(commit ${commit}\\)\\n$`),
      ),
    });
    expect(controller.stdout.replace("minitask-controller", "")).toBe(plugin.stdout.replace("kubectl-task", ""));
  });

  it("outside a git checkout, or with no git at all, the commit is unknown — never a crash", () => {
    // build-info.ts and version.ts copied where no repository encloses them.
    const dir = mkdtempSync(join(tmpdir(), "build-info-"));
    mkdirSync(join(dir, "src", "cli"), { recursive: true });
    cpSync(join(ROOT, "packages/taskrunner/src/cli/build-info.ts"), join(dir, "src/cli/build-info.ts"));
    cpSync(join(ROOT, "packages/taskrunner/src/version.ts"), join(dir, "src/version.ts"));
    const script = `import(${JSON.stringify(join(dir, "src/cli/build-info.ts"))}).then((m) => console.log(m.versionLine("x")))`;
    const outside = spawnSync(process.execPath, ["-e", script], { cwd: dir, encoding: "utf8" });
    expect(outside).toMatchObject({ status: 0, stdout: `x ${VERSION} (commit unknown)\n`, stderr: "" });
    // In the checkout but with no git on PATH (only node).
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, "node"));
    const noGit = spawnSync(
      process.execPath,
      ["--conditions=minitask-source", join(ROOT, "packages/taskrunner/src/cli/minitask-controller.ts"), "--version"],
      { encoding: "utf8", env: { PATH: bin } },
    );
    expect(noGit).toMatchObject({ status: 0, stdout: `minitask-controller ${VERSION} (commit unknown)\n`, stderr: "" });
    expect(readdirSync(dir).sort()).toEqual(["bin", "src"]);
  });
});

describe("CHANGELOG.md", () => {
  const text = readFileSync(join(ROOT, "CHANGELOG.md"), "utf8");

  it("is in Keep a Changelog form with an Unreleased section that has entries", () => {
    expect(text).toMatch(/^# Changelog\n/);
    expect(text).toContain("[Keep a Changelog](https://keepachangelog.com/");
    const sections = [...text.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
    expect(sections[0]).toBe("Unreleased");
    // Released sections (none yet) are named by their version.
    for (const s of sections.slice(1)) expect(s).toMatch(/^\d+\.\d+\.\d+$/);
    const unreleased = text.split(/^## /m).find((part) => part.startsWith("[Unreleased]")) ?? "";
    expect(unreleased).toMatch(/^### (Added|Changed|Deprecated|Removed|Fixed|Security)$/m);
    expect(unreleased.split("\n").filter((l) => l.startsWith("- ")).length).toBeGreaterThan(3);
    // Every section heading has its link reference at the bottom.
    for (const s of sections) expect(text).toMatch(new RegExp(`^\\[${s}\\]: https://`, "m"));
  });
});
