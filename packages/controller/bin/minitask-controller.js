#!/usr/bin/env node
// Installed from the registry (inside node_modules): run the compiled CLI. In a checkout (the workspace,
// npm link): run the TypeScript source through Node's type stripping, so it is never a stale build.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/cli/minitask-controller.js", import.meta.url);
const src = fileURLToPath(new URL("../src/cli/minitask-controller.ts", import.meta.url));
const installed = fileURLToPath(import.meta.url)
  .split(/[\\/]/)
  .includes("node_modules");
if ((installed || !existsSync(src)) && existsSync(dist)) {
  await import(dist.href);
} else {
  const r = spawnSync(
    process.execPath,
    ["--conditions=minitask-source", "--disable-warning=ExperimentalWarning", src, ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  process.exit(r.status ?? (r.signal ? 128 : 1));
}
