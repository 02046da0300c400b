#!/usr/bin/env node
// kubectl's plugin completion hook: `kubectl task <TAB>` runs `kubectl_complete-task ARGS…`, which
// answers through the plugin's hidden `__complete` command.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const plugin = fileURLToPath(new URL("./kubectl-task.js", import.meta.url));
const child = spawn(process.execPath, [plugin, "__complete", ...process.argv.slice(2)], { stdio: "inherit" });
child.on("exit", (code) => process.exit(code ?? 1));
