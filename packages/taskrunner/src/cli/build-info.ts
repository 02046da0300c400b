// What `--version` prints for minitask-controller and kubectl-task: the package version and the git commit
// the program was built from. The single-executable plugin (scripts/build-plugin.ts) has the commit baked
// in at build time; run from a checkout, it is `git rev-parse --short HEAD` of that checkout; installed from
// a registry (inside node_modules) or without git, "unknown". Never throws.
import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../version.ts";

// Replaced by a string literal when esbuild bundles the plugin (`define`); undeclared otherwise.
declare const __MINITASK_COMMIT__: string | undefined;

let cached: string | undefined;

/** The commit this program was built from (short hash), or "unknown". */
export function buildCommit(): string {
  if (cached !== undefined) return cached;
  cached = typeof __MINITASK_COMMIT__ === "string" ? __MINITASK_COMMIT__ : commitOfCheckout();
  return cached;
}

function commitOfCheckout(): string {
  try {
    const here = fileURLToPath(import.meta.url);
    // Inside node_modules the enclosing git repository (if any) is someone else's project.
    if (here.split(/[\\/]/).includes("node_modules")) return "unknown";
    const out = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: dirname(here),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
    }).trim();
    return /^[0-9a-f]{4,40}$/.test(out) ? out : "unknown";
  } catch {
    return "unknown";
  }
}

/** `<program> <version> (commit <hash>)`, the line `--version` prints. */
export function versionLine(program: string): string {
  return `${program} ${VERSION} (commit ${buildCommit()})`;
}
