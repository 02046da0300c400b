// Shared by the bin shims. Installed from the registry (inside node_modules): run the compiled CLI. In a
// checkout (the workspace, npm link): run the TypeScript source through Node's type stripping, so it is
// never a stale build.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Exits with one line (not a stack trace) when this Node.js is older than `need` ([major, minor]): the
 * compiled CLI needs 22 (package.json engines), the TypeScript sources 22.18 (type stripping, no flag).
 */
function requireNode(name, need, hint) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major > need[0] || (major === need[0] && minor >= need[1])) return;
  process.stderr.write(
    `${name}: Node.js ${process.versions.node} is too old; ${need.join(".")} or newer is needed (${hint})\n`,
  );
  process.exit(1);
}

/** Runs `src/cli/<name>.ts` (checkout) or `dist/cli/<name>.js` (installed) with this process's arguments. */
export async function runCli(name) {
  const dist = new URL(`../dist/cli/${name}.js`, import.meta.url);
  const src = fileURLToPath(new URL(`../src/cli/${name}.ts`, import.meta.url));
  const installed = fileURLToPath(import.meta.url)
    .split(/[\\/]/)
    .includes("node_modules");
  if ((installed || !existsSync(src)) && existsSync(dist)) {
    requireNode(name, [22, 0], "https://nodejs.org/en/download");
    await import(dist.href);
    return;
  }
  requireNode(name, [22, 18], "in a checkout of minitask: . scripts/toolchain.sh puts Node 24 on PATH");
  const child = spawn(
    process.execPath,
    ["--conditions=minitask-source", "--disable-warning=ExperimentalWarning", src, ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  // Ctrl-C reaches the whole foreground process group, the child included: don't die of it here, and
  // don't send it twice. Signals aimed at this process alone (SIGTERM, SIGHUP) are passed on.
  process.on("SIGINT", () => {});
  for (const sig of ["SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
