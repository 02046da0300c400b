#!/usr/bin/env node
// kubectl-task: the kubectl plugin of Mini Task Runner (`kubectl task …` finds it on PATH).
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

process.exitCode = await main(process.argv.slice(2), io);
