// What a step reports besides its exit code: the results it wrote to $(results.NAME.path), and, with
// `onError: continue`, the exit code its script really had. Without an entrypoint binary in the image, the
// step's own shell does it: a runner around the script writes them to the step's termination message, which the
// kubelet copies into the pod's status (at most 4 KiB per container, 12 KiB per pod). The format is ours and
// length-prefixed, so values may hold any bytes:
//
//   minitask/v1
//   result NAME BYTES      followed by BYTES bytes of value and a newline; one block per result present
//   exit CODE              (onError: continue) the script's exit status; the container itself exits 0
//   toolarge BYTES LIMIT   instead of the results when they do not fit, with `size NAME BYTES` lines
//
// parseStepReport reads it back; both are pure.

/** Where steps write results: a shared emptyDir mounted into every step. */
export const RESULTS_DIR = "/minitask/results";
export const RESULTS_VOLUME = "minitask-results";
/** The script of a step that reports, run by the runner (so its own exit status can be seen). */
export const SCRIPT_ENV = "MINITASK_SCRIPT";
const HEADER = "minitask/v1";
const MESSAGE_PATH = "/dev/termination-log";

/** The bytes of termination message the kubelet keeps for each of `containers` containers of a pod. */
export function messageLimit(containers: number): number {
  return Math.min(4096, Math.floor(12288 / Math.max(1, containers)));
}

export interface RunnerOptions {
  /** Declared result names (the CRD allows only `[A-Za-z0-9._-]`, safe to write into the shell text). */
  readonly results: readonly string[];
  /** onError: continue: record the exit status, exit 0. */
  readonly continueOnError: boolean;
  /** Bytes the termination message may hold (see `messageLimit`). */
  readonly limit: number;
  /** The script starts with `#!`: run the file itself, so the kernel honours its interpreter. */
  readonly shebang: boolean;
  /** Default {@link RESULTS_DIR} (tests run the runner on the host). */
  readonly resultsDir?: string;
  /** Default /dev/termination-log. */
  readonly messagePath?: string;
}

/** The `sh -c` text that runs `$MINITASK_SCRIPT`, then reports (see the file header). */
export function stepRunner(o: RunnerOptions): string {
  const names = o.results.join(" ");
  const each = (line: string) =>
    names
      ? `for r in ${names}; do p="${o.resultsDir ?? RESULTS_DIR}/$r"; if [ -f "$p" ]; then ${line}; fi; done; `
      : "";
  const exit = o.continueOnError ? 'echo "exit $rc"; ' : "";
  return [
    `f="$(mktemp)" && printf '%s' "$${SCRIPT_ENV}" > "$f" && chmod +x "$f" && unset ${SCRIPT_ENV} || exit 127`,
    o.shebang ? '"$f"' : '/bin/sh "$f"',
    'rc=$?; rm -f "$f"',
    `m=${o.messagePath ?? MESSAGE_PATH}`,
    `{ echo ${HEADER}; ${each('echo "result $r $(wc -c < "$p")"; cat "$p"; echo')}${exit}} > "$m"`,
    `s=$(wc -c < "$m"); if [ "$s" -gt ${o.limit} ]; then { echo ${HEADER}; echo "toolarge $s ${o.limit}"; ${each('echo "size $r $(wc -c < "$p")"')}${exit}} > "$m"; fi`,
    o.continueOnError ? "exit 0" : 'exit "$rc"',
  ].join("\n");
}

/** What one step reported. */
export interface StepReport {
  readonly results: ReadonlyMap<string, string>;
  /** The script's own exit status (onError: continue). */
  readonly exitCode?: number;
  /** Its results did not fit in the termination message. */
  readonly tooLarge?: { readonly bytes: number; readonly limit: number; readonly sizes: ReadonlyMap<string, number> };
}

/** Reads a termination message written by `stepRunner`; undefined when it is not one (no report). */
export function parseStepReport(message: string | undefined): StepReport | undefined {
  if (!message?.startsWith(`${HEADER}\n`)) return undefined;
  const bytes = Buffer.from(message, "utf8");
  const results = new Map<string, string>();
  const sizes = new Map<string, number>();
  let exitCode: number | undefined;
  let tooLarge: { bytes: number; limit: number } | undefined;
  let at = HEADER.length + 1;
  while (at < bytes.length) {
    const nl = bytes.indexOf(0x0a, at);
    const line = bytes.toString("utf8", at, nl < 0 ? bytes.length : nl);
    at = nl < 0 ? bytes.length : nl + 1;
    const [kind, a = "", b = ""] = line.trim().split(/\s+/);
    if (kind === "result") {
      const n = Number(b);
      if (!Number.isInteger(n) || n < 0 || at + n > bytes.length) break; // cut short: keep what was whole
      results.set(a, bytes.toString("utf8", at, at + n));
      at += n + 1;
    } else if (kind === "exit") {
      exitCode = Number(a);
    } else if (kind === "toolarge") {
      tooLarge = { bytes: Number(a), limit: Number(b) };
    } else if (kind === "size") {
      sizes.set(a, Number(b));
    }
  }
  return {
    results,
    ...(exitCode !== undefined && Number.isInteger(exitCode) ? { exitCode } : {}),
    ...(tooLarge ? { tooLarge: { ...tooLarge, sizes } } : {}),
  };
}
