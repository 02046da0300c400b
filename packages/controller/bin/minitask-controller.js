#!/usr/bin/env node
// Runs the compiled CLI when the package is built (npm install -g, npm pack), otherwise the TypeScript
// source of a checkout (npm link / the workspace), through Node's type stripping.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = new URL("../dist/cli/minitask-controller.js", import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const src = fileURLToPath(new URL("../src/cli/minitask-controller.ts", import.meta.url));
  const r = spawnSync(process.execPath, ["--conditions=minitask-source", "--disable-warning=ExperimentalWarning", src, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  process.exit(r.status ?? (r.signal ? 128 : 1));
}
