// Structured JSON logs with pino; human-readable lines when stderr is a terminal.
import { type LevelWithSilent, type Logger, pino } from "pino";

export type { Logger } from "pino";

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

/** A pino logger: JSON lines on stderr, or pino-pretty output when stderr is a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = parseLogLevel(opts.level ?? "info");
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && !opts.destination);
  const base = { name: opts.name };
  if (pretty) {
    return pino({
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
    });
  }
  return pino({ level, ...base, timestamp: pino.stdTimeFunctions.isoTime }, opts.destination ?? pino.destination(2));
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = pino({ level: "silent" });
