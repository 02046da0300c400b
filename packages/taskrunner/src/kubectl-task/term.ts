// Terminal-aware output: colour and a spinner only where a person is watching (a TTY), plain text when
// piped, NO_COLOR honoured (FORCE_COLOR forces colour on, as Node and most tools do).

/** The part of a writable stream the CLI uses (process.stdout, or a test's buffer). */
export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** What the CLI talks to: two streams, the environment, and Ctrl-C. */
export interface Io {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Registers a Ctrl-C handler while a long-running command (following) wants to stop gracefully;
   * returns the function that removes it. Without any handler registered, Ctrl-C ends the process.
   */
  onInterrupt(handler: () => void): () => void;
  /** Now, in ms since the epoch (tests fix it). */
  readonly now?: () => number;
}

/** Whether output to a stream should be coloured, given the environment. */
export function colorEnabled(stream: OutStream, env: Io["env"]): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

const ESC = "\u001b[";
const ANSI_PATTERN = new RegExp(`${ESC.replace("[", "\\[")}[0-9;]*m`, "g");

/** Visible length of a string that may hold ANSI colour codes. */
export function visibleLength(s: string): number {
  return s.replace(ANSI_PATTERN, "").length;
}

export function stripAnsi(s: string): string {
  return s.replace(ANSI_PATTERN, "");
}

export type Style = (s: string) => string;

export interface Styles {
  readonly bold: Style;
  readonly dim: Style;
  readonly red: Style;
  readonly green: Style;
  readonly yellow: Style;
  readonly blue: Style;
  readonly cyan: Style;
  readonly magenta: Style;
  readonly gray: Style;
}

function sgr(open: number, close: number): Style {
  return (s) => `${ESC}${open}m${s}${ESC}${close}m`;
}

const colored: Styles = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  blue: sgr(34, 39),
  magenta: sgr(35, 39),
  cyan: sgr(36, 39),
  gray: sgr(90, 39),
};

const identity: Style = (s) => s;
const plain: Styles = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  blue: identity,
  magenta: identity,
  cyan: identity,
  gray: identity,
};

const SPINNER_FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Output of one CLI invocation: `out`/`err` write lines, styles colour them when the stream is a
 * terminal, and `progress` shows a spinner on stderr (TTY only) that is cleared around every write.
 */
export class Term {
  readonly io: Io;
  /** Styles for stdout. */
  readonly c: Styles;
  /** Styles for stderr. */
  readonly ce: Styles;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  #spinnerText: string | undefined;
  #spinnerFrame = 0;
  #spinnerTimer: ReturnType<typeof setInterval> | undefined;
  #spinnerShown = false;

  constructor(io: Io) {
    this.io = io;
    this.c = colorEnabled(io.stdout, io.env) ? colored : plain;
    this.ce = colorEnabled(io.stderr, io.env) ? colored : plain;
    this.stdoutIsTTY = io.stdout.isTTY === true;
    this.stderrIsTTY = io.stderr.isTTY === true;
  }

  now(): number {
    return this.io.now ? this.io.now() : Date.now();
  }

  /** Writes text to stdout (add the newline yourself). */
  out(text: string): void {
    this.#clearSpinner();
    this.io.stdout.write(text);
    this.#drawSpinner();
  }

  /** Writes a line to stdout. */
  line(text = ""): void {
    this.out(`${text}\n`);
  }

  /** Writes a line to stderr. */
  errLine(text: string): void {
    this.#clearSpinner();
    this.io.stderr.write(`${text}\n`);
    this.#drawSpinner();
  }

  /** Shows (or updates) a progress message: a spinner on a TTY stderr, nothing otherwise. */
  progress(text: string): void {
    if (!this.stderrIsTTY) return;
    this.#spinnerText = text;
    if (this.#spinnerTimer === undefined) {
      this.#spinnerTimer = setInterval(() => {
        this.#spinnerFrame = (this.#spinnerFrame + 1) % SPINNER_FRAMES.length;
        this.#clearSpinner();
        this.#drawSpinner();
      }, 100);
      this.#spinnerTimer.unref?.();
    }
    this.#clearSpinner();
    this.#drawSpinner();
  }

  /** Removes the progress message. */
  done(): void {
    if (this.#spinnerTimer !== undefined) clearInterval(this.#spinnerTimer);
    this.#spinnerTimer = undefined;
    this.#clearSpinner();
    this.#spinnerText = undefined;
  }

  #drawSpinner(): void {
    if (this.#spinnerText === undefined || this.#spinnerShown) return;
    const frame = SPINNER_FRAMES[this.#spinnerFrame] ?? "";
    const width = (this.io.stderr.columns ?? 80) - 3;
    const text = this.#spinnerText.length > width ? `${this.#spinnerText.slice(0, width - 1)}…` : this.#spinnerText;
    this.io.stderr.write(`${this.ce.cyan(frame)} ${this.ce.dim(text)}`);
    this.#spinnerShown = true;
  }

  #clearSpinner(): void {
    if (!this.#spinnerShown) return;
    this.io.stderr.write("\r\u001b[2K");
    this.#spinnerShown = false;
  }
}
