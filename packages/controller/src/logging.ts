// Structured JSON logs with pino; human-readable lines when stderr is a terminal. The runtime takes any
// logger of the toolkit's one shape (`Logger`, defined in @minitask/informers: pino's call order and
// `child`), so a pino logger made here is passed as it is to controllers, informers and the Manager.

import type { Logger } from "@minitask/informers";
import { type LevelWithSilent, type Logger as PinoLogger, pino } from "pino";

export { type LogFields, type LogFn, type Logger, silentLogger } from "@minitask/informers";

/** The log levels, most verbose first. */
export const LOG_LEVELS: readonly LevelWithSilent[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level?: string;
  readonly name?: string;
  /** Force pretty (true) or JSON (false) output; default: pretty when stderr is a TTY. */
  readonly pretty?: boolean;
  /** Destination (tests); default stderr. */
  readonly destination?: NodeJS.WritableStream;
}

/** Checks a `--log-level` value; throws a one-line error naming the valid ones. */
export function parseLogLevel(level: string): LevelWithSilent {
  const l = level.toLowerCase() as LevelWithSilent;
  if (!LOG_LEVELS.includes(l)) {
    throw new Error(`invalid log level "${level}" (one of ${LOG_LEVELS.join(", ")})`);
  }
  return l;
}

/**
 * A pino logger: JSON lines on stderr, or pino-pretty output when stderr is a terminal. It is a
 * {@link Logger} (pino's own type is returned, so its extra methods stay available).
 */
export function createLogger(opts: LoggerOptions = {}): PinoLogger {
  const level = parseLogLevel(opts.level ?? "info");
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const base = { name: opts.name };
  const log: PinoLogger = pretty
    ? pino({
        level,
        ...base,
        transport: {
          target: "pino-pretty",
          options: {
            destination: 2,
            colorize: !process.env.NO_COLOR,
            translateTime: "HH:MM:ss.l",
            ignore: "pid,hostname",
          },
        },
      })
    : pino({ level, ...base, timestamp: pino.stdTimeFunctions.isoTime }, opts.destination ?? pino.destination(2));
  // pino's Logger is the toolkit's Logger as it is: no adapter anywhere.
  return log satisfies Logger;
}
