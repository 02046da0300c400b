// The one logger shape of the toolkit: pino's call order (`log.info(fields, message)`, `log.info(message)`)
// and `child(bindings)`. pino's `Logger` satisfies it structurally, so the runtime hands its pino logger to
// the informers as it is; anything else (console, winston, a test double) needs only these five methods.

/** Structured fields of one log line (or the bindings of a child logger). */
export type LogFields = Readonly<Record<string, unknown>>;

/** One level's method, in pino's argument order: fields first, then the message; or just a message. */
export interface LogFn {
  (fields: LogFields, message?: string): void;
  (message: string): void;
}

/**
 * The structured logger every package takes: pino's shape, so a pino `Logger` is one. `child` is required:
 * components scope their lines with it (`{ component: "informers" }`, `{ controller, key, reconcileID }`),
 * and a logger that cannot carry bindings would drop that context silently; a logger without bindings of its
 * own can return itself.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every line it writes. */
  child(bindings: LogFields): Logger;
}

const noop: LogFn = () => {};

/** Drops everything (library default of the runtime; tests, benchmarks). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLogger };

function consoleLoggerWith(bindings: LogFields | undefined): Logger {
  // `console[method]` is looked up at each call, so a console replaced later (tests) is the one written to.
  const level =
    (method: "info" | "warn" | "error"): LogFn =>
    (a: LogFields | string, message?: string) => {
      const fields = typeof a === "string" ? bindings : bindings === undefined ? a : { ...bindings, ...a };
      console[method](`informers: ${typeof a === "string" ? a : (message ?? "")}`, fields ?? "");
    };
  return {
    debug: noop,
    info: level("info"),
    warn: level("warn"),
    error: level("error"),
    child: (b) => consoleLoggerWith(bindings === undefined ? b : { ...bindings, ...b }),
  };
}

/** Logs info, warnings and errors through `console.info`/`warn`/`error`, prefixed `informers:` (the informers' default; debug is dropped). */
export const consoleLogger: Logger = consoleLoggerWith(undefined);
