// The old-Node guard: every bin shim of the task runner and every `npm run` entry point that runs node says in
// one line which Node.js it found, which it needs and how to get it — before any .ts is loaded — instead of
// ERR_UNKNOWN_FILE_EXTENSION and a stack trace. The shims run under a faked process.version (an --import
// preload through NODE_OPTIONS, so that the children they spawn see it too).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./kubectl-task.support.ts";

const BIN = join(ROOT, "packages/taskrunner/bin");

/** `node <args>` as if this node were version `fake`. */
function underNode(fake: string, args: readonly string[], cwd = ROOT) {
  const preload = `data:text/javascript,${encodeURIComponent(
    `for (const [o, k, v] of [[process.versions, "node", ${JSON.stringify(fake)}], [process, "version", ${JSON.stringify(`v${fake}`)}]]) Object.defineProperty(o, k, { value: v });`,
  )}`;
  const r = spawnSync(process.execPath, [...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: `--import=${preload}`, KUBECONFIG: "" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const HINT = "(in a checkout of minitask: . scripts/toolchain.sh puts Node 24 on PATH)";

describe("the bin shims under an old Node.js", { timeout: 60_000 }, () => {
  it("the fake version is what the shims see", () => {
    expect(underNode("20.11.1", ["-p", "process.version + ' ' + process.versions.node"]).stdout).toBe(
      "v20.11.1 20.11.1\n",
    );
  });

  for (const [shim, args] of [
    ["kubectl-task", ["--help"]],
    ["kubectl_complete-task", [""]],
    ["minitask-controller", ["--version"]],
  ] as const) {
    it(`${shim}: one line naming the version found and needed, exit 1, nothing on stdout`, () => {
      for (const old of ["20.11.1", "22.17.0", "18.20.4"]) {
        const r = underNode(old, [join(BIN, `${shim}.js`), ...args]);
        const name = shim === "kubectl_complete-task" ? "kubectl-task" : shim;
        expect(r).toEqual({
          code: 1,
          stdout: "",
          stderr: `${name}: Node.js ${old} is too old; 22.18 or newer is needed ${HINT}\n`,
        });
      }
    });
  }

  it("22.18 (type stripping without a flag) is new enough: the shims run the CLI", () => {
    const r = underNode("22.18.0", [join(BIN, "kubectl-task.js"), "--version"]);
    expect(r.stderr).toBe("");
    expect(r).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^kubectl-task \d+\.\d+\.\d+ \(commit \S+\)\n$/),
    });
    const c = underNode("22.18.0", [join(BIN, "minitask-controller.js"), "--version"]);
    expect(c).toMatchObject({ code: 0, stdout: expect.stringMatching(/^minitask-controller \d+\.\d+\.\d+ /) });
  });
});

describe("npm run entry points under an old Node.js", { timeout: 60_000 }, () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;

  it("every entry that runs node preloads scripts/require-node.mjs before anything else", () => {
    const nodeEntries = Object.entries(scripts).filter(([, cmd]) => /^node\s/.test(cmd));
    expect(nodeEntries.map(([name]) => name)).toEqual(
      expect.arrayContaining(["cluster", "codegen", "demo", "bench", "build:plugin", "controller-image"]),
    );
    for (const [name, cmd] of nodeEntries) {
      expect({ name, first: cmd.split(/\s+/)[1] }).toEqual({ name, first: "--import" });
      expect({ name, cmd }).toEqual({
        name,
        cmd: expect.stringMatching(/^node --import \.\/scripts\/require-node\.mjs /),
      });
    }
    // The rest run other tools (tsc, biome, vitest) or another npm script, never a .ts through node.
    for (const [name, cmd] of Object.entries(scripts).filter(([, c]) => !/^node\s/.test(c))) {
      expect({ name, cmd }).toEqual({ name, cmd: expect.not.stringMatching(/\.ts(\s|$)/) });
    }
  });

  it("the preload itself: one line and exit 1 before the entry's .ts is even read", () => {
    for (const name of ["codegen", "demo", "build:plugin", "controller-image"]) {
      const argv = (scripts[name] ?? "").split(/\s+/).slice(1);
      const r = underNode("20.11.1", [...argv, "--help"]);
      expect({ name, ...r }).toEqual({
        name,
        code: 1,
        stdout: "",
        stderr: `minitask: Node.js 20.11.1 is too old; 22.18 or newer is needed ${HINT.replace(
          "in a checkout of minitask",
          "in this repository",
        )}\n`,
      });
    }
  });

  it("with a new enough Node.js the preload is silent", () => {
    const r = underNode("24.0.0", ["--import", "./scripts/require-node.mjs", "-e", "console.log('ran')"]);
    expect(r).toEqual({ code: 0, stdout: "ran\n", stderr: "" });
  });
});
