// Exit codes and the error whose message is already the line to print. No dependencies, so that
// commands which never talk to the cluster (--help, --version, completion) start fast.

export const ExitCode = {
  Ok: 0,
  /** A failed command, or a followed run that Failed. */
  Failed: 1,
  /** Following stopped by Ctrl-C (128 + SIGINT). */
  Interrupted: 130,
} as const;

/** An error whose message is already the line to print. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = ExitCode.Failed) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
