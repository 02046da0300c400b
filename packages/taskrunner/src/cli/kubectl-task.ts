#!/usr/bin/env node
// kubectl-task: the kubectl plugin of Mini Task Runner (`kubectl task …` finds it on PATH). Also the entry
// point of the single executable (scripts/build-plugin.ts bundles it as CommonJS: no top-level await here).
import { basename } from "node:path";
import { main } from "../kubectl-task/main.ts";
import type { Io } from "../kubectl-task/term.ts";

const handlers = new Set<() => void>();
let interrupted = false;

process.on("SIGINT", () => {
  // With nothing to stop gracefully (or on a second Ctrl-C), leave at once, as a shell user expects.
  if (handlers.size === 0 || interrupted) process.exit(130);
  interrupted = true;
  for (const h of [...handlers]) h();
});

// A closed pipe (`kubectl task runs | head -1`) is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const io: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onInterrupt(handler) {
    handlers.add(handler);
    return () => handlers.delete(handler);
  },
};

// Started as kubectl_complete-task (a link to the single executable: kubectl's completion hook for
// `kubectl task <TAB>`), answer through the hidden __complete command, as bin/kubectl_complete-task.js does.
const args = process.argv.slice(2);
const argv = basename(process.argv0).replace(/\.exe$/, "") === "kubectl_complete-task" ? ["__complete", ...args] : args;

void main(argv, io).then((code) => {
  process.exitCode = code;
});
